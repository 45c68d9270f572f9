"""The `DateTime` scalar: ISO 8601 with a UTC offset on output.

Input without an offset still parses here so that the resolver can answer `InvalidInput` on
the right field (a union member) instead of a bare validation error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import GraphQLError, StringValueNode, ValueNode, VariableNode


def _serialize(value: datetime) -> str:
    if value.tzinfo is not UTC:  # the database's values are UTC already
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"  # "+00:00"


def _parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime takes an ISO 8601 string, such as 2030-01-01T00:00:00Z.")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "DateTime takes an ISO 8601 string, such as 2030-01-01T00:00:00Z."
        ) from None


def _parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> datetime:
    """An inline literal: refused as a GraphQL error about the document (no crash, nothing
    logged), like any other literal of the wrong type."""
    if isinstance(node, VariableNode):
        value = (variables or {}).get(node.name.value)
    elif isinstance(node, StringValueNode):
        value = node.value
    else:
        value = None
    try:
        return _parse(value)
    except ValueError as error:
        raise GraphQLError(str(error), node) from None


DATETIME = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 date and time with a UTC offset, such as 2030-01-01T00:00:00Z.",
    serialize=_serialize,
    parse_value=_parse,
    parse_literal=_parse_literal,
)
