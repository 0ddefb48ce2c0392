"""The forward plan: the KPI forecast for the next period under any budget split.

This is what the decision layer calls. Total conversions and revenue of a period are

    what happens anyway   the Prophet baselines of the spend-free channels (organic search,
                          direct, referral), which no budget changes;
  + what the budget buys  for every paid channel, its response curve run over the period's
                          daily spend, from the adstock carried in from past spend, scaled by
                          the demand index of each day.

Intervals: a paid channel's spread combines the curve's bootstrap draws with outcome noise
(quasi-Poisson, the dispersion measured when the curve was fitted); a baseline channel's comes
from Prophet's interval. Channels and days are treated as independent when summing, so the
total's interval is a little narrow when errors move together.

Everything here is a pure function of stored forecasts and curves: no fitting, a few
milliseconds per call, so an optimiser can call it for every split it tries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.stats import norm

from marketing_ops.forecasting.curves import adstock
from marketing_ops.forecasting.response import FittedResponse, responses_from_frame

__all__ = [
    "ForwardPlanner",
    "PlanForecast",
    "carry_in_adstock",
    "forward_plan",
    "phase_by_index",
]

PLAN_DAILY_COLUMNS = [
    "date_day",
    "channel",
    "source",
    "spend",
    "conversions",
    "conversions_lower",
    "conversions_upper",
    "revenue",
    "revenue_lower",
    "revenue_upper",
]


@dataclass(frozen=True)
class PlanForecast:
    """A period's KPI forecast under one budget split.

    ``daily``: one row per day and channel (``source`` is ``response`` for paid channels,
    ``baseline`` for the rest). ``channels``: period totals per channel with intervals and,
    for paid channels, the period's marginal ROI (revenue of the next EUR of the period's
    budget). ``total``: the whole period, every channel."""

    start: date
    days: int
    level: float
    daily: pd.DataFrame
    channels: pd.DataFrame
    total: dict = field(default_factory=dict)

    @property
    def revenue(self) -> float:
        return float(self.total["revenue"])

    @property
    def conversions(self) -> float:
        return float(self.total["conversions"])


def phase_by_index(amount: float, index: np.ndarray) -> np.ndarray:
    """A period amount split across its days in proportion to the demand index (busy days
    get more), the optimiser's phasing; an even split when the index says nothing."""
    idx = np.clip(np.nan_to_num(np.asarray(index, float), nan=1.0), 0.0, None)
    total = idx.sum()
    shares = idx / total if total > 0 else np.full(len(idx), 1.0 / len(idx))
    return float(amount) * shares


def carry_in_adstock(
    kpis: pd.DataFrame, responses: Mapping[str, FittedResponse], as_of: date | None = None
) -> dict[str, float]:
    """Adstock each channel carries into the period from its spend up to ``as_of``."""
    k = kpis.assign(date_day=pd.to_datetime(kpis["date_day"]).dt.date)
    if as_of is not None:
        k = k[k["date_day"] <= as_of]
    out = {}
    for channel, fr in responses.items():
        spend = k.loc[k["channel"] == channel].sort_values("date_day")["spend"].to_numpy(float)
        out[channel] = float(adstock(spend, fr.curve.decay)[-1]) if len(spend) else 0.0
    return out


def _index_for(baseline: pd.DataFrame | None, days: list[date]) -> np.ndarray:
    if baseline is None or baseline.empty or "metric" not in baseline:
        return np.ones(len(days))
    rows = baseline[baseline["metric"] == "seasonal_index"].copy()
    if rows.empty:
        return np.ones(len(days))
    rows["date_day"] = pd.to_datetime(rows["date_day"]).dt.date
    by_day = rows.groupby("date_day")["yhat"].mean()
    return by_day.reindex(days).fillna(1.0).to_numpy(float)


def _spend_path(channel: str, value, index: np.ndarray) -> np.ndarray:
    if np.isscalar(value):
        if float(value) < 0:
            raise ValueError(f"budget for {channel}: {value} is negative; expected EUR >= 0")
        return phase_by_index(float(value), index)
    path = np.asarray(value, float)
    if path.shape != index.shape:
        raise ValueError(
            f"budget for {channel}: a daily path of {path.size} days, expected {index.size}"
        )
    if (path < 0).any():
        raise ValueError(f"budget for {channel}: negative daily spend; expected EUR >= 0")
    return path


