"""Run a throw-away InfluxDB 1.x (``/usr/bin/influxd``) for benchmarks and compat tests.

Usage::

    with run_influxd(tmpdir) as url:   # e.g. "http://127.0.0.1:41234"
        ...

Everything (config, meta, data, wal, log) lives under ``tmpdir``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

INFLUXD = "/usr/bin/influxd"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmpdir: str | Path, http_port: int, rpc_port: int, auth: bool = False) -> Path:
    """Write ``influxd.toml`` under ``tmpdir`` (dirs meta/, data/, wal/ there) and return its path.

    Only HTTP is enabled (``auth``: with authentication, as a 1.x setup with users has it);
    UDP/graphite/collectd/opentsdb stay at their default (disabled),
    the ``_internal`` monitor store, continuous queries, subscriber and logging are off.
    """
    root = Path(tmpdir).resolve()
    for sub in ("meta", "data", "wal"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # Upstream spells the key "reporting-disabled"; the Debian build renamed it to
    # "reporting-enabled" (default false). Unknown keys are ignored, so set both.
    text = f"""\
reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root / "meta"}"
  logging-enabled = false

[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  query-log-enabled = false
  trace-logging-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
  log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = {"true" if auth else "false"}
  log-enabled = false
  suppress-write-log = true
  pprof-enabled = false

[logging]
  level = "error"
  suppress-logo = true
"""
    path = root / "influxd.toml"
    path.write_text(text)
    return path


def _ping(host: str, port: int) -> int | None:
    conn = http.client.HTTPConnection(host, port, timeout=1.0)
    try:
        conn.request("GET", "/ping")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return None
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace_s)


@contextlib.contextmanager
def run_influxd(
    tmpdir: str | Path,
    *,
    binary: str = INFLUXD,
    startup_timeout: float = 30.0,
    auth: bool = False,
) -> Iterator[str]:
    """Start influxd with a config under ``tmpdir``, yield its base URL, stop it on exit.

    Waits for ``GET /ping`` to answer 204. On exit sends SIGTERM to the pid, then SIGKILL
    after 10 s. The process log is ``tmpdir/influxd.log``.
    """
    root = Path(tmpdir)
    root.mkdir(parents=True, exist_ok=True)
    http_port = free_port()
    rpc_port = free_port()
    while rpc_port == http_port:
        rpc_port = free_port()
    config = write_config(root, http_port, rpc_port, auth)
    log_path = root / "influxd.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [binary, "run", "-config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal ^C reaches us only; we stop it ourselves
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while _ping("127.0.0.1", http_port) != 204:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"influxd exited with {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"influxd did not answer /ping within {startup_timeout}s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{http_port}"
    finally:
        _stop(proc)
