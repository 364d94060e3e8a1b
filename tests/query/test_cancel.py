"""KILL QUERY inside a query worker (edge_query.cancel): which request is stopped, when."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_common.errors import QueryError
from edge_common.stream import StreamClient
from edge_common.wire import pack
from edge_query.cancel import INTERRUPTED, Canceller, Interrupted, interrupted_in, send_cancel
from edge_query.influxql import executor
from edge_query.influxql.executor import InfluxQLContext, go_duration, run_influxql


@pytest.fixture
def canceller(tmp_path: Path) -> Iterator[Canceller]:
    previous = signal.getsignal(signal.SIGUSR1)
    c = Canceller(tmp_path / "control.stream")
    c.start()
    _listening(c)
    yield c
    c.stopping = True
    signal.signal(signal.SIGUSR1, previous)


def _listening(canceller: Canceller) -> None:
    """Until its control thread listens (a cancel sent before is not delivered)."""
    deadline = time.monotonic() + 5
    while not canceller.endpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _spin(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def _cancelled_soon(canceller: Canceller, request_id: int) -> None:
    """Start ``request_id`` and cancel it 0.05 s later from another thread, as in use."""
    assert canceller.begin(request_id)
    threading.Timer(0.05, canceller.cancel, (request_id,)).start()


@contextlib.contextmanager
def _stopped(canceller: Canceller) -> Iterator[None]:
    """The body must be interrupted; the worker's part after it (acknowledge, end)."""
    with pytest.raises(Interrupted) as caught:
        yield
    caught.value.acknowledge()
    canceller.end()


def test_the_running_request_is_interrupted_where_it_stands(canceller: Canceller) -> None:
    _cancelled_soon(canceller, 7)
    started = time.monotonic()
    with _stopped(canceller):
        _spin(10)
    assert time.monotonic() - started < 5
    _spin(0.3)  # acknowledged: not raised again


def test_a_dropped_interrupt_is_raised_again_until_caught(canceller: Canceller) -> None:
    """pyzmq may run the handler where an exception is dropped: the control thread signals
    every 0.1 s until one is caught."""
    _cancelled_soon(canceller, 8)
    dropped = 0
    with _stopped(canceller):
        for _ in range(100):
            try:
                _spin(0.05)
            except Interrupted:  # swallowed, as in a __dealloc__
                dropped += 1
                if dropped == 2:
                    raise
    assert dropped == 2


def test_nothing_is_raised_while_shielded(canceller: Canceller) -> None:
    """A message being sent is never cut: the interrupt comes once the send is over."""
    _cancelled_soon(canceller, 4)
    with canceller.shielded():
        _spin(0.4)  # signalled several times meanwhile
        inside = time.monotonic()
    with _stopped(canceller):
        _spin(5)
    assert time.monotonic() - inside < 1


def test_a_waiting_request_is_skipped_and_others_untouched(canceller: Canceller) -> None:
    send_cancel(canceller.endpoint, 9)  # over the control socket
    assert canceller.begin(5)  # another request runs meanwhile, untouched
    _spin(0.5)
    canceller.end()
    assert not canceller.begin(9)  # its turn: answered "query interrupted", not run
    assert canceller.begin(9)  # the cancel was used up
    canceller.end()


def test_a_kill_answered_by_the_worker_running_the_query_takes_effect_at_once(
    tmp_path: Path,
) -> None:
    """KILL QUERY is answered by some worker's control thread, which may be the one of the
    worker running the query: the cancel it sends reaches its own socket, read on its
    next turn. (It used to wait for an answer only it could give: 1 s lost, and a log
    line saying the worker was gone.)"""
    endpoint = tmp_path / "control.stream"

    def answer(header: dict[str, Any]) -> tuple[str, bytes]:
        send_cancel(endpoint, header["kill"])
        return "text/plain", b"killed"

    previous = signal.getsignal(signal.SIGUSR1)
    canceller = Canceller(endpoint, answer)
    canceller.start()
    _listening(canceller)
    try:
        assert canceller.begin(12)
        answered: dict[str, Any] = {}

        def kill() -> None:
            started = time.monotonic()
            frames = StreamClient(endpoint).call(pack({"op": "influxql", "kill": 12}), 5.0)
            answered["after_s"] = time.monotonic() - started
            answered["body"] = bytes(frames[1])

        threading.Thread(target=kill).start()
        with _stopped(canceller):
            _spin(10)
        deadline = time.monotonic() + 5
        while "body" not in answered and time.monotonic() < deadline:
            time.sleep(0.01)
        assert answered["body"] == b"killed"
        assert answered["after_s"] < 0.5
    finally:
        canceller.stopping = True
        signal.signal(signal.SIGUSR1, previous)


def test_a_late_cancel_does_not_stop_the_next_request(canceller: Canceller) -> None:
    assert canceller.begin(1)
    canceller.end()  # request 1 answered before its cancel came
    canceller.cancel(1)
    assert canceller.begin(2)
    _spin(0.3)
    canceller.end()


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (999, "999ns"),
        (15_400, "15µs"),
        (478_900_000, "478ms"),
        (3_700_000_000, "3s"),
        (65_000_000_000, "1m5s"),
        (7_200_000_000_000, "2h0m0s"),
    ],
)
def test_durations_as_influxd_writes_them(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def _inside_datafusion(canceller: Canceller) -> None:
    """What a kill that lands while DataFusion runs Python code leaves: the call fails with a
    SystemError caused by the Interrupted (seen planning a SQL query)."""
    try:
        raise Interrupted(canceller)
    except Interrupted as err:
        raise SystemError(
            "<method 'sql_with_options'> returned a result with an exception set"
        ) from err


def test_an_interrupt_inside_a_call_into_datafusion_is_still_one(canceller: Canceller) -> None:
    with pytest.raises(QueryError) as caught:
        try:
            _inside_datafusion(canceller)
        except Exception as err:  # as the worker makes DataFusion's errors its own
            raise QueryError(str(err)) from None
    stop = interrupted_in(caught.value)
    assert isinstance(stop, Interrupted) and stop.canceller is canceller
    assert interrupted_in(QueryError("no such table")) is None
    assert interrupted_in(SystemError("unrelated")) is None


def test_a_statement_interrupted_inside_datafusion_answers_query_interrupted(
    canceller: Canceller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the SystemError's text as the statement's error; the statements after it don't
    run; the interrupt is acknowledged (not raised again)."""
    ran: list[str] = []

    def run(stmt: Any, database: Any, ctx: Any) -> list[Any]:
        ran.append(str(stmt))
        _inside_datafusion(canceller)
        return []

    monkeypatch.setattr(executor, "_run", run)
    ctx = InfluxQLContext(
        catalog=None,  # type: ignore[arg-type]
        run_sql=None,  # type: ignore[arg-type]
        create_database=None,  # type: ignore[arg-type]
        fetch=None,  # type: ignore[arg-type]
        readable=None,
        now_ns=0,
    )
    canceller.acknowledged = False
    results = run_influxql("SELECT v FROM m; SELECT w FROM m", "db", None, ctx)
    assert results == [{"statement_id": 0, "error": INTERRUPTED}]
    assert len(ran) == 1 and ctx.interrupted and canceller.acknowledged
