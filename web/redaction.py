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
from urllib.parse import unquote_plus

from models.tokens import (
    BODY_LENGTH,
    CHECKSUM_LENGTH,
    TOKEN_IN_TEXT,
    TokenKind,
    checksummed_spans,
)

REDACTED = "[redacted]"
_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?(?:authorization|cookie|set-cookie)\b['\"]?\s*[:=]\s*['\"]?)"
    r"((?:bearer|basic)\s+)?[^\s'\",;]+"
)
_SCHEME = re.compile(r"(?i)(\b(?:bearer|basic)\s+)(?!\[redacted\])[^\s'\",;]+")
_FORMATTER = logging.Formatter()


# A chunk of URL-ish text that may hide a token behind percent-encoding (`sk%5F…`, `sk%255F…`).
_ENCODED = re.compile(r"[0-9A-Za-z_.~+%-]*%[0-9A-Fa-f]{2}[0-9A-Za-z_.~+%-]*")
_DECODE_ROUNDS = 4
# Values PostgreSQL copies into its error text (an email in a unique violation, a typed value).
_DRIVER_VALUES = (
    re.compile(r"(Key \([^)]*\)=\()(.*?)(\)(?: already exists| is not present|$))"),
    re.compile(r"(Failing row contains \()(.*?)(\))"),
    re.compile(r'(invalid input (?:syntax|value) for [\w ]+?: )(".*?")()'),
)


def _hides_token(chunk: str) -> bool:
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote_plus(chunk)
        if decoded == chunk:
            return False
        chunk = decoded
        if TOKEN_IN_TEXT.search(chunk) or checksummed_spans(chunk):
            return True
    return False


# What each pattern below needs to find anything: a `%` (encoded), a base62 run as long as a
# token's body and checksum (`checksummed_spans`), a token's `kind_` head (TOKEN_IN_TEXT), or one
# of these words (headers, schemes, the database's quoted values), in any case. Text with none of
# them (most log lines: every access-log line of a verification) is returned as it is, without
# the passes, which cost more than the rest of a cached verification.
_LONG_RUN = re.compile(rf"[0-9A-Za-z]{{{BODY_LENGTH + CHECKSUM_LENGTH},}}")
_HEADS = tuple(f"{kind.value}_" for kind in TokenKind)  # TOKEN_IN_TEXT needs one
_WORDS = ("authorization", "cookie", "bearer", "basic", "key (", "failing row", "invalid input")


def _may_hide_secret(text: str) -> bool:
    if "%" in text or _LONG_RUN.search(text):
        return True
    if any(head in text for head in _HEADS) and TOKEN_IN_TEXT.search(text):
        return True
    lowered = text.lower()
    return any(word in lowered for word in _WORDS)


def redact(text: str) -> str:
    """`text` with every token and credential value replaced by `[redacted]`: tokens as written,
    percent-encoded (decoded repeatedly), or any base62 run carrying a valid token checksum
    whatever surrounds it; bearer and cookie values; values quoted in database errors."""
    if not _may_hide_secret(text):
        return text
    text = _ENCODED.sub(lambda m: REDACTED if _hides_token(m.group()) else m.group(), text)
    for start, end in reversed(checksummed_spans(text)):
        text = text[:start] + REDACTED + text[end:]
    text = TOKEN_IN_TEXT.sub(REDACTED, text)
    text = _HEADER.sub(lambda m: m.group(1) + (m.group(2) or "") + REDACTED, text)
    text = _SCHEME.sub(lambda match: match.group(1) + REDACTED, text)
    for pattern in _DRIVER_VALUES:
        text = pattern.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    return text


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
