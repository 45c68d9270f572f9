"""Expected failures of domain operations. The API maps each to a typed GraphQL error;
none of them ever carries a token."""

from __future__ import annotations


class DomainError(Exception):
    message = "The operation failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidInput(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


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
