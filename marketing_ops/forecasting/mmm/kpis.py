"""The media mix model on the warehouse's daily channel KPIs (what the forecasts asset fits).

The KPI is the TOTAL: conversions per day summed over every channel of
``marts.fct_channel_kpis_daily`` (organic and direct too, since media drives those as well);
spend per paid channel. Curves come out in conversions per day with the history's revenue per
conversion, so the decision layer's revenue arithmetic is unchanged.
"""

from __future__ import annotations

from importlib.metadata import version as _package_version

import numpy as np
import pandas as pd

from marketing_ops.forecasting.mmm.curves import fitted_responses, mmm_response_frame
from marketing_ops.forecasting.mmm.data import mmm_data
from marketing_ops.forecasting.mmm.fit import MMMFit, SamplerSettings, fit_mmm
from marketing_ops.forecasting.mmm.posterior import channel_summary
from marketing_ops.forecasting.response import RESPONSE_COLUMNS
from marketing_ops.forecasting.settings import ForecastSettings

__all__ = [
    "SUMMARY_COLUMNS",
    "curve_rows",
    "fit_channel_kpis",
    "mmm_model_version",
    "summary_frame",
]

SUMMARY_COLUMNS = [
    "as_of",
    "fitted_on",
    "channel",
    "spend",
    "contribution",
    "contribution_lo",
    "contribution_hi",
    "roas",
    "roas_lo",
    "roas_hi",
    "mroas",
    "mroas_lo",
    "mroas_hi",
    "share_of_kpi",
    "p_mroas_below_1",
    "converged",
    "max_rhat",
    "min_ess",
    "divergences",
    "fit_seconds",
    "model_version",
]


def mmm_model_version(settings: ForecastSettings) -> str:
    return f"mmm-numpyro{_package_version('numpyro')}+{settings.version}"


def _daily_frame(kpis: pd.DataFrame, channels: list[str], history_days: int) -> pd.DataFrame:
    k = kpis.assign(date_day=pd.to_datetime(kpis["date_day"]))
    total = k.groupby("date_day")[["conversions", "revenue"]].sum()
    spend = k[k["channel"].isin(channels)].pivot_table(
        index="date_day", columns="channel", values="spend", aggfunc="sum"
    )
    days = pd.date_range(total.index.min(), total.index.max(), freq="D")
    frame = total.reindex(days, fill_value=0.0).join(spend.reindex(days)).fillna(0.0)
    frame = frame.tail(history_days).rename_axis("date").reset_index()
    # model_inputs cannot standardise an empty control matrix yet: one constant column stands in
    # (standardised to zero, so it adds nothing to the fit)
    return frame.assign(no_control=0.0)


def fit_channel_kpis(kpis: pd.DataFrame, settings: ForecastSettings) -> tuple[MMMFit, float] | None:
    """The national daily fit and the history's revenue per conversion; None without data."""
    if kpis.empty:
        return None
    channels = [c for c in settings.response.channels if c in set(kpis["channel"])]
    frame = _daily_frame(kpis, channels, settings.history_days)
    channels = [c for c in channels if c in frame and frame[c].sum() > 0]
    if not channels or len(frame) < settings.response.min_history_days:
        return None
    data = mmm_data(frame, "conversions", channels, "D", controls=["no_control"])
    m = settings.mmm
    sampler = SamplerSettings(warmup=m.warmup, draws=m.draws, chains=m.chains, seed=m.seed)
    vpc = float(frame["revenue"].sum() / max(frame["conversions"].sum(), 1e-9))
    return fit_mmm(data, sampler=sampler), vpc


MONEY = [f"{name}{end}" for name in ("contribution", "roas", "mroas") for end in ("", "_lo", "_hi")]


def summary_frame(
    fit: MMMFit, as_of, model_version: str, value_per_conversion: float = 1.0
) -> pd.DataFrame:
    """Rows of ``agent.mmm_channel_summary``: one per channel, in revenue (a conversions KPI is
    valued at the history's revenue per conversion), with the fit's diagnostics.
    ``p_mroas_below_1``: share of posterior draws whose steady-state marginal ROI at the recent
    daily spend is below 1 (what the next euro returns now, the decision layer's quantity)."""
    d = fit.diagnostics
    out = channel_summary(fit)
    out[MONEY] = out[MONEY] * value_per_conversion
    out["p_mroas_below_1"] = (
        [
            float(np.mean([c.marginal_roi(fr.current_daily_spend) < 1 for c in fr.samples]))
            for fr in fitted_responses(fit, value_per_conversion, 200).values()
        ]
        if fit.data.freq == "D"
        else out["p_mroas_below_1"]
    )
    out = out.assign(
        as_of=as_of,
        fitted_on=as_of,
        converged=bool(d.ok),
        max_rhat=float(d.max_rhat),
        min_ess=float(d.min_ess),
        divergences=int(d.divergences),
        fit_seconds=float(fit.seconds),
        model_version=model_version,
    )
    return out[SUMMARY_COLUMNS]


def curve_rows(fit: MMMFit, vpc: float, as_of, model_version: str, n_draws: int):
    """``agent.response_curves`` rows of a converged fit (none for a fit that did not converge)."""
    if not fit.diagnostics.ok:  # typed and empty: it clears the day's rows
        return pd.DataFrame(columns=RESPONSE_COLUMNS)
    return mmm_response_frame(fit, as_of, model_version, vpc, n_draws)
