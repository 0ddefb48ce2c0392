"""The media mix model's curves in the decision layer's form (:class:`ResponseCurve`).

The MMM's media term for channel ``c`` at period ``t`` (national fit, one posterior draw) is

    beta[c] * mult[t, c] * hill(sum_l w[l] * spend[t - l, c] / spend_scale[c], h[c], s[c])

with normalised geometric weights ``w`` (they sum to 1, so a constant spend ``x`` has adstock
``x``). :class:`ResponseCurve` carries an unnormalised recursion (a constant ``x`` settles at
``x / (1 - d)``), so the same steady state needs ``half_saturation = h * spend_scale / (1 - d)``;
the decision layer plans forward from carry-over, and the MMM's current effect is the one on
its LAST segment, so ``max_response = beta[c] * mult[-1, c]``. (Z = 1 / (1 - d) rather than the
window's sum of ``d**l``: the two differ by ``d**L``, and only the first makes a steady path a
fixed point of the recursion.)

Units: the model's period must be a day (the decision layer plans per day). A revenue KPI gives
``value_per_conversion = 1`` and curves in revenue per day; a conversions KPI gives conversions
per day and the history's revenue per conversion.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from marketing_ops.forecasting.curves import ResponseCurve
from marketing_ops.forecasting.mmm.fit import MMMFit
from marketing_ops.forecasting.mmm.posterior import effect_scale, media_draws
from marketing_ops.forecasting.response import FittedResponse, response_frame

__all__ = ["curve_draws", "fitted_responses", "mmm_response_frame"]

PARAMS = ("decay", "half_saturation", "shape", "max_response")


def curve_draws(fit: MMMFit, n_draws: int) -> dict[str, np.ndarray]:
    """Per posterior draw and channel ``(S, C)``: the ResponseCurve parameters."""
    if fit.data.freq != "D" or len(fit.data.geos) != 1:
        raise ValueError("decision curves need a national daily fit (freq D, one geo)")
    scale = np.asarray(fit.inputs.spend_scale)

    def one(p):
        beta, mult = effect_scale(fit, p)
        return beta[0] * mult[-1]

    p = media_draws(fit, n_draws)
    decay = np.asarray(p["decay"])
    return {
        "decay": decay,
        "half_saturation": np.asarray(p["half_saturation"]) * scale / (1.0 - decay),
        "shape": np.asarray(p["shape"]),
        "max_response": np.asarray(jax.jit(jax.vmap(one))(p)),
    }


def _residual_dispersion(fit: MMMFit) -> float:
    """The total KPI's residual variance over its mean (posterior mean noise scale)."""
    sigma = float(np.mean(fit.samples["sigma"])) * float(fit.inputs.kpi_scale[0])
    return sigma**2 / max(float(fit.data.kpi.mean()), 1e-9)


def fitted_responses(
    fit: MMMFit, value_per_conversion: float = 1.0, n_draws: int = 200
) -> dict[str, FittedResponse]:
    """One :class:`FittedResponse` per channel: the posterior median curve, then ``n_draws`` draws.

    ``dispersion`` is the total KPI's (variance over mean): summed over channels with their
    own means, the plan's outcome noise is the media's proportional share of the residual."""
    draws = curve_draws(fit, n_draws)
    dispersion = _residual_dispersion(fit)
    recent = fit.data.spend[0, -fit.data.window :].mean(axis=0)
    out = {}
    for i, channel in enumerate(fit.data.channels):

        def curve(values, channel=channel):
            return ResponseCurve(channel, *map(float, values), float(value_per_conversion))

        point = curve([np.median(draws[k][:, i]) for k in PARAMS])
        samples = [curve([draws[k][j, i] for k in PARAMS]) for j in range(len(draws["decay"]))]
        out[channel] = FittedResponse(
            point,
            samples,
            {"r2": None},
            dispersion=dispersion,
            current_daily_spend=float(recent[i]),
            revenue_dispersion=dispersion,
        )
    return out


def mmm_response_frame(
    fit: MMMFit, as_of, model_version: str, value_per_conversion: float = 1.0, n_draws: int = 200
) -> pd.DataFrame:
    """Rows of ``agent.response_curves`` (draw 0 = posterior median, 1..N = posterior draws)."""
    return response_frame(
        fitted_responses(fit, value_per_conversion, n_draws), as_of, model_version
    )
