"""One port for HTTP/1.1 and gRPC: each new connection is looked at once, then handed over.

uvicorn accepts every connection on ``--http-bind`` and builds this protocol for it. The
first bytes decide:

- anything but the HTTP/2 connection preface: the connection switches to uvicorn's own HTTP
  protocol (``transport.set_protocol``), which sees the same bytes; every later byte goes
  straight to uvicorn, so a plain HTTP client pays one look per connection, nothing per byte.
- the preface (``PRI * HTTP/2.0``, which every gRPC client sends first): the socket leaves
  the event loop and is joined to the Flight server's unix socket by two threads moving the
  bytes with ``splice(2)`` through a pipe, inside the kernel: no byte enters Python. The
  unix socket is bound to an abstract name carrying the client's address, so the Flight
  server knows who is calling (for the authentication failure limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import threading
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = ["PREFACE", "front_protocol"]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_SPLICE_BYTES = 1 << 16
_FIRST_BYTES_S = 30.0  # a connection that says nothing for this long is closed
_names = itertools.count()


def front_protocol(flight_socket: Path) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn as ``http=``."""

    class Front(_Front):
        upstream = str(flight_socket)

    return Front


class _Front(asyncio.Protocol):
    upstream: str

    def __init__(self, config: Any, server_state: Any, app_state: Any, _loop: Any = None) -> None:
        self.args = (config, server_state, app_state, _loop)
        self.transport: Any = None
        self.seen = b""
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(_FIRST_BYTES_S, transport.close)

    def data_received(self, data: bytes) -> None:
        self.seen += data
        n = min(len(self.seen), len(PREFACE))
        if self.seen[:n] != PREFACE[:n]:
            self._to_http()
        elif n == len(PREFACE):
            self._to_flight()
        # else: a prefix of the preface so far; wait for more

    def eof_received(self) -> bool | None:
        if self.seen:
            self._to_http()  # a short request then EOF: uvicorn answers it
            return True
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._decided()
        self.transport = None

    def _decided(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _to_http(self) -> None:
        self._decided()
        config, server_state, app_state, loop = self.args
        http = AutoHTTPProtocol(  # type: ignore[call-arg]
            config=config, server_state=server_state, app_state=app_state, _loop=loop
        )
        self.transport.set_protocol(http)
        http.connection_made(self.transport)
        http.data_received(self.seen)

    def _to_flight(self) -> None:
        self._decided()
        transport = self.transport
        own = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername") or ("unknown", 0)
        client = socket.socket(fileno=os.dup(own.fileno()))
        transport.pause_reading()
        transport.abort()  # the loop lets go; our duplicate keeps the connection open
        try:
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.bind(f"\0edge-peer/{peer[0]}/{peer[1]}/{os.getpid()}-{next(_names)}")
            up.connect(self.upstream)
            up.sendall(self.seen)
        except OSError:
            client.close()
            return
        client.setblocking(True)
        _join(client, up)


def _join(a: socket.socket, b: socket.socket) -> None:
    """Move bytes both ways until both sides are done, then close both."""

    def close() -> None:
        a.close()
        b.close()

    done = threading.Barrier(2, action=close)
    for src, dst in ((a, b), (b, a)):
        threading.Thread(target=_pump, args=(src, dst, done), daemon=True).start()


def _pump(src: socket.socket, dst: socket.socket, done: threading.Barrier) -> None:
    r, w = os.pipe()
    try:
        while True:
            n = os.splice(src.fileno(), w, _SPLICE_BYTES)
            if n == 0:
                break
            while n:
                n -= os.splice(r, dst.fileno(), n)
    except OSError:
        pass  # a reset ends this direction as an end of stream does
    finally:
        os.close(r)
        os.close(w)
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            with contextlib.suppress(OSError):  # the other side may be gone already
                sock.shutdown(how)
        done.wait()
