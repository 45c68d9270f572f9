"""keyward's app factory and command line.

`create_app(settings)` builds the aiohttp application with every resource (the database, the
scheduler) owned by a `cleanup_ctx`; nothing happens at import time. `main()` is the only place
that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import logging
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime

from aiohttp import web

from jobs.housekeeping import JOBS
from jobs.scheduler import scheduler_context
from jobs.worker import job_run_once, worker_run
from models.audit_log import audit_chain_verify
from models.clock import utcnow
from models.database import (
    database_close,
    database_entered,
    database_open,
    database_unavailable,
)
from models.key_cache_runner import key_cache_running
from models.key_lookup import last_used_settled
from models.migrator import SchemaNotCurrent, migrations_apply
from models.passwords import Passwords
from models.usage import usage_flush, usage_flush_forever
from settings import Settings, SettingsError, redact_url
from telemetry.database import database_observed
from telemetry.logs import logging_configure
from web.fast_verify import KeywardRunner
from web.metrics import add_metrics
from web.middlewares import MIDDLEWARES, secure_response
from web.observe import echo_request_id
from web.redaction import install_log_redaction, redact
from web.routes import setup_routes
from web.state import CLOCK, DATABASE, PASSWORDS, POLICIES, SETTINGS

log = logging.getLogger("keyward")

MAX_BODY_BYTES = 64 * 1024


def _database(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def database(app: web.Application) -> AsyncIterator[None]:
        ctx = await database_open(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            connect_timeout_ms=settings.db_connect_timeout_ms,
            create_schema=settings.is_sqlite,
        )
        app[DATABASE] = ctx
        log.info("database ready: %s", redact_url(settings.database_url))
        try:
            with database_observed(ctx):
                yield
        finally:
            await database_close(ctx)

    return database


def _usage_flusher(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """Write verification counts every USAGE_FLUSH_SECONDS, and once more at shutdown."""

    async def flusher(app: web.Application) -> AsyncIterator[None]:
        with database_entered(app[DATABASE]):
            task = asyncio.create_task(usage_flush_forever(settings.usage_flush_seconds))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with database_entered(app[DATABASE]):
                try:
                    await last_used_settled()
                    await usage_flush()
                except Exception as error:
                    log.warning("last usage flush failed, counts lost: %r", error)

    return flusher


def _key_cache(settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    async def key_cache(app: web.Application) -> AsyncIterator[None]:
        async with key_cache_running(
            app[DATABASE].db(),
            settings.database_url,
            size=settings.key_cache_size,
            negative_seconds=settings.key_cache_negative_seconds,
            max_age_seconds=settings.key_cache_max_age_seconds,
        ):
            yield

    return key_cache


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    passwords: Passwords | None = None,
    scheduler: bool = False,
) -> web.Application:
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[POLICIES] = settings.policies()
    app[CLOCK] = clock
    app[PASSWORDS] = passwords or Passwords(
        time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib
    )
    app.cleanup_ctx.append(_database(settings))
    app.cleanup_ctx.append(_usage_flusher(settings))  # after the database: flushes before it closes
    app.cleanup_ctx.append(_key_cache(settings))  # after the database: it reads from it
    if scheduler:  # after the database's cleanup_ctx: the jobs use its context
        app.cleanup_ctx.append(scheduler_context(settings, database=DATABASE, clock=clock))
    setup_routes(app, settings)
    add_metrics(app, settings)
    app.on_response_prepare.append(secure_response)
    app.on_response_prepare.append(echo_request_id)
    return app


def _port(text: str) -> int:
    """A TCP port for `--port`: a usage error, not a traceback, when it is none."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="server.py", description="keyward: API keys.")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="serve the API (the default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument(
        "--no-scheduler", action="store_true", help="serve the API alone; run `worker` apart"
    )
    serve.add_argument(
        "--metrics-port", type=int, help="serve /metrics on this port too (METRICS_PORT)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes sharing the port (SO_REUSEPORT): one per core uses them all",
    )
    commands.add_parser("worker", help="run only the scheduled jobs")
    jobs_command = commands.add_parser("jobs", help="run one scheduled job once, now")
    jobs_actions = jobs_command.add_subparsers(dest="action", required=True)
    jobs_run = jobs_actions.add_parser("run")
    jobs_run.add_argument("job", choices=sorted(JOBS))
    commands.add_parser("migrate", help="apply pending database migrations")
    audit_command = commands.add_parser("audit", help="check an organization's audit log")
    audit_actions = audit_command.add_subparsers(dest="action", required=True)
    audit_verify_command = audit_actions.add_parser(
        "verify", help="recompute the hash chain and say where it breaks"
    )
    audit_verify_command.add_argument("--organization", required=True, metavar="ID")
    commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    return parser


# Objects a young collection waits for (Python's default: 700). A listing's answer holds a few
# thousand while it is built, and is freed by reference counting once sent: at 700 each listing
# ran about one young collection, and one of the older generation every ten, ~0.2 ms a request
# between them; at 5,000 ~0.05 ms. Cyclic garbage waits for at most that many objects.
YOUNG_COLLECTION_THRESHOLD = 5_000


async def _heap_frozen(app: web.Application) -> None:
    """Once the app has started, what it built (modules, the schema, the ORM's models) is kept
    out of the garbage collector's full collections, which otherwise walked those ~110,000
    objects every few hundred requests: ~0.2 ms a request on average, measured on the listing.
    Young collections run less often (`YOUNG_COLLECTION_THRESHOLD`)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)


def app_run(
    app: web.Application,
    *,
    host: str,
    port: int,
    reuse_port: bool = False,
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve `app` until SIGINT or SIGTERM, then shut down gracefully: `web.run_app`'s work, with
    `KeywardRunner` (the verification fast path) in front, and the startup heap frozen."""

    app.on_startup.append(_heap_frozen)  # after the cleanup contexts' starts

    async def serving() -> None:
        runner = KeywardRunner(app, handle_signals=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, reuse_port=reuse_port).start()
            if ready is not None:
                ready()
            await asyncio.Event().wait()  # until a signal raises GracefulExit
        finally:
            await runner.cleanup()

    with asyncio.Runner() as running:
        loop = running.get_loop()
        main = loop.create_task(serving())
        try:
            loop.run_until_complete(main)
        except (web.GracefulExit, KeyboardInterrupt):
            pass
        finally:
            if not main.done():  # a signal: clean up while the app's own tasks still run
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)


