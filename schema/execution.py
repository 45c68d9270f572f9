"""A leaner executor for the fields that only read an attribute.

graphql-core executes every field alike: a `Path`, a `GraphQLResolveInfo` (strawberry's, with
its extra fields), the resolver, an awaitable check and `complete_value`, about 3 µs a field in
pure Python. A page of 50 keys is some 700 fields, nearly all of them attributes of a plain
object (`ApiKey.name`, `Edge.cursor`, `PageInfo.hasNextPage`): that machinery was ~60 % of a
listing's CPU (README, "Benchmarks").

`LeanExecutionContext.execute_fields` answers such a field itself: a field without arguments
whose resolver is strawberry's default one (no resolver, no field extension, no exception
handler) and whose type is a scalar or an enum reads the attribute and serializes it, exactly
what graphql-core would have done, and nothing more. Every other field, and any leaf whose value
is null where the schema says it cannot be, or that does not serialize, goes through
graphql-core's own `execute_field`, so errors, paths and nulls are graphql-core's. The shortcut
is off when any schema extension resolves fields itself (strawberry then installs middleware
around every resolver).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Per object type and field name: how to answer the field directly, or None when it cannot be.
Plan = tuple[Callable[[Any], Any], Callable[[Any], Any], bool] | None
_PLANS: dict[tuple[GraphQLObjectType, str], Plan] = {}


def _plan(parent_type: GraphQLObjectType, field_name: str) -> Plan:
    field = parent_type.fields.get(field_name)
    if field is None or field.args or not getattr(field.resolve, "_is_default", False):
        return None
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is None or definition.default_resolver is not getattr:
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    leaf = field.type.of_type if non_null else field.type
    if not is_leaf_type(leaf):
        return None
    assert isinstance(leaf, GraphQLLeafType)
    return attrgetter(definition.python_name), leaf.serialize, non_null


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager._middleware_resolvers:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        slow: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            key = (parent_type, node.name.value)
            try:
                plan = _PLANS[key]
            except KeyError:
                plan = _PLANS[key] = _plan(parent_type, node.name.value)
            if plan is not None and not node.arguments:
                read, serialize, non_null = plan
                value = read(source_value)
                if value is None:
                    if not non_null:
                        results[response_name] = None
                        continue
                else:
                    try:
                        serialized = serialize(value)
                    except Exception:  # graphql-core's own path reports it, located
                        serialized = None
                    if serialized is not None and serialized is not Undefined:
                        results[response_name] = serialized
                        continue
            results[response_name] = None  # keeps the document's order of response keys
            slow[response_name] = field_details_list
        if not slow:
            return results
        return self._execute_remaining(
            parent_type, source_value, path, slow, position_context, results
        )

    def _execute_remaining(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        slow: dict[str, Any],
        position_context: Any,
        results: dict[str, Any],
    ) -> Any:
        """graphql-core's `execute_fields` for the fields the shortcut left, into `results`."""
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in slow.items():
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is Undefined:
                    del results[response_name]
                    continue
                results[response_name] = result
                if is_awaitable(result):
                    awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()
