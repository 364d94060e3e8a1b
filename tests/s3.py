"""A real S3 endpoint for tests: moto's server (``python -m moto.server``) as a subprocess.

Usage::

    with run_moto(tmpdir) as url:            # url e.g. "http://127.0.0.1:41234"
        boto3.client("s3", endpoint_url=url, ...).create_bucket(Bucket="b")

    with MotoServer(tmpdir) as moto:         # the same, with control over the process
        moto.pause()                         # SIGSTOP: connections hang, state is kept
        moto.resume()                        # SIGCONT: queued requests are answered
        moto.stop(); moto.start()            # a restart on the same port: state is LOST

moto keeps every bucket and object in the server's memory, so :meth:`MotoServer.stop` followed
by :meth:`MotoServer.start` yields an empty S3 (buckets must be created again). For an outage
that keeps the data, use :meth:`MotoServer.pause` and :meth:`MotoServer.resume`. Note that a
request sent while the server is paused is not lost: the kernel still accepts the connection,
and once resumed the server handles it (so a put that timed out on the client may land later).
Any access key and secret are accepted.
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
from pathlib import Path
from types import TracebackType

from bench.influxd import free_port

__all__ = ["MotoServer", "run_moto"]


class MotoServer:
    """moto's S3 server on ``127.0.0.1:<port>``; its output goes to ``<tmpdir>/moto.log``."""

    def __init__(self, tmpdir: str | Path, port: int | None = None) -> None:
        self.tmpdir = Path(tmpdir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmpdir / "moto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.paused = False

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("moto is not running")
        return self.proc.pid

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the server (on the same port as before) and wait until it answers."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("moto is running already")
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.paused = False
        try:
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto exited ({self.proc.returncode}): {self.log()[-3000:]}")
            if self.answers():
                return
            time.sleep(0.05)
        raise TimeoutError(f"moto not answering after {timeout_s} s: {self.log()[-3000:]}")

    def answers(self, timeout_s: float = 1.0) -> bool:
        """Whether the server answers HTTP now (any status counts)."""
        try:
            with urllib.request.urlopen(self.url + "/", timeout=timeout_s):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the server by its pid: SIGTERM, then SIGKILL. Its data is gone."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            if self.paused:  # a stopped process would not act on SIGTERM before SIGCONT
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.paused = False

    def pause(self) -> None:
        """SIGSTOP the server: connects still succeed (the kernel's backlog), nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT the server; it keeps its data and answers what was queued meanwhile."""
        os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def run_moto(tmpdir: str | Path) -> Iterator[str]:
    """A running moto S3 server for the duration of the block; yields its endpoint URL."""
    with MotoServer(tmpdir) as server:
        yield server.url
