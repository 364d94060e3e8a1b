"""The row budget of a query answered in the gateway (edge_query.budget)."""

from __future__ import annotations

import pytest

from edge_query.budget import OverBudget, budget, refuse, spend
from edge_query.influxql.holtwinters import holt_winters


def test_without_a_budget_nothing_is_counted() -> None:
    spend(10**12)
    refuse()
    assert holt_winters([(0, 1.0), (10, 2.0), (20, 3.0)], 2, 0, 10, False)


def test_spending_past_the_budget_stops_and_lasts() -> None:
    with budget(100):
        spend(60)
        spend(40)
        with pytest.raises(OverBudget) as stopped:
            spend(1)
    assert stopped.value.lasting
    spend(10**6)  # (the budget ended with its block)


def test_work_never_done_on_a_budget_is_refused() -> None:
    with budget(10**9), pytest.raises(OverBudget):
        holt_winters([(0, 1.0), (10, 2.0), (20, 3.0)], 2, 0, 10, False)


def test_over_budget_is_not_an_exception() -> None:
    # a statement's error handling (except Exception) lets it through to the caller
    assert not issubclass(OverBudget, Exception)
    assert not OverBudget("columns not read yet", lasting=False).lasting
