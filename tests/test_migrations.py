"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL, and
the server refuses a PostgreSQL schema that lacks one."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from tortoise import connections

from models.database import database_close, database_open
from models.migrator import SchemaNotCurrent, migrations_pending, migrations_unwritten
from server import main
from tests.harness import ON_POSTGRES

REGENERATE = "python -m models.migrator regenerate"

_SQLITE_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table'"
    " AND name NOT LIKE 'sqlite_%' AND name <> 'tortoise_migrations' ORDER BY name"
)
_PG_COLUMNS = """
SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name <> 'tortoise_migrations'
"""
_PG_INDEXES = """
SELECT tablename, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename <> 'tortoise_migrations'
"""
_PG_CONSTRAINTS = """
SELECT conrelid::regclass::text AS table_name, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE connamespace = current_schema()::regnamespace
  AND conrelid::regclass::text <> 'tortoise_migrations'
"""


async def _rows(sql: str) -> list[dict[str, Any]]:
    return [dict(row) for row in await connections.get("default").execute_query_dict(sql)]


async def _sqlite_schema() -> dict[str, Any]:
    """Per table: columns (type, NOT NULL, default, primary key), indexes by their columns and
    uniqueness (their names are hashes), foreign keys. Comments are left out."""
    schema: dict[str, Any] = {}
    for table in [row["name"] for row in await _rows(_SQLITE_TABLES)]:
        indexes: Counter[Any] = Counter()
        for index in await _rows(f'PRAGMA index_list("{table}")'):
            columns = [c["name"] for c in await _rows(f'PRAGMA index_info("{index["name"]}")')]
            indexes[(tuple(columns), index["unique"], index["origin"])] += 1
        schema[table] = {
            "columns": sorted(
                (c["name"], c["type"], c["notnull"], c["dflt_value"], c["pk"])
                for c in await _rows(f'PRAGMA table_info("{table}")')
            ),
            "indexes": indexes,
            "foreign_keys": sorted(
                (fk["from"], fk["table"], fk["to"], fk["on_delete"])
                for fk in await _rows(f'PRAGMA foreign_key_list("{table}")')
            ),
        }
    return schema


async def _postgres_schema() -> dict[str, Any]:
    unnamed = re.compile(r"INDEX \S+ ON (\S+\.)?")
    return {
        "columns": sorted(tuple(row.values()) for row in await _rows(_PG_COLUMNS)),
        "indexes": Counter(
            (row["tablename"], unnamed.sub("INDEX ON ", row["indexdef"]))
            for row in await _rows(_PG_INDEXES)
        ),
        "constraints": Counter(
            (row["table_name"], row["definition"]) for row in await _rows(_PG_CONSTRAINTS)
        ),
    }


async def _schema_of(url: str, *, migrated: bool) -> dict[str, Any]:
    ctx = await database_open(url, create_schema=migrated, check_schema=False)
    try:
        with ctx:
            if not migrated:
                await ctx.generate_schemas()
            return await (_postgres_schema() if ON_POSTGRES else _sqlite_schema())
    finally:
        await database_close(ctx)


async def test_migrations_build_the_schema_the_models_describe(
    new_database: Callable[[], str],
) -> None:
    # given: one database built by the migrations, one straight from the models
    migrated_url, generated_url = new_database(), new_database()

    # when
    migrated = await _schema_of(migrated_url, migrated=True)
    generated = await _schema_of(generated_url, migrated=False)

    # then
    assert migrated == generated, f"the migrations are behind the models: run `{REGENERATE}`"


async def test_every_model_change_has_its_migration() -> None:
    # when
    unwritten = await migrations_unwritten()

    # then
    assert unwritten == [], f"the models changed: run `{REGENERATE}` (before the first release)"


async def test_the_migrations_apply_once(new_database: Callable[[], str]) -> None:
    # given
    url = new_database()
    await database_close(await database_open(url, create_schema=True))

    # when: the second run (a second deploy, or a SQLite restart) finds nothing to do
    ctx = await database_open(url, create_schema=True)

    # then
    with ctx:
        assert await migrations_pending() == []
    await database_close(ctx)


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite migrates itself at start")
async def test_postgres_schema_behind_is_refused(new_database: Callable[[], str]) -> None:
    # when
    with pytest.raises(SchemaNotCurrent, match="run `python server.py migrate`"):
        await database_open(new_database())


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite migrates itself at start")
def test_serve_on_a_postgres_schema_behind_says_run_migrate_in_one_line(
    new_database: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given
    monkeypatch.setenv("DATABASE_URL", new_database())

    # when
    code = main(["serve", "--port", "8000", "--no-scheduler"])  # refused before it listens

    # then
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "run `python server.py migrate`" in lines[0], lines


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite migrates itself at start")
def test_migrate_then_serve_on_an_empty_postgres(
    new_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.setenv("DATABASE_URL", new_database())

    # when
    code = main(["migrate"])

    # then
    assert code == 0
    assert main(["migrate"]) == 0
