"""``SELECT … INTO``: the answer of a SELECT as line protocol, written through the normal
write path (an ingest worker's WAL), counted as influxd counts it.

Each series becomes points of the target measurement (``:MEASUREMENT``: the source's name)
with the series' tags (GROUP BY tags) as tags and every other column as a field, as 1.x does:
without GROUP BY, tags selected in the field list become fields. Null values are left out; a
row without any value is not written.
"""

from __future__ import annotations

from typing import Any

__all__ = ["result_of", "to_line_protocol"]


def _escape_key(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _escape_measurement(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ")


def _field_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_line_protocol(series: list[dict[str, Any]], measurement: str | None) -> tuple[bytes, int]:
    """Line protocol (ns timestamps) for ``series``, and the number of points in it."""
    lines: list[str] = []
    for s in series:
        name = _escape_measurement(measurement or s["name"])
        tags = "".join(
            f",{_escape_key(k)}={_escape_key(v)}" for k, v in sorted(s.get("tags", {}).items()) if v
        )
        columns = s["columns"][1:]
        for row in s["values"]:
            fields = ",".join(
                f"{_escape_key(c)}={_field_value(v)}"
                for c, v in zip(columns, row[1:], strict=True)
                if v is not None
            )
            if fields:
                lines.append(f"{name}{tags} {fields} {int(row[0])}")
    return "\n".join(lines).encode(), len(lines)


def result_of(written: int) -> list[dict[str, Any]]:
    """The answer of SELECT … INTO: one series ``result`` with the points written."""
    return [{"name": "result", "columns": ["time", "written"], "values": [[0, written]]}]
