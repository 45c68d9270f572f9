"""What the GraphQL layer logs of its errors.

The schema's extensions bound a document (depth, aliases, tokens: see `schema/__init__.py`);
the HTTP view bounds the request around it (`web/graphql_view.py`).

`GuardedSchema.process_errors` logs unexpected errors in full, with their traceback, but never
the document's source text (which may hold a token literal) nor the expected errors (coded
errors, invalid queries), which are the client's business, not the operator's.
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from models.errors import DomainError
from schema.errors import is_coded

log = logging.getLogger("keyward.graphql")


class GuardedSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if is_coded(error) or isinstance(original, DomainError):
                continue
            log.error(
                "Unexpected error in %s at %s: %s",
                execution_context.operation_name if execution_context else None,
                ".".join(str(part) for part in error.path or ()),
                error.message,
                exc_info=original,
            )
