from __future__ import annotations

import pytest

from bench import days


def test_days_bench_answers_agree_with_influxd(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--hosts", "8", "--days", "3", "--repeats", "1"]  # host_7, 2016-01-03
    assert days.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(days.QUESTIONS)
    for line in lines:  # from the joined files, as influxd answers
        assert line.endswith("yes"), line
