"""The processes under test and their databases: keyward (`server.py serve`) and the baseline
(`python -m bench.baseline`), each a subprocess on 127.0.0.1, logs into the run's work folder."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/keyward_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(
        self, name: str, command: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
    ) -> None:
        self.name = name
        self._cwd = cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = [c.replace("{port}", str(self.port)) for c in command]
        self._env = {**os.environ, **env}
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log = self._log.open("wb")
        self.process = subprocess.Popen(
            self._command, cwd=self._cwd, env=self._env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self._log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited at start:\n{tail}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer /healthz within 60 s")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process, all its threads (from /proc)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def keyward(
    database_url: str, log: Path, env: dict[str, str] | None = None, root: Path = ROOT,
    workers: int = 1,
) -> Server:
    """keyward's server; `root` another checkout of it (`--previous`) to compare against;
    `workers` API processes on one port (`serve --workers`; CPU figures then cover the parent
    only)."""
    command = [sys.executable, "server.py", "serve", "--host", "127.0.0.1", "--port", "{port}",
               "--no-scheduler", *(["--workers", str(workers)] if workers > 1 else [])]
    env = {"DATABASE_URL": database_url, "PYTHONPATH": str(root), **(env or {})}
    return Server("keyward", command, env, log, cwd=root)


def baseline(database_url: str, log: Path) -> Server:
    command = [sys.executable, "-m", "bench.baseline", "--database", database_url,
               "--port", "{port}"]
    return Server("baseline", command, {}, log)


async def _postgres_fresh(url: str) -> bool:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    try:
        connection = await asyncpg.connect(admin, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return True


def postgres_fresh(url: str = POSTGRES_URL) -> bool:
    """Drop and recreate the benchmark's own database; False when no server answers."""
    return asyncio.run(_postgres_fresh(url))
