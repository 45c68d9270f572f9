"""Cursor pagination, the one rule every listing follows (the API shows it as Relay connections).

A listing is a total order of items, each at a `Position` (its `created_at` and `id`). A
`PageRequest` asks for the `first` N items after a position, or the `last` N before one, and
either side may be bounded by the other cursor. `paginate` turns it into at most two calls of
the listing's own `Fetch` (a keyset query: an index range, never a scan), whichever direction
the client pages in:

- the page itself, one row more than asked (that row answers "is there more this way?");
- for a page that does not start at the list's very edge, one row the other way (LIMIT 1).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from models.errors import Problems

T = TypeVar("T")
# A page of 100 keys renders in a few milliseconds; larger pages only serve scrapers.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
Position = tuple[datetime, uuid.UUID]
# fetch(after, before, reverse, limit): up to `limit` items strictly between the two positions
# (either may be None), in the listing's order, or in the reverse order when `reverse`.
Fetch = Callable[[Position | None, Position | None, bool, int], Awaitable[list[T]]]


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A valid request for one page: exactly one of `first` and `last` is set."""

    first: int | None = None
    last: int | None = None
    after: Position | None = None
    before: Position | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    has_previous_page: bool
    has_next_page: bool
    total_count: int


def page_request(
    *,
    first: int | None,
    last: int | None,
    after: Position | None,
    before: Position | None,
    default: int = DEFAULT_PAGE_SIZE,
    maximum: int = MAX_PAGE_SIZE,
) -> PageRequest:
    """Check a page's arguments; with neither `first` nor `last`, the first `default` items.
    0 is a valid size (an empty page that still answers `hasNextPage`)."""
    problems = Problems()
    if first is not None and last is not None:
        problems.add("last", "Give `first` or `last`, not both.")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= maximum:
            problems.add(name, f"{name} must lie between 0 and {maximum}.")
    problems.check()
    if first is None and last is None:
        first = default
    return PageRequest(first=first, last=last, after=after, before=before)


async def paginate(
    request: PageRequest,
    fetch: Fetch[T],
    position: Callable[[T], Position],
    total_count: int,
) -> Page[T]:
    if request.last is not None:
        size = request.last
        rows = await fetch(request.after, request.before, True, size + 1)
        items = rows[:size][::-1]
        end = position(items[-1]) if items else request.before
        has_next = end is not None and bool(await fetch(end, None, False, 1))
        return Page(items, len(rows) > size, has_next, total_count)
    size = request.first if request.first is not None else 0
    rows = await fetch(request.after, request.before, False, size + 1)
    items = rows[:size]
    start = position(items[0]) if items else request.after
    has_previous = request.after is not None and bool(await fetch(None, start, True, 1))
    return Page(items, has_previous, len(rows) > size, total_count)
