"""The README's persist-events example, run as a user would run it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.edge import run_edge
from bench.influxd import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def test_persist_events_example_prints_each_file(tmp_path: Path) -> None:
    text = README.read_text()
    section = text.split("### Persist events", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    assert len(code.group(1).strip().splitlines()) <= 12
    script = tmp_path / "subscriber.py"
    script.write_text(code.group(1))
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    with run_edge(
        tmp_path / "data", "--persist-events-bind", endpoint, "--query-workers", "1"
    ) as edge:
        proc = subprocess.Popen(
            [sys.executable, str(script), endpoint], stdout=subprocess.PIPE, text=True
        )
        try:
            time.sleep(1.0)
            httpx.post(
                f"{edge.url}/api/v3/write_lp",
                params={"db": "readme"},
                content="cpu,host=a usage=1\nmem,host=a free=2",
            )
            assert httpx.post(f"{edge.url}/api/v3/flush", timeout=60).status_code == 200
            assert proc.stdout is not None
            lines = sorted(proc.stdout.readline().split() for _ in range(2))
        finally:
            proc.kill()
            proc.wait()
    assert [(ln[0], ln[1], ln[3]) for ln in lines] == [
        ("readme", "cpu", "1"),
        ("readme", "mem", "1"),
    ]
    assert all(ln[2].startswith("file://") for ln in lines)
