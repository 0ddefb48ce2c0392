"""Scoring candidate content actions: what each (audience, asset, channel, time slot) is
expected to earn, with intervals, vectorised so a million candidates score in seconds.

A candidate *arm* is an (audience, asset, channel) triple from the graph; a candidate
*action* is an arm at a time slot (an hour of the send day). Each arm's click rate and
conversion rate per send get a Beta posterior with an empirical-Bayes prior (the rate pooled
over the arms of its channel, worth ``prior_strength`` sends), so a new asset starts at the
average rather than at 50%. A slot scales the arm's clicks and conversions by the audience's
hour-of-day lift: the smoothed click rate (clicks per open) at that hour over the audience's
average, which is how the send time earns its keep. Expected revenue is conversions times
the channel's measured value per conversion; profit subtracts what the sends cost.

Intervals are the 5th and 95th percentiles of the Beta posteriors (exact quantiles, not a
normal approximation: new assets have skewed posteriors near zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "ACTION_SCORE_COLUMNS",
    "HOUR_SMOOTHING",
    "candidate_actions",
    "hour_lifts",
    "posterior_parameters",
    "score_actions",
    "value_per_conversion",
]

HOUR_SMOOTHING = 50.0  # pseudo-opens pulling each hour's click rate to the audience's average,
# so an hour with a handful of lucky opens does not beat one with hundreds of good ones
_LOW, _HIGH = 0.05, 0.95
_DEFAULT_CTR, _DEFAULT_CVR = 0.02, 0.002  # priors when a channel has no history at all

ACTION_SCORE_COLUMNS = [
    "expected_ctr",
    "ctr_lower",
    "ctr_upper",
    "expected_clicks",
    "expected_conversions",
    "conversions_lower",
    "conversions_upper",
    "expected_revenue",
    "revenue_lower",
    "revenue_upper",
    "cost",
    "expected_profit",
    "profit_lower",
    "profit_upper",
]


def value_per_conversion(kpis: pd.DataFrame, days: int = 90) -> dict[str, float]:
    """Measured revenue per conversion per channel over the last ``days`` of KPIs."""
    if kpis is None or kpis.empty:
        return {}
    last = pd.to_datetime(kpis["date_day"]).max()
    recent = kpis[pd.to_datetime(kpis["date_day"]) > last - pd.Timedelta(days=days)]
    sums = recent.groupby("channel")[["revenue", "conversions"]].sum()
    sums = sums[sums["conversions"] > 0]
    return {str(c): float(r.revenue / r.conversions) for c, r in sums.iterrows()}


def posterior_parameters(
    arms: pd.DataFrame, prior_strength: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Beta (a, b) of each arm's click rate and conversion rate per send.

    The prior mean is the channel's pooled rate over the arms given; sends without a click
    (or conversion) count as failures, never negative.
    """
    sends = arms["sends"].to_numpy(float)
    clicks = arms["clicks"].to_numpy(float)
    conv = arms["conversions"].to_numpy(float)
    channel = arms["channel"].astype(str).to_numpy()
    ctr0 = np.empty(len(arms))
    cvr0 = np.empty(len(arms))
    for ch in np.unique(channel):
        m = channel == ch
        total = sends[m].sum()
        ctr0[m] = clicks[m].sum() / total if total > 0 else _DEFAULT_CTR
        cvr0[m] = conv[m].sum() / total if total > 0 else _DEFAULT_CVR
    ctr0 = np.clip(ctr0, 1e-4, 0.99)
    cvr0 = np.clip(cvr0, 1e-5, 0.99)
    a_click = ctr0 * prior_strength + clicks
    b_click = (1 - ctr0) * prior_strength + np.maximum(sends - clicks, 0)
    a_conv = cvr0 * prior_strength + conv
    b_conv = (1 - cvr0) * prior_strength + np.maximum(sends - conv, 0)
    return a_click, b_click, a_conv, b_conv


