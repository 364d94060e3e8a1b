"""One round trip between two processes, as the query path makes them: ZeroMQ DEALER/ROUTER
over ``ipc://`` against the Unix stream socket of ``edge_common.stream`` (what requests and
answers travel over since the ZeroMQ figure was measured). Prints the wall time and the
CPU time of each side per round trip, for a message of ``--size`` bytes and its echo; and
the floor: the same bytes over a socket pair, unframed, by blocking calls."""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import zmq

from edge_common.stream import Listener, StreamClient


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _zmq_server(address: str, count: int) -> None:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.bind(address)
    for _ in range(count + 1):
        sock.send_multipart(sock.recv_multipart())
    time.sleep(0.2)  # the last answer leaves before the context goes
    ctx.destroy(0)


def _stream_server(path: Path, count: int) -> None:
    poller = zmq.Poller()
    listener = Listener(path, poller)
    answered = 0
    while answered <= count:
        listener.take(dict(poller.poll(100)))
        while (request := listener.pop()) is not None:
            peer, frames = request
            peer.send(frames)
            answered += 1
        listener.sweep()
    listener.close()


def _measure(serve: Callable[[], None], ask: Callable[[], None], count: int) -> dict[str, float]:
    """Fork ``serve``, warm up with one ``ask``, then time ``count`` asks."""
    before = _children_cpu()
    pid = os.fork()
    if pid == 0:  # the server side
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            serve()
        finally:
            os._exit(0)
    ask()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        ask()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    os.waitpid(pid, 0)
    return {
        "wall_us": wall / count * 1e6,
        "client_cpu_us": cpu / count * 1e6,
        "server_cpu_us": (_children_cpu() - before) / count * 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--count", type=int, default=10_000, help="round trips per transport")
    p.add_argument("--size", type=int, default=300, help="bytes in the message")
    a = p.parse_args(argv)
    frames = [b"h" * 200, b"x" * max(a.size - 200, 0)]
    with tempfile.TemporaryDirectory() as tmp:
        address = f"ipc://{tmp}/hops.sock"
        ctx = zmq.Context()
        dealer = ctx.socket(zmq.DEALER)
        dealer.connect(address)

        def zmq_ask() -> None:
            dealer.send_multipart(frames)
            dealer.recv_multipart()

        results = {
            "zeromq ipc://": _measure(lambda: _zmq_server(address, a.count), zmq_ask, a.count)
        }
        ctx.destroy(0)
        path = Path(tmp) / "hops.stream"
        client = StreamClient(path)
        results["unix stream socket"] = _measure(
            lambda: _stream_server(path, a.count), lambda: _call(client, frames), a.count
        )
        client.close()
    raw, echo = socket.socketpair()
    message = b"".join(frames)

    def raw_serve() -> None:
        raw.close()
        for _ in range(a.count + 1):
            echo.sendall(echo.recv(1 << 20))

    def raw_ask() -> None:
        raw.sendall(message)
        raw.recv(1 << 20)

    results["socket, no framing"] = _measure(raw_serve, raw_ask, a.count)
    raw.close()
    echo.close()
    print(f"{'transport':<20} {'wall µs':>8} {'client CPU µs':>14} {'server CPU µs':>14}")
    for name, r in results.items():
        print(
            f"{name:<20} {r['wall_us']:>8.0f} {r['client_cpu_us']:>14.0f} "
            f"{r['server_cpu_us']:>14.0f}"
        )
    return 0


def _call(client: StreamClient, frames: list[bytes]) -> None:
    client.call(frames, 10.0)


if __name__ == "__main__":
    raise SystemExit(main())
