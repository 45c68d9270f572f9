"""keyward's GraphQL schema: types, queries and mutations, thin adapters over `models/`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.availability import DatabaseUnavailable
from schema.cost import cost_limit
from schema.errors import MaskUnexpectedErrors
from schema.execution import LeanExecutionContext
from schema.expensive import OneExpensiveMutation
from schema.guard import GuardedSchema
from schema.metrics import GraphQLMetrics
from schema.mutations import Mutation
from schema.operation_choice import OneNamedOperation
from schema.query import Query
from schema.scalars import DATETIME

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
# Distinct query texts remembered by the parser and validation caches: a frontend sends a few
# dozen; the bound keeps an attacker's stream of unique queries from growing memory.
CACHE_SIZE = 256

# Built once: validation rules created per request would make every ValidationCache lookup miss.
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    OneExpensiveMutation,
]
DEFAULT_MAX_COST = 10_000


def build_schema(
    *, introspection: bool = True, max_cost: int = DEFAULT_MAX_COST
) -> strawberry.Schema:
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        GraphQLMetrics,  # first: its end of each operation runs last, after the others'
        MaskUnexpectedErrors,
        DatabaseUnavailable,  # after the masking: it must see the original error
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: AddValidationRules(_LIMIT_RULES),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        OneNamedOperation,  # after ValidationCache: see schema/operation_choice.py
        cost_limit(max_cost),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return GuardedSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=LeanExecutionContext,
        config=StrawberryConfig(
            scalar_map={datetime: DATETIME},
            # "Did you mean …?" would map the schema for a caller denied introspection.
            disable_field_suggestions=not introspection,
        ),
    )


def export_sdl() -> str:
    """The schema as committed in `schema.graphql`."""
    return build_schema().as_str() + "\n"


__all__: list[Any] = ["build_schema", "export_sdl"]
