from __future__ import annotations

import pytest

from bench import dashboard


def test_dashboard_bench_answers_agree_with_influxd(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        dashboard.main(["--hosts", "8", "--hours", "12", "--repeats", "1", "--batch", "500"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(dashboard.QUESTIONS)
    for line in lines:  # every question answered as influxd answers it
        assert line.endswith("yes"), line


def test_agree_allows_float_noise_only() -> None:
    assert dashboard.agree({"v": [1.0, "a"]}, {"v": [1.0 + 1e-12, "a"]})
    assert not dashboard.agree({"v": [1.0]}, {"v": [1.001]})
    assert not dashboard.agree([1, 2], [1])
