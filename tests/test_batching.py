"""Coalescing calls into one statement (`models.batching.Batcher`), and `settled`, which a
GraphQL read uses to wait for the `lastUsedAt` writes queued before it. No database here: what is
batched is what a statement would receive."""

from __future__ import annotations

import asyncio

from models.batching import Batcher


class Recorder:
    """Runs a batch as a statement would; with `gate`, the first statement answers only once
    the gate is set."""

    def __init__(self, gate: asyncio.Future[None] | None = None) -> None:
        self.batches: list[dict[str, int]] = []
        self.gate = gate

    async def __call__(self, batch: dict[str, int]) -> dict[str, int]:
        self.batches.append(dict(batch))
        if self.gate is not None and len(self.batches) == 1:
            await self.gate
        await asyncio.sleep(0)  # a statement's round trip
        return {key: value * 2 for key, value in batch.items()}


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_calls_waiting_together_share_one_batch_and_get_their_own_result() -> None:
    run = Recorder()
    batcher = Batcher(run)
    results = await asyncio.gather(batcher("a", 1), batcher("b", 2), batcher("a", 1))
    assert list(results) == [2, 4, 2]
    assert run.batches == [{"a": 1, "b": 2}]


async def test_settled_waits_for_the_running_batch_and_the_calls_queued_behind_it() -> None:
    # given a batch running (its statement not yet answered) and a call queued behind it
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    run = Recorder(gate)
    batcher = Batcher(run)
    first = batcher.submit("a", 1)
    await turns(5)
    second = batcher.submit("b", 2)
    # when a reader waits for everything queued so far (a GraphQL read of lastUsedAt)
    settling = asyncio.ensure_future(batcher.settled())
    await turns(5)
    # then it is still waiting while the statement is
    assert run.batches == [{"a": 1}] and not settling.done()
    # and once the statement answers, both calls are done when it returns
    gate.set_result(None)
    await asyncio.wait_for(settling, timeout=5)
    assert first.result() == 2 and second.result() == 4
    assert run.batches == [{"a": 1}, {"b": 2}]


async def test_settled_with_nothing_queued_returns_at_once() -> None:
    batcher = Batcher(Recorder())
    await asyncio.wait_for(batcher.settled(), timeout=1)


async def test_a_cancelled_batch_cancels_the_calls_it_held() -> None:
    # given a batch running and a call queued behind it
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    batcher = Batcher(Recorder(gate))
    first = batcher.submit("a", 1)
    await turns(5)
    second = batcher.submit("b", 2)
    # when the batch's task is cancelled (the loop closing)
    assert batcher.task is not None
    batcher.task.cancel()
    await turns(2)
    # then both calls are cancelled, and nothing waits forever on them
    assert first.cancelled() and second.cancelled() and batcher.task is None
    await asyncio.wait_for(batcher.settled(), timeout=1)
