"""Persist events: one message per Parquet file on a ZeroMQ PUB socket (see
:class:`edge_common.persist.PersistEvent` for the format)."""

from __future__ import annotations

from typing import Any, Protocol

import zmq

from edge_common.persist import PersistEvent

__all__ = ["MemoryPublisher", "Publisher", "ZmqPublisher"]


class Publisher(Protocol):
    def publish(self, event: PersistEvent) -> None: ...

    def close(self) -> None: ...


class ZmqPublisher:
    def __init__(self, ctx: zmq.Context[Any], endpoint: str) -> None:
        self.sock = ctx.socket(zmq.PUB)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.bind(endpoint)

    def publish(self, event: PersistEvent) -> None:
        self.sock.send_multipart(event.encode())

    def close(self) -> None:
        self.sock.close()


class MemoryPublisher:
    """Keeps what was published, for unit tests."""

    def __init__(self) -> None:
        self.events: list[PersistEvent] = []

    def publish(self, event: PersistEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass
