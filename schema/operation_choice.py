"""A document with several operations must name the one to run.

The GraphQL specification (GetOperation) makes a document with more than one operation and no
`operationName` a request error. strawberry would run the first operation instead, so
`mutation A { signOut } query B { me { email } }` sent without a name would sign the caller out.
This extension refuses it at validation, before anything runs, whatever the transport.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

MESSAGE = "The document has several operations: name the one to run in `operationName`."


class OneNamedOperation(SchemaExtension):
    """Listed after `ValidationCache`: its validation errors, when there are any, come first;
    without them, this refusal stands in their place (strawberry then skips validation)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        named = getattr(context, "_provided_operation_name", None) is not None
        if document is not None and not named and not context.pre_execution_errors:
            operations = [
                d for d in document.definitions if isinstance(d, OperationDefinitionNode)
            ]
            if len(operations) > 1:
                context.pre_execution_errors = [
                    GraphQLError(MESSAGE, extensions={"code": "BAD_REQUEST"})
                ]
        yield
