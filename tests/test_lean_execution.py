"""The lean executor (schema/execution.py) answers exactly what graphql-core's own executor
answers: the same data, the same errors at the same paths, the same nulls, for attribute
fields, objects, lists of objects, resolvers that fail or await, preloaded answers present and
absent, and a list long enough that its execution yields the event loop midway.

graphql-core's executor is the reference: each document runs on one schema twice, once with
strawberry's default execution context and once with ours."""

from __future__ import annotations

import asyncio
import enum
import gc
from typing import Any

import pytest
import strawberry
from graphql import parse

from schema.execution import NOT_LOADED, LeanExecutionContext, NotLoaded, preloaded


@strawberry.enum(description="A colour.")
class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.type(description="A leaf-heavy item.")
class Item:
    id: strawberry.ID
    name: str
    colour: Colour
    note: str | None
    required: str  # set to None by some tests: a non-null violation
    listed_label: strawberry.Private[str | NotLoaded] = NOT_LOADED

    @strawberry.field
    @preloaded("listed_label")
    def label(self) -> str:
        if self.listed_label is not NOT_LOADED:
            return self.listed_label
        return f"computed {self.name}"

    @strawberry.field
    def boom(self) -> str | None:
        if self.name.endswith("7"):
            raise ValueError("boom on seven")
        return "fine"

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return f"later {self.name}"


@strawberry.type(description="A page of items.")
class Page:
    items: list[Item]
    first: Item | None
    strict_first: Item
    total: int


def _items(count: int, *, broken: int | None = None, preloaded_every: int = 2) -> list[Item]:
    return [
        Item(
            id=strawberry.ID(str(n)),
            name=f"item {n}",
            colour=Colour.RED if n % 2 else Colour.BLUE,
            note=None if n % 3 else f"note {n}",
            required=None if n == broken else "here",  # type: ignore[arg-type]
            listed_label=f"listed {n}" if n % preloaded_every == 0 else NOT_LOADED,
        )
        for n in range(count)
    ]


def _schemas(count: int, **options: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    @strawberry.type
    class Query:
        @strawberry.field
        def page(self) -> Page:
            items = _items(count, **options)
            return Page(items=items, first=items[0], strict_first=items[0], total=count)

    return (
        strawberry.Schema(query=Query),
        strawberry.Schema(query=Query, execution_context_class=LeanExecutionContext),
    )


DOCUMENTS = {
    "leaves": "{ page { total items { id name colour note required label } } }",
    "aliases and fragments": """
        query { page { n: total items { ...F theName: name } first { ...F } } }
        fragment F on Item { __typename id colour label }""",
    "directives": """query ($yes: Boolean!) { page { items { id name @include(if: $yes)
        note @skip(if: $yes) } } }""",
    "a resolver fails in a nullable field": "{ page { items { id boom } } }",
    "an awaited resolver": "{ page { items { id later } first { later } } }",
    "everything": """{ page { total first { id label boom later } strictFirst { name }
        items { id name colour note required label boom later } } }""",
}


async def _both(count: int, document: str, **options: Any) -> tuple[Any, Any]:
    reference, lean = _schemas(count, **options)
    variables = {"yes": True}
    expected = await reference.execute(document, variable_values=variables)
    got = await lean.execute(document, variable_values=variables)
    return expected, got


def _errors(result: Any) -> list[tuple[str, list[Any] | None]]:
    return sorted((error.message, error.path) for error in result.errors or ())


@pytest.mark.parametrize("name", list(DOCUMENTS))
async def test_same_answer_as_graphql_core(name: str) -> None:
    # given a page of 30 items, some with preloaded labels and some without
    # when both executors run the document
    expected, got = await _both(30, DOCUMENTS[name])
    # then the data and the errors are the same
    assert got.data == expected.data
    assert _errors(got) == _errors(expected)


async def test_a_null_in_a_non_null_field_nulls_the_same_parent() -> None:
    # given an item whose non-null `required` is None, in the list and in `strictFirst`
    for document in (
        "{ page { total items { id required } } }",
        "{ page { total strictFirst { id required } } }",
        "{ page { total first { id required } } }",
    ):
        # when both executors run it
        expected, got = await _both(5, document, broken=0)
        # then graphql-core's error and nulls are ours
        assert got.data == expected.data
        assert _errors(got) == _errors(expected)
        assert got.errors


async def test_a_long_list_yields_and_still_answers_the_same() -> None:
    # given 3,000 items, all fields synchronous: far more than one time slice of execution
    document = "{ page { total items { id name colour note required label boom } } }"
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    reference, lean = _schemas(3_000)
    expected = await reference.execute(document)
    # when the lean executor runs it beside another task
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    got = await lean.execute(document)
    stop.set()
    await task
    # then the answer is the same, and the other task ran while the list executed
    assert got.data == expected.data
    assert _errors(got) == _errors(expected)
    assert ticks - before > 3


async def test_work_handed_over_after_its_execution_ended_is_still_settled() -> None:
    """Resolvers reach graphql-core's tracking through `info.async_helpers`, which hold the
    executor weakly (so that a request's executor is freed when it answers): work handed over
    once the executor is gone is still run to its end, not dropped unawaited."""
    # given the helpers of an executor that has been freed
    _, lean = _schemas(1)
    executor = LeanExecutionContext.build(lean._schema, parse("{ page { total } }"))
    assert isinstance(executor, LeanExecutionContext)
    helpers = executor.async_helpers
    del executor
    gc.collect()
    finished: list[str] = []

    async def cleanup() -> None:
        await asyncio.sleep(0)
        finished.append("cleanup")

    # when work is handed over to them
    helpers.track([cleanup(), "not awaitable"])
    for _ in range(5):
        await asyncio.sleep(0)
    # then it ran to its end
    assert finished == ["cleanup"]
    # and gathering never needed the executor
    assert await helpers.gather([asyncio.sleep(0, "a"), asyncio.sleep(0, "b")]) == ["a", "b"]
