"""Expected failures of domain operations. The API maps each to a typed GraphQL error;
none of them ever carries a token."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    message = "The operation failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # the input field as the API names it (`expiresAt`, not `expires_at`)
    message: str


class InvalidInput(DomainError):
    """Every problem with an input, so a form with two bad fields needs one round trip;
    `field` and `message` are the first's."""

    def __init__(self, field: str, message: str, *more: FieldProblem) -> None:
        super().__init__(message)
        self.field = field
        self.problems = (FieldProblem(field, message), *more)


class Problems:
    """Collects an input's problems; `check()` raises them all at once."""

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    def add(self, field: str, message: str) -> None:
        self.found.append(FieldProblem(field, message))

    def catch(self, error: InvalidInput) -> None:
        self.found.extend(error.problems)

    def check(self) -> None:
        if self.found:
            first, *more = self.found
            raise InvalidInput(first.field, first.message, *more)


class NotFound(DomainError):
    message = "Not found."


class OrganizationNotFound(NotFound):
    message = "No such organization."


class ApiKeyNotFound(NotFound):
    message = "No such API key."


class ApiKeyNotRollable(DomainError):
    message = "Only an active key can be rolled; this one is already rolled or expired."


class EmailTaken(DomainError):
    message = "An account with this email already exists."


class InvalidCredentials(DomainError):
    message = "The email or password is incorrect."


class Forbidden(DomainError):
    message = "This credential may not do that."


class MemberNotFound(NotFound):
    message = "No such member."


class InvitationNotFound(NotFound):
    message = "No such invitation, or it has been used, revoked or has expired."


class AlreadyMember(DomainError):
    message = "This person is already a member of the organization."


class LastOwner(DomainError):
    message = "An organization needs at least one owner: make someone else an owner first."


class ResetTokenInvalid(DomainError):
    message = "This password-reset link is not valid: it was used, has expired or is mistyped."
