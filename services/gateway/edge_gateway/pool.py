"""Clients for a pool of workers: one link per worker, requests sent to the worker with the
fewest outstanding, answers matched to requests by id.

A link is a connection to the worker's Unix stream socket (edge_common.stream; ZeroMQ's
asyncio side had cost the gateway ~0.1 ms a request more), carrying many requests at once.
A worker that dies takes its outstanding requests with it: its connection drops and they
fail at once with 503 (not acknowledged); the supervisor's restart binds the same address
again, to which the link connects again.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any, cast

from edge_common.errors import QueryError, Unavailable
from edge_common.stream import Reading, message
from edge_common.wire import pack, unpack
from edge_gateway.running import Running

__all__ = ["WorkerPool", "next_piece"]

# request ids: counted from the clock, so that a restarted gateway never reuses an id a
# worker may still remember (a cancelled request waiting in its queue, edge_query.cancel)
_ids = itertools.count(time.time_ns() // 1000)


Waiting = dict[int, "asyncio.Queue[tuple[dict[str, Any], list[Any]]]"]


def _lost(waiting: Waiting) -> None:
    for q in waiting.values():
        q.put_nowait(({"lost": True}, []))


class _Link(asyncio.Protocol):
    """One connection to a worker's stream socket, opened when first needed and again
    after it dropped; answers parsed as they arrive (no task, no await per message)."""

    def __init__(self, path: Path, index: int) -> None:
        self.path = path
        self.index = index
        self.outstanding = 0
        self.waiting: Waiting = {}
        self.transport: asyncio.WriteTransport | None = None
        self.reading = Reading()
        self._connecting = asyncio.Lock()

    async def send(self, frames: list[Any], deadline: float) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            transport = await self._connect(deadline)
        transport.writelines(message(frames))

    async def _connect(self, deadline: float) -> asyncio.WriteTransport:
        loop = asyncio.get_running_loop()
        async with self._connecting:
            while self.transport is None or self.transport.is_closing():
                try:
                    await loop.create_unix_connection(lambda: self, str(self.path))
                except OSError:  # not started yet, or restarting
                    if loop.time() >= deadline:
                        raise
                    await asyncio.sleep(0.05)
            return self.transport

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # (uvloop's: not a subclass)
        self.reading = Reading()

    def data_received(self, data: bytes) -> None:
        for frames in self.reading.feed(data):
            header, payloads = unpack(frames)
            q = self.waiting.get(header.get("id", -1))
            if q is not None:
                q.put_nowait((header, payloads))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        _lost(self.waiting)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class WorkerPool:
    def __init__(
        self,
        endpoints: Sequence[Path],
        timeout_s: float,
        name: str,
        running: Running | None = None,
    ) -> None:
        """``endpoints``: the workers' stream sockets; each is connected by its first
        request."""
        self.links = [_Link(e, i) for i, e in enumerate(endpoints)]
        self.timeout_s = timeout_s
        self.name = name
        self.running = running  # the query pool's: the queries it is running

    def close(self) -> None:
        for link in self.links:
            link.close()

    def _pick(self) -> _Link:
        return min(self.links, key=lambda link: link.outstanding)

    async def request(
        self,
        header: dict[str, Any],
        *payloads: bytes,
        link: _Link | None = None,
        timeout_s: float | None = None,
    ) -> tuple[dict[str, Any], list[Any]]:
        """Send one request and wait for its single answer."""
        answers = self.stream(header, *payloads, link=link, timeout_s=timeout_s)
        try:
            async for reply in answers:
                return reply
        finally:  # at once: the link's count of outstanding requests is what picks a worker
            await answers.aclose()
        raise Unavailable(f"no answer from the {self.name}")

    async def stream(
        self,
        header: dict[str, Any],
        *payloads: bytes,
        link: _Link | None = None,
        timeout_s: float | None = None,
    ) -> AsyncGenerator[tuple[dict[str, Any], list[Any]], None]:
        """Send one request and yield every message of its answer until the caller stops."""
        link = link or self._pick()
        rid = next(_ids)
        q: asyncio.Queue[tuple[dict[str, Any], list[Any]]] = asyncio.Queue()
        link.waiting[rid] = q
        link.outstanding += 1
        qid = None
        if self.running is not None:
            qid, header = self.running.begin(header, link.index, rid)
        try:
            wait = timeout_s or self.timeout_s
            deadline = asyncio.get_running_loop().time() + wait
            try:
                await link.send(pack({**header, "id": rid}, *payloads), deadline)
            except OSError as err:
                raise Unavailable(f"the {self.name} is not reachable ({err})") from None
            while True:
                try:  # (asyncio.timeout: wait_for made a task per message)
                    async with asyncio.timeout(wait):
                        reply, frames = await q.get()
                except TimeoutError:
                    if self.running is not None:  # no one will read its answer: stop it
                        self.running.cancel(qid)
                    raise Unavailable(
                        f"the {self.name} did not answer within "
                        f"{wait:.0f} s; the write or query may be retried"
                    ) from None
                if reply.get("lost"):
                    raise Unavailable(
                        f"the {self.name} stopped before answering; the request was not "
                        "acknowledged and may be retried"
                    )
                yield reply, frames
        finally:
            link.outstanding -= 1
            link.waiting.pop(rid, None)
            if self.running is not None:
                self.running.end(qid)

    async def ping_all(self, timeout_s: float = 2.0) -> list[dict[str, Any] | None]:
        """Each worker's answer to a ping (its status), or ``None`` when it did not answer."""

        async def one(link: _Link) -> dict[str, Any] | None:
            try:
                reply, _ = await self.request({"op": "ping"}, link=link, timeout_s=timeout_s)
            except Unavailable:
                return None
            return reply

        return list(await asyncio.gather(*(one(link) for link in self.links)))


async def next_piece(
    stream: AsyncGenerator[tuple[dict[str, Any], list[Any]], None],
) -> bytes | None:
    """The next chunk of a query worker's streamed answer (after its head); None at its
    end; its error raised as a QueryError."""
    async for reply, payloads in stream:
        kind = reply.get("kind")
        if kind == "chunk":
            return bytes(payloads[0])
        if kind == "end":
            return None
        if kind == "error":
            raise QueryError(reply.get("message", "query failed"))
    return None
