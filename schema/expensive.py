"""Mutations that run argon2 (~100 ms and 64 MiB each) run at most once per request, whatever
the aliases or fragments: a document selecting two of them is refused before anything runs.
Without this, one request with 15 aliased `signIn`s cost 15 hashes, and counted 15 attempts
against the victim's sign-in limit."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)

# Every mutation that hashes or checks a password. A new one belongs here.
EXPENSIVE_MUTATIONS = frozenset({"signIn", "signUp", "requestPasswordReset", "changePassword"})
CODE = "EXPENSIVE_OPERATION_LIMIT"


class OneExpensiveMutation(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        names = list(self._expensive(node.selection_set, frozenset()))
        if len(names) > 1:
            mutation_type = self.context.schema.mutation_type
            known = sorted(EXPENSIVE_MUTATIONS & set(mutation_type.fields if mutation_type else ()))
            self.report_error(
                GraphQLError(
                    "A request may run at most one mutation that checks a password "
                    f"({', '.join(known)}); this one asks for {len(names)}. Send them as "
                    "separate requests.",
                    node,
                    extensions={"code": CODE},
                )
            )

    def _expensive(self, selection_set: SelectionSetNode, seen: frozenset[str]) -> list[str]:
        found: list[str] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in EXPENSIVE_MUTATIONS:
                    found.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                found += self._expensive(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is not None and name not in seen:
                    found += self._expensive(fragment.selection_set, seen | {name})
        return found
