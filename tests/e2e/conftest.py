"""The real process group, started once per test module on a free port."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.edge import EdgeServer, run_edge
from edge_common.auth import hash_token


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeServer]:
    with run_edge(tmp_path_factory.mktemp("edge") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def http(edge: EdgeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=edge.url, timeout=60) as client:
        yield client


def lp_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "data.lp"
    p.write_text(text)
    return p


@contextlib.contextmanager
def run_secured(data_dir: Path, admin: str) -> Iterator[EdgeServer]:
    """The group with ``admin`` as its admin token; tests that fail on purpose are not
    told to wait."""
    with run_edge(
        data_dir, "--bearer-token", hash_token(admin), "--auth-max-failures", "100000", token=admin
    ) as server:
        yield server
