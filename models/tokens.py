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


_BASE62_RUN = re.compile(rf"[0-9A-Za-z]{{{BODY_LENGTH + CHECKSUM_LENGTH},}}")
_HEAD_BEFORE = re.compile(rf"(?:{PREFIX}_)?(?:{_KINDS})_\Z")
# Runs longer than this are not searched window by window (no token is near that long); they
# are reported whole, so a log never carries one.
_LONGEST_SEARCHED_RUN = 1_024
_BARE_HEADS = tuple(f"{kind}_" for kind in ("pk", "sk", "ses"))


def checksummed_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds a token body with a valid checksum, whatever surrounds it: each base62
    run is tried at every offset against the kinds (and any `prefix_kind_` written before it).
    For the log redactor: what it finds is a working token, even cut loose from its prefix."""
    spans: list[tuple[int, int]] = []
    width = BODY_LENGTH + CHECKSUM_LENGTH
    for run in _BASE62_RUN.finditer(text):
        if run.end() - run.start() > _LONGEST_SEARCHED_RUN:
            spans.append((run.start(), run.end()))
            continue
        # A `prefix_kind_` head can only end where the run starts ("_" is not base62).
        before = _HEAD_BEFORE.search(text, max(0, run.start() - 24), run.start())
        heads = [zlib.crc32(head.encode()) for head in _BARE_HEADS]
        first_heads = heads if before is None else [*heads, zlib.crc32(before.group().encode())]
        for at in range(run.start(), run.end() - width + 1):
            checksum = _base62_value(text[at + BODY_LENGTH : at + width])
            if checksum >= 2**32:
                continue
            body = text[at : at + BODY_LENGTH].encode()
            tried = first_heads if at == run.start() else heads
            if any(zlib.crc32(body, head) == checksum for head in tried):
                start = before.start() if before is not None and at == run.start() else at
                spans.append((start, at + width))
    return _merged(spans)


_DIGITS = {char: value for value, char in enumerate(ALPHABET)}


def _base62_value(chars: str) -> int:
    value = 0
    for char in chars:
        value = value * 62 + _DIGITS[char]
    return value


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
