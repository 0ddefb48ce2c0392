"""Posterior summaries: contributions, ROAS, marginal ROAS, counterfactuals, response curves.

Everything is computed per posterior draw with the model's own transforms, so intervals carry
the uncertainty of the curve's shape, carry-over and level, not resampling noise. Intervals are
central 80 % (10th to 90th percentile) unless told otherwise.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from marketing_ops.forecasting.mmm.fit import MMMFit
from marketing_ops.forecasting.mmm.model import channel_beta, geo_roi, segment_multiplier
from marketing_ops.forecasting.mmm.transforms import hill, lagged, media_response

__all__ = [
    "channel_summary",
    "contribution_draws",
    "contributions_over_time",
    "counterfactuals",
    "effect_scale",
    "media_draws",
    "interval",
    "response_curves",
    "steady_state_draws",
]

LEVEL = 0.8
N_DRAWS = 400


def interval(
    draws: np.ndarray, level: float = LEVEL, axis: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, lower, upper) of a central interval over ``axis``."""
    q = (1 - level) / 2 * 100
    lo, hi = np.percentile(draws, [q, 100 - q], axis=axis)
    return draws.mean(axis=axis), lo, hi


def effect_scale(fit: MMMFit, p: dict):
    """One draw's ``beta (G, C)`` (fitted on the observed history) and multiplier ``(T, C)``."""
    x = fit.inputs
    n_ch = x.spend_total.shape[1]
    observed = media_response(
        x.spend_lagged, p["decay"], p["half_saturation"], p["shape"], x.window
    )
    roi = geo_roi(p["roi"], p.get("geo_sigma"), p.get("geo_z"))
    beta = channel_beta(roi, observed, x.spend_total)
    tv_sigma = p.get("tv_sigma", fit.priors.tv_sigma)  # a fixed step scale is no sample
    return beta, segment_multiplier(x.segment, n_ch, tv_sigma, p.get("tv_z"), x.step_scale)


def media_draws(fit: MMMFit, n: int) -> dict:
    """The media parameters of ``n`` evenly thinned posterior draws, as JAX arrays."""
    keys = ("decay", "half_saturation", "shape", "roi", "geo_sigma", "geo_z", "tv_sigma", "tv_z")
    return {k: jnp.asarray(v) for k, v in fit.draws(n).items() if k in keys}


def contribution_draws(
    fit: MMMFit, spend: np.ndarray | None = None, n_draws: int = N_DRAWS
) -> np.ndarray:
    """Contribution per draw, geo, period and channel ``(S, G, T, C)`` in KPI units.

    ``spend`` (original units, ``(G, T, C)``) replaces the observed spend for a counterfactual;
    the effect scale stays the one fitted on the observed history."""
    x = fit.inputs
    xl = x.spend_lagged if spend is None else lagged(spend / x.spend_scale, x.window)

    def one(p):
        beta, mult = effect_scale(fit, p)
        resp = media_response(xl, p["decay"], p["half_saturation"], p["shape"], x.window)
        return beta[..., None, :] * mult[None] * resp

    return np.asarray(jax.jit(jax.vmap(one))(media_draws(fit, n_draws)))


def channel_summary(fit: MMMFit, level: float = LEVEL, n_draws: int = N_DRAWS) -> pd.DataFrame:
    """Per channel: spend, contribution, ROAS and marginal ROAS (1 % more spend) with intervals."""
    spend = fit.data.spend
    base = contribution_draws(fit, n_draws=n_draws).sum(axis=(1, 2))  # (S, C)
    bumped = contribution_draws(fit, spend * 1.01, n_draws=n_draws).sum(axis=(1, 2))
    total_spend = spend.sum(axis=(0, 1))
    rows = []
    for i, ch in enumerate(fit.data.channels):
        roas = base[:, i] / max(total_spend[i], 1e-9)
        mroas = (bumped[:, i] - base[:, i]) / max(0.01 * total_spend[i], 1e-9)
        c, r, m = interval(base[:, i], level), interval(roas, level), interval(mroas, level)
        rows.append(
            {
                "channel": ch,
                "spend": total_spend[i],
                "contribution": c[0],
                "contribution_lo": c[1],
                "contribution_hi": c[2],
                "roas": r[0],
                "roas_lo": r[1],
                "roas_hi": r[2],
                "mroas": m[0],
                "mroas_lo": m[1],
                "mroas_hi": m[2],
                "share_of_kpi": c[0] / fit.data.kpi.sum(),
                "p_mroas_below_1": float((mroas < 1).mean()),
            }
        )
    return pd.DataFrame(rows)


