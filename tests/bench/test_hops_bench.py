from __future__ import annotations

import pytest

from bench import hops


def test_hops_bench_times_each_transport(capsys: pytest.CaptureFixture[str]) -> None:
    assert hops.main(["--count", "200", "--size", "5000"]) == 0
    out = capsys.readouterr().out
    for transport in ("zeromq ipc://", "unix stream socket", "socket, no framing"):
        (row,) = [line for line in out.splitlines() if line.startswith(transport)]
        wall, client, server = (float(x) for x in row[len(transport) :].split())
        assert wall > 0 and client > 0 and server >= 0, row
