"""Requests and their answers over Unix stream sockets: the gateway's to the ingest workers,
the query workers (and their KILL QUERY control threads) and the persister, and the query
workers' to the persister and to each other's control threads.

ZeroMQ carries the rest: the ingest workers' write records to the persister and the persist
events. Requests and answers took it too,
and every query makes at least two round trips. Measured on the 2-core machine: a round
trip of a 300-byte message over ZeroMQ ``ipc://`` costs ~110 µs and ~100 µs of CPU (~50 a
side: each side's I/O thread wakes and hands the message on), over this module's socket
~95-110 µs and ~85 (the caller ~30, the server's poll loop ~55), the bare socket's floor
~50 and ~60 (``python -m bench.hops``). Most of the gain is the gateway's: its asyncio
side of ZeroMQ cost it ~0.1 ms a request, a protocol that parses answers as they arrive
far less. A query's round trips (SHOW DATABASES: gateway, query worker, persister and
back) 0.93 → 0.55 ms; the TSBS single-groupby 1.81 → 1.40 ms.

A message is a list of frames, laid out as a ``u32`` count, a ``u64`` size per frame, then
the frames, and sent with one ``sendmsg``. The gateway's connections carry many requests
at once, answered in any order (each answer names its request; ``edge_gateway.pool``). A
:class:`StreamClient` carries one request at a time, each answered once, in order; a
caller that gives up on an answer (a timeout, a KILL QUERY raised while it waited) closes
the connection, so no late answer is ever read as the answer to the next request; the
server finds the connection closed and drops it.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import struct
import time
from collections import deque
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import zmq

__all__ = [
    "Caller",
    "Listener",
    "Reading",
    "StreamClient",
    "StreamPeer",
    "StreamServer",
    "Unreachable",
    "message",
    "post",
]

_COUNT = struct.Struct("<I")
_MAX_FRAMES = 1 << 16
_SEND_TIMEOUT_S = 30.0  # a peer that reads nothing for this long is dropped
_RETRY_S = 0.05  # between connection attempts while the server (re)starts
_READ = 1 << 20


class Caller(Protocol):
    """Where an answer goes: a stream connection (:class:`StreamPeer`) or a ZeroMQ peer."""

    def send(self, frames: list[Any]) -> None: ...


class Unreachable(Exception):
    """No answer: the server could not be reached, or went away before it answered."""


def message(frames: list[Any]) -> list[Any]:
    """``frames`` as one message's pieces, ready for ``sendmsg`` or ``writelines``."""
    views = []
    for f in frames:
        v = memoryview(f)
        views.append(v if v.format == "B" and v.ndim == 1 else v.cast("B"))
    head = struct.pack(f"<I{len(views)}Q", len(views), *(v.nbytes for v in views))
    return [memoryview(head), *(v for v in views if v.nbytes)]


def _parse(buf: bytes | bytearray | memoryview) -> tuple[int, list[int]] | None:
    """The sizes of the frames of the message ``buf`` begins with and its whole length, or
    ``None`` while its prefix is incomplete."""
    if len(buf) < 4:
        return None
    (count,) = _COUNT.unpack_from(buf, 0)
    if count > _MAX_FRAMES:
        raise ValueError(f"a message of {count} frames")
    head = 4 + 8 * count
    if len(buf) < head:
        return None
    sizes = list(struct.unpack_from(f"<{count}Q", buf, 4))
    return head + sum(sizes), sizes


def _frames(whole: memoryview, sizes: list[int]) -> list[memoryview]:
    out, pos = [], 4 + 8 * len(sizes)
    for n in sizes:
        out.append(whole[pos : pos + n])
        pos += n
    return out