def forward_plan(
    budget: Mapping[str, float | Sequence[float]],
    responses: Mapping[str, FittedResponse],
    start: date,
    days: int = 7,
    baseline: pd.DataFrame | None = None,
    carry_in: Mapping[str, float] | None = None,
    level: float = 0.8,
    index: Sequence[float] | None = None,
) -> PlanForecast:
    """KPI forecast for the ``days`` from ``start`` when each paid channel spends ``budget``.

    ``budget``: channel -> EUR for the whole period (phased across days by the demand index)
    or a list of ``days`` daily amounts. A channel with a curve but no budget entry spends 0.
    ``responses``: fitted curves per paid channel (:func:`responses_from_frame` reads them
    from ``agent.response_curves``). ``baseline``: ``agent.forecasts`` rows of the same as-of
    day (the spend-free channels' forecasts and the demand index, metric ``seasonal_index``).
    ``carry_in``: adstock per channel at the day before ``start`` (:func:`carry_in_adstock`).
    ``index``: the demand index of the period's days, when not taken from ``baseline``.
    """
    unknown = sorted(set(budget) - set(responses))
    if unknown:
        raise ValueError(
            f"budget names {unknown}: no response curve for them; expected some of {sorted(responses)}"
        )
    if not 0 < level < 1:
        raise ValueError(f"level {level}: expected a share between 0 and 1")
    day_list = [start + timedelta(days=i) for i in range(days)]
    idx = np.asarray(index, float) if index is not None else _index_for(baseline, day_list)
    if idx.shape != (days,):
        raise ValueError(f"index has {idx.size} days, expected {days}")
    carry_in = carry_in or {}
    z = float(norm.ppf(0.5 + level / 2))
    daily_rows, channel_rows = [], []
    total_mean = {"conversions": 0.0, "revenue": 0.0}
    total_var = {"conversions": 0.0, "revenue": 0.0}
    spend_total = 0.0

    for channel in sorted(responses):
        fr = responses[channel]
        spend = _spend_path(channel, budget.get(channel, 0.0), idx)
        init = float(carry_in.get(channel, 0.0))
        vpc = fr.curve.value_per_conversion
        mean = fr.curve.conversions(spend, idx, init)
        draws = fr.draws(spend, idx, init)
        noise = max(fr.dispersion, 0.0) * np.maximum(mean, 0.0)
        rev_noise = max(fr.revenue_dispersion, 0.0) * np.maximum(mean, 0.0)
        day_sd = np.sqrt(np.var(draws, axis=0) + noise)
        rev_sd = np.sqrt(np.var(draws, axis=0) + rev_noise) * vpc
        period_var = float(np.var(draws.sum(axis=1)) + noise.sum())
        rev_var = float(np.var(draws.sum(axis=1)) + rev_noise.sum()) * vpc**2
        daily_rows.append(
            pd.DataFrame(
                {
                    "date_day": day_list,
                    "channel": channel,
                    "source": "response",
                    "spend": spend,
                    "conversions": mean,
                    "conversions_lower": np.clip(mean - z * day_sd, 0, None),
                    "conversions_upper": mean + z * day_sd,
                    "revenue": mean * vpc,
                    "revenue_lower": np.clip(mean * vpc - z * rev_sd, 0, None),
                    "revenue_upper": mean * vpc + z * rev_sd,
                }
            )
        )
        conv, sd, rsd = float(mean.sum()), float(np.sqrt(period_var)), float(np.sqrt(rev_var))
        amount = float(spend.sum())
        step = max(1.0, 0.01 * amount)
        bumped = spend + step * (spend / amount if amount > 0 else np.full(days, 1.0 / days))
        extra = float(fr.curve.conversions(bumped, idx, init).sum()) - conv
        channel_rows.append(
            {
                "channel": channel,
                "source": "response",
                "spend": amount,
                "conversions": conv,
                "conversions_lower": max(conv - z * sd, 0.0),
                "conversions_upper": conv + z * sd,
                "revenue": conv * vpc,
                "revenue_lower": max(conv * vpc - z * rsd, 0.0),
                "revenue_upper": conv * vpc + z * rsd,
                "marginal_roi": extra * vpc / step,
            }
        )
        spend_total += amount
        total_mean["conversions"] += conv
        total_mean["revenue"] += conv * vpc
        total_var["conversions"] += period_var
        total_var["revenue"] += rev_var

    for channel, rows in _baseline_rows(baseline, responses, day_list).items():
        channel_row = {"channel": channel, "source": "baseline", "spend": 0.0, "marginal_roi": None}
        frame = pd.DataFrame({"date_day": day_list, "channel": channel, "source": "baseline"})
        frame["spend"] = 0.0
        for metric in ("conversions", "revenue"):
            r = rows.get(metric)
            if r is None:
                frame[metric] = frame[f"{metric}_lower"] = frame[f"{metric}_upper"] = np.nan
                channel_row.update(
                    {metric: np.nan, f"{metric}_lower": np.nan, f"{metric}_upper": np.nan}
                )
                continue
            yhat, lo, hi = (r[c].to_numpy(float) for c in ("yhat", "yhat_lower", "yhat_upper"))
            frame[metric], frame[f"{metric}_lower"], frame[f"{metric}_upper"] = yhat, lo, hi
            sd = (hi - lo) / (2 * z)
            mean, var = float(yhat.sum()), float(np.sum(sd**2))
            channel_row.update(
                {
                    metric: mean,
                    f"{metric}_lower": max(mean - z * np.sqrt(var), 0.0),
                    f"{metric}_upper": mean + z * np.sqrt(var),
                }
            )
            total_mean[metric] += mean
            total_var[metric] += var
        daily_rows.append(frame)
        channel_rows.append(channel_row)

    total = {"spend": spend_total}
    for metric in ("conversions", "revenue"):
        sd = float(np.sqrt(total_var[metric]))
        total[metric] = total_mean[metric]
        total[f"{metric}_lower"] = max(total_mean[metric] - z * sd, 0.0)
        total[f"{metric}_upper"] = total_mean[metric] + z * sd
    daily = pd.concat(daily_rows, ignore_index=True)[PLAN_DAILY_COLUMNS] if daily_rows else None
    return PlanForecast(
        start=start,
        days=days,
        level=level,
        daily=daily if daily is not None else pd.DataFrame(columns=PLAN_DAILY_COLUMNS),
        channels=pd.DataFrame(channel_rows),
        total=total,
    )


