"""Posterior response per channel as draws a budget optimiser can use.

For a plan window of ``periods`` periods starting after the history, with constant spend per
period, :func:`plan_response_draws` gives the channel's KPI over the window for each spend on a
grid and each posterior draw, including the carry-over of the spend already made before the
window (``carry_in``, the response at zero plan spend, lets the caller keep or subtract it).
The effect level is the current one (the last segment of a time-varying fit).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np
import pandas as pd

from marketing_ops.forecasting.mmm.fit import MMMFit
from marketing_ops.forecasting.mmm.posterior import N_DRAWS, effect_scale, media_draws
from marketing_ops.forecasting.mmm.transforms import media_response

__all__ = ["ResponseDraws", "budget_plan", "plan_response_draws"]


@dataclass(frozen=True)
class ResponseDraws:
    channel: str
    spend_grid: np.ndarray  # (n,) total spend over the plan window
    draws: np.ndarray  # (S, n) KPI over the window, carry-over included
    carry_in: np.ndarray  # (S,) KPI over the window from spend before it

    def incremental(self) -> np.ndarray:
        """(S, n) KPI the plan's own spend buys."""
        return self.draws - self.carry_in[:, None]


def _plan_lagged(fit: MMMFit, per_period: np.ndarray, periods: int) -> np.ndarray:
    """``(n, G, P, L, C)`` scaled lagged spend: history's last L-1 periods, then the plan."""
    x, lag = fit.inputs, fit.inputs.window
    hist = fit.data.spend[:, -(lag - 1) :, :] if lag > 1 else fit.data.spend[:, :0, :]
    share = x.spend_total / np.maximum(x.spend_total.sum(axis=0, keepdims=True), 1e-9)  # (G, C)
    plan = per_period[:, None, None, :] * share[None, :, None, :] * np.ones((1, 1, periods, 1))
    full = (
        np.concatenate([np.broadcast_to(hist, (len(per_period), *hist.shape)), plan], axis=2)
        / x.spend_scale
    )
    idx = np.arange(periods)[:, None] + lag - 1 - np.arange(lag)[None, :]
    return full[:, :, idx, :]


def plan_response_draws(
    fit: MMMFit, spend_grid: dict[str, np.ndarray], periods: int, n_draws: int = N_DRAWS
) -> dict[str, ResponseDraws]:
    """Channel -> KPI draws over a plan window for each total window spend on its grid.

    ``spend_grid`` maps channel -> totals over the window (all grids the same length)."""
    chans = fit.data.channels
    grid = np.stack([np.asarray(spend_grid[c], dtype=float) for c in chans], axis=1)  # (n, C)
    with_zero = np.concatenate([np.zeros((1, len(chans))), grid]) / periods
    xl = _plan_lagged(fit, with_zero, periods)

    def one(p):
        beta, mult = effect_scale(fit, p)
        resp = media_response(xl, p["decay"], p["half_saturation"], p["shape"], fit.inputs.window)
        return (beta[None, :, None, :] * mult[-1] * resp).sum(axis=(1, 2))  # (n+1, C)

    out = np.asarray(jax.jit(jax.vmap(one))(media_draws(fit, n_draws)))
    return {
        c: ResponseDraws(c, grid[:, i], out[:, 1:, i], out[:, 0, i]) for i, c in enumerate(chans)
    }


def _allocate(gain: np.ndarray) -> list[int]:
    """Exact split of ``n`` budget units over channels maximising the summed gain ``(C, n+1)``
    (dynamic programming: the curves may be S-shaped, where greedy steps stall at zero)."""
    n = gain.shape[1] - 1
    best, picks = gain[0].copy(), []
    for c in range(1, gain.shape[0]):
        pick, new = np.zeros(n + 1, dtype=int), np.empty(n + 1)
        for total in range(n + 1):
            units = np.arange(total + 1)
            values = gain[c, units] + best[total - units]
            pick[total], new[total] = units[np.argmax(values)], values.max()
        best, picks = new, [*picks, pick]
    units, left = [], n
    for pick in reversed(picks):
        units.append(int(pick[left]))
        left -= units[-1]
    return [left, *reversed(units)]


def budget_plan(
    fit: MMMFit,
    total: float,
    periods: int,
    steps: int = 40,
    level: float = 0.8,
    n_draws: int = N_DRAWS,
) -> pd.DataFrame:
    """Split ``total`` over channels for a window of ``periods`` to maximise the expected KPI."""
    grid = np.linspace(0.0, total, steps + 1)
    draws = plan_response_draws(fit, {c: grid for c in fit.data.channels}, periods, n_draws)
    gain = np.stack([draws[c].incremental().mean(axis=0) for c in fit.data.channels])
    rows = []
    for c, u in zip(fit.data.channels, _allocate(gain), strict=True):
        d = draws[c].incremental()[:, u]
        lo, hi = np.percentile(d, [(1 - level) * 50, 100 - (1 - level) * 50])
        rows.append({"channel": c, "spend": grid[u], "kpi": d.mean(), "kpi_lo": lo, "kpi_hi": hi})
    return pd.DataFrame(rows)
