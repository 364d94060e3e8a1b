"""A budget of rows for a query answered where waiting is dear: the gateway answers small
InfluxQL SELECTs itself (``edge_gateway.inline``), on the event loop every other request
waits on. Work made of rows (rows read, intervals fill() adds, series answered) is spent
from it; a query that would overspend, or do work that is never small (holt_winters'
fits), stops with :class:`OverBudget` and is sent to a query worker instead. A query worker
runs without a budget: ``spend`` and ``refuse`` then do nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["SERIES_ROWS", "OverBudget", "budget", "refuse", "spend"]


class OverBudget(BaseException):
    """Not an Exception: a statement's error handling must let it through to the caller,
    which has its answer made elsewhere. ``lasting``: asked again, the same text would go
    over again (too many rows, work never done on a budget); else it may fit next time
    (something not at hand yet, as a file's columns)."""

    def __init__(self, why: str, lasting: bool = True) -> None:
        super().__init__(why)
        self.lasting = lasting


_left: ContextVar[list[int] | None] = ContextVar("edge_query_budget", default=None)


@contextmanager
def budget(rows: int) -> Iterator[None]:
    """Run the block with ``rows`` to spend."""
    token = _left.set([rows])
    try:
        yield
    finally:
        _left.reset(token)


# a series answered costs as much as this many rows: its dict, tags and JSON (one-row
# series of TSBS's ten tags, ~8.5 µs each; a row of a raw answer ~0.5 µs)
SERIES_ROWS = 16


def spend(rows: int) -> None:
    """Spend ``rows``; raise :class:`OverBudget` when that is more than is left."""
    left = _left.get()
    if left is not None:
        left[0] -= rows
        if left[0] < 0:
            raise OverBudget(f"more than {rows} rows")


def refuse() -> None:
    """Work never done on a budget."""
    if _left.get() is not None:
        raise OverBudget("work never done on a budget")
