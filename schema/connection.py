"""Relay cursor connections, one helper for every listing in the schema.

A connection field takes `first`/`after` and `last`/`before` (`connection_arguments` checks
them, `models.pagination` pages), and answers `XConnection { edges { cursor node } pageInfo
{ hasNextPage hasPreviousPage startCursor endCursor } totalCount }` (`connection(...)`).
Cursors are opaque: base64url of the listing's name and the item's position, so a cursor from
another listing, or one edited by hand, is refused as `BAD_USER_INPUT` on `after`/`before`, as
is a cursor whose time lies outside what UTC can hold.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)
from strawberry.types import Info

from models.errors import InvalidInput
from models.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    PageRequest,
    Position,
    page_request,
)
from schema.errors import BadUserInput

Node = TypeVar("Node")
Item = TypeVar("Item")

# Far longer than any cursor this API gives out; a longer string is not decoded at all.
MAX_CURSOR_CHARS = 200

FIRST = (
    f"How many items to return from the start of the list (or after `after`): 0 to "
    f"{MAX_PAGE_SIZE}. When neither `first` nor `last` is given, the first {DEFAULT_PAGE_SIZE}."
)
AFTER = "Only items after the one this cursor (an edge's `cursor`) points at."
LAST = (
    f"How many items to return from the end of the list (or before `before`): 0 to "
    f"{MAX_PAGE_SIZE}. Not together with `first`."
)
BEFORE = "Only items before the one this cursor (an edge's `cursor`) points at."


@strawberry.type(description="Where a page lies in its list, and the cursors to page on.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page: ask for them with `first` and "
        "`after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page: ask for them with `last` and "
        "`before: startCursor`."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item; null when the page is empty."
    )


@strawberry.type(description="One item of a list, with the cursor that points at it.")
class Edge(Generic[Node]):
    cursor: str = strawberry.field(
        description="An opaque position to pass as `after` or `before`; stable while the "
        "item exists."
    )
    node: Node = strawberry.field(description="The item.")


@strawberry.type(
    description="One page of a list (a Relay cursor connection): page forward with "
    "`first`/`after`, backward with `last`/`before`."
)
class Connection(Generic[Node]):
    edges: list[Edge[Node]] = strawberry.field(description="The page's items, in list order.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more items exist.")
    total_count: int = strawberry.field(description="How many items the whole list holds.")


# base64's URL-safe alphabet from the standard one (what `base64.urlsafe_b64encode` does).
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode_cursor(listing: str, position: Position | tuple[datetime, str]) -> str:
    """The cursor of the item at `position`; its id may be given as the UUID's text (a node's
    `id`), which spares formatting it again."""
    moment, item_id = position
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    raw = f"{listing}|{moment.isoformat()}|{item_id}".encode()
    return binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).decode().rstrip("=")


def decode_cursor(listing: str, cursor: str, argument: str) -> Position:
    """The position a cursor of `listing` points at; BAD_USER_INPUT on `argument` otherwise."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        name, moment_text, item_id = raw.split("|")
        moment = datetime.fromisoformat(moment_text)
        if name != listing or moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC), uuid.UUID(item_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput(
            f"The cursor `{argument}` is not one this list gave out.", field=argument
        ) from None


def connection_arguments(
    listing: str, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    """The page asked for, checked; BAD_USER_INPUT naming the argument when it is not valid."""
    try:
        return page_request(
            first=first,
            last=last,
            after=None if after is None else decode_cursor(listing, after, "after"),
            before=None if before is None else decode_cursor(listing, before, "before"),
        )
    except InvalidInput as error:
        raise BadUserInput(error.message, field=error.field) from None


def connection(
    listing: str,
    page: Page[Item],
    position: Callable[[Item], Position],
    node: Callable[[Item], Node],
) -> Connection[Node]:
    edges = [
        Edge(cursor=encode_cursor(listing, position(item)), node=node(item)) for item in page.items
    ]
    return _connection(page, edges)


def node_connection(
    listing: str,
    page: Page[Item],
    node: Callable[[Item], Node],
    position: Callable[[Node], tuple[datetime, str]],
) -> Connection[Node]:
    """`connection`, each cursor from its node (`position` reads the node's time and id text):
    a listing's nodes hold the id's text already."""
    edges: list[Edge[Node]] = []
    for item in page.items:
        made = node(item)
        edge = Edge.__new__(Edge)
        edge.__dict__.update(cursor=encode_cursor(listing, position(made)), node=made)
        edges.append(edge)
    return _connection(page, edges)


def _connection(page: Page[Item], edges: list[Edge[Node]]) -> Connection[Node]:
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total_count,
    )


def asks(info: Info[Any, Any], *path: str) -> bool:
    """Whether the resolving field's selection (every node of it: a response key asked twice is
    one field) asks for the field at `path` (response names aside), through fragments. A
    selection under a directive (`@include`, `@skip`) counts as asked: a resolver that skips
    work on a "no" never skips asked work. Read from the document itself: strawberry's
    `selected_fields` converts the whole subtree, arguments included, on every call."""
    raw = info._raw_info
    fragments = raw.fragments
    return any(
        node.selection_set is not None and _asks(node.selection_set.selections, fragments, path)
        for node in raw.field_nodes
    )


def _asks(
    selections: Sequence[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    path: tuple[str, ...],
) -> bool:
    name, rest = path[0], path[1:]
    for selection in selections:
        if selection.directives:
            return True
        if isinstance(selection, FieldNode):
            if selection.name.value == name and (
                not rest
                or (
                    selection.selection_set is not None
                    and _asks(selection.selection_set.selections, fragments, rest)
                )
            ):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _asks(selection.selection_set.selections, fragments, path):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and fragment.directives:
                return True
            if fragment is not None and _asks(fragment.selection_set.selections, fragments, path):
                return True
    return False