def hour_lifts(send_hours: pd.DataFrame | None) -> pd.DataFrame:
    """Per audience and hour: smoothed click rate and its lift over the audience's average.

    Columns ``audience_id``, ``hour_of_day``, ``opens``, ``rate``, ``lift``. Hours without
    history are absent (their lift is 1: no evidence either way).
    """
    cols = ["audience_id", "hour_of_day", "opens", "clicks", "rate", "overall", "lift"]
    if send_hours is None or send_hours.empty:
        return pd.DataFrame(columns=cols)
    h = send_hours.groupby(["audience_id", "hour_of_day"], as_index=False)[
        ["opens", "clicks"]
    ].sum()
    h[["opens", "clicks"]] = h[["opens", "clicks"]].astype(float)
    totals = h.groupby("audience_id")[["opens", "clicks"]].transform("sum")
    h = h[totals["opens"] > 0].copy()
    totals = totals.loc[h.index]
    h["overall"] = totals["clicks"] / totals["opens"]
    h["rate"] = (h["clicks"] + HOUR_SMOOTHING * h["overall"]) / (h["opens"] + HOUR_SMOOTHING)
    h["lift"] = np.where(h["overall"] > 0, h["rate"] / h["overall"].where(h["overall"] > 0), 1.0)
    h["hour_of_day"] = h["hour_of_day"].astype(int)
    return h[cols].reset_index(drop=True)


def candidate_actions(
    arms: pd.DataFrame, lifts: pd.DataFrame, default_hour: int, slot_channels=("email",)
) -> pd.DataFrame:
    """Every arm at every candidate time slot: ``arm`` (row index into ``arms``), ``hour``,
    ``lift``.

    Candidate hours of an audience on a timed channel are the hours it has engagement history
    for (at their lift); other channels, and audiences without history, have the policy's
    default hour only, at lift 1 (no evidence that any hour is better).
    """
    arms = arms.reset_index(drop=True)
    idx = np.arange(len(arms))
    timed = arms["channel"].astype(str).isin(slot_channels).to_numpy()
    hist = lifts[["audience_id", "hour_of_day", "lift"]].rename(columns={"hour_of_day": "hour"})
    timed_arms = pd.DataFrame(
        {"arm": idx[timed], "audience_id": arms["audience_id"].to_numpy()[timed]}
    )
    slots = timed_arms.merge(hist, on="audience_id", how="inner")[["arm", "hour", "lift"]]
    rest = np.setdiff1d(idx, slots["arm"].to_numpy())
    default = pd.DataFrame({"arm": rest, "hour": default_hour, "lift": 1.0})
    slots = pd.concat([slots, default], ignore_index=True)
    slots["hour"] = slots["hour"].astype(int)
    slots["lift"] = slots["lift"].astype(float)
    return slots.sort_values(["arm", "hour"], kind="stable").reset_index(drop=True)


def _beta_interval(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return special.betaincinv(a, b, _LOW), special.betaincinv(a, b, _HIGH)


def score_actions(
    arms: pd.DataFrame,
    actions: pd.DataFrame,
    prior_strength: float,
    values: dict[str, float] | float | None,
    cost_per_send: float,
) -> pd.DataFrame:
    """Expected clicks, conversions, revenue and profit (with 90% intervals) per action.

    Posteriors are computed once per arm and broadcast to its slots; revenue is NaN on a
    channel whose value per conversion is unknown (and so is profit).
    """
    arms = arms.reset_index(drop=True)
    a_c, b_c, a_v, b_v = posterior_parameters(arms, prior_strength)
    ctr_lo, ctr_hi = _beta_interval(a_c, b_c)
    cvr_lo, cvr_hi = _beta_interval(a_v, b_v)
    size = arms["consented_size"].to_numpy(float)
    if isinstance(values, dict):
        value = arms["channel"].astype(str).map(values).astype(float).to_numpy()
    else:
        value = np.full(len(arms), np.nan if values is None else float(values))
    arm = actions["arm"].to_numpy()
    lift = actions["lift"].to_numpy(float)
    n = size[arm]
    ctr = (a_c / (a_c + b_c))[arm]
    cvr = (a_v / (a_v + b_v))[arm]
    v = value[arm]
    cost = n * cost_per_send
    out = pd.DataFrame(
        {
            "expected_ctr": ctr * lift,
            "ctr_lower": ctr_lo[arm] * lift,
            "ctr_upper": ctr_hi[arm] * lift,
            "expected_clicks": n * ctr * lift,
            "expected_conversions": n * cvr * lift,
            "conversions_lower": n * cvr_lo[arm] * lift,
            "conversions_upper": n * cvr_hi[arm] * lift,
        },
        index=actions.index,
    )
    out["expected_revenue"] = out["expected_conversions"].to_numpy() * v
    out["revenue_lower"] = out["conversions_lower"].to_numpy() * v
    out["revenue_upper"] = out["conversions_upper"].to_numpy() * v
    out["cost"] = cost
    out["expected_profit"] = out["expected_revenue"] - cost
    out["profit_lower"] = out["revenue_lower"] - cost
    out["profit_upper"] = out["revenue_upper"] - cost
    return out[ACTION_SCORE_COLUMNS]
