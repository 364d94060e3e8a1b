"""Request and answer over a Unix stream socket (edge_common.stream): messages cut anywhere
come out whole, a server that restarts is called again, a caller that gave up never reads a
late answer as the next one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from edge_common.stream import Listener, Reading, StreamClient, Unreachable, message, post


def _bytes(pieces: list[Any]) -> bytes:
    return b"".join(bytes(p) for p in pieces)


def test_messages_cut_anywhere_come_out_whole() -> None:
    sent = [[b"head", b"", b"x" * 70_000], [b"h2"], [b'{"v":1}', bytearray(b"payload")]]
    wire = b"".join(_bytes(message(m)) for m in sent)
    for step in (1, 3, 7, 4096, len(wire)):
        reading = Reading()
        got = []
        for i in range(0, len(wire), step):
            got += reading.feed(wire[i : i + step])
        assert [[bytes(f) for f in m] for m in got] == [[bytes(f) for f in m] for m in sent]
        assert not reading.buf  # nothing left over


def test_a_prefix_of_too_many_frames_is_refused() -> None:
    with pytest.raises(ValueError):
        Reading().feed(b"\xff\xff\xff\xff" + b"\0" * 16)


class _Server:
    """A Listener in a thread answering each request with ``answer(frames)``."""

    def __init__(self, path: Path, answer: Callable[[list[bytes]], list[bytes] | None]) -> None:
        self.path = path
        self.answer = answer
        self.stopping = False
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(5)

    def _run(self) -> None:
        poller = zmq.Poller()
        listener = Listener(self.path, poller)
        self.ready.set()
        while not self.stopping:
            listener.take(dict(poller.poll(20)))
            while (request := listener.pop()) is not None:
                peer, frames = request
                out = self.answer([bytes(f) for f in frames])
                if out is not None:
                    peer.send(out)
            listener.sweep()
        listener.close()

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(5)


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "s.stream"


def test_call_and_answer_large_and_many(path: Path) -> None:
    server = _Server(path, lambda frames: [b"re:" + frames[0], frames[1] * 2])
    client = StreamClient(path)
    try:
        for i in range(200):
            assert _strs(client.call([f"q{i}".encode(), b"ab"], 5)) == [f"re:q{i}", "abab"]
        big = bytes(range(256)) * 20_000  # 5 MB each way, several reads and sends
        out = client.call([b"big", big], 5)
        assert bytes(out[1]) == big * 2
    finally:
        client.close()
        server.stop()


def _strs(frames: list[Any]) -> list[str]:
    return [bytes(f).decode() for f in frames]


def test_a_restarted_server_is_called_again(path: Path) -> None:
    first = _Server(path, lambda frames: [b"one"])
    client = StreamClient(path)
    assert _strs(client.call([b"q"], 5)) == ["one"]
    first.stop()  # its connections close with it

    def later() -> None:
        time.sleep(0.3)
        servers.append(_Server(path, lambda frames: [b"two"]))

    servers: list[_Server] = []
    threading.Thread(target=later).start()
    try:
        assert _strs(client.call([b"q"], 5)) == ["two"]  # connects again, sends again
    finally:
        client.close()
        for s in servers:
            s.stop()


def test_no_server_and_no_answer_are_unreachable(path: Path) -> None:
    client = StreamClient(path)
    started = time.monotonic()
    with pytest.raises(Unreachable):
        client.call([b"q"], 0.3)
    assert time.monotonic() - started < 2
    server = _Server(path, lambda frames: None)  # never answers
    try:
        with pytest.raises(Unreachable):
            client.call([b"q"], 0.3)
    finally:
        client.close()
        server.stop()


def test_a_caller_that_gave_up_never_reads_the_late_answer(path: Path) -> None:
    """An answer that comes after its caller stopped waiting (a timeout here; a KILL QUERY
    raised inside ``call`` alike) is not taken for the next request's answer."""

    def slow_first(frames: list[bytes]) -> list[bytes]:
        if frames[0] == b"slow":
            time.sleep(0.5)
        return [b"answer to " + frames[0]]

    server = _Server(path, slow_first)
    client = StreamClient(path)
    try:
        with pytest.raises(Unreachable):
            client.call([b"slow"], 0.1)
        assert _strs(client.call([b"next"], 5)) == ["answer to next"]
    finally:
        client.close()
        server.stop()


def test_the_server_drops_connections_that_went_away(path: Path) -> None:
    server = _Server(path, lambda frames: [frames[0]])
    try:
        for _ in range(20):  # each caller connects, asks, and goes away
            client = StreamClient(path)
            assert _strs(client.call([b"x"], 5)) == ["x"]
            assert _connected(path) >= 1  # (the count sees a connection the server holds)
            client.close()
        deadline = time.monotonic() + 5
        while _connected(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _connected(path) == 0
    finally:
        server.stop()


def _connected(path: Path) -> int:
    """Connected sockets named ``path``: the server's side of each caller it still holds."""
    inodes = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8 and parts[7] == str(path) and parts[5] == "03":  # connected
            inodes.add(parts[6])
    return len(inodes)


def test_a_posted_message_waits_for_a_busy_server_and_nothing_listening_is_unreachable(
    path: Path,
) -> None:
    """``post`` leaves its message and goes: a server that reads only after the poster has
    closed still gets it whole; with nothing listening at the path, the poster hears so."""
    with pytest.raises(Unreachable):
        post(path, [b"nobody"])
    poller = zmq.Poller()
    listener = Listener(path, poller)  # listening, not reading yet
    try:
        post(path, [b'{"op":"cancel"}', b"x" * 1000])
        got = []
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            listener.take(dict(poller.poll(20)))
            got += [[bytes(f) for f in frames] for _, frames in listener.queue]
        assert got == [[b'{"op":"cancel"}', b"x" * 1000]]
    finally:
        listener.close()
