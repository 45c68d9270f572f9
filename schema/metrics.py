"""`keyward_graphql_operations_total{operation_type, result}`: one count per operation, by its
outcome as a client sees it.

`unauthenticated`: a top-level `UNAUTHENTICATED` error; `limited`: refused by a resource limit
(depth, aliases, tokens, or an error coded as a limit); `error`: any other top-level error;
`ok`: none (expected failures such as `InvalidInput` are data, so `ok`). Requests the HTTP
view refuses before any operation runs are counted by the edge (`web/observe.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from telemetry.metrics import RECORDING, graphql_operation_observed
from telemetry.requests import current_scope

LIMIT_CODES = frozenset({"COST_LIMIT", "PAYLOAD_TOO_LARGE", "TOO_MANY_REQUESTS", "RATE_LIMITED"})
# strawberry's and graphql-core's limit errors carry no code: known by their wording.
LIMIT_MESSAGES = ("exceeds maximum operation depth", "aliases found. Allowed", "tokens. Parsing")


def operation_result(errors: Sequence[GraphQLError] | None) -> str:
    if not errors:
        return "ok"
    codes = {(error.extensions or {}).get("code") for error in errors}
    if "UNAUTHENTICATED" in codes:
        return "unauthenticated"
    if codes & LIMIT_CODES or any(
        marker in error.message for error in errors for marker in LIMIT_MESSAGES
    ):
        return "limited"
    return "error"


class GraphQLMetrics(SchemaExtension):
    """Listed first, so its end of the operation runs last and sees the errors as sent."""

    def on_operation(self) -> Iterator[None]:
        yield
        if not RECORDING.on:
            return
        scope = current_scope()
        if scope is not None:
            scope.graphql_counted = True
        context = self.execution_context
        try:
            operation_type = context.operation_type.value
        except Exception:
            operation_type = "unknown"
        if operation_type not in ("query", "mutation"):
            operation_type = "unknown"
        result = context.result
        errors = result.errors if result is not None else context.pre_execution_errors
        graphql_operation_observed(operation_type, operation_result(errors))