def _baseline_rows(baseline, responses, day_list) -> dict[str, dict[str, pd.DataFrame]]:
    """Per channel without a response curve (the spend-free ones, or a paid channel whose
    curve could not be fitted yet) and metric, the forecast rows covering exactly the period."""
    if baseline is None or baseline.empty:
        return {}
    b = baseline[
        baseline["metric"].isin(["conversions", "revenue"])
        & baseline["channel"].notna()
        & ~baseline["channel"].isin(list(responses))
    ].copy()
    if "audience_id" in b:
        b = b[b["audience_id"].isna()]
    b["date_day"] = pd.to_datetime(b["date_day"]).dt.date
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for (channel, metric), g in b.groupby(["channel", "metric"]):
        g = g.drop_duplicates("date_day").set_index("date_day").reindex(day_list)
        if g["yhat"].isna().any():
            missing = [str(d) for d in g.index[g["yhat"].isna()]]
            raise ValueError(
                f"baseline forecast of {channel} {metric} does not cover {missing}: "
                "forecast the period first (horizon_days in forecasting.yaml)"
            )
        out.setdefault(str(channel), {})[str(metric)] = g
    return out


class ForwardPlanner:
    """The forward plan bound to one as-of day's stored forecasts, curves and history.

    ``ForwardPlanner.from_tables(kpis, forecasts, curves, as_of).plan({"display": 5000, ...})``
    gives the KPI forecast of the ``days`` after ``as_of`` for that split."""

    def __init__(
        self,
        responses: Mapping[str, FittedResponse],
        baseline: pd.DataFrame | None,
        carry_in: Mapping[str, float],
        start: date,
        days: int = 7,
        level: float = 0.8,
    ) -> None:
        self.responses = dict(responses)
        self.baseline = baseline
        self.carry_in = dict(carry_in)
        self.start = start
        self.days = days
        self.level = level

    @classmethod
    def from_tables(
        cls,
        kpis: pd.DataFrame,
        forecasts: pd.DataFrame,
        response_curves: pd.DataFrame,
        as_of: date,
        days: int = 7,
        level: float = 0.8,
    ) -> ForwardPlanner:
        """From ``marts.fct_channel_kpis_daily`` (history), and the ``agent.forecasts`` and
        ``agent.response_curves`` rows of ``as_of``."""
        responses = responses_from_frame(response_curves)
        return cls(
            responses,
            forecasts,
            carry_in_adstock(kpis, responses, as_of),
            as_of + timedelta(days=1),
            days,
            level,
        )

    def plan(self, budget: Mapping[str, float | Sequence[float]]) -> PlanForecast:
        return forward_plan(
            budget,
            self.responses,
            self.start,
            self.days,
            baseline=self.baseline,
            carry_in=self.carry_in,
            level=self.level,
        )
