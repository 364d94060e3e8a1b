"""SHOW DIAGNOSTICS: what the server is and runs on, in influxd's sections (build, network,
runtime, system, config), filled with Edge's own facts: a Python runtime, not Go; the
settings of this process group, not influxd's configuration file."""

from __future__ import annotations

import os
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge_common import __version__
from edge_common.settings import Settings
from edge_query.influxql.timefmt import format_times

__all__ = ["diagnostics"]

_STARTED_NS = time.time_ns()  # this query worker's start, if the group's is unknown


def diagnostics(settings: Settings) -> list[dict[str, Any]]:
    now = time.time_ns()
    pid = os.getppid()  # the process group's leader: `influxdb3 serve`
    started = _start_ns(pid) or _STARTED_NS
    times = format_times(np.array([now, started], dtype=np.int64), None)

    def section(name: str, row: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "columns": list(row), "values": [list(row.values())]}

    return [
        section(
            "build",
            {
                "Branch": "unknown",
                "Build Time": "",
                "Commit": "unknown",
                "Version": f"edge {__version__}",
            },
        ),
        section(
            "config",
            {
                "data-dir": str(settings.data_dir),
                "http-bind": settings.http_bind,
                "ingest-workers": settings.ingest_workers,
                "object-store": settings.object_store,
                "query-workers": settings.query_workers,
                "wal-enabled": not settings.wal_disable,
            },
        ),
        section("network", {"hostname": socket.gethostname()}),
        section(
            "runtime",
            {
                "arch": platform.machine(),
                "cpus": os.cpu_count(),
                "os": sys.platform,
                "version": f"python {platform.python_version()}",
            },
        ),
        section(
            "system",
            {
                "PID": pid,
                "currentTime": times[0],
                "started": times[1],
                "uptime": f"{(now - started) / 1e9:.3f}s",
            },
        ),
    ]


def _start_ns(pid: int) -> int | None:
    """When process ``pid`` started (Linux: its start in clock ticks after boot)."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return (boot * 10**9) + ticks * 10**9 // os.sysconf("SC_CLK_TCK")
