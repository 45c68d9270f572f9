"""A leaner executor for the fields that only read an attribute.

graphql-core executes every field alike: a `Path`, a `GraphQLResolveInfo` (strawberry's, with
its extra fields), the resolver, an awaitable check and `complete_value`, about 3 µs a field in
pure Python. A page of 50 keys is some 700 fields, nearly all of them attributes of a plain
object (`ApiKey.name`, `Edge.cursor`, `Connection.edges`, `PageInfo.hasNextPage`): that
machinery was ~60 % of a listing's CPU (README, "Benchmarks").

`LeanExecutionContext.execute_fields` answers such a field itself when it has no arguments and
its resolver is strawberry's default one (no resolver, no field extension, no exception
handler), or its resolver is marked `@preloaded(attribute)` and the object holds the answer
there already:
- a scalar or enum: it reads the attribute and serializes it, what graphql-core would do;
- an object, or a list of objects, of a type without `is_type_of`: it reads the attribute and
  executes the object's selection on it directly (no resolve info for the field itself), and
  handles an error the way graphql-core's `handle_field_error` does (null and an error for a
  nullable field, propagated for a non-null one).
Every other field goes through graphql-core's own `execute_field`, as does a leaf whose value is
null where the schema says it cannot be or that does not serialize, a list holding a null, and
anything under `@defer`: errors, paths and nulls stay graphql-core's. The shortcut is off when a
schema extension resolves fields itself (strawberry then wraps every resolver in middleware).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from operator import attrgetter
from typing import Any, TypeVar

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

F = TypeVar("F", bound=Callable[..., Any])
PRELOADED = "_keyward_preloaded_from"


class NotLoaded(enum.Enum):
    """The type of `NOT_LOADED`: a preloaded answer that is not there (None is an answer)."""

    NOT_LOADED = "NOT_LOADED"


NOT_LOADED = NotLoaded.NOT_LOADED


def preloaded(attribute: str) -> Callable[[F], F]:
    """Marks a resolver whose answer the object may hold already, in `attribute`: where it is
    not `NOT_LOADED` the executor reads it like an attribute field and calls no resolver (a
    listing decides `status` and `replacedBy` for its whole page at once). The resolver must
    give that same answer when it does run."""

    def mark(resolver: F) -> F:
        setattr(resolver, PRELOADED, attribute)
        return resolver

    return mark


LEAF, OBJECT, OBJECTS = 0, 1, 2
# How long a list's items execute before the loop is yielded: a page of 50 keys took ~3 ms of
# CPU in one piece, and every verification that arrived meanwhile waited for all of it.
SLICE_SECONDS = 0.001
# Per object type and field name: (kind, read the attribute, field type, leaf serializer or
# object type, whether null is allowed), or None when graphql-core answers the field.
Plan = tuple[int, Callable[[Any], Any], GraphQLOutputType, Any, bool] | None
_PLANS: dict[tuple[GraphQLObjectType, str], Plan] = {}


def _plan(parent_type: GraphQLObjectType, field_name: str) -> Plan:
    field = parent_type.fields.get(field_name)
    definition = None if field is None else (field.extensions or {}).get("strawberry-definition")
    if field is None or field.args or definition is None:
        return None
    if getattr(field.resolve, "_is_default", False):
        if definition.default_resolver is not getattr:
            return None
        attribute = definition.python_name
    else:
        base = definition.base_resolver
        wrapped = None if base is None or definition.extensions else base.wrapped_func
        attribute = getattr(wrapped, PRELOADED, None)
        if attribute is None:
            return None
    read = attrgetter(attribute)
    nullable = not isinstance(field.type, GraphQLNonNull)
    inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if is_leaf_type(inner):
        assert isinstance(inner, GraphQLLeafType)
        return LEAF, read, field.type, inner.serialize, nullable
    if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        return OBJECT, read, field.type, inner, nullable
    if isinstance(inner, GraphQLList) and isinstance(inner.of_type, GraphQLNonNull):
        item = inner.of_type.of_type
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return OBJECTS, read, field.type, item, nullable
    return None


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
        if position_context is not None or (manager is not None and manager._middleware_resolvers):
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        slow: dict[str, Any] = {}
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                key = (parent_type, node.name.value)
                try:
                    plan = _PLANS[key]
                except KeyError:
                    plan = _PLANS[key] = _plan(parent_type, node.name.value)
                results[response_name] = None  # keeps the document's order of response keys
                if plan is None or node.arguments:
                    slow[response_name] = field_details_list
                    continue
                kind, read, field_type, target, nullable = plan
                value = read(source_value)
                if value is NOT_LOADED:
                    slow[response_name] = field_details_list
                    continue
                if value is None:
                    if not nullable:
                        slow[response_name] = field_details_list
                    continue
                if kind == LEAF:
                    try:
                        serialized = target(value)
                    except Exception:  # graphql-core's own path reports it, located
                        serialized = None
                    if serialized is None or serialized is Undefined:
                        slow[response_name] = field_details_list
                    else:
                        results[response_name] = serialized
                    continue
                grouped, defers, _ = self.collect_subfields(target, field_details_list)
                if defers or (kind == OBJECTS and not _plain_list(value)):
                    slow[response_name] = field_details_list
                    continue
                field_path = Path(path, response_name, parent_type.name)
                try:
                    if kind == OBJECT:
                        result = self.execute_fields(target, value, field_path, grouped, None)
                    else:
                        result = self._objects(target, value, field_path, grouped)
                except Exception as error:
                    self.handle_field_error(error, field_type, field_details_list, field_path)
                    continue
                if self.is_awaitable(result):
                    result = self._guarded(result, field_type, field_details_list, field_path)
                    awaitable_fields.append(response_name)
                results[response_name] = result
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
                if self.is_awaitable(result):
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

    def _objects(
        self, item_type: GraphQLObjectType, items: list[Any], path: Path, grouped: Any
    ) -> Any:
        """A list of non-null objects, each item executed directly; a long list yields the event
        loop every `SLICE_SECONDS` of work, so other requests are not held up behind it."""
        completed: list[Any] = []
        pending: list[int] = []
        index = self._items(item_type, items, path, grouped, 0, completed, pending)
        if index == len(items) and not pending:
            return completed
        return self._items_later(item_type, items, path, grouped, index, completed, pending)

    def _items(
        self,
        item_type: GraphQLObjectType,
        items: list[Any],
        path: Path,
        grouped: Any,
        start: int,
        completed: list[Any],
        pending: list[int],
    ) -> int:
        """Executes items from `start` until the list or the time slice ends; the next index."""
        began = time.perf_counter()
        try:
            for index in range(start, len(items)):
                result = self.execute_fields(
                    item_type, items[index], Path(path, index, None), grouped, None
                )
                if self.is_awaitable(result):
                    pending.append(index)
                completed.append(result)
                if time.perf_counter() - began > SLICE_SECONDS:
                    return index + 1
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        return len(items)

    async def _items_later(
        self,
        item_type: GraphQLObjectType,
        items: list[Any],
        path: Path,
        grouped: Any,
        index: int,
        completed: list[Any],
        pending: list[int],
    ) -> list[Any]:
        while index < len(items):
            await asyncio.sleep(0)  # requests waiting for the loop (verifications) run now
            index = self._items(item_type, items, path, grouped, index, completed, pending)
        if pending:
            awaited = await gather_with_cancel(*(completed[index] for index in pending))
            for index, value in zip(pending, awaited, strict=True):
                completed[index] = value
        return completed

    async def _guarded(
        self, result: Awaitable[Any], field_type: GraphQLOutputType, details: Any, path: Path
    ) -> Any:
        try:
            return await result
        except Exception as error:
            self.handle_field_error(error, field_type, details, path)
            return None


def _plain_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(item is not None for item in value)
