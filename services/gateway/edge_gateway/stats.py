"""The group's statistics for operators, in one form: modules of (name, tags, values), as
influxd keeps its statistics. Rendered three ways: Prometheus text (``/metrics``, as
InfluxDB 3 serves it), influxd's ``/debug/vars`` (read by Telegraf's ``influxdb`` input) and
the rows of SHOW STATS (rendered by the query worker from the modules sent with it).

- ``httpd``: requests the gateway answered, counted as influxd counts them (req, writeReq,
  queryReq, pingReq, clientError, serverError, reqDurationNs, pointsWrittenOK, …).
- ``queryExecutor``: queries handed to query workers (``running.Running``).
- ``buffer`` and ``persist``: the persister's buffer and what it wrote to object storage.
- ``runtime``: each process's resident memory, CPU time and threads, read from /proc.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_gateway.state import Gateway

__all__ = ["HTTPD", "asked", "collect", "debug_vars", "new_counters", "prometheus"]

Module = tuple[str, dict[str, str], dict[str, int | float]]

# the gateway's own counters (httpd module), kept on the Gateway
HTTPD = (
    "req",
    "reqActive",
    "reqDurationNs",
    "writeReq",
    "writeReqBytes",
    "queryReq",
    "pingReq",
    "clientError",
    "serverError",
    "pointsWrittenOK",
    "pointsWrittenFail",
)
_GAUGES = frozenset(
    (
        "reqActive",
        "queriesActive",
        "tables",
        "rows",
        "bytes",
        "fullBuffer",
        "shared",
        "rssBytes",
        "threads",
    )
)
_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


def asked(header: dict[str, Any]) -> bool:
    """Whether an InfluxQL request may hold SHOW STATS (then ``collect`` goes with it)."""
    return header.get("language") == "influxql" and "STATS" in str(header.get("q", "")).upper()


def _runtime(pid: int) -> dict[str, int | float]:
    """Resident bytes, CPU seconds and threads of a process (zeros once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/statm") as f:
            rss_pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return {"rssBytes": 0, "cpuSeconds": 0.0, "threads": 0}
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    return {"rssBytes": rss_pages * _PAGE, "cpuSeconds": round(cpu, 2), "threads": int(fields[17])}


async def collect(gw: Gateway) -> list[Module]:
    """Every module, the other processes asked at once (a process that does not answer in
    a second is left out)."""
    ingest, query, persister = await asyncio.gather(
        gw.ingest.ping_all(1.0), gw.query.ping_all(1.0), gw.persister.ping_all(1.0)
    )
    httpd: dict[str, int | float] = {k: gw.counters[k] for k in HTTPD}
    modules: list[Module] = [("httpd", {"bind": gw.settings.http_bind}, httpd)]
    if gw.query.running is not None:
        modules.append(("queryExecutor", {}, gw.query.running.stats()))
    status = persister[0]
    if status is not None:
        modules.append(
            (
                "buffer",
                {},
                {
                    "tables": status["tables"],
                    "rows": status["rows"],
                    "bytes": status["buffered_bytes"],
                    "fullBuffer": int(bool(status["full"])),
                    # shared with the query workers (edge_common.shared), and the reads the
                    # persister made for them itself (all of them when not shared)
                    "shared": int(bool(status.get("shared"))),
                    "reads": int(status.get("reads") or 0),
                },
            )
        )
        modules.append(("persist", {}, dict(status.get("counts") or {})))
    pids = [("gateway", os.getpid())]
    pids += [(f"ingest-{i}", r["pid"]) for i, r in enumerate(ingest) if r and "pid" in r]
    pids += [(f"query-{i}", r["pid"]) for i, r in enumerate(query) if r and "pid" in r]
    if status is not None and "pid" in status:
        pids.append(("persister", status["pid"]))
    modules += [("runtime", {"process": name}, _runtime(pid)) for name, pid in pids]
    return modules


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _labels(tags: dict[str, str]) -> str:
    if not tags:
        return ""
    escaped = {
        k: v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for k, v in tags.items()
    }
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(escaped.items())) + "}"


def prometheus(modules: list[Module]) -> str:
    """Prometheus text format 0.0.4: ``edge_<module>_<value>``, counters ending ``_total``."""
    families: dict[str, tuple[str, list[str]]] = {}
    for module, tags, values in modules:
        for key, value in values.items():
            gauge = key in _GAUGES
            name = f"edge_{_snake(module)}_{_snake(key)}" + ("" if gauge else "_total")
            kind, samples = families.setdefault(name, ("gauge" if gauge else "counter", []))
            samples.append(f"{name}{_labels(tags)} {value}")
    out = []
    for name, (kind, samples) in families.items():
        out.append(f"# TYPE {name} {kind}")
        out += samples
    return "\n".join(out) + "\n"


def debug_vars(modules: list[Module]) -> dict[str, Any]:
    """influxd's /debug/vars: one object per module instance, keyed by module and tags."""
    doc: dict[str, Any] = {"cmdline": sys.argv}
    for module, tags, values in modules:
        key = ":".join([module, *(f"{k}={v}" for k, v in sorted(tags.items()))])
        doc[key] = {"name": module, "tags": tags, "values": values}
    return doc


def new_counters() -> Counter[str]:
    return Counter(dict.fromkeys(HTTPD, 0))