class Reading:
    """Whole messages out of a byte stream that arrives in pieces."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.need = 4  # bytes to have before looking again

    def feed(self, data: bytes) -> list[list[memoryview]]:
        buf = self.buf
        if not buf:  # most often: one whole message
            parsed = _parse(data)
            if parsed is not None and parsed[0] == len(data):
                return [_frames(memoryview(data), parsed[1])]
        buf += data
        out = []
        while len(buf) >= self.need:
            parsed = _parse(buf)
            if parsed is None:
                self.need = len(buf) + 1
                break
            total, sizes = parsed
            if len(buf) < total:
                self.need = total
                break
            self.need = 4
            if len(buf) == total:  # most often: the pieces of one message, handed over
                whole, self.buf = memoryview(buf), bytearray()
                out.append(_frames(whole, sizes))
                break
            with memoryview(buf) as view:
                whole = memoryview(bytes(view[:total]))
            del buf[:total]
            out.append(_frames(whole, sizes))
        return out


def _send_all(sock: socket.socket, frames: list[Any], deadline: float) -> None:
    """Send one message whole, waiting (up to ``deadline``) while the peer's buffer is full."""
    views = message(frames)
    while views:
        try:
            sent = sock.sendmsg(views)
        except BlockingIOError:
            left = deadline - time.monotonic()
            waiting = select.poll()  # (not select(): descriptors past 1,024)
            waiting.register(sock, select.POLLOUT)
            if left <= 0 or not waiting.poll(left * 1000):
                raise TimeoutError("the peer reads nothing") from None
            continue
        while sent and views:
            if sent >= views[0].nbytes:
                sent -= views[0].nbytes
                views.pop(0)
            else:
                views[0] = views[0][sent:]
                sent = 0


class StreamClient:
    """The calling side: one connection, opened when first needed and again after a failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock: socket.socket | None = None
        self.timeout_s: float | None = None  # the connection's, as last set
        self.scratch = memoryview(bytearray(65536))

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def call(self, frames: list[Any], timeout_s: float) -> list[memoryview]:
        """Send ``frames``, return the answer's frames. A request that met a server going
        away before it answered is sent again on a new connection (the persister's calls
        are reads, or changes that may be repeated) until ``timeout_s`` has passed."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self._once(frames, deadline, timeout_s)
            except BaseException as err:  # incl. a KILL QUERY: the answer would come late
                self.close()
                if isinstance(err, TimeoutError | socket.timeout):
                    raise Unreachable("no answer in time") from None
                if not isinstance(err, OSError | EOFError):
                    raise
                if time.monotonic() + _RETRY_S >= deadline:
                    raise Unreachable(f"not reachable: {err}") from None
                time.sleep(_RETRY_S)

    def _once(self, frames: list[Any], deadline: float, timeout_s: float) -> list[memoryview]:
        if self.sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(self.path))
            except OSError:
                sock.close()
                raise
            self.sock, self.timeout_s = sock, None
        sock = self.sock
        if timeout_s != self.timeout_s:  # (each settimeout is a system call)
            sock.settimeout(timeout_s)
            self.timeout_s = timeout_s
        _send_all(sock, frames, deadline)
        # most answers arrive whole in the first read
        scratch = self.scratch
        got = _more(sock, scratch, deadline)
        while (parsed := _parse(scratch[:got])) is None:
            got += _more(sock, scratch[got:], deadline)
        total, sizes = parsed
        if total <= got:
            data = memoryview(bytes(scratch[:total]))  # its own copy: the scratch serves again
        else:
            # not bytearray(total): it zeroes every page first (a 35 MB answer, TSBS's
            # count(*) over the buffer: ~18 ms of the worker's ~40); Arrow's pool hands
            # back pages it has had before, untouched
            data = memoryview(pa.allocate_buffer(total)).cast("B")
            data[:got] = scratch[:got]
            while got < total:
                got += _more(sock, data[got:], deadline)
        return _frames(data, sizes)


