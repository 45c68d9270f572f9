"""The verification cache: per process, `digest → what verification needs`, so that a key in use
costs no database round trip, while a deleted or rolled key stops working everywhere within
milliseconds.

What it promises:
- Expiry needs no invalidation: a hit carries `expires_at`, and `api_key_verify` checks it
  against `now` on every use, exactly as for a row from the database.
- Every change that can affect a verification goes through `models.key_changes.key_changed`,
  which evicts here before the change answers and tells every other process (PostgreSQL:
  NOTIFY in the change's transaction; SQLite: a change counter polled every 100 ms).
- A cache that cannot hear those invalidations (its LISTEN connection is down, the counter
  cannot be read) never answers: every lookup goes to the database (`bypass`) until it hears
  again, and then starts empty.
- A lookup that was in flight while an invalidation arrived is answered but not kept: it may
  have read the row before the change committed.
- Bounded: at most `size` entries (least recently used go first); an entry is never served
  older than `max_age_seconds`; an unknown digest is remembered for `negative_seconds` only.
- A key in use never waits for its maximum age: a hit on an entry past its refresh age (between
  half and three quarters of the maximum, spread by digest) is answered from memory and read
  again in the background, kept on the same terms as a lookup. Without it every key loaded in
  the same second (a warm-up, a restart) reached its maximum age in the same second too, and
  all their verifications waited for the database at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any
from weakref import WeakKeyDictionary

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.context import _current_context

from models.entities import ApiKey
from models.key_lookup import KeyRow, key_by_digest

log = logging.getLogger("keyward.verification")

DEFAULT_SIZE = 100_000
DEFAULT_NEGATIVE_SECONDS = 2.0
DEFAULT_MAX_AGE_SECONDS = 60.0
# A hit on an entry older than REFRESH_FROM of the maximum age, plus up to REFRESH_SPREAD of it
# (by digest), reads the key again in the background (see the module's docstring).
REFRESH_FROM = 0.5
REFRESH_SPREAD = 0.25
# Event-loop turns a verification waits for the LISTEN socket to be read once it holds data
# (one or two suffice; the bound only keeps a flood of notifications from stalling a request).
CATCH_UP_TURNS = 8
# Propagation samples kept for percentiles: the last few thousand changes describe "now".
PROPAGATION_SAMPLES = 4_096


class Missing(Enum):
    MISSING = "MISSING"


MISSING = Missing.MISSING


# Called with each propagation delay heard from another process, in seconds (telemetry
# registers its histogram here: the domain imports no adapter).
PROPAGATION_OBSERVERS: list[Callable[[float], None]] = []


@dataclass
class KeyCacheStats:
    """Plain counters, read by `/healthz`, the benchmark, the tests and `/metrics`
    (`keyward_key_cache_lookups_total{result}`; `keyward_revocation_propagation_seconds` hears
    each delay through `PROPAGATION_OBSERVERS`)."""

    hit: int = 0
    miss: int = 0
    negative: int = 0
    bypass: int = 0
    refreshes: int = 0  # entries read again in the background before their maximum age
    flushes: int = 0
    invalidations: int = 0
    heard: int = 0
    propagation_seconds: deque[float] = field(
        default_factory=lambda: deque(maxlen=PROPAGATION_SAMPLES)
    )

    def propagated(self, seconds: float) -> None:
        self.heard += 1
        self.propagation_seconds.append(seconds)
        for observer in PROPAGATION_OBSERVERS:
            observer(seconds)

    def percentile_ms(self, share: float) -> float | None:
        samples = sorted(self.propagation_seconds)
        if not samples:
            return None
        return round(1000 * samples[min(len(samples) - 1, int(share * len(samples)))], 3)


class _Entry:
    __slots__ = ("row", "born")

    def __init__(self, row: KeyRow | None, born: float) -> None:
        self.row, self.born = row, born


class KeyCache:
    def __init__(
        self,
        *,
        size: int = DEFAULT_SIZE,
        negative_seconds: float = DEFAULT_NEGATIVE_SECONDS,
        max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.size = size
        self.clock = clock  # for the age of entries: a monotonic clock, movable by tests
        self.negative_seconds = negative_seconds
        self.max_age_seconds = max_age_seconds
        self.stats = KeyCacheStats()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._digests: dict[uuid.UUID, str] = {}  # key id → digest, for evicting by id
        self._purged_before: datetime | None = None
        # Bumped by every invalidation: a lookup keeps its row only if none arrived meanwhile.
        self._epoch = 0
        # Changes of this process between their first statement and their commit.
        self._changing = 0
        self.hearing = False  # whether invalidations from other processes reach this cache
        # True while an invalidation has reached this process but is not yet applied (set by
        # the PostgreSQL listener: its socket has unread data).
        self.unheard: Callable[[], bool] | None = None
        self._refreshing: set[str] = set()  # digests being read again in the background
        self._refreshes: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def state(self) -> str:
        return "listening" if self.hearing else "bypass"

    async def catch_up(self) -> None:
        """Apply invalidations that have arrived but wait behind this request in the event loop.
        The loop reads the socket in a turn after this task's (so: yield until it is read, a
        bounded number of turns), and the read schedules the listener's callback after this
        task again (so: one more turn). Costs nothing when the socket holds nothing."""
        unheard = self.unheard
        if unheard is None or not unheard():
            return
        for _ in range(CATCH_UP_TURNS):
            await asyncio.sleep(0)
            if not unheard():
                break
        await asyncio.sleep(0)

    def cached(self, digest: str) -> KeyRow | None | Missing:
        """What the cache may answer for this digest: the row, None (known unknown), or
        MISSING (ask `load`)."""
        if not self.hearing:
            return MISSING
        entry = self._entries.get(digest)
        now = self.clock()
        if entry is None or not self._fresh(entry, now):
            return MISSING
        self._entries.move_to_end(digest)
        if entry.row is None:
            self.stats.negative += 1
            return None
        self.stats.hit += 1
        age = now - entry.born
        if age >= REFRESH_FROM * self.max_age_seconds and digest not in self._refreshing:
            spread = (hash(digest) % 1024) / 1024 * REFRESH_SPREAD
            if age >= (REFRESH_FROM + spread) * self.max_age_seconds:
                self._refresh_soon(digest)
        return entry.row

    def _refresh_soon(self, digest: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop to read it again in: it ages out as before
            return
        self._refreshing.add(digest)
        task = loop.create_task(self._refresh(digest))
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)

    async def _refresh(self, digest: str) -> None:
        """Reads a key in use again, kept only when no change can have raced (as `load`),
        with the later of the two `lastUsedAt` (a write may be queued still)."""
        try:
            epoch, now = self._epoch, self.clock()
            row = await key_by_digest(digest)
            entry = self._entries.get(digest)
            if entry is None or not self._may_keep(epoch):
                return
            known = entry.row.last_used_at if entry.row is not None else None
            if (
                row is not None
                and known is not None
                and (row.last_used_at is None or row.last_used_at < known)
            ):
                row = _with_last_used(row, known)
            self._put(digest, row, now)
            self.stats.refreshes += 1
        except Exception as error:  # the entry ages out and is looked up as before
            log.warning("key cache: reading a key in use again failed: %r", error)
        finally:
            self._refreshing.discard(digest)

    async def refreshes_settled(self) -> None:
        """Returns once the background reads started so far are done (for tests)."""
        while self._refreshes:
            await asyncio.gather(*list(self._refreshes), return_exceptions=True)

    async def load(self, digest: str) -> KeyRow | None:
        """The key with this digest from the database, kept when no change can have raced."""
        if not self.hearing:
            self.stats.bypass += 1
            return await key_by_digest(digest)
        self.stats.miss += 1
        epoch, now = self._epoch, self.clock()
        row = await key_by_digest(digest)
        if self._may_keep(epoch):
            self._put(digest, row, now)
        return row

    def _may_keep(self, epoch: int) -> bool:
        """Whether a row read since `epoch` may be kept: no invalidation arrived meanwhile, no
        change of this process is under way, and the cache still hears the others."""
        return epoch == self._epoch and self._changing == 0 and self.hearing

    async def lookup(self, digest: str) -> KeyRow | None:
        """The key with this digest, from the cache when it may answer, else the database."""
        found = self.cached(digest)
        return await self.load(digest) if found is MISSING else found

    def used(self, digest: str, at: datetime) -> None:
        """The key was just recorded as used at `at`: later hits need no write this minute."""
        entry = self._entries.get(digest)
        if entry is not None and entry.row is not None:
            entry.row = _with_last_used(entry.row, at)

    def _fresh(self, entry: _Entry, now: float) -> bool:
        row = entry.row
        if row is None:
            return now - entry.born < self.negative_seconds
        if now - entry.born >= self.max_age_seconds:
            return False
        purged = self._purged_before
        return purged is None or row.expires_at is None or row.expires_at > purged

    def _put(self, digest: str, row: KeyRow | None, now: float) -> None:
        old = self._entries.pop(digest, None)
        if old is not None and old.row is not None:
            self._digests.pop(old.row.id, None)
        self._entries[digest] = _Entry(row, now)
        if row is not None:
            self._digests[row.id] = digest
        while len(self._entries) > self.size:
            _, evicted = self._entries.popitem(last=False)
            if evicted.row is not None:
                self._digests.pop(evicted.row.id, None)

    def invalidate(
        self,
        *,
        key_ids: tuple[uuid.UUID, ...] = (),
        digests: tuple[str, ...] = (),
        organization_ids: tuple[uuid.UUID, ...] = (),
        expired_before: datetime | None = None,
        everything: bool = False,
    ) -> None:
        """Forget what a change names; `expired_before`: keys expired by then were purged."""
        self._epoch += 1
        self.stats.invalidations += 1
        if everything:
            self.flush()
            return
        for key_id in key_ids:
            digest = self._digests.pop(key_id, None)
            if digest is not None:
                self._entries.pop(digest, None)
        for digest in digests:
            entry = self._entries.pop(digest, None)
            if entry is not None and entry.row is not None:
                self._digests.pop(entry.row.id, None)
        if organization_ids:  # rare (an organization deleted): one pass over the entries
            gone = set(organization_ids)
            for digest, entry in list(self._entries.items()):
                if entry.row is not None and entry.row.organization_id in gone:
                    del self._entries[digest]
                    self._digests.pop(entry.row.id, None)
        if expired_before is not None and (
            self._purged_before is None or expired_before > self._purged_before
        ):
            self._purged_before = expired_before

    def flush(self) -> None:
        self._epoch += 1
        self.stats.flushes += 1
        self._entries.clear()
        self._digests.clear()

    def deaf(self) -> None:
        """Invalidations may be missed from now on: answer from the database only."""
        self.hearing = False
        self.unheard = None
        self.flush()

    def listening(self) -> None:
        """Invalidations arrive again: start empty, since some may have been missed."""
        self.flush()
        self.hearing = True

    def change_began(self) -> None:
        self._changing += 1

    def change_ended(self) -> None:
        self._changing -= 1


def _with_last_used(row: KeyRow, at: datetime) -> KeyRow:
    return replace(row, last_used_at=at)


_caches: WeakKeyDictionary[BaseDBAsyncClient, KeyCache] = WeakKeyDictionary()


def key_cache_attach(db: BaseDBAsyncClient, cache: KeyCache) -> None:
    """Verifications on `db` use `cache` from now on (`models.key_cache_runner` does this)."""
    _caches[db] = cache


def key_cache_detach(db: BaseDBAsyncClient) -> None:
    _caches.pop(db, None)


def key_cache_current() -> KeyCache | None:
    """The cache of the current database, or None (no cache, or inside a transaction, where a
    lookup must see the transaction's own writes). Read from the tortoise context's connection
    storage directly: `Model._meta.db` checks the event loop on every call, a cost the hot path
    need not pay for a connection it has already used."""
    context = _current_context.get()
    db = None
    if context is not None:
        db = context.connections._get_storage().get(ApiKey._meta.default_connection or "")
    if db is None:
        try:
            db = ApiKey._meta.db
        except RuntimeError:  # no database at all: nothing cached either
            return None
    if isinstance(db, TransactionalDBClient):
        return None
    return _caches.get(db)


def key_cache_for(db: BaseDBAsyncClient) -> KeyCache | None:
    return _caches.get(db)


def key_cache_report() -> dict[str, Any]:
    """The current database's cache, for operators: its state and counters (the fields of
    `/healthz`)."""
    cache = _caches.get(ApiKey._meta.db)
    stats = KeyCacheStats() if cache is None else cache.stats
    return {
        "key_cache": "off" if cache is None else cache.state(),
        "key_cache_entries": 0 if cache is None else len(cache),
        "key_cache_hits": stats.hit,
        "key_cache_misses": stats.miss,
        "key_cache_negatives": stats.negative,
        "key_cache_bypasses": stats.bypass,
        "revocations_heard": stats.heard,
        "revocation_propagation_p50_ms": stats.percentile_ms(0.5),
        "revocation_propagation_p99_ms": stats.percentile_ms(0.99),
    }


def key_cache_lookups() -> dict[str, int]:
    """Lookups by result over every cache in this process, for `/metrics`."""
    totals = {"hit": 0, "miss": 0, "negative": 0, "bypass": 0}
    for cache in list(_caches.values()):
        stats = cache.stats
        totals["hit"] += stats.hit
        totals["miss"] += stats.miss
        totals["negative"] += stats.negative
        totals["bypass"] += stats.bypass
    return totals