def serve(settings: Settings, *, host: str, port: int, scheduler: bool, workers: int = 1) -> int:
    if workers > 1:
        return serve_workers(settings, host=host, port=port, scheduler=scheduler, workers=workers)
    base = f"http://{host}:{port}"
    listening = (
        f"keyward: serving on {base} (dashboard /, GraphiQL /graphql), "
        f"database {redact_url(settings.database_url)}"
    )
    try:
        app_run(
            create_app(settings, scheduler=scheduler),
            host=host,
            port=port,
            ready=lambda: print(listening, flush=True),
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                f"keyward: port {port} on {host} is already in use by another program; stop it, "
                f"or serve on another port: --port {port + 1 if port < 65535 else 8000}",
                file=sys.stderr,
            )
            return 1
        if error.errno == errno.EACCES:
            print(
                f"keyward: no permission to listen on port {port}; "
                "ports below 1024 need root: choose another with --port",
                file=sys.stderr,
            )
            return 1
        raise
    return 0


def serve_workers(
    settings: Settings, *, host: str, port: int, scheduler: bool, workers: int
) -> int:
    """`workers` API processes on one port (SO_REUSEPORT: the kernel spreads connections), so
    one machine uses all its cores and GraphQL in one cannot hold up verification in another.
    The first also runs the scheduler and the metrics port (each process counts its own
    requests: scrape the API port's /metrics of each, or run one worker per port). Each keeps
    its own verification cache and hears every invalidation like any other API process.
    SIGINT/SIGTERM are passed on to all; the exit code is the worst child's."""
    if settings.is_sqlite:
        migrate(settings)  # once, before the workers open the file
    children: list[int] = []
    for number in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            code = 1
            try:
                own = settings if number == 0 else replace(settings, metrics_port=None)
                app_run(
                    create_app(own, scheduler=scheduler and number == 0),
                    host=host,
                    port=port,
                    reuse_port=True,
                )
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    print(f"keyward: {workers} workers serving on http://{host}:{port}", flush=True)

    def pass_on(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    worst = 0
    for child in children:
        _, status = os.waitpid(child, 0)
        worst = max(worst, os.waitstatus_to_exitcode(status))
    return worst


def worker(settings: Settings) -> int:
    """The scheduled jobs alone, until SIGTERM or SIGINT (`serve --no-scheduler` runs the API)."""
    return worker_run(settings)


def run_job(settings: Settings, job: str) -> int:
    """One run of `job`, now, for operators: prints what it did."""
    return asyncio.run(job_run_once(settings, job))


def migrate(settings: Settings) -> int:
    """Apply pending migrations: once per deploy, before the API and the worker start."""

    async def apply() -> list[str]:
        ctx = await database_open(
            settings.database_url,
            # the advisory lock holds one connection while the migrations use another
            pool_size=max(2, settings.db_pool_size),
            statement_timeout_ms=0,  # a migration may rewrite a large table: no time limit
            check_schema=False,
        )
        try:
            with ctx:
                return await migrations_apply()
        finally:
            await database_close(ctx)

    applied = asyncio.run(apply())
    log.info("migrations applied: %s", ", ".join(applied) if applied else "none pending")
    return 0


def audit_verify(settings: Settings, organization: str) -> int:
    """Recompute an organization's audit chain: exit 0 when whole, 1 where it breaks."""
    try:
        organization_id = uuid.UUID(organization)
    except ValueError:
        print(f"keyward: {organization!r} is not an organization id", file=sys.stderr)
        return 2

    async def check() -> int:
        ctx = await database_open(
            settings.database_url,
            pool_size=2,
            statement_timeout_ms=0,
            create_schema=settings.is_sqlite,
        )
        try:
            with database_entered(ctx):
                result = await audit_chain_verify(organization_id=organization_id)
        finally:
            await database_close(ctx)
        if result.ok:
            print(f"audit chain of {organization_id}: ok, {result.checked} events")
            return 0
        print(
            f"audit chain of {organization_id}: BROKEN at event #{result.broken_at}: "
            f"{result.reason} ({result.checked} events before it verify)"
        )
        return 1

    return asyncio.run(check())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    install_log_redaction()
    if args.command == "export-schema":
        from schema import export_sdl

        sys.stdout.write(export_sdl())
        return 0
    try:
        settings = Settings.from_env()
        if getattr(args, "metrics_port", None) is not None:
            settings = replace(settings, metrics_port=args.metrics_port)
    except SettingsError as error:
        print(f"keyward: {error}", file=sys.stderr)
        return 2
    logging_configure(settings.log_format, scrub=redact)
    try:
        return _command(args, settings)
    except SchemaNotCurrent as error:
        print(f"keyward: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if not database_unavailable(error):
            raise
        url = redact_url(settings.database_url)
        print(f"keyward: cannot reach the database at {url}: {error!r}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "worker":
        return worker(settings)
    if args.command == "jobs":
        return run_job(settings, args.job)
    if args.command == "migrate":
        return migrate(settings)
    if args.command == "audit":
        return audit_verify(settings, args.organization)
    return serve(
        settings,
        host=getattr(args, "host", "127.0.0.1"),
        port=getattr(args, "port", 8000),
        scheduler=not getattr(args, "no_scheduler", False),
        workers=getattr(args, "workers", 1),
    )


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    sys.exit(main())
