"""What a name or an email may contain: the one rule for text people type that others read.

Refused, with `InvalidInput` on the field: control characters (NUL, newlines, escape: C0, DEL
and C1), lone UTF-16 surrogates (no database stores them and no encoder writes them), and the
bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make a name display
as something other than what it is. Everything else in Unicode is accepted.
"""

from __future__ import annotations

import re

from models.errors import InvalidInput

_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def text_acceptable(value: str) -> bool:
    """Whether `value` holds none of the refused characters."""
    return _REFUSED.search(value) is None


def clean_text(value: str, field: str, what: str = "A name") -> str:
    """`value` unchanged, or `InvalidInput` on `field` naming what is wrong with it."""
    found = _REFUSED.search(value)
    if found is not None:
        raise InvalidInput(
            field,
            f"{what} may not contain control characters, unpaired surrogates or "
            f"bidirectional overrides (found U+{ord(found.group()):04X}).",
        )
    return value


def encodable(value: str) -> bool:
    """Whether `value` can be written as UTF-8 at all (no lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
