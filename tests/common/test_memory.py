from __future__ import annotations

import sys

import pytest

from edge_common.memory import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_allocator_takes_the_thresholds() -> None:
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # again (each process calls it once; harmless twice)
