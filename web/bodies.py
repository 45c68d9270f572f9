"""Request bodies and headers checked before anything recursive or typed sees them.

`json_object(raw)` is the one way a JSON body is read: bytes that are not UTF-8, JSON nested
deeper than `MAX_DEPTH`, a number longer than `MAX_NUMBER_CHARS` (Python's int() of a 5,000-digit
number raises, and a float that long only loses precision), `NaN`/`Infinity`, and any top-level
value but an object each raise `BadBody` with a message for the sender, answered as 400. The size
is bounded earlier by aiohttp's `client_max_size` (413). The depth is measured by a linear scan,
so no recursive parser ever sees a 5,000-deep document.

`single_header(request, name)`: a credential header sent twice is ambiguous (which one did a
proxy check?), so it is refused rather than silently taking the first.
"""

from __future__ import annotations

import json
import re
from typing import Any

from multidict import CIMultiDictProxy

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class BadBody(ValueError):
    """A request body or header keyward refuses; `message` says why, for the sender."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _number(text: str) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadBody(f"A number in the body has more than {MAX_NUMBER_CHARS} characters.")
    return float(text) if any(c in text for c in ".eE") else int(text)


def _constant(text: str) -> Any:
    raise BadBody(f"{text} is not JSON.")


# One decoder for every body: `json.loads` with these arguments builds a new one per call.
_DECODER = json.JSONDecoder(parse_int=_number, parse_float=_number, parse_constant=_constant)


def json_value(raw: bytes | str) -> Any:
    """Any JSON value, within the bounds above."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadBody("The body is not valid UTF-8.") from None
    # Fewer opening brackets than the bound cannot nest past it: most bodies skip the scan.
    if raw.count("{") + raw.count("[") > MAX_DEPTH and _depth(raw) > MAX_DEPTH:
        raise BadBody(f"The body is nested deeper than {MAX_DEPTH} levels.")
    try:
        return _DECODER.decode(raw)
    except json.JSONDecodeError:
        raise BadBody("The body is not valid JSON.") from None
    except RecursionError:  # unreachable within MAX_DEPTH; kept so no input can make a 500
        raise BadBody(f"The body is nested deeper than {MAX_DEPTH} levels.") from None


def json_object(raw: bytes | str) -> dict[str, Any]:
    """A JSON object body, within the bounds above."""
    value = json_value(raw)
    if not isinstance(value, dict):
        raise BadBody("The body must be a JSON object.")
    return value


def single_header(headers: CIMultiDictProxy[str], name: str) -> str | None:
    """The header's one value, None when absent; `BadBody` when it is sent more than once."""
    values = headers.getall(name, [])
    if len(values) > 1:
        raise BadBody(f"Send the {name} header once; this request has {len(values)}.")
    return values[0] if values else None
