"""KILL QUERY: stopping a query a worker is running, or one still waiting in its queue.

A worker runs one request at a time on its main thread, so a kill cannot wait for it to
look. A thread of its own listens on the worker's control socket. It answers SHOW QUERIES
and KILL QUERY themselves (they need no data; the gateway sends them here, so a kill never
waits for a free worker) and takes cancels. Told to cancel the request the main thread is
running, it makes the main thread raise :class:`Interrupted` where it stands
(``_thread.interrupt_main`` with SIGUSR1: the handler runs between two Python
instructions, and DataFusion checks for it about once a second while it runs, on a timer
of its runtime that needs an idle runtime thread: edge_query/__main__.py). The handler
may run inside code that drops what it raises (pyzmq checks for signals while it frees a
message), so the thread signals again every 0.1 s until the exception is caught
(:meth:`Interrupted.acknowledge`); inside a call into DataFusion it becomes the cause of
the call's error (:func:`interrupted_in`). A request not yet started is remembered and
answered "query interrupted" when its turn comes.

``Interrupted`` is a BaseException: the many ``except Exception`` of planning and running
must not swallow it. A query stopped anywhere may leave a cache half updated, so the worker
drops its caches after one (``QueryWorker._recover``). It is never raised while an answer
is being sent to the gateway (:meth:`Canceller.shielded`): a message cut short would have
the next one's bytes read as its rest. (Raised while the worker waits on the persister, it
closes that connection: ``edge_common.stream.StreamClient``.)

A cancel is sent to the control socket without waiting for an answer
(:func:`send_cancel`): the thread reads it once it holds the GIL.
"""

from __future__ import annotations

import _thread
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import zmq

from edge_common.errors import EdgeError, QueryError
from edge_common.stream import Listener, Unreachable, post
from edge_common.wire import error_header, pack, unpack

__all__ = ["INTERRUPTED", "Canceller", "Interrupted", "interrupted_in", "send_cancel"]

log = logging.getLogger(__name__)

INTERRUPTED = "query interrupted"  # influxd's words for a killed query
_REMEMBERED_S = 600.0  # a cancel for a request not seen yet is kept this long


class Interrupted(BaseException):
    """The request the worker was running was killed (KILL QUERY). Whoever catches it calls
    :meth:`acknowledge`, or it is raised again."""

    def __init__(self, canceller: Canceller) -> None:
        super().__init__(INTERRUPTED)
        self.canceller = canceller

    def acknowledge(self) -> None:
        self.canceller.acknowledged = True


def interrupted_in(err: BaseException) -> Interrupted | None:
    """The :class:`Interrupted` ``err`` is or was caused by. The handler may run while a
    call into DataFusion runs Python code; the call then fails with a SystemError ("returned
    a result with an exception set") caused by it, which may be made a QueryError in turn."""
    seen: BaseException | None = err
    for _ in range(8):  # (a chain is short; never follow a cycle)
        if seen is None or isinstance(seen, Interrupted):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# an InfluxQL request of SHOW QUERIES / KILL QUERY → (content type, answer)
Answer = Callable[[dict[str, Any]], tuple[str, bytes]]


class Canceller:
    def __init__(self, endpoint: Path, answer: Answer | None = None) -> None:
        self.endpoint = endpoint
        self.answer = answer
        self._lock = threading.Lock()
        self._current: Any = None  # the request id the main thread runs
        self._kill: Any = None  # ... which is to stop at once
        self.acknowledged = False  # ... and has stopped (Interrupted was caught)
        self._waiting: dict[Any, float] = {}  # request ids cancelled before they started
        self._shield = 0  # > 0: a message is being sent, not to be cut (shielded)
        self.stopping = False

    def start(self) -> None:
        """Listen on the control socket (a thread) and take SIGUSR1 (main thread only)."""
        signal.signal(signal.SIGUSR1, self._on_signal)
        threading.Thread(target=self._listen, name="cancel", daemon=True).start()

    def begin(self, request_id: Any) -> bool:
        """The main thread starts ``request_id``; False: it was cancelled already."""
        with self._lock:
            if request_id is not None and self._waiting.pop(request_id, None) is not None:
                return False
            self._current = request_id
            return True

    def end(self) -> None:
        with self._lock:
            self._current = self._kill = None

    def _pending(self) -> bool:
        return self._kill is not None and self._kill == self._current and not self.acknowledged

    @contextlib.contextmanager
    def shielded(self) -> Iterator[None]:
        """No Interrupted inside (the thread signals again until it can be raised)."""
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1

    def cancel(self, request_id: Any) -> None:
        with self._lock:
            if request_id == self._current:
                self._kill, self.acknowledged = request_id, False
                _thread.interrupt_main(signal.SIGUSR1)
                return
            now = time.monotonic()
            self._waiting = {r: t for r, t in self._waiting.items() if now - t < _REMEMBERED_S}
            self._waiting[request_id] = now

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # raise only in the request that was killed (the signal may come a moment late), and
        # not while a message is being sent
        if self._pending() and not self._shield:
            raise Interrupted(self)

    def _listen(self) -> None:
        poller = zmq.Poller()
        requests = Listener(self.endpoint, poller)
        try:
            while not self.stopping:
                requests.take(dict(poller.poll(100)))
                with self._lock:
                    if self._pending():  # not caught yet: again
                        _thread.interrupt_main(signal.SIGUSR1)
                while (request := requests.pop()) is not None:
                    peer, frames = request
                    try:
                        header, _ = unpack(frames)
                    except Exception:
                        log.warning("ignored a malformed message on the control socket")
                        continue
                    reply, payloads = self._serve(header)
                    peer.send(pack(reply, *payloads))
                requests.sweep()
        finally:
            requests.close()

    def _serve(self, header: dict[str, Any]) -> tuple[dict[str, Any], tuple[bytes, ...]]:
        head: dict[str, Any] = {"id": header.get("id"), "kind": "head"}
        if header.get("op") == "cancel":
            self.cancel(header.get("cancel"))
            return {**head, "ok": True}, ()
        if header.get("op") != "influxql" or self.answer is None:
            return {**head, **error_header(QueryError("not a control request"))}, ()
        try:
            media, body = self.answer(header)
        except EdgeError as err:
            return {**head, **error_header(err)}, ()
        except Exception as err:  # answered, never the thread's end
            log.exception("control request failed")
            return {**head, **error_header(QueryError(str(err)))}, ()
        return {**head, "ok": True, "content_type": media, "whole": True}, (body,)


def send_cancel(endpoint: Path, request_id: Any) -> None:
    """Tell the worker at ``endpoint`` (its control socket) to stop ``request_id``. The
    cancel is left on the socket, not answered: the control thread may wait seconds for
    the GIL while the worker's main thread runs DataFusion, and a kill given up after a
    wait for its answer let the query run to its end. A worker not listening (gone) is not
    told: it no longer runs the query."""
    try:
        post(endpoint, pack({"op": "cancel", "cancel": request_id}))
    except Unreachable:
        log.info("cancel of request %s not delivered: its worker is gone", request_id)
