from __future__ import annotations

import pytest

from bench import series


def test_series_bench_answers_agree_with_influxd(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--hosts", "300", "--minutes", "5", "--repeats", "1", "--batch", "500"]
    assert series.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(series.questions(300))
    for line in lines:  # in the buffer and from Parquet, as influxd answers
        assert line.endswith("yes"), line


def test_lines_write_every_host_each_minute() -> None:
    bodies = series.lines(3, 2, 4)
    assert [b.count(b"\n") + 1 for b in bodies] == [4, 2]
    first = bodies[0].split(b"\n")
    assert first[0] == b"cpu,host=h0,region=r0 usage=0.5,idle=0i 1451606400000000000"
    assert first[3].startswith(b"cpu,host=h0,") and first[3].endswith(b"1451606460000000000")
