"""Time text as InfluxQL reads and writes it: RFC3339 in, RFC3339Nano (or epoch units) out."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import numpy as np

from edge_common.errors import QueryError

__all__ = ["EPOCH_NS", "format_times", "parse_time"]

EPOCH_NS = {
    "ns": 1,
    "n": 1,
    "u": 1_000,
    "µ": 1_000,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_RFC = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?"
)


def parse_time(text: str) -> int:
    """``2016-01-01T00:00:00Z``, with fraction and offset, or date only: ns since the epoch."""
    m = _RFC.fullmatch(text.strip())
    if m is None:
        raise QueryError(f"invalid time literal {text!r}: use RFC3339, e.g. '2016-01-01T00:00:00Z'")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    dt = datetime.datetime(
        int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=datetime.UTC
    )
    ns = int(dt.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        ns -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * 1_000_000_000
    return ns


def _zoned_text(ns: int, zone: zoneinfo.ZoneInfo) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    moment = datetime.datetime.fromtimestamp(seconds, zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += f".{frac:09d}".rstrip("0")
    offset = int((moment.utcoffset() or datetime.timedelta()).total_seconds())
    if offset == 0:
        return text + "Z"
    sign = "+" if offset > 0 else "-"
    return f"{text}{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"


def format_times(
    ns: np.ndarray | list[int], epoch: str | None, zone: str | None = None
) -> list[object]:
    """Times as 1.x answers them: integers in ``epoch`` units, else RFC3339Nano text (in
    ``zone`` with its offset, e.g. ``2016-01-01T01:00:00+01:00``, when given). A few
    times may come as a list of ints (an answer's rows hold them so: no numpy round trip)."""
    if len(ns) <= _FEW and not epoch and not zone:
        return _few_texts(ns if isinstance(ns, list) else ns.astype(np.int64).tolist())
    ns = np.asarray(ns, dtype=np.int64)
    if epoch:
        return (ns // EPOCH_NS[epoch]).tolist()
    if zone:
        return [_zoned_text(int(v), zoneinfo.ZoneInfo(zone)) for v in ns.tolist()]
    # whole seconds at numpy speed, each distinct second once (answers over many series
    # repeat their times: 40,000 rows of 100 hosts hold 400 seconds); the rare fractional
    # ones one by one
    stamps = ns.astype(np.int64).view("datetime64[ns]")
    seconds, where = np.unique(stamps.astype("datetime64[s]"), return_inverse=True)
    text = np.char.add(np.datetime_as_string(seconds, unit="s"), "Z").astype(object)
    out: list[object] = text[where].tolist()
    for i in np.flatnonzero(ns % 1_000_000_000).tolist():
        out[i] = str(np.datetime_as_string(stamps[i], unit="ns")).rstrip("0") + "Z"
    return out


# a small answer's whole seconds, remembered: a dashboard asks about the same minutes again
# at every refresh (60 times of one host's hour: ~60 µs of numpy calls, ~5 from here)
_FEW = 1024
_SECONDS: dict[int, str] = {}
_REMEMBERED = 1 << 17


def _few_texts(values: list[int]) -> list[object]:
    out: list[object] = []
    for v in values:
        seconds, frac = divmod(v, 1_000_000_000)
        text = _SECONDS.get(seconds)
        if text is None:
            if len(_SECONDS) >= _REMEMBERED:
                _SECONDS.clear()
            stamp = np.datetime64(seconds, "s")
            text = _SECONDS[seconds] = str(np.datetime_as_string(stamp, unit="s")) + "Z"
        if frac:
            text = f"{text[:-1]}.{frac:09d}".rstrip("0") + "Z"
        out.append(text)
    return out
