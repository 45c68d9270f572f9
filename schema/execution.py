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
What each field of a selection needs (its plan, its object's own selection) is decided once
per request and selection (`_program`), not once per object: a page's 50 nodes share one. A
`String`, `ID` or `Boolean` value of exactly that Python type is its own serialization, and an
enum member's name comes from a table (strawberry's serializer compares it with each value).
Every other field goes through graphql-core's own `execute_field`, as does a leaf whose value is
null where the schema says it cannot be or that does not serialize, a list holding a null, and
anything under `@defer`: errors, paths and nulls stay graphql-core's. The shortcut is off when a
schema extension resolves fields itself (strawberry then wraps every resolver in middleware).
"""

from __future__ import annotations

import asyncio
import enum
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string
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


LEAF, OBJECT, OBJECTS, SLOW = 0, 1, 2, 3
# How long a list's items execute before the loop is yielded: a page of 50 keys took ~3 ms of
# CPU in one piece, and every verification that arrived meanwhile waited for all of it. A
# verification answered by the fast path costs ~40 µs, so its p99 beside 4 listing clients is
# the listings' pieces it waits behind: 1 ms pieces gave 1.8× its idle p99, 0.3 ms 1.5-1.6×.
SLICE_SECONDS = 0.0003
# Per object type and field name: (kind, read the attribute, field type, leaf serializer or
# object type, whether null is allowed, the type a leaf's value is its own serialization of),
# or None when graphql-core answers the field.
Plan = tuple[int, Callable[[Any], Any], GraphQLOutputType, Any, bool, type | None] | None
_PLANS: dict[tuple[GraphQLObjectType, str], Plan] = {}
# One step per response key of a selection: (response name, its field details, kind, read,
# field type, serializer or object type, nullable, identity type, the steps of the object's own
# selection).
Step = tuple[str, Any, int, Any, Any, Any, bool, Any, Any]
# graphql-core's serializers that return a value of this exact type as it is.
_IDENTITY: dict[Callable[[Any], Any], type] = {
    serialize_string: str,
    serialize_id: str,
    serialize_boolean: bool,
}


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
        serialize = _enum_serializer(inner) or inner.serialize
        return LEAF, read, field.type, serialize, nullable, _IDENTITY.get(inner.serialize)
    if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
        return OBJECT, read, field.type, inner, nullable, None
    if isinstance(inner, GraphQLList) and isinstance(inner.of_type, GraphQLNonNull):
        item = inner.of_type.of_type
        if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
            return OBJECTS, read, field.type, item, nullable, None
    return None


def _enum_serializer(leaf: GraphQLLeafType) -> Callable[[Any], Any] | None:
    """strawberry's enum serializer compares a member with each of the enum's values in turn;
    this answers the same name from a table, and leaves anything else to that serializer."""
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(members, enum.EnumMeta):
        return None
    names: dict[Any, str] = {}
    member: Any
    for member in members:
        for name, value in leaf.values.items():
            if member.value == value.value:
                names[member] = name
                break
    fallback = leaf.serialize

    def serialize(value: Any) -> Any:
        if type(value) is members:
            name = names.get(value)
            if name is not None:
                return name
        return fallback(value)

    return serialize


def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


# Awaitables handed to an executor that is gone (see `_helpers`), kept until they settle.
_ORPHANS: set[asyncio.Future[Any]] = set()


def _helpers(executor: LeanExecutionContext) -> GraphQLResolveInfoHelpers:
    """What graphql-core gives resolvers as `info.async_helpers`, without a reference to the
    executor. graphql-core's own are the executor's bound methods, which it holds itself: a
    reference cycle, so that each request's executor, its context value (the request's
    principal, dataloaders, request) and its field collections (~160 objects) were freed only by
    the garbage collector. Under a load of listings that was a young collection every ~30
    requests at ~4 ms each and a middle one every ~300 at up to 100 ms, ~6 % of the CPU and the
    longest pauses of the event loop (README, "Session 6")."""
    ref = weakref.ref(executor)

    def track(values: Sequence[Any]) -> None:
        alive = ref()
        if alive is not None:
            alive.track_async_work(values)
            return
        awaitables = [
            value for value in values if asyncio.isfuture(value) or asyncio.iscoroutine(value)
        ]
        if awaitables:
            settling = asyncio.gather(*awaitables, return_exceptions=True)
            _ORPHANS.add(settling)
            settling.add_done_callback(_ORPHANS.discard)

    return GraphQLResolveInfoHelpers(gather=_gather, track=track)


class LeanExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers(self)
        # Per selection (object type, grouped field set): its steps, decided once per request;
        # the grouped field set is kept with them so that its id is not reused meanwhile.
        self._programs: dict[tuple[GraphQLObjectType, int], tuple[Any, list[Step]]] = {}

    def _program(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[Step]:
        key = (parent_type, id(grouped_field_set))
        found = self._programs.get(key)
        if found is not None:
            return found[1]
        steps: list[Step] = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            plan_key = (parent_type, node.name.value)
            try:
                plan = _PLANS[plan_key]
            except KeyError:
                plan = _PLANS[plan_key] = _plan(parent_type, node.name.value)
            if plan is None or node.arguments:
                steps.append((response_name, field_details_list, SLOW, *_NO_PLAN))
                continue
            kind, read, field_type, target, nullable, identity = plan
            selection = None
            if kind != LEAF:
                grouped, defers, _ = self.collect_subfields(target, field_details_list)
                if defers:
                    steps.append((response_name, field_details_list, SLOW, *_NO_PLAN))
                    continue
                selection = self._program(target, grouped)
            steps.append(
                (
                    response_name,
                    field_details_list,
                    kind,
                    read,
                    field_type,
                    target,
                    nullable,
                    identity,
                    selection,
                )
            )
        self._programs[key] = (grouped_field_set, steps)
        return steps

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
        return self._run(
            parent_type, source_value, path, self._program(parent_type, grouped_field_set)
        )

    def _run(
        self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None, steps: Any
    ) -> Any:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        slow: list[tuple[str, Any]] = []
        try:
            for step in steps:
                response_name, details, kind, read, field_type, target, nullable, same, inner = step
                results[response_name] = None  # keeps the document's order of response keys
                if kind == SLOW:
                    slow.append((response_name, details))
                    continue
                value = read(source_value)
                if kind == LEAF and type(value) is same:
                    results[response_name] = value
                    continue
                if value is NOT_LOADED:
                    slow.append((response_name, details))
                    continue
                if value is None:
                    if not nullable:
                        slow.append((response_name, details))
                    continue
                if kind == LEAF:
                    try:
                        serialized = target(value)
                    except Exception:  # graphql-core's own path reports it, located
                        serialized = None
                    if serialized is None or serialized is Undefined:
                        slow.append((response_name, details))
                    else:
                        results[response_name] = serialized
                    continue
                if kind == OBJECTS and not _plain_list(value):
                    slow.append((response_name, details))
                    continue
                field_path = _path((path, response_name, parent_type.name))
                try:
                    if kind == OBJECT:
                        result = self._run(target, value, field_path, inner)
                    else:
                        result = self._objects(target, value, field_path, inner)
                except Exception as error:
                    self.handle_field_error(error, field_type, details, field_path)
                    continue
                # `_run` answers a dict, `_objects` a list, or either a coroutine for the rest
                # (no general awaitable check: it was ~3 % of a listing).
                if type(result) is not dict and type(result) is not list:
                    result = self._guarded(result, field_type, details, field_path)
                    awaitable_fields.append(response_name)
                results[response_name] = result
            for response_name, details in slow:
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    None,
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
        self, item_type: GraphQLObjectType, items: list[Any], path: Path, steps: list[Step]
    ) -> Any:
        """A list of non-null objects, each item executed directly; a long list yields the event
        loop every `SLICE_SECONDS` of work, so other requests are not held up behind it."""
        completed: list[Any] = []
        pending: list[int] = []
        index = self._items(item_type, items, path, steps, 0, completed, pending)
        if index == len(items) and not pending:
            return completed
        return self._items_later(item_type, items, path, steps, index, completed, pending)

    def _items(
        self,
        item_type: GraphQLObjectType,
        items: list[Any],
        path: Path,
        steps: list[Step],
        start: int,
        completed: list[Any],
        pending: list[int],
    ) -> int:
        """Executes items from `start` until the list or the time slice ends; the next index."""
        began = time.perf_counter()
        run = self._run
        try:
            for index in range(start, len(items)):
                result = run(item_type, items[index], _path((path, index, None)), steps)
                if type(result) is not dict:  # `_run`'s coroutine
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
        steps: list[Step],
        index: int,
        completed: list[Any],
        pending: list[int],
    ) -> list[Any]:
        while index < len(items):
            await asyncio.sleep(0)  # requests waiting for the loop (verifications) run now
            index = self._items(item_type, items, path, steps, index, completed, pending)
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


_NO_PLAN = (None, None, None, False, None, None)


def _path(parts: tuple[Path | None, str | int, str | None]) -> Path:
    """`Path(prev, key, typename)`, made as the tuple it is: the named tuple's own constructor
    is a Python function, and a page makes some 250 of them."""
    return _new_tuple(Path, parts)


_new_tuple = tuple.__new__


def _plain_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(item is not None for item in value)
