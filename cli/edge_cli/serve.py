"""``influxdb3 serve``: start the process group, keep it running, stop it cleanly.

Children: the persister first (it owns the catalog and replays the WAL), then the ingest and
query workers, then the gateway. A child that dies is started again (with a growing delay if
it keeps dying). The first SIGTERM or SIGINT stops the gateway first (it drains in-flight
requests), then the workers (ingest answers what it holds), then the persister; exit code 0.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from edge_common.settings import Settings
from edge_common.stream import StreamClient, Unreachable
from edge_common.wire import Endpoints, pack

__all__ = ["serve"]

log = logging.getLogger("influxdb3.serve")
EXIT_OK, EXIT_START_FAILED = 0, 3
_PR_SET_PDEATHSIG = 1


@dataclass
class _Child:
    name: str
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    next_start: float = 0.0


def _children(settings: Settings) -> list[_Child]:
    py = sys.executable
    kids = [_Child("persister", [py, "-m", "edge_persister"])]
    kids += [
        _Child(f"ingest-{i}", [py, "-m", "edge_ingest", "--worker", str(i)])
        for i in range(settings.ingest_workers)
    ]
    kids += [
        _Child(f"query-{i}", [py, "-m", "edge_query", "--worker", str(i)])
        for i in range(settings.query_workers)
    ]
    kids.append(_Child("gateway", [py, "-m", "edge_gateway"]))
    return kids


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to SIGTERM it if ``serve`` dies, so a
    ``kill -9`` of serve never leaves orphans holding the port and the WAL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.children = _children(settings)
        self.env = {**os.environ, **settings.to_env()}
        self.stopping = False

    def _start(self, child: _Child) -> None:
        child.proc = subprocess.Popen(child.args, env=self.env, preexec_fn=_die_with_parent)
        log.debug("started %s (pid %d)", child.name, child.proc.pid)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _ready(self) -> bool:
        """Every child answers a ping on its socket and the HTTP port accepts connections
        (checked directly, so that readiness needs no API token)."""
        s = self.settings
        host = s.http_host if s.http_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        try:
            socket.create_connection((host, s.http_port), timeout=1).close()
        except OSError:
            return False
        endpoints = Endpoints.for_data_dir(s.data_dir)
        ping = pack({"op": "ping", "id": 1})
        workers = [*map(endpoints.ingest, range(s.ingest_workers))]
        workers += [*map(endpoints.query, range(s.query_workers))]
        for path in [endpoints.persister, *workers]:
            client = StreamClient(path)
            try:
                client.call(ping, 1.0)
            except Unreachable:
                return False
            finally:
                client.close()
        return True

    def _wait_ready(self, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stopping:
            if self._ready():
                return True
            if any(c.proc is not None and c.proc.poll() is not None for c in self.children):
                self._restart_dead()
            time.sleep(0.1)
        return False

    def _restart_dead(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.proc is None or child.proc.poll() is None:
                continue
            if child.next_start == 0.0:
                log.warning(
                    "%s exited with code %s; starting it again", child.name, child.proc.returncode
                )
                child.restarts = [t for t in child.restarts if now - t < 60] + [now]
                child.next_start = now + min(0.1 * 2 ** (len(child.restarts) - 1), 10.0)
            if now >= child.next_start:
                child.next_start = 0.0
                self._start(child)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # a parent may have blocked them (a script waiting in sigwait): its mask is ours, and
        # the children's, and then only SIGKILL would stop the group
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        Endpoints.for_data_dir(s.data_dir).prepare()
        for child in self.children:
            self._start(child)
        if not self._wait_ready():
            if not self.stopping:
                log.error("the server did not become ready; stopping")
            self._stop_all()
            return EXIT_OK if self.stopping else EXIT_START_FAILED
        print(
            f"Edge {self._version()} listening on http://{s.http_bind}; data in "
            f"{s.data_dir.resolve()} (object store: {s.object_store}); "
            f"{s.ingest_workers} ingest and {s.query_workers} query workers",
            flush=True,
        )
        while not self.stopping:
            self._restart_dead()
            time.sleep(0.1)
        self._stop_all()
        return EXIT_OK

    @staticmethod
    def _version() -> str:
        from edge_common import __version__

        return __version__

    def _stop_all(self) -> None:
        order = ["gateway", "ingest", "query", "persister"]
        for prefix in order:
            group = [c for c in self.children if c.name.startswith(prefix) and c.proc]
            for c in group:
                if c.proc is not None and c.proc.poll() is None:
                    c.proc.send_signal(signal.SIGTERM)
            for c in group:
                if c.proc is None:
                    continue
                try:
                    c.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in 15 s; killing it", c.name)
                    c.proc.kill()
                    c.proc.wait()
        # the group's sockets go with it (a long data dir's are under /tmp, where every
        # server started and stopped had left its directory); a start makes them again
        shutil.rmtree(Endpoints.for_data_dir(self.settings.data_dir).run_dir, ignore_errors=True)


def serve(settings: Settings) -> int:
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper()),
        format="%(asctime)s %(levelname)s serve: %(message)s",
    )
    return Supervisor(settings).run()
