from __future__ import annotations

import pytest

from bench import functions


def test_functions_bench_answers_agree_with_influxd(capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark runs end to end on a small load, and every question is answered as
    influxd answers it (holt_winters' search included: same numbers, not only same shape)."""
    assert functions.main(["--hosts", "4", "--hours", "3", "--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(functions.QUESTIONS)
    for line in lines:
        assert line.endswith("yes"), line


def test_series_compared_by_their_tags() -> None:
    a = {"results": [{"series": [{"tags": {"h": "b"}}, {"tags": {"h": "a"}}]}]}
    b = {"results": [{"series": [{"tags": {"h": "a"}}, {"tags": {"h": "b"}}]}]}
    assert functions._by_tags(a) == functions._by_tags(b)
