"""Rolling-origin backtest: Prophet versus seasonal naive, side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing_ops.forecasting.baseline import fit_series
from marketing_ops.forecasting.metrics import coverage, mape, mase, smape
from marketing_ops.forecasting.parallel import parallel_map

__all__ = ["backtest", "backtest_all"]

BACKTEST_COLUMNS = ["channel", "metric", "model", "mape", "smape", "mase", "coverage", "n"]


def _seasonal_naive(history: np.ndarray, horizon: int, season: int = 7):
    """Copy last week; interval from in-sample seasonal-naive errors (80%)."""
    reps = int(np.ceil(horizon / season))
    point = np.tile(history[-season:], reps)[:horizon]
    err = history[season:] - history[:-season]
    lo, hi = np.quantile(err, [0.1, 0.9]) if len(err) else (0.0, 0.0)
    return point, np.clip(point + lo, 0, None), point + hi


def backtest(kpis, channel, metric, origins=3, horizon=7, country="US") -> pd.DataFrame:
    """Forecast ``horizon`` days from each of ``origins`` cut-offs spaced a horizon apart at the
    end of history, then score both models on the pooled held-out days."""
    h = kpis[kpis["channel"] == channel].sort_values("date_day").reset_index(drop=True)
    y = h[metric].to_numpy(float)
    acc = {"prophet": ([], [], [], []), "seasonal_naive": ([], [], [], [])}
    scale_history = None
    for o in range(origins, 0, -1):
        cut = len(h) - o * horizon
        train, test = h.iloc[:cut], y[cut : cut + horizon]
        spend_future = h["spend"].to_numpy(float)[cut : cut + horizon]
        fc, _ = fit_series(
            train[["date_day", "spend", metric]], metric, horizon, country, spend_future
        )
        sn = _seasonal_naive(y[:cut], horizon)
        for name, (p, lo, hi) in (
            (
                "prophet",
                (fc["yhat"].to_numpy(), fc["yhat_lower"].to_numpy(), fc["yhat_upper"].to_numpy()),
            ),
            ("seasonal_naive", sn),
        ):
            for store, vals in zip(acc[name], (test, p, lo, hi), strict=True):
                store.append(vals)
        scale_history = y[:cut]
    rows = []
    for name, parts in acc.items():
        a, p, lo, hi = (np.concatenate(x) for x in parts)
        rows.append(
            {
                "channel": channel,
                "metric": metric,
                "model": name,
                "mape": mape(a, p),
                "smape": smape(a, p),
                "mase": mase(a, p, scale_history[-365:]),
                "coverage": coverage(a, lo, hi),
                "n": len(a),
            }
        )
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


def _task(args):
    return backtest(*args)


def backtest_all(kpis, metrics=("conversions",), workers=2, origins=3, horizon=7, country="US"):
    """Backtest every channel × metric, fork pool across series."""
    tasks = [
        (kpis, ch, m, origins, horizon, country)
        for ch in sorted(kpis["channel"].unique())
        for m in metrics
    ]
    parts = parallel_map(_task, tasks, workers)
    return pd.concat(parts, ignore_index=True)
