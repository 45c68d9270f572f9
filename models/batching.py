"""Coalescing concurrent calls into one statement: what waits while a statement runs forms the
next batch, so under load a batch is about (request rate × statement time), and at low load a
batch is one call. Each caller still awaits its own result, so the contract of the call it
replaces is unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

# Items per statement: the cap keeps each statement short and under SQLite's limit on bound
# parameters.
MAX_BATCH = 500

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


@dataclass
class Batcher(Generic[K, V, R]):
    """Coalesces concurrent calls: `run` gets the batch's {key: value} and returns
    {key: result}; a key asked for twice in one batch is done once."""

    run: Callable[[dict[K, V]], Awaitable[dict[K, R]]]
    queue: dict[K, tuple[V, list[asyncio.Future[R | None]]]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    running: list[asyncio.Future[R | None]] = field(default_factory=list)  # the batch in hand

    async def __call__(self, key: K, value: V) -> R | None:
        return await self.submit(key, value)

    def submit(self, key: K, value: V) -> asyncio.Future[R | None]:
        """Queue a call without awaiting it: the future has its result."""
        loop = asyncio.get_running_loop()
        if self.task is not None and self.task.get_loop() is not loop:
            self.queue, self.task, self.running = {}, None, []  # a client reused on a new loop
        waiter: asyncio.Future[R | None] = loop.create_future()
        queued = self.queue.get(key)
        if queued is None:
            self.queue[key] = (value, [waiter])
        else:
            queued[1].append(waiter)
        if self.task is None:
            self.task = asyncio.create_task(self._drain())
        return waiter

    async def settled(self) -> None:
        """Returns once every call queued before it has its result (or its error)."""
        waiting = [waiter for _, waiters in self.queue.values() for waiter in waiters]
        waiting += self.running
        if waiting:
            await asyncio.wait(waiting)

    async def _drain(self) -> None:
        try:
            while self.queue:
                batch = {key: self.queue.pop(key) for key in list(self.queue)[:MAX_BATCH]}
                self.running = [waiter for _, waiters in batch.values() for waiter in waiters]
                try:
                    results = await self.run({key: value for key, (value, _) in batch.items()})
                except Exception as error:  # every caller fails as its own statement would have
                    for _, waiters in batch.values():
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(error)
                    continue
                for key, (_, waiters) in batch.items():
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(results.get(key))
        finally:  # cancelled (the loop is closing): nobody is left to answer the rest
            for waiter in self.running:
                waiter.cancel()
            for _, waiters in self.queue.values():
                for waiter in waiters:
                    waiter.cancel()
            self.queue, self.task, self.running = {}, None, []
