"""When the database cannot answer inside a resolver: a clear "try again" instead of a crash.

The API keeps running while PostgreSQL is down or restarting: GraphQL answers a top-level error
with `extensions.code` `SERVICE_UNAVAILABLE` (the HTTP edge does the same, with 503, for failures
outside resolvers: see `web/middlewares.py`). The connection pool reconnects by itself once the
database is back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from models.database import database_unavailable
from schema.errors import CodedError
from telemetry.database import database_error_observed

log = logging.getLogger("keyward.database")

UNAVAILABLE_MESSAGE = "The database is unavailable right now; try again shortly."


class ServiceUnavailable(CodedError):
    code = "SERVICE_UNAVAILABLE"
    default_message = UNAVAILABLE_MESSAGE


class DatabaseUnavailable(SchemaExtension):
    """Turn a resolver's database-unavailable error into a `SERVICE_UNAVAILABLE` top-level error.
    Listed after `MaskErrors`, so it sees the error before masking would hide it."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        replaced: list[GraphQLError] = []
        for error in errors:
            if database_unavailable(error.original_error):
                database_error_observed(error.original_error)
                log.warning("database unavailable in %s: %r", error.path, error.original_error)
                error = ServiceUnavailable()
            replaced.append(error)
        result.errors = replaced
