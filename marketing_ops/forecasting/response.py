"""Fit adstock + Hill response curves per paid channel, with block-bootstrap uncertainty."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from marketing_ops.forecasting.curves import ResponseCurve, adstock, hill
from marketing_ops.forecasting.parallel import parallel_map

__all__ = ["FittedResponse", "fit_response_curves", "fit_channel"]

DECAY_GRID = np.round(np.arange(0.0, 0.81, 0.1), 2)
BLOCK_DAYS = 14


@dataclass(frozen=True)
class FittedResponse:
    """Point curve, bootstrap draws and how well the curve explains history."""

    curve: ResponseCurve
    samples: list[ResponseCurve] = field(default_factory=list)
    fit_quality: dict = field(default_factory=dict)

    def conversions_interval(self, daily_spend, index, initial_adstock: float, level=0.8):
        """Mean and percentile interval of expected conversions per day over the draws."""
        draws = [c.conversions(daily_spend, index, initial_adstock) for c in self.samples]
        point = self.curve.conversions(daily_spend, index, initial_adstock)
        if not draws:
            return point, point, point
        d = np.vstack(draws)
        q = (1 - level) / 2
        return point, np.quantile(d, q, axis=0), np.quantile(d, 1 - q, axis=0)


def _season_design(days: pd.Series) -> np.ndarray:
    """Weekly (3) and yearly (2) Fourier terms: a cheap stand-in for Prophet's seasonality."""
    d = pd.to_datetime(days)
    t = (d - pd.Timestamp("2000-01-01")).dt.days.to_numpy(float)
    cols = []
    for period, k in ((7.0, 3), (365.25, 2)):
        for j in range(1, k + 1):
            cols += [np.sin(2 * np.pi * j * t / period), np.cos(2 * np.pi * j * t / period)]
    return np.column_stack(cols)


def _fit_once(y, spend, design, decay_grid=DECAY_GRID):
    """Grid over decay; least squares with bounds for base, max_response, K, shape, seasonality."""
    best = None
    smax = max(spend.max(), 1e-9)
    nb = design.shape[1]
    for decay in decay_grid:
        a = adstock(spend, decay)
        amed = max(np.median(a[a > 0]) if (a > 0).any() else 1.0, 1e-9)

        def resid(p, a=a):
            base, logm, logk, shape = p[:4]
            idx = np.exp(design @ p[4:])
            return base + idx * np.exp(logm) * hill(a, np.exp(logk), shape) - y

        x0 = np.concatenate(
            [
                [max(np.min(y), 0.0), np.log(max(y.mean(), 1e-3) * 2), np.log(amed), 1.5],
                np.zeros(nb),
            ]
        )
        lo = np.concatenate([[0.0, -10, np.log(amed / 50), 0.5], -np.ones(nb)])
        hi = np.concatenate(
            [
                [
                    max(y.max(), 1.0),
                    np.log(max(y.max(), 1.0) * 50),
                    np.log(smax * 50 / (1 - decay + 1e-9)),
                    4.0,
                ],
                np.ones(nb),
            ]
        )
        x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)
        r = least_squares(resid, x0, bounds=(lo, hi), max_nfev=300)
        if best is None or r.cost < best[0]:
            best = (r.cost, decay, r.x, r.fun)
    return best


def fit_channel(
    y, spend, days, value_per_conversion, channel, bootstrap=0, seed=0
) -> FittedResponse:
    """Fit one channel; bootstrap re-fits on point fit + moving-block-resampled residuals."""
    y, spend = np.asarray(y, float), np.asarray(spend, float)
    design = _season_design(days)
    cost, decay, x, res = _fit_once(y, spend, design)

    def curve(decay, x):
        return ResponseCurve(
            channel,
            float(decay),
            float(np.exp(x[2])),
            float(x[3]),
            float(np.exp(x[1])),
            float(value_per_conversion),
        )

    point = curve(decay, x)
    fitted = y + res
    r2 = float(1 - np.sum(res**2) / max(np.sum((y - y.mean()) ** 2), 1e-12))
    rng = np.random.default_rng(seed)
    samples = []
    n = len(y)
    for _ in range(bootstrap):
        starts = rng.integers(0, max(n - BLOCK_DAYS, 1), size=int(np.ceil(n / BLOCK_DAYS)))
        boot_res = np.concatenate([res[s : s + BLOCK_DAYS] for s in starts])[:n]
        yb = np.clip(fitted + boot_res, 0, None)
        _, db, xb, _ = _fit_once(yb, spend, design)
        samples.append(curve(db, xb))
    return FittedResponse(point, samples, {"r2": r2, "n_days": n})


def _task(args):
    return fit_channel(*args)


def fit_response_curves(
    kpis: pd.DataFrame,
    channels=("paid_search", "display", "paid_social", "email"),
    bootstrap: int = 30,
    workers: int = 2,
    seed: int = 0,
) -> dict[str, FittedResponse]:
    """Response curve per paid channel on measured conversions; channels without spend skipped."""
    tasks = []
    for i, ch in enumerate(channels):
        h = kpis[kpis["channel"] == ch].sort_values("date_day").tail(730)
        if h.empty or h["spend"].sum() <= 0:
            continue
        conv = h["conversions"].sum()
        vpc = float(h["revenue"].sum() / conv) if conv > 0 else 0.0
        tasks.append(
            (
                h["conversions"].to_numpy(float),
                h["spend"].to_numpy(float),
                h["date_day"],
                vpc,
                ch,
                bootstrap,
                seed + i,
            )
        )
    fits = parallel_map(_task, tasks, workers)
    return {t[4]: f for t, f in zip(tasks, fits, strict=True)}
