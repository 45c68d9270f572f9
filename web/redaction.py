"""Secrets out of logs: every log record of the process has token-shaped strings and bearer
credentials replaced before any handler sees it.

Installed as the log-record factory (not a handler filter) so it covers handlers added later,
the access log, and tracebacks, whose text is formatted here once, redacted, and cached on the
record. Redaction is the last line: the edge already keeps credentials out of URLs and the
access log out of query strings and headers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from models.tokens import TOKEN_IN_TEXT

REDACTED = "[redacted]"
_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?(?:authorization|cookie|set-cookie)\b['\"]?\s*[:=]\s*['\"]?)"
    r"((?:bearer|basic)\s+)?[^\s'\",;]+"
)
_SCHEME = re.compile(r"(?i)(\b(?:bearer|basic)\s+)(?!\[redacted\])[^\s'\",;]+")
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    """`text` with every token and credential value replaced by `[redacted]`."""
    text = TOKEN_IN_TEXT.sub(REDACTED, text)
    text = _HEADER.sub(lambda m: m.group(1) + (m.group(2) or "") + REDACTED, text)
    return _SCHEME.sub(lambda match: match.group(1) + REDACTED, text)


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:
        message = str(record.msg)
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction() -> None:
    """Make every future log record of this process redacted; idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "keyward_redacting", False):
        return

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redact_record(factory(*args, **kwargs))

    redacting_factory.keyward_redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_factory)
