"""The database schema's history: tortoise's native migrations in `models/migrations/`.

`migrations_apply` brings a database up to date (`python server.py migrate`; the SQLite default
runs it at every start). `migrations_pending` tells the API and the worker whether a PostgreSQL
schema is missing or behind, so that they refuse to start instead of failing on the first query.

`python -m models.migrator regenerate` rewrites the single initial migration from the current
models. That is right only while no database outside a developer's machine holds the schema;
after the first release, add migrations with `tortoise -c models.migrator.CONFIG makemigrations`.
"""

from __future__ import annotations

import asyncio
import fcntl
import sys
import zlib
from pathlib import Path
from typing import Any

from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor, PlanStep
from tortoise.migrations.writer import MigrationWriter

from models.db_config import tortoise_config

# Two `migrate` runs at once would both try to create the same tables: the second waits for
# the first on this PostgreSQL advisory lock (on SQLite, a lock file), then finds nothing to do.
_MIGRATE_LOCK = zlib.crc32(b"keyward migrate")
# For tools that read a tortoise config (`tortoise -c models.migrator.CONFIG …`): an in-memory
# SQLite database, enough to compare the models with the migrations on disk.
CONFIG = tortoise_config("sqlite://:memory:")
_INITIAL = Path(__file__).parent / "migrations" / "0001_initial.py"


class SchemaNotCurrent(RuntimeError):
    """The database lacks migrations this code needs: run `python server.py migrate`."""


def _apps_config() -> dict[str, dict[str, Any]]:
    return {label: dict(app) for label, app in CONFIG["apps"].items()}


def _executor() -> MigrationExecutor:
    return MigrationExecutor(get_connection("default"), _apps_config())


def _names(plan: list[PlanStep]) -> list[str]:
    return [step.migration.name for step in plan if not step.backward]


async def migrations_pending() -> list[str]:
    """Migrations on disk the connected database has not applied, oldest first. Raises the
    driver's error when the database cannot be reached (tortoise would report "all pending")."""
    await get_connection("default").execute_query("SELECT 1")
    return _names(await _executor().plan())


async def migrations_check() -> None:
    """Raise `SchemaNotCurrent` unless every migration on disk has been applied."""
    pending = await migrations_pending()
    if pending:
        raise SchemaNotCurrent(
            f"the database schema is missing or behind ({len(pending)} pending migration(s):"
            f" {', '.join(pending)}): run `python server.py migrate` first"
        )


async def migrations_apply() -> list[str]:
    """Apply pending migrations, each in a transaction where the database allows it. Processes
    starting together (several SQLite workers, two deploys) take turns; the later ones find
    nothing left to do."""
    connection = get_connection("default")
    if connection.capabilities.dialect == "sqlite":
        filename = str(getattr(connection, "filename", ":memory:"))
        if filename == ":memory:":
            return await _apply()
        with open(f"{filename}-migrate-lock", "w") as lock:
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            return await _apply()  # closing the file releases the lock
    async with connection.acquire_connection() as locked:
        await locked.execute(f"SELECT pg_advisory_lock({_MIGRATE_LOCK})")
        try:
            return await _apply()
        finally:
            await locked.execute(f"SELECT pg_advisory_unlock({_MIGRATE_LOCK})")


async def _apply() -> list[str]:
    executor = _executor()
    pending = _names(await executor.plan())
    if pending:
        await executor.migrate()
    return pending


async def migrations_unwritten() -> list[str]:
    """The migrations `makemigrations` would write now: empty when the migrations on disk build
    exactly what the models describe."""
    return [writer.name for writer in await _changes()]


async def _changes() -> list[MigrationWriter]:
    async with TortoiseContext() as ctx:
        await ctx.init(config=CONFIG)
        if ctx.apps is None:
            raise RuntimeError("tortoise loaded no models")
        return await MigrationAutodetector(ctx.apps, _apps_config()).changes()


async def _regenerate() -> Path:
    previous = _INITIAL.read_text() if _INITIAL.exists() else None
    _INITIAL.unlink(missing_ok=True)
    try:
        writers = await _changes()
        if len(writers) != 1 or writers[0].name != _INITIAL.stem:
            raise RuntimeError(f"expected one initial migration, got {[w.name for w in writers]}")
        return writers[0].write()
    except BaseException:
        if previous is not None:
            _INITIAL.write_text(previous)
        raise


def main(argv: list[str]) -> int:
    if argv != ["regenerate"]:
        print("usage: python -m models.migrator regenerate", file=sys.stderr)
        return 2
    print(f"wrote {asyncio.run(_regenerate())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
