"""keyward's app factory and command line.

`create_app(settings)` builds the aiohttp application with every resource (the database, the
scheduler) owned by a `cleanup_ctx`; nothing happens at import time. `main()` is the only place
that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web
from tortoise.context import TortoiseContext

from models.clock import utcnow
from models.database import database_close, database_open
from models.passwords import Passwords
from schema import build_schema
from schema.http import (
    CLOCK,
    PASSWORDS,
    SETTINGS,
    GraphQLView,
    Handler,
    authentication,
    verify_key,
)
from settings import Settings, SettingsError, redact_url

log = logging.getLogger("keyward")

DATABASE = web.AppKey("database", TortoiseContext)
MAX_BODY_BYTES = 64 * 1024


def _database(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def database(app: web.Application) -> AsyncIterator[None]:
        ctx = await database_open(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            create_schema=settings.is_sqlite,
        )
        app[DATABASE] = ctx
        log.info("database ready: %s", redact_url(settings.database_url))
        try:
            yield
        finally:
            await database_close(ctx)

    return database


@web.middleware
async def database_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run each request inside the app's own tortoise context (tortoise keeps it in a
    contextvar; entering it here does not depend on how aiohttp spawns request tasks)."""
    with request.app[DATABASE]:
        return await handler(request)


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.path == "/graphql" and request.method == "POST":
        response.headers["Cache-Control"] = "no-store"
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    passwords: Passwords | None = None,
) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, database_context, authentication],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[PASSWORDS] = passwords or Passwords(
        time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
    )
    app.cleanup_ctx.append(_database(settings))
    view = GraphQLView(schema=build_schema(introspection=settings.graphql_introspection))
    app.router.add_route("*", "/graphql", view)
    app.router.add_post("/v1/keys/verify", verify_key)
    app.router.add_get("/healthz", healthz)
    return app


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="server.py", description="keyward: API keys.")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the API (the default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-scheduler", action="store_true", help="serve the API alone; run `worker` apart"
    )
    commands.add_parser("worker", help="run only the scheduled jobs")
    jobs_command = commands.add_parser("jobs", help="run one scheduled job once, now")
    jobs_actions = jobs_command.add_subparsers(dest="action", required=True)
    jobs_run = jobs_actions.add_parser("run")
    jobs_run.add_argument("job", choices=["expire-rolled", "purge-expired"])
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    return parser


def serve(settings: Settings, *, host: str, port: int, scheduler: bool) -> int:
    # (issue 3 wires `scheduler` into create_app)
    web.run_app(create_app(settings), host=host, port=port, print=None)
    return 0


def worker(settings: Settings) -> int:
    raise NotImplementedError("issue 3: jobs.worker")


def run_job(settings: Settings, job: str) -> int:
    raise NotImplementedError("issue 3: jobs.worker")


def migrate(settings: Settings) -> int:
    raise NotImplementedError("issue 4: migrations")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "export-schema":
        from schema import export_sdl

        sys.stdout.write(export_sdl())
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"keyward: {error}", file=sys.stderr)
        return 2
    if args.command == "worker":
        return worker(settings)
    if args.command == "jobs":
        return run_job(settings, args.job)
    if args.command == "migrate":
        return migrate(settings)
    return serve(
        settings,
        host=getattr(args, "host", "127.0.0.1"),
        port=getattr(args, "port", 8000),
        scheduler=not getattr(args, "no_scheduler", False),
    )


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
