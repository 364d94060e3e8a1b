"""Run a throw-away Edge process group (``influxdb3 serve``) for tests and benchmarks.

Usage::

    with run_edge(tmpdir) as edge:       # edge.url e.g. "http://127.0.0.1:41234"
        edge.kill("ingest-0")            # kill -9 one child; serve starts it again
        edge.wait_healthy()

Its children are found by their command lines (``python -m edge_ingest --worker 0``), the way
an operator finds them with ``ps``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.influxd import free_port

_MODULES = {
    "persister": "edge_persister",
    "ingest": "edge_ingest",
    "query": "edge_query",
    "gateway": "edge_gateway",
}


@dataclass
class EdgeServer:
    url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path
    extra_args: list[str] = field(default_factory=list)
    token: str | None = None

    def children(self) -> dict[str, int]:
        """Child name (``ingest-0``, ``persister``, ...) → pid, read from /proc."""
        out: dict[str, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid != self.proc.pid:
                    continue
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            args = [a.decode() for a in argv if a]
            for short, module in _MODULES.items():
                if module in args:
                    worker = args[args.index("--worker") + 1] if "--worker" in args else None
                    out[short if worker is None else f"{short}-{worker}"] = int(entry.name)
        return out

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        pid = self.children()[name]
        os.kill(pid, sig)
        return pid

    def health(self) -> int:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            req = urllib.request.Request(self.url + "/health", headers=headers)
            with urllib.request.urlopen(req, timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return int(err.code)
        except OSError:
            return 0

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"influxdb3 serve exited: {self.log_path.read_text()[-3000:]}")
            if self.health() == 200:
                return
            time.sleep(0.1)
        raise TimeoutError(f"Edge not healthy after {timeout_s} s: {self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


def start_edge(
    data_dir: str | Path,
    *args: str,
    env: dict[str, str] | None = None,
    port: int | None = None,
    token: str | None = None,
) -> EdgeServer:
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data.parent / f"{data.name}-serve.log"
    log = open(log_path, "ab")  # noqa: SIM115 - stays open for the child's lifetime
    argv = [
        sys.executable,
        "-m",
        "edge_cli",
        "serve",
        "--http-bind",
        f"127.0.0.1:{port}",
        "--data-dir",
        str(data),
        *args,
    ]
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    server = EdgeServer(f"http://127.0.0.1:{port}", data, proc, log_path, list(args), token)
    try:
        server.wait_healthy()
        deadline = time.monotonic() + 30
        while "listening on" not in server.log():  # serve's ready line follows /health
            if time.monotonic() > deadline:
                raise TimeoutError(f"no ready line from serve: {server.log()[-3000:]}")
            time.sleep(0.05)
    except Exception:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def run_edge(
    data_dir: str | Path, *args: str, env: dict[str, str] | None = None, token: str | None = None
) -> Iterator[EdgeServer]:
    server = start_edge(data_dir, *args, env=env, token=token)
    try:
        yield server
    finally:
        server.stop()
