"""The cost limit: how many nodes a document may ask for, computed before anything executes.

A field costs 1 plus its children's cost, and a field with a `first` or `last` argument (any
connection, whatever its shape) multiplies its children's cost by that number (its schema
default when the document leaves it out); fields without one multiply by 1. Fragments count
where they are spread. A document over `GRAPHQL_MAX_COST` is refused as a whole with
`extensions.code` `COST_LIMIT` and the computed `cost`, before any resolver runs: an upper bound
of the work, not a measure of the answer (a page asked for 100 may hold 3).

It runs as an extension after validation, so a `first` given as a variable counts its value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from models.pagination import DEFAULT_PAGE_SIZE
from schema.errors import CodedError

MULTIPLIERS = ("first", "last")
# What a connection returns when asked for neither `first` nor `last` (models.pagination).


class CostLimitExceeded(CodedError):
    code = "COST_LIMIT"


# A literal longer than this counts as this: still far over any limit, and int() of a
# 5,000-digit literal would raise.
_HUGE = 10**18


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        # A fragment's cost does not depend on where it is spread: computed once, so fragments
        # spreading fragments cannot make the walk exponential.
        self.fragment_costs: dict[str, int] = {}
        # Whether a `first`/`last` came from a variable: then the cost is this request's only.
        self.read_variables = False

    def multiplier(self, node: FieldNode, definition: GraphQLField | None) -> int:
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        if definition is not None and not set(MULTIPLIERS) & set(given):
            if any(name in definition.args for name in MULTIPLIERS):
                # A connection asked for neither end gives its default page.
                defaults = [
                    definition.args[name].default_value
                    for name in MULTIPLIERS
                    if name in definition.args
                ]
                sized = [d for d in defaults if isinstance(d, int) and d > 0]
                return sized[0] if sized else DEFAULT_PAGE_SIZE
        for name in MULTIPLIERS:
            if definition is None or name not in definition.args:
                continue
            value: object = None
            if name in given:
                literal = given[name]
                if isinstance(literal, IntValueNode):
                    value = _HUGE if len(literal.value) > 18 else int(literal.value)
                elif isinstance(literal, VariableNode):
                    self.read_variables = True
                    value = self.variables.get(literal.name.value)
            else:
                value = definition.args[name].default_value
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return min(value, _HUGE)
        return 1

    def cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        seen: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = None
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    definition = parent.fields.get(selection.name.value)
                child = None if definition is None else get_named_type(definition.type)
                inner = self.cost(selection.selection_set, child, seen)
                total += 1 + self.multiplier(selection, definition) * inner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner_type = (
                    parent if condition is None else self.schema.get_type(condition.name.value)
                )
                total += self.cost(selection.selection_set, inner_type, seen)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment_cost(selection.name.value, seen)
        return total

    def fragment_cost(self, name: str, seen: frozenset[str]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:  # cycles are refused by validation anyway
            return 0
        if name not in self.fragment_costs:
            fragment_type = self.schema.get_type(fragment.type_condition.name.value)
            self.fragment_costs[name] = self.cost(
                fragment.selection_set, fragment_type, seen | {name}
            )
        return self.fragment_costs[name]


def document_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> int:
    """The operation's cost: the most nodes it may ask for."""
    return _walked(schema, operation, fragments, variables)[0]


def _walked(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None,
) -> tuple[int, bool]:
    """The operation's cost, and whether it depends on the variables."""
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    walk = _Walk(schema, fragments, variables or {})
    return walk.cost(operation.selection_set, root, frozenset()), walk.read_variables


# Costs that depend on the document alone, by (schema, query text, operation name): a client
# sends the same few documents again and again. Bounded like the parser's cache.
KNOWN_COSTS_SIZE = 256
_known_costs: dict[tuple[GraphQLSchema, str, str | None], int] = {}


def cost_limit(max_cost: int) -> Callable[[], SchemaExtension]:
    """The extension refusing documents that cost more than `max_cost`."""

    class CostLimit(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            schema = context.schema._schema
            known = None
            if isinstance(context.query, str):
                known = (schema, context.query, context.operation_name)
                cost = _known_costs.get(known)
                if cost is not None:
                    if cost > max_cost and context.result is None:
                        context.result = _refusal(cost, max_cost)
                    yield
                    return
            if document is not None and context.result is None:
                operations = [
                    d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                ]
                chosen = [
                    o
                    for o in operations
                    if context.operation_name is None
                    or (o.name is not None and o.name.value == context.operation_name)
                ]
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                if len(chosen) == 1:
                    cost, by_variables = _walked(schema, chosen[0], fragments, context.variables)
                    if known is not None and not by_variables:
                        if len(_known_costs) >= KNOWN_COSTS_SIZE:
                            _known_costs.clear()
                        _known_costs[known] = cost
                    if cost > max_cost:
                        context.result = _refusal(cost, max_cost)
            yield

    return CostLimit


def _refusal(cost: int, max_cost: int) -> ExecutionResult:
    return ExecutionResult(
        data=None,
        errors=[
            CostLimitExceeded(
                f"This document may ask for {cost:,} nodes; at most {max_cost:,} are allowed. "
                "Ask for smaller pages (first/last) or fewer fields.",
                cost=cost,
                maxCost=max_cost,
            )
        ],
    )
