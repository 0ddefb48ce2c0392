"""Rolling-origin backtests: every model next to seasonal naive on the same held-out days.

From ``origins`` cut-offs spaced one horizon apart at the end of history, each model is fitted
on the days before the cut and forecasts the ``horizon_days`` after it; the held-out days of
all origins are pooled and scored with MAPE, sMAPE, MASE (scaled by the in-sample seasonal
naive error of the history before the first cut, so no held-out day is in its own yardstick)
and interval coverage.

Two models are backtested: ``prophet`` (the baselines, every channel and audience series) and
``response`` (what the forward plan uses for paid channels: the response curves on the demand
index, re-fitted at each cut, forecasting from the spend actually spent). ``seasonal_naive``
(copy last week) is the bar both must clear; :func:`worse_than_naive` lists what does not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing_ops.forecasting.baseline import (
    audience_series,
    baseline_model_version,
    channel_series,
    demand_index,
    fit_series,
)
from marketing_ops.forecasting.curves import adstock
from marketing_ops.forecasting.metrics import coverage, mape, mase, smape
from marketing_ops.forecasting.parallel import parallel_map
from marketing_ops.forecasting.response import (
    fit_response_curves,
    predictive_interval,
    response_model_version,
)
from marketing_ops.forecasting.settings import ForecastSettings, load_forecast_settings

__all__ = [
    "BACKTEST_COLUMNS",
    "backtest_baselines",
    "backtest_response",
    "seasonal_naive",
    "worse_than_naive",
]

BACKTEST_COLUMNS = [
    "channel",
    "audience_id",
    "metric",
    "model",
    "model_version",
    "mape",
    "smape",
    "mase",
    "coverage",
    "n",
    "origins",
    "horizon_days",
]
SEASON = 7
NAIVE_VERSION = "seasonal-naive-7"
SCALE_DAYS = 365


def seasonal_naive(history: np.ndarray, horizon: int, level: float = 0.8, season: int = SEASON):
    """Copy last week; the interval comes from the history's own week-on-week errors."""
    history = np.asarray(history, float)
    reps = int(np.ceil(horizon / season))
    point = np.tile(history[-season:], reps)[:horizon]
    err = history[season:] - history[:-season]
    q = (1 - level) / 2
    lo, hi = np.quantile(err, [q, 1 - q]) if len(err) else (0.0, 0.0)
    return point, np.clip(point + lo, 0, None), point + hi


def _score(key_cols: dict, model: str, version: str, parts, scale_history, origins, horizon):
    actual, point, lower, upper = (np.concatenate(p) for p in parts)
    return {
        **key_cols,
        "model": model,
        "model_version": version,
        "mape": mape(actual, point),
        "smape": smape(actual, point),
        "mase": mase(actual, point, scale_history[-SCALE_DAYS:], SEASON),
        "coverage": coverage(actual, lower, upper),
        "n": len(actual),
        "origins": origins,
        "horizon_days": horizon,
    }


def _cuts(n_days: int, settings: ForecastSettings) -> list[int]:
    b = settings.backtest
    return [n_days - o * b.horizon_days for o in range(b.origins, 0, -1)]


def _backtest_series(args) -> list[dict]:
    key, frame, settings = args
    b = settings.backtest
    frame = frame.sort_values("date_day").reset_index(drop=True)
    y = frame["y"].to_numpy(float)
    spend = frame["spend"].to_numpy(float) if "spend" in frame else None
    cuts = _cuts(len(frame), settings)
    prophet_parts: tuple[list, ...] = ([], [], [], [])
    naive_parts: tuple[list, ...] = ([], [], [], [])
    for cut in cuts:
        test = y[cut : cut + b.horizon_days]
        planned = spend[cut : cut + b.horizon_days] if spend is not None else None
        fc = fit_series(frame.iloc[:cut], b.horizon_days, settings, planned)
        p = (fc["yhat"].to_numpy(), fc["yhat_lower"].to_numpy(), fc["yhat_upper"].to_numpy())
        for store, vals in zip(prophet_parts, (test, *p), strict=True):
            store.append(vals)
        sn = seasonal_naive(y[:cut], b.horizon_days, settings.interval_width)
        for store, vals in zip(naive_parts, (test, *sn), strict=True):
            store.append(vals)
    keys = {"channel": key.channel, "audience_id": key.audience_id, "metric": key.metric}
    scale = y[: cuts[0]]
    return [
        _score(
            keys,
            "prophet",
            baseline_model_version(settings),
            prophet_parts,
            scale,
            len(cuts),
            b.horizon_days,
        ),
        _score(
            keys, "seasonal_naive", NAIVE_VERSION, naive_parts, scale, len(cuts), b.horizon_days
        ),
    ]


def _frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    for col in ("channel", "audience_id"):
        out[col] = out[col].astype("str")  # text even when all missing (DuckDB types)
    return out


