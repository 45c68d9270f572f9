"""Log output: `LOG_FORMAT=text` (the default, for people) or `json` (one object per line, for
log pipelines).

Every line carries the id of the request it was written for (`request_id`, from the request
scope; null outside requests). keyward's log lines put their facts in logfmt
(`job=purge-expired api_keys=12 duration_ms=4.1`); the JSON form lifts each of those into a
field of its own, next to `ts`, `level`, `logger` and `msg`.

Secrets: the log-record factory (`web.redaction`) has already redacted each message and
traceback before any formatter runs; values passed as `extra=` bypass that factory, so the JSON
formatter passes every string field through the same redactor (`scrub`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from telemetry.requests import current_request_id

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
RESERVED = ("ts", "level", "logger", "msg", "request_id")
_FIELD = re.compile(r'(?<![^\s])([a-z][a-z0-9_]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
# The attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id, unless the caller gave one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class TextFormatter(logging.Formatter):
    """The plain format, with `request_id=…` at the end of the line's first row."""

    _second = -1
    _stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """`logging`'s default stamp (`2026-12-01 12:00:00,123`), the seconds formatted once
        a second rather than for every line."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
        return f"{self._stamp},{int(record.msecs):03d}"

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        request_id = getattr(record, "request_id", None)
        return line if request_id is None else f"{line} request_id={request_id}"


def logfmt_fields(message: str) -> dict[str, Any]:
    """The `name=value` pairs of a logfmt message, numbers as numbers."""
    fields: dict[str, Any] = {}
    for name, raw in _FIELD.findall(message):
        value: Any = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        if isinstance(value, str) and not raw.startswith('"'):
            for kind in (int, float):
                try:
                    value = kind(raw)
                    break
                except ValueError:
                    pass
        fields.setdefault(name, value)
    return fields


class JsonFormatter(logging.Formatter):
    def __init__(self, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        message = self.scrub(record.getMessage())  # again: cheap, and idempotent
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": message,
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in logfmt_fields(message).items():
            if name not in RESERVED:
                entry[name] = value
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in RESERVED:
                entry[name] = self.scrub(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = self.scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.scrub(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A `StreamHandler` that, inside a running event loop, writes INFO and DEBUG lines once per
    loop turn instead of one system call per line (under load, most of an access-log line's
    cost). WARNING and above, and lines written outside an event loop, go out at once, after
    any lines still held; `flush` (and so `logging.shutdown` at exit) writes what is held."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self._held: list[str] = []
        self._due: asyncio.AbstractEventLoop | None = None  # the loop that will write them

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if record.levelno < logging.WARNING and self._hold(line):
                return
            self._held.append(line)
            self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _hold(self, line: str) -> bool:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if self._due is not loop:
            self._due = loop
            loop.call_soon(self._write_held)
        self._held.append(line)
        return True

    def _write_held(self) -> None:
        self._due = None
        self.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            held, self._held = self._held, []
            if held and self.stream:
                self.stream.write("".join(held))
        finally:
            self.release()
        super().flush()


def log_handler(
    log_format: str, *, scrub: Callable[[str], str], stream: IO[str] | None = None
) -> logging.Handler:
    """A handler writing `log_format` lines (see `LOG_FORMATS`) to `stream` (stderr)."""
    handler = LineHandler(stream)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter(scrub))
    else:
        handler.setFormatter(TextFormatter(TEXT_FORMAT))
    return handler


def logging_configure(log_format: str, *, scrub: Callable[[str], str]) -> None:
    """The process's logging: INFO and above, one handler on the root logger (`main()` only).
    Like `logging.basicConfig`, it leaves alone a root logger that something else (a test
    runner) has already given handlers."""
    root = logging.getLogger()
    if root.handlers:
        return
    root.addHandler(log_handler(log_format, scrub=scrub))
    root.setLevel(logging.INFO)
