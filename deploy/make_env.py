"""Print ``deploy/edge.env.example``: every ``INFLUXDB3_*`` setting, commented out, with its
default, generated from :class:`edge_common.settings.Settings` (a test fails when the committed
file drifts from what this prints).

    .venv/bin/python deploy/make_env.py > deploy/edge.env.example

The file is read both by systemd (``EnvironmentFile=``) and by ``deploy/run-with-env.sh``
(sourced by ``sh`` with ``set -a``), so it keeps to plain ``NAME=value`` lines.
"""

from __future__ import annotations

import re
import sys
import textwrap

from edge_common.settings import Settings

__all__ = ["render"]

WIDTH = 100

HEADER = """\
Edge settings, one INFLUXDB3_* environment variable per setting (see docs/settings.md).
Generated from edge_common.settings.Settings by deploy/make_env.py; do not edit this copy:
copy it to /etc/edge/edge.env (systemd) or $EDGE_HOME/edge.env (supervisord) and edit that.

Every setting below is commented out and shows its default: uncomment a line to change it.
Every process of the group (persister, ingest and query workers, gateway) must read the same
file. Keep to NAME=value lines with literal values: systemd reads this file itself and does not
expand $VARIABLES, while the supervisord wrapper sources it with sh."""

# What a deployment must know beyond a setting's description.
NOTES: dict[str, str] = {
    "data_dir": "A relative path is taken from the working directory: /var/lib/edge under "
    "systemd (so data lands in /var/lib/edge/data), $EDGE_HOME under supervisord. The group's "
    "sockets live in <data dir>/run while that path is at most 60 characters long, otherwise "
    "in /tmp/edge-<hash>.",
    "ingest_workers": "Must equal the number of ingest processes run: the instances "
    "edge-ingest@0..N-1 enabled under systemd, numprocs of [program:ingest] under supervisord. "
    "The gateway spreads writes over workers 0..N-1.",
    "query_workers": "Must equal the number of query processes run: the instances "
    "edge-query@0..N-1 enabled under systemd, numprocs of [program:query] under supervisord.",
}

_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]*")


def _value(value: object) -> str:
    text = "" if value is None else str(value)
    if _PLAIN.fullmatch(text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ")


def render() -> str:
    out = ["# " + line if line else "#" for line in HEADER.splitlines()]
    for name, field in Settings.model_fields.items():
        names = Settings.env_names(name)
        key = next(n for n in names if n.startswith("INFLUXDB3_"))
        out.append("")
        out += _comment(field.description or name)
        others = [n for n in names if n != key]
        flag = "--" + name.replace("_", "-")
        also = f" Also read from {', '.join(others)}." if others else ""
        out += _comment(f"(influxdb3 serve {flag}.{also})")
        if name in NOTES:
            out += _comment(NOTES[name])
        if field.default is None:
            out += _comment(
                "Unset by default: leave the line commented out unless you give a value."
            )
        out.append(f"#{key}={_value(field.default)}")
    return "\n".join(out) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