def counterfactuals(
    fit: MMMFit, multipliers=(0.5, 1.5), level: float = LEVEL, n_draws: int = N_DRAWS
) -> pd.DataFrame:
    """Each channel's incremental KPI over the history had its spend been ``m`` times the actual."""
    rows = []
    for m in multipliers:
        draws = contribution_draws(fit, fit.data.spend * m, n_draws=n_draws).sum(axis=(1, 2))
        for i, ch in enumerate(fit.data.channels):
            mean, lo, hi = interval(draws[:, i], level)
            rows.append({"channel": ch, "multiplier": m, "incremental": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


def contributions_over_time(
    fit: MMMFit, level: float = LEVEL, n_draws: int = N_DRAWS
) -> pd.DataFrame:
    """Long frame: date, geo, channel, mean, lo, hi (summed over geos when ``geo`` is 'all')."""
    draws = contribution_draws(fit, n_draws=n_draws).sum(axis=1)  # (S, T, C)
    mean, lo, hi = interval(draws, level)
    d = fit.data
    return pd.DataFrame(
        {
            "date": np.repeat(d.dates, len(d.channels)),
            "channel": np.tile(d.channels, len(d.dates)),
            "mean": mean.ravel(),
            "lo": lo.ravel(),
            "hi": hi.ravel(),
        }
    )


def steady_state_draws(fit: MMMFit, grid: np.ndarray, n_draws: int = N_DRAWS) -> np.ndarray:
    """Per-period response to a constant national spend per period, ``grid (n, C)`` -> ``(S, n, C)``.

    A constant spend's normalised adstock equals the spend, so no lag window is needed; geos
    receive the national spend in their historical shares; the effect is the current one (last
    segment)."""
    x = fit.inputs
    share = x.spend_total / np.maximum(x.spend_total.sum(axis=0, keepdims=True), 1e-9)  # (G, C)
    scaled = np.asarray(grid)[:, None, :] * share[None] / x.spend_scale  # (n, G, C)

    def one(p):
        beta, mult = effect_scale(fit, p)
        h = hill(scaled, p["half_saturation"], p["shape"])
        return (beta[None] * mult[-1][None, None] * h).sum(axis=1)

    return np.asarray(jax.jit(jax.vmap(one))(media_draws(fit, n_draws)))


def response_curves(
    fit: MMMFit,
    points: int = 41,
    max_multiple: float = 3.0,
    level: float = LEVEL,
    n_draws: int = N_DRAWS,
) -> pd.DataFrame:
    """Response per period against spend per period, 0 to ``max_multiple`` x the average, with bands."""
    avg = fit.data.spend.sum(axis=0).mean(axis=0)  # (C,)
    rel = np.union1d(np.linspace(0, max_multiple, points), [1.0])  # the current spend is a point
    mean, lo, hi = interval(steady_state_draws(fit, rel[:, None] * avg[None, :], n_draws), level)
    rows = []
    for i, ch in enumerate(fit.data.channels):
        rows.append(
            pd.DataFrame(
                {
                    "channel": ch,
                    "spend": rel * avg[i],
                    "mean": mean[:, i],
                    "lo": lo[:, i],
                    "hi": hi[:, i],
                    "is_current": np.isclose(rel, 1.0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
