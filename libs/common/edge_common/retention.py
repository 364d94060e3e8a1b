"""Retention policies, as InfluxDB 1.x has them: each database has one or more, one of them
the default; a policy keeps its rows for a duration (0: for ever).

Where a policy's rows are kept follows InfluxDB 3's reading of the 1.x APIs' ``db`` and
``rp``: the rows of ``autogen`` in the database ``db`` itself, those of any other policy
``rp`` in a database of their own named ``db/rp``. That mapping needs no catalog, so the
gateway applies it to a write or a query that names its policy; only the default (no
``rp`` given) is looked up, in the catalog the ingest and query workers hold.

Rows older than a policy's duration go as 1.x's go: a write of such points is refused for
them ("points beyond retention policy"), and the persister deletes, every
``retention_check_interval_s``, each file whose rows all lie before the cutoff (1.x drops
whole shard groups; rows of a file that straddles the cutoff stay until all of it is old).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AUTOGEN",
    "MIN_DURATION_NS",
    "RetentionPolicy",
    "go_duration",
    "shard_duration",
    "storage_name",
]

AUTOGEN = "autogen"
_HOUR = 3_600_000_000_000
_DAY = 24 * _HOUR
MIN_DURATION_NS = _HOUR  # influxd's least duration (and shard duration)


def storage_name(db: str, rp: str) -> str:
    """The database holding the rows of ``db``'s policy ``rp``."""
    return db if rp == AUTOGEN else f"{db}/{rp}"


def shard_duration(duration_ns: int, asked_ns: int = 0) -> int:
    """The shard group duration influxd gives a policy of ``duration_ns``: the one asked for
    (at least an hour), else a week for for-ever and 6 months or more, a day from 2 days,
    an hour below. Shown by SHOW RETENTION POLICIES; files here are not cut by it."""
    if asked_ns:
        return max(asked_ns, MIN_DURATION_NS)
    if duration_ns == 0 or duration_ns >= 180 * _DAY:
        return 7 * _DAY
    if duration_ns >= 2 * _DAY:
        return _DAY
    return _HOUR


@dataclass
class RetentionPolicy:
    duration_ns: int = 0  # 0: rows are kept for ever
    shard_duration_ns: int = 7 * _DAY
    replication: int = 1  # shown, as influxd does; one node keeps one copy

    def cutoff(self, now_ns: int) -> int | None:
        """Rows before this time are past the policy (None: none ever are)."""
        return now_ns - self.duration_ns if self.duration_ns else None

    def to_json(self) -> dict[str, Any]:
        return {
            "duration_ns": self.duration_ns,
            "shard_duration_ns": self.shard_duration_ns,
            "replication": self.replication,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RetentionPolicy:
        return cls(
            int(data["duration_ns"]), int(data["shard_duration_ns"]), int(data["replication"])
        )


def go_duration(ns: int) -> str:
    """``ns`` as Go's ``time.Duration.String`` writes it: "0s", "1h0m0s", "1m30s",
    "1.5s", "500ms" (how influxd shows a policy's durations)."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, name in ((1_000_000, "ms"), (1_000, "µs"), (1, "ns")):
            if ns >= unit:
                return f"{sign}{_decimal(ns, unit)}{name}"
    hours, rest = divmod(ns, _HOUR)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _decimal(rest, 1_000_000_000)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"
