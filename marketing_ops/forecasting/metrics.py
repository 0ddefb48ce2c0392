"""Forecast accuracy metrics: plain numpy so tests can check them by hand."""

from __future__ import annotations

import numpy as np

__all__ = ["mape", "smape", "mase", "coverage"]


def mape(actual, forecast) -> float:
    """Mean absolute percentage error in percent; days with zero actuals are skipped (undefined)."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    keep = a != 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs((a[keep] - f[keep]) / a[keep])) * 100.0)


def smape(actual, forecast) -> float:
    """Symmetric MAPE in percent (0..200); a day where both are zero counts as perfect."""
    a, f = np.asarray(actual, float), np.asarray(forecast, float)
    denom = np.abs(a) + np.abs(f)
    terms = np.where(denom == 0, 0.0, 2.0 * np.abs(a - f) / np.where(denom == 0, 1.0, denom))
    return float(np.mean(terms) * 100.0)


def mase(actual, forecast, history, season: int = 7) -> float:
    """MAE scaled by the in-sample MAE of the seasonal-naive forecast (lag ``season``).

    Below 1 means better than copying last week, which is the bar a model must clear."""
    a, f, h = (np.asarray(x, float) for x in (actual, forecast, history))
    scale = np.mean(np.abs(h[season:] - h[:-season]))
    if scale == 0:
        return float("nan")
    return float(np.mean(np.abs(a - f)) / scale)


def coverage(actual, lower, upper) -> float:
    """Share of actuals inside the interval."""
    a = np.asarray(actual, float)
    return float(np.mean((a >= np.asarray(lower, float)) & (a <= np.asarray(upper, float))))
