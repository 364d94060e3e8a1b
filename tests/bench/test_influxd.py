from __future__ import annotations

from pathlib import Path

import httpx

from bench.influxd import run_influxd


def test_write_and_count(tmp_path: Path) -> None:
    with run_influxd(tmp_path) as url:
        assert httpx.get(f"{url}/ping").status_code == 204
        r = httpx.post(f"{url}/query", data={"q": "CREATE DATABASE t"})
        assert r.status_code == 200, r.text
        body = b"m,host=a v=1 1000000000\nm,host=b v=2 2000000000\nm,host=a v=3 3000000000"
        r = httpx.post(f"{url}/write", params={"db": "t", "precision": "ns"}, content=body)
        assert r.status_code == 204, r.text
        r = httpx.get(f"{url}/query", params={"db": "t", "q": "SELECT count(*) FROM m"})
        assert r.status_code == 200, r.text
        series = r.json()["results"][0]["series"][0]
        assert series["columns"] == ["time", "count_v"]
        assert series["values"][0][1] == 3
    # Stopped: nothing answers on the port any more.
    try:
        httpx.get(f"{url}/ping", timeout=1.0)
        raise AssertionError("influxd still answering after exit")
    except httpx.TransportError:
        pass
