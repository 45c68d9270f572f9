"""Errors at the GraphQL boundary.

Expected failures of an operation are data: types implementing `Error`, returned in the
mutation's result union. Authentication and authorization failures are top-level errors with an
`extensions.code`; everything else is masked as "Unexpected error." and logged in full.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from models import errors as domain


class CodedError(GraphQLError):
    code = "INTERNAL"
    default_message = "Unexpected error."

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(
            message or self.default_message, extensions={"code": self.code, **extensions}
        )


class Unauthenticated(CodedError):
    code = "UNAUTHENTICATED"
    default_message = "This operation needs a credential: a session or an API key."


class Forbidden(CodedError):
    code = "FORBIDDEN"
    default_message = "This credential may not do that."


class BadUserInput(CodedError):
    code = "BAD_USER_INPUT"
    default_message = "The input is not valid."


def is_coded(error: GraphQLError) -> bool:
    """True for errors we raised on purpose (they pass `MaskErrors` unmasked)."""
    original = error.original_error
    if original is None:
        return True  # parse and validation errors: about the query, safe to show
    if isinstance(original, CodedError):
        return True
    # graphql-core's verdict on a variable's value before execution (an Int out of range, a
    # DateTime our scalar refused): about the request, and worded for its sender.
    return error.path is None and type(original) is GraphQLError


class MaskUnexpectedErrors(MaskErrors):
    """Masks every error we did not raise on purpose. The domain's `Forbidden` (raised by
    `models.access` when a principal may see an organization but lacks the role) becomes the
    coded FORBIDDEN error, not "Unexpected error."."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not is_coded(error))

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, domain.Forbidden):
            return GraphQLError(
                message=original.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": Forbidden.code},
            )
        return super().anonymise_error(error)


@strawberry.interface(
    description="An expected failure of a mutation, returned as data in its result union."
)
class Error:
    message: str = strawberry.field(description="What went wrong, in words for a person.")


@strawberry.type(description="One bad input field and what is wrong with it.")
class FieldProblem:
    field: str = strawberry.field(description="The input field, as the schema names it.")
    message: str = strawberry.field(description="What is wrong, in words for a person.")


@strawberry.type(
    description="The input was not accepted; `problems` lists every bad field at once, and "
    "`field`/`message` repeat the first."
)
class InvalidInput(Error):
    field: str = strawberry.field(
        description="The first bad input field, as the schema names it (`expiresAt`)."
    )
    problems: list[FieldProblem] = strawberry.field(description="Every bad field, in order.")


@strawberry.type(description="An account with this email exists already.")
class EmailTaken(Error):
    pass


@strawberry.type(
    description="The email or the password is wrong; which one is not said, on purpose."
)
class InvalidCredentials(Error):
    pass


@strawberry.type(
    description="No such organization among those the caller may see (another organization's "
    "is answered the same way)."
)
class OrganizationNotFound(Error):
    pass


@strawberry.type(
    description="No such key among those the caller may see: never created, deleted or "
    "purged, or another organization's."
)
class ApiKeyNotFound(Error):
    pass


@strawberry.type(
    description="Only an ACTIVE key can be rolled; this one is ROLLED or EXPIRED already."
)
class ApiKeyNotRollable(Error):
    pass


def invalid_input(error: domain.InvalidInput) -> InvalidInput:
    return InvalidInput(
        message=error.message,
        field=error.field,
        problems=[FieldProblem(field=p.field, message=p.message) for p in error.problems],
    )


def invalid_field(field: str, message: str) -> InvalidInput:
    """A one-field InvalidInput raised by the adapter itself (an ID that names nothing)."""
    return invalid_input(domain.InvalidInput(field, message))