def post(path: Path, frames: list[Any], timeout_s: float = 1.0) -> None:
    """Leave one message with the server at ``path`` and go, waiting for no answer. The
    kernel holds it until the server reads it (it finds the connection closed after it), so
    a server busy for a while still gets it: a query worker's control thread waits for the
    GIL while DataFusion runs (seconds, on a loaded machine). Raises :class:`Unreachable`
    when nothing listens at ``path``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout_s)  # the connect and the send; blocked only by a full backlog
        sock.connect(str(path))
        _send_all(sock, frames, time.monotonic() + timeout_s)
    except OSError as err:  # incl. socket.timeout
        raise Unreachable(f"not reachable: {err}") from None
    finally:
        sock.close()


def _more(sock: socket.socket, into: memoryview, deadline: float) -> int:
    if time.monotonic() > deadline:
        raise TimeoutError("no answer in time")
    n = sock.recv_into(into)
    if n == 0:
        raise EOFError("the server closed the connection")
    return n


class StreamPeer:
    """The serving side of one connection: complete requests out, answers in."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.reading = Reading()
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def requests(self) -> list[list[memoryview]]:
        """The requests received whole so far (closed when the peer went away)."""
        out = []
        while not self.closed:
            try:
                data = self.sock.recv(_READ)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self.close()
                break
            out += self.reading.feed(data)
            if len(data) < _READ:  # all there was (a request still coming wakes the poll)
                break
        return out

    def send(self, frames: list[Any]) -> None:
        """Answer; a peer that went away or stopped reading is dropped."""
        if self.closed:
            return
        try:
            _send_all(self.sock, frames, time.monotonic() + _SEND_TIMEOUT_S)
        except OSError:  # incl. TimeoutError
            self.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


class StreamServer:
    """A listening socket; its owner polls it and every peer's :meth:`StreamPeer.fileno`."""

    def __init__(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a previous run's: a restarted server binds again
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(64)
        self.sock.setblocking(False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept(self) -> list[StreamPeer]:
        peers: list[StreamPeer] = []
        while True:
            try:
                sock, _ = self.sock.accept()
            except BlockingIOError:
                return peers
            except OSError as err:  # e.g. out of descriptors: try again next turn
                if err.errno in (errno.EMFILE, errno.ENFILE):
                    return peers
                raise
            peers.append(StreamPeer(sock))

    def close(self) -> None:
        self.sock.close()


class Listener:
    """A server's side of its stream socket inside a ``zmq.Poller`` loop: new connections
    accepted, every complete request queued in arrival order, closed connections dropped.

    Requests are taken one at a time (:meth:`pop`): a request that raises (a query killed
    by KILL QUERY) leaves those after it queued, each still to be answered."""

    def __init__(self, path: Path, poller: zmq.Poller) -> None:
        self.server = StreamServer(path)
        self.poller = poller
        self.peers: dict[int, StreamPeer] = {}
        self.queue: deque[tuple[StreamPeer, list[memoryview]]] = deque()
        poller.register(self.server.fileno(), zmq.POLLIN)

    def take(self, ready: dict[Any, int]) -> None:
        """Accept and read what ``poller.poll`` found ready."""
        for fd in ready:
            if not isinstance(fd, int):
                continue
            if fd == self.server.fileno():
                for new in self.server.accept():
                    self.peers[new.fileno()] = new  # (a closed peer's number may come back)
                    self.poller.register(new.fileno(), zmq.POLLIN)
            elif (peer := self.peers.get(fd)) is not None:
                self.queue.extend((peer, frames) for frames in peer.requests())

    def pop(self) -> tuple[StreamPeer, list[memoryview]] | None:
        return self.queue.popleft() if self.queue else None

    def sweep(self) -> None:
        """Forget closed connections; call before the next poll (their numbers are free)."""
        for fd in [fd for fd, peer in self.peers.items() if peer.closed]:
            self.poller.unregister(fd)
            del self.peers[fd]

    def close(self) -> None:
        for peer in self.peers.values():
            peer.close()
        self.server.close()
