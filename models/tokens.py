"""The token format: `[<prefix>_]<kind>_<body><checksum>`.

The body is 32 bytes from `secrets`, base62-encoded to a fixed 43 characters; the checksum is the
CRC32 of everything before it, base62 to a fixed 6 characters (GitHub's token format does the
same). A mistyped or invented token therefore fails `parse` without a database round trip, and
secret scanners can recognise ours. Only `digest(token)` is ever stored for secret material.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from enum import Enum

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_BYTES = 32
BODY_LENGTH = 43  # 62**43 > 2**256: the smallest fixed width that holds any 32-byte body
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
MAX_TOKEN_LENGTH = 512
START_BODY_CHARS = 4

# The token grammar, stated once: settings validate TOKEN_PREFIX with PREFIX, the log redactor
# finds tokens with TOKEN_IN_TEXT, `parse` checks them with _SHAPE; all built from these parts.
PREFIX = "[a-z0-9]{1,16}"
_KINDS = "pk|sk|ses|inv|rst"
_SHAPE = re.compile(
    rf"(?:{PREFIX}_)?({_KINDS})_([0-9A-Za-z]{{{BODY_LENGTH}}})"
    rf"([0-9A-Za-z]{{{CHECKSUM_LENGTH}}})"
)
# Any of our tokens in running text (any deployment prefix), even with a broken checksum or cut
# short: what must never reach a log.
TOKEN_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z])(?:{PREFIX}_)?(?:{_KINDS})_[0-9A-Za-z]{{8,}}")


class TokenKind(Enum):
    PUBLIC_KEY = "pk"
    SECRET_KEY = "sk"
    SESSION = "ses"
    INVITATION = "inv"
    PASSWORD_RESET = "rst"


def valid_prefix(prefix: str) -> bool:
    """Whether `prefix` may stand before the kind in tokens this deployment issues."""
    return re.fullmatch(PREFIX, prefix) is not None


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(text: str) -> str:
    return _base62(zlib.crc32(text.encode("ascii")), CHECKSUM_LENGTH)


def generate(kind: TokenKind, prefix: str = "") -> str:
    """A new token of `kind`, behind `prefix_` when a prefix is set."""
    body = _base62(int.from_bytes(secrets.token_bytes(BODY_BYTES), "big"), BODY_LENGTH)
    head = f"{prefix}_{kind.value}_{body}" if prefix else f"{kind.value}_{body}"
    return head + _checksum(head)


def parse(token: str) -> TokenKind | None:
    """The token's kind, or None when it is not one of ours (wrong shape or checksum).

    Any deployment prefix is accepted, so changing TOKEN_PREFIX never invalidates issued keys.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    match = _SHAPE.fullmatch(token)
    if match is None:
        return None
    head = token[:-CHECKSUM_LENGTH]
    if not secrets.compare_digest(_checksum(head), match.group(3)):
        return None
    return TokenKind(match.group(1))


def digest(token: str) -> str:
    """The SHA-256 hex digest stored in place of the token: one indexed lookup finds it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(token: str) -> str:
    """The recognisable start shown in listings: prefixes and the body's first four characters."""
    body_at = token.rindex("_") + 1
    return token[: body_at + START_BODY_CHARS]
