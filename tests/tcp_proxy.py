"""A TCP proxy a test runs between keyward and its database, on loopback only, that injects the
faults a network gives: `drop` (a black hole: bytes vanish, nothing answers, connections stay
open), `stall` (bytes are held, then delivered on `resume`), `stall_on` (the one connection that
sends a given byte string stalls from that chunk on, until `resume`, while the others flow),
`reset` (every connection is torn down with a TCP RST, and new ones are reset at once), and
`resume` (back to forwarding)."""

from __future__ import annotations

import asyncio
import socket
import struct
from enum import Enum


class Mode(Enum):
    FORWARD = "forward"
    DROP = "drop"
    STALL = "stall"
    RESET = "reset"


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        assert target_host in ("127.0.0.1", "localhost", "::1"), "loopback only"
        self.target = (target_host, target_port)
        self.mode = Mode.FORWARD
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._stall_pattern: bytes | None = None
        self._stall_skip = 0
        self.stalled = False  # whether a connection is held by `stall_on`
        self._resumed = asyncio.Event()
        self.accepted = 0  # connections clients opened through the proxy

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.mode = Mode.FORWARD
        self._flowing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop(self) -> None:
        self.mode = Mode.DROP
        self._flowing.set()

    def stall(self) -> None:
        self.mode = Mode.STALL
        self._flowing.clear()

    def stall_on(self, pattern: bytes, skip: int = 0) -> None:
        """Stall the connection that sends `pattern` for the (skip + 1)th time."""
        self._stall_pattern = pattern
        self._stall_skip = skip
        self._resumed.clear()

    def reset(self) -> None:
        self.mode = Mode.RESET
        self._flowing.set()
        for writer in list(self._writers):
            _reset(writer)

    def resume(self) -> None:
        self._stall_pattern = None
        self.stalled = False
        self._resumed.set()
        self.mode = Mode.FORWARD
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode is Mode.RESET:
            _reset(writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._writers |= {writer, upstream_writer}
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65_536):
                if self._stall_pattern is not None and self._stall_pattern in chunk:
                    if self._stall_skip:
                        self._stall_skip -= 1
                    else:
                        self._stall_pattern = None
                        self.stalled = True
                        await self._resumed.wait()
                await self._flowing.wait()
                if self.mode is Mode.DROP:
                    continue
                if self.mode is Mode.RESET:
                    break
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(sink)
            if self.mode is Mode.RESET:
                _reset(sink)
            else:
                sink.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST, not FIN: SO_LINGER on with a zero timeout."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.close()
