"""Prophet baselines per channel and metric, with the seasonality index used to phase spend."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from marketing_ops.forecasting.curves import adstock
from marketing_ops.forecasting.parallel import parallel_map

__all__ = ["BaselineForecast", "fit_baselines", "fit_series", "MODEL_VERSION"]

MODEL_VERSION = "prophet-1.5-adstock0.5-v1"
HISTORY_DAYS = 730
# One fixed carry-over for the regressor: the baseline only needs to separate spend from
# seasonality, the response model estimates the real decay.
REGRESSOR_DECAY = 0.5
UNCERTAINTY_SAMPLES = 200
FORECAST_COLUMNS = [
    "as_of",
    "channel",
    "metric",
    "date_day",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "model_version",
]


def _quiet() -> None:
    """Prophet/cmdstanpy chatter drowns run logs; silence it before import and in each worker."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        log = logging.getLogger(name)
        log.setLevel(logging.WARNING)
        log.propagate = False


@dataclass(frozen=True)
class BaselineForecast:
    """Forecast rows (contract of agent.forecasts) and the multiplicative seasonality index."""

    forecast: pd.DataFrame
    seasonal_index: pd.DataFrame


def fit_series(
    history: pd.DataFrame,
    metric: str,
    horizon: int,
    country: str = "US",
    future_spend: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Fit Prophet on one channel's history; return the horizon forecast and its seasonal index.

    ``history`` has date_day, spend and the metric, one row per day, ending at as_of."""
    _quiet()
    from prophet import Prophet

    _quiet()  # cmdstanpy resets its logger on first import
    np.random.seed(0)  # Prophet draws interval samples with numpy's global state
    h = history.sort_values("date_day").tail(HISTORY_DAYS)
    ds = pd.to_datetime(h["date_day"]).reset_index(drop=True)
    spend = h["spend"].to_numpy(float)
    has_spend = bool(spend.sum() > 0)
    future_ds = pd.date_range(ds.iloc[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")
    frame = pd.DataFrame({"ds": ds, "y": h[metric].to_numpy(float)})
    model = Prophet(
        weekly_seasonality=True,
        yearly_seasonality=len(h) >= 365,
        daily_seasonality=False,
        uncertainty_samples=UNCERTAINTY_SAMPLES,
    )
    model.add_country_holidays(country_name=country)
    future = pd.DataFrame({"ds": list(ds) + list(future_ds)})
    if has_spend:
        if future_spend is None:
            # Without a plan, assume the last four weeks' average spend carries on.
            future_spend = np.full(horizon, spend[-28:].mean())
        all_spend = np.concatenate([spend, np.asarray(future_spend, float)[:horizon]])
        ad = adstock(all_spend, REGRESSOR_DECAY)
        frame["adstock_spend"] = ad[: len(h)]
        future["adstock_spend"] = ad
        model.add_regressor("adstock_spend")
    model.fit(frame)
    pred = model.predict(future)
    seasonal = pred["additive_terms"].to_numpy()
    if has_spend:
        seasonal = seasonal - pred["adstock_spend"].to_numpy()
    level = max(float(np.mean(pred["trend"].to_numpy()[: len(h)])), 1e-9)
    index = np.clip(1.0 + seasonal / level, 0.05, None)
    index = index / index[: len(h)].mean()
    out = pred.tail(horizon)[["ds", "yhat", "yhat_lower", "yhat_upper"]].copy()
    # Counts and money cannot be negative.
    for col in ("yhat", "yhat_lower", "yhat_upper"):
        out[col] = out[col].clip(lower=0.0)
    out = out.rename(columns={"ds": "date_day"})
    out["date_day"] = out["date_day"].dt.date
    return out.reset_index(drop=True), index[len(h) :]


def _fit_task(args):
    return fit_series(*args)


def fit_baselines(
    kpis: pd.DataFrame,
    as_of: date,
    horizon: int = 7,
    country: str = "US",
    metrics=("conversions", "revenue"),
    channels=None,
    workers: int = 2,
    future_spend: dict[str, np.ndarray] | None = None,
) -> BaselineForecast:
    """Prophet per (channel, metric) on history up to ``as_of``; fork pool across series.

    Fork, not spawn: workers inherit the imported modules, spawn is slower than serial."""
    k = kpis.copy()
    k["date_day"] = pd.to_datetime(k["date_day"]).dt.date
    k = k[k["date_day"] <= as_of]
    chans = list(channels) if channels is not None else sorted(k["channel"].unique())
    tasks, keys = [], []
    for ch in chans:
        hist = k[k["channel"] == ch]
        fs = (future_spend or {}).get(ch)
        for m in metrics:
            tasks.append((hist[["date_day", "spend", m]], m, horizon, country, fs))
            keys.append((ch, m))
    results = parallel_map(_fit_task, tasks, workers)
    frames, index_rows = [], []
    seen = set()
    for (ch, m), (fc, idx) in zip(keys, results, strict=True):
        frames.append(fc.assign(as_of=as_of, channel=ch, metric=m, model_version=MODEL_VERSION))
        if ch not in seen:  # one index per channel, from its first metric (conversions)
            seen.add(ch)
            index_rows.append(
                pd.DataFrame({"channel": ch, "date_day": fc["date_day"], "index": idx})
            )
    forecast = pd.concat(frames, ignore_index=True)[FORECAST_COLUMNS]
    seasonal_index = pd.concat(index_rows, ignore_index=True)[["channel", "date_day", "index"]]
    return BaselineForecast(forecast=forecast, seasonal_index=seasonal_index)
