from __future__ import annotations

import pytest

from bench import flight


def test_flight_bench_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    assert flight.main(["--hosts", "2", "--hours", "0.2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    # 2 hosts x 0.2 h at 10 s = 144 rows, read back whole over every path
    for path in ("Flight DoGet (Arrow)", "query_sql format=parquet", "query_sql format=json"):
        assert path in rows, out
        assert " 144 " in rows[path], out
