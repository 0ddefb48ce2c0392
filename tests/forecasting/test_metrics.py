"""Accuracy metrics and the seasonal-naive yardstick, checked against hand computations."""

from __future__ import annotations

import numpy as np
import pytest

from marketing_ops.forecasting import coverage, mape, mase, seasonal_naive, smape


def test_metrics_match_hand_computation() -> None:
    """MAPE, sMAPE and MASE equal values worked out by hand (zero actuals skipped in MAPE)."""
    assert mape([100, 200, 0], [110, 180, 5]) == pytest.approx(10.0)
    # 2*10/210 = 0.095238 and 0 -> mean 4.7619 %
    assert smape([100, 200], [110, 200]) == pytest.approx(100 / 21, rel=1e-9)
    assert smape([0], [0]) == 0.0
    history = [1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7, 8, 9]  # lag-7 errors all 2 -> scale 2
    assert mase([10, 12], [11, 14], history) == pytest.approx(0.75)
    assert coverage([1, 5, 9], [0, 6, 8], [2, 7, 10]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (mape, ([0, 0], [1, 2])),  # every actual zero: undefined
        (mase, ([1, 2], [1, 2], [5] * 14)),  # a flat history has no naive error to scale by
    ],
)
def test_undefined_metrics_are_nan_not_zero(func, args) -> None:
    assert np.isnan(func(*args))


def test_seasonal_naive_copies_last_week_with_an_interval() -> None:
    """Point = the last 7 days repeated; the interval comes from week-on-week errors."""
    week = np.array([10, 11, 12, 13, 14, 15, 16], float)
    history = np.concatenate([week, week + 2, week])  # errors +2 then -2
    point, lo, hi = seasonal_naive(history, 10, level=0.8)
    assert point.tolist() == [*week, *week[:3]]
    assert np.all(lo < point) and np.all(point < hi)
    assert (hi - point) == pytest.approx(np.full(10, 2.0))
