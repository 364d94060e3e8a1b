"""1.x writes asked of influxd 1.6.7 and of Edge: line protocol made at random from fixed
seeds (tests/compat/writes.py), each case in a database of its own. The answers to the
writes must be the same text, and so must what each server then holds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.edge import EdgeServer, run_edge
from bench.influxd import run_influxd
from tests.compat.writes import Case, cases, difference


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EdgeServer]]:
    with (
        run_influxd(tmp_path_factory.mktemp("influxd")) as influxd,
        run_edge(tmp_path_factory.mktemp("edge") / "data") as edge,
    ):
        yield influxd, edge


# (the padded ones are past 2 KiB: through the columnar parser, the others the exact one)
CASES = [*cases(1, 60), *cases(2, 60), *cases(3, 30, padded=True)]


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_write_as_influxd(servers: tuple[str, EdgeServer], case: Case) -> None:
    influxd, edge = servers
    where = difference(influxd, edge.url, "w", case)
    assert where is None, f"{case}\n{where}"