def backtest_baselines(
    kpis: pd.DataFrame,
    settings: ForecastSettings | None = None,
    audiences: pd.DataFrame | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Prophet vs seasonal naive for every channel (and eligible audience) series."""
    settings = settings or load_forecast_settings()
    workers = settings.workers if workers is None else workers
    metrics = list(settings.metrics)
    k = kpis.assign(date_day=pd.to_datetime(kpis["date_day"]).dt.date)
    series = channel_series(k, metrics)
    if audiences is not None and not audiences.empty:
        a = audiences.assign(date_day=pd.to_datetime(audiences["date_day"]).dt.date)
        series += audience_series(a, metrics, settings)
    min_days = settings.backtest.origins * settings.backtest.horizon_days + 28
    tasks = [(key, frame, settings) for key, frame in series if len(frame) >= min_days]
    rows = [r for part in parallel_map(_backtest_series, tasks, workers) for r in part]
    return _frame(rows)


def _response_origin(args):
    """Fit index and curves on the days before ``cut``; forecast the next horizon from the
    spend actually spent. Returns {channel: {metric: (mean, lower, upper)}}."""
    kpis, days, cut, settings, channels = args
    b = settings.backtest
    as_of = days[cut - 1]
    test_days = set(days[cut : cut + b.horizon_days])
    history = kpis[kpis["date_day"] <= as_of]
    index = demand_index(history, as_of, b.horizon_days, settings)
    fitted = fit_response_curves(history, index, settings, channels, bootstrap=0, workers=1)
    idx = index.set_index("date_day")["index"]
    out = {}
    for channel, fr in fitted.items():
        h = kpis[kpis["channel"] == channel].sort_values("date_day")
        past = h[h["date_day"] <= as_of]["spend"].to_numpy(float)
        future = h[h["date_day"].isin(test_days)]
        carry = float(adstock(past, fr.curve.decay)[-1]) if len(past) else 0.0
        ix = idx.reindex(future["date_day"]).fillna(1.0).to_numpy(float)
        mean = fr.curve.conversions(future["spend"].to_numpy(float), ix, carry)
        vpc = fr.curve.value_per_conversion
        lo, hi = predictive_interval(mean, mean[None, :], fr.dispersion, settings.interval_width)
        rlo, rhi = predictive_interval(
            mean, mean[None, :], fr.revenue_dispersion, settings.interval_width
        )
        out[channel] = {
            "conversions": (mean, lo, hi),
            "revenue": (mean * vpc, rlo * vpc, rhi * vpc),
        }
    return out


def backtest_response(
    kpis: pd.DataFrame,
    settings: ForecastSettings | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """The forward plan's paid-channel model (response curves on the demand index) vs
    seasonal naive, for conversions and revenue (conversions x value per conversion)."""
    settings = settings or load_forecast_settings()
    workers = settings.workers if workers is None else workers
    b = settings.backtest
    k = kpis.assign(date_day=pd.to_datetime(kpis["date_day"]).dt.date)
    days = sorted(k["date_day"].unique())
    if len(days) < b.origins * b.horizon_days + settings.response.min_history_days:
        return _frame([])
    cuts = _cuts(len(days), settings)
    channels = list(settings.response.channels)
    tasks = [(k, days, cut, settings, channels) for cut in cuts]
    origins = parallel_map(_response_origin, tasks, workers)
    rows = []
    version = response_model_version(settings)
    for channel in channels:
        if not all(channel in o for o in origins):
            continue
        h = k[k["channel"] == channel].sort_values("date_day")
        for metric in settings.metrics:
            y = h[metric].to_numpy(float)
            model_parts: tuple[list, ...] = ([], [], [], [])
            naive_parts: tuple[list, ...] = ([], [], [], [])
            for cut, o in zip(cuts, origins, strict=True):
                test = y[cut : cut + b.horizon_days]
                for store, vals in zip(model_parts, (test, *o[channel][metric]), strict=True):
                    store.append(vals)
                sn = seasonal_naive(y[:cut], b.horizon_days, settings.interval_width)
                for store, vals in zip(naive_parts, (test, *sn), strict=True):
                    store.append(vals)
            keys = {"channel": channel, "audience_id": None, "metric": metric}
            scale = y[: cuts[0]]
            rows.append(
                _score(keys, "response", version, model_parts, scale, len(cuts), b.horizon_days)
            )
            rows.append(
                _score(
                    keys,
                    "seasonal_naive",
                    NAIVE_VERSION,
                    naive_parts,
                    scale,
                    len(cuts),
                    b.horizon_days,
                )
            )
    return _frame(rows)


def worse_than_naive(backtests: pd.DataFrame, max_ratio: float = 1.0) -> pd.DataFrame:
    """Series whose model MASE is above the seasonal naive's on the same held-out days times
    ``max_ratio``: channel, audience_id, metric, model, mase, naive_mase, ratio."""
    cols = ["channel", "audience_id", "metric", "model", "mase", "naive_mase", "ratio"]
    if backtests is None or backtests.empty:
        return pd.DataFrame(columns=cols)
    keys = ["channel", "audience_id", "metric"]
    bt = backtests.copy()
    for col in ("channel", "audience_id"):
        bt[col] = bt[col].fillna("")
    naive = (
        bt[bt["model"] == "seasonal_naive"][[*keys, "mase"]]
        .drop_duplicates(subset=keys)
        .rename(columns={"mase": "naive_mase"})
    )
    models = bt[bt["model"] != "seasonal_naive"].merge(naive, on=keys, how="inner")
    models["ratio"] = models["mase"] / models["naive_mase"]
    bad = models[~(models["ratio"] <= max_ratio)]  # NaN (undefined MASE) counts as flagged
    bad = bad[cols].replace({"channel": {"": None}, "audience_id": {"": None}})
    return bad.reset_index(drop=True)
