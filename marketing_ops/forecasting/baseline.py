"""Prophet baselines per channel and per audience segment, and the market's demand index.

A *series* is one channel's or one audience's daily conversions or revenue. Each is fitted
with Prophet: weekly and (with a year of history) yearly seasonality, the public holidays of
the configured country, uncertainty intervals. A series with spend that moves gets its
adstocked spend as an extra regressor (spend explains the flights, seasonality the rest); a
spend-free series (organic channels, audiences) does not, there is nothing for it to explain.

The *demand index* is the multiplicative seasonality (weekday, time of year, holidays) of the
demand that arrives without spend, fitted once on the spend-free channels. It is what the
response curves are estimated on top of and what the optimiser phases a budget by, so media
response and baseline demand share one notion of "a busy day".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version as _package_version

import numpy as np
import pandas as pd

from marketing_ops.forecasting.curves import adstock
from marketing_ops.forecasting.parallel import parallel_map
from marketing_ops.forecasting.settings import ForecastSettings, load_forecast_settings

__all__ = [
    "BaselineForecast",
    "FORECAST_COLUMNS",
    "SeriesKey",
    "baseline_model_version",
    "channel_series",
    "audience_series",
    "demand_index",
    "fit_baselines",
    "fit_series",
    "forecast_summary",
    "quiet_logs",
    "seasonal_index_rows",
    "spend_free_channels",
]

# One fixed carry-over for the baseline's spend regressor: the baseline only needs to separate
# spend flights from seasonality; the response model estimates each channel's real decay.
REGRESSOR_DECAY = 0.5
FORECAST_COLUMNS = [
    "as_of",
    "channel",
    "audience_id",
    "metric",
    "date_day",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "model_version",
]


def quiet_logs() -> None:
    """Prophet and cmdstanpy log every fit; thousands of lines drown a run's log. Silence
    them here, before import and again after (cmdstanpy resets its logger on first import),
    in the parent and in every worker."""
    for name in ("cmdstanpy", "prophet", "prophet.plot", "prophet.forecaster", "prophet.models"):
        log = logging.getLogger(name)
        log.setLevel(logging.ERROR if name != "prophet.plot" else logging.CRITICAL + 1)
        log.propagate = False
        log.disabled = True


def baseline_model_version(settings: ForecastSettings) -> str:
    """Prophet's version plus the settings' hash: backtests are stored per model version."""
    return f"prophet-{_package_version('prophet')}+{settings.version}"


@dataclass(frozen=True)
class SeriesKey:
    """Which series: a channel's or an audience's metric (exactly one of the two is set)."""

    channel: str | None
    audience_id: str | None
    metric: str

    @property
    def label(self) -> str:
        return f"{self.channel or 'audience:' + str(self.audience_id)} {self.metric}"


@dataclass(frozen=True)
class BaselineForecast:
    """Forecast rows (contract of ``agent.forecasts``), the demand index over history and
    horizon, and which series were fitted."""

    forecast: pd.DataFrame
    demand_index: pd.DataFrame  # date_day, index (history and horizon)
    series: list[SeriesKey]


def _prophet(settings: ForecastSettings, n_days: int, uncertainty: bool = True):
    quiet_logs()
    from prophet import Prophet

    quiet_logs()
    model = Prophet(
        weekly_seasonality=n_days >= 14,
        yearly_seasonality=n_days >= 365,
        daily_seasonality=False,
        seasonality_mode=settings.seasonality_mode,
        interval_width=settings.interval_width,
        uncertainty_samples=settings.uncertainty_samples if uncertainty else 0,
    )
    model.add_country_holidays(country_name=settings.country)
    return model


def _uses_spend(spend: np.ndarray) -> bool:
    """Spend helps a series when there is some and it moves (flights, pauses, changes)."""
    if spend.sum() <= 0 or (spend > 0).mean() < 0.25:
        return False
    return float(np.std(spend) / max(np.mean(spend), 1e-9)) > 0.05


def fit_series(
    history: pd.DataFrame,
    horizon: int,
    settings: ForecastSettings | None = None,
    future_spend: np.ndarray | None = None,
) -> pd.DataFrame:
    """Fit Prophet on one series and forecast ``horizon`` days after its last day.

    ``history`` has ``date_day`` and ``y`` (one row per day, ending at the as-of day) and
    optionally ``spend``. ``future_spend`` is the planned daily spend over the horizon; without
    it the last four weeks' average carries on. Returns date_day, yhat, yhat_lower, yhat_upper
    (never negative: counts and money)."""
    settings = settings or load_forecast_settings()
    h = history.sort_values("date_day").tail(settings.history_days)
    ds = pd.to_datetime(h["date_day"]).reset_index(drop=True)
    frame = pd.DataFrame({"ds": ds, "y": h["y"].to_numpy(float)})
    model = _prophet(settings, len(h))
    future = pd.DataFrame(
        {"ds": pd.date_range(ds.iloc[-1] + pd.Timedelta(days=1), periods=horizon, freq="D")}
    )
    spend = h["spend"].to_numpy(float) if "spend" in h else np.zeros(len(h))
    if _uses_spend(spend):
        if future_spend is None:
            future_spend = np.full(horizon, spend[-28:].mean())
        planned = np.resize(np.asarray(future_spend, float), horizon)
        carried = adstock(np.concatenate([spend, planned]), REGRESSOR_DECAY)
        frame["adstock_spend"] = carried[: len(h)]
        future["adstock_spend"] = carried[len(h) :]
        # Spend adds conversions on top of seasonal demand; it does not scale with it.
        model.add_regressor("adstock_spend", mode="additive")
    model.fit(frame)
    np.random.seed(0)  # Prophet draws its interval samples from numpy's global state
    pred = model.predict(future)
    out = pred[["ds", "yhat", "yhat_lower", "yhat_upper"]].rename(columns={"ds": "date_day"})
    for col in ("yhat", "yhat_lower", "yhat_upper"):
        out[col] = out[col].clip(lower=0.0)
    out["date_day"] = out["date_day"].dt.date
    return out.reset_index(drop=True)


def spend_free_channels(kpis: pd.DataFrame) -> list[str]:
    """Channels that never had spend: their demand is what happens anyway."""
    spend = kpis.groupby("channel")["spend"].sum()
    return sorted(spend[spend <= 0].index)


def demand_index(
    kpis: pd.DataFrame,
    as_of: date,
    horizon: int,
    settings: ForecastSettings | None = None,
) -> pd.DataFrame:
    """The multiplicative seasonality of spend-free demand, for every history day up to
    ``as_of`` and ``horizon`` days after, normalised to mean 1 over the history.

    Fitted on the summed conversions of the channels without spend (organic search, direct,
    referral); a business with no such channel falls back to all conversions, which then
    carry some media effect into the index."""
    settings = settings or load_forecast_settings()
    k = kpis.copy()
    k["date_day"] = pd.to_datetime(k["date_day"]).dt.date
    k = k[k["date_day"] <= as_of]
    free = spend_free_channels(k)
    source = k[k["channel"].isin(free)] if free else k
    daily = source.groupby("date_day", as_index=False)["conversions"].sum()
    daily = daily.sort_values("date_day").tail(settings.history_days)
    ds = pd.to_datetime(daily["date_day"]).reset_index(drop=True)
    model = _prophet(settings, len(daily), uncertainty=False)
    model.fit(pd.DataFrame({"ds": ds, "y": daily["conversions"].to_numpy(float)}))
    days = pd.date_range(ds.iloc[0], ds.iloc[-1] + pd.Timedelta(days=horizon), freq="D")
    pred = model.predict(pd.DataFrame({"ds": days}))
    if settings.seasonality_mode == "multiplicative":
        index = 1.0 + pred["multiplicative_terms"].to_numpy()
    else:
        index = 1.0 + pred["additive_terms"].to_numpy() / np.maximum(pred["trend"].to_numpy(), 1e-9)
    index = np.clip(index, 0.05, None)
    index = index / index[: len(ds)].mean()
    return pd.DataFrame({"date_day": days.date, "index": index})


def channel_series(kpis: pd.DataFrame, metrics) -> list[tuple[SeriesKey, pd.DataFrame]]:
    """Every channel's metrics as (key, frame of date_day, y, spend)."""
    out = []
    for channel in sorted(kpis["channel"].unique()):
        h = kpis[kpis["channel"] == channel].sort_values("date_day")
        for m in metrics:
            frame = pd.DataFrame(
                {"date_day": h["date_day"].to_numpy(), "y": h[m].to_numpy(float)}
            ).assign(spend=h["spend"].to_numpy(float))
            out.append((SeriesKey(channel, None, m), frame))
    return out


def audience_series(
    audiences: pd.DataFrame | None, metrics, settings: ForecastSettings
) -> list[tuple[SeriesKey, pd.DataFrame]]:
    """Every audience's metrics, for audiences with enough history and volume to fit."""
    rule = settings.audiences
    if audiences is None or audiences.empty or not rule.enabled:
        return []
    out = []
    for audience in sorted(audiences["audience_id"].dropna().unique()):
        h = audiences[audiences["audience_id"] == audience].sort_values("date_day")
        h = h.tail(settings.history_days)
        if len(h) < rule.min_history_days or h["conversions"].mean() < rule.min_daily_conversions:
            continue
        for m in metrics:
            frame = pd.DataFrame({"date_day": h["date_day"].to_numpy(), "y": h[m].to_numpy(float)})
            out.append((SeriesKey(None, audience, m), frame))
    return out


def _fit_task(args):
    return fit_series(*args)


def fit_baselines(
    kpis: pd.DataFrame,
    as_of: date,
    settings: ForecastSettings | None = None,
    audiences: pd.DataFrame | None = None,
    future_spend: dict[str, np.ndarray] | None = None,
    workers: int | None = None,
) -> BaselineForecast:
    """Prophet per channel and metric (and per eligible audience) on history up to ``as_of``,
    fitted on a fork pool across series, plus the demand index.

    Fork, not spawn: workers inherit the imported modules, spawn is slower than serial."""
    settings = settings or load_forecast_settings()
    workers = settings.workers if workers is None else workers
    k = kpis.copy()
    k["date_day"] = pd.to_datetime(k["date_day"]).dt.date
    k = k[k["date_day"] <= as_of]
    a = None
    if audiences is not None and not audiences.empty:
        a = audiences.copy()
        a["date_day"] = pd.to_datetime(a["date_day"]).dt.date
        a = a[a["date_day"] <= as_of]
    metrics = list(settings.metrics)
    series = channel_series(k, metrics) + audience_series(a, metrics, settings)
    tasks = [
        (frame, settings.horizon_days, settings, (future_spend or {}).get(key.channel))
        for key, frame in series
    ]
    results = parallel_map(_fit_task, tasks, workers)
    index = demand_index(k, as_of, settings.horizon_days, settings)
    version = baseline_model_version(settings)
    frames = [
        fc.assign(
            as_of=as_of,
            channel=key.channel,
            audience_id=key.audience_id,
            metric=key.metric,
            model_version=version,
        )
        for (key, _), fc in zip(series, results, strict=True)
    ]
    forecast = pd.concat(frames, ignore_index=True)[FORECAST_COLUMNS]
    # Text even when every value is missing: DuckDB would type an all-null column as NULL.
    forecast["channel"] = forecast["channel"].astype("str")
    forecast["audience_id"] = forecast["audience_id"].astype("str")
    return BaselineForecast(forecast=forecast, demand_index=index, series=[s for s, _ in series])


def seasonal_index_rows(
    index: pd.DataFrame, channels, as_of: date, model_version: str
) -> pd.DataFrame:
    """The demand index over the horizon (days after ``as_of``) as ``agent.forecasts`` rows of
    metric ``seasonal_index``, one set per channel: what the optimiser phases budgets by and
    the forward plan scales response with (the curves were fitted on the same index)."""
    ahead = index.assign(date_day=pd.to_datetime(index["date_day"]).dt.date)
    ahead = ahead[ahead["date_day"] > as_of]
    rows = [
        pd.DataFrame(
            {
                "as_of": as_of,
                "channel": channel,
                "audience_id": None,
                "metric": "seasonal_index",
                "date_day": ahead["date_day"].to_numpy(),
                "yhat": ahead["index"].to_numpy(float),
                "yhat_lower": np.nan,
                "yhat_upper": np.nan,
                "model_version": model_version,
            }
        )
        for channel in sorted(channels)
    ]
    out = pd.concat(rows, ignore_index=True)[FORECAST_COLUMNS] if rows else None
    if out is None:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    out["channel"] = out["channel"].astype("str")
    out["audience_id"] = out["audience_id"].astype("str")
    return out


def forecast_summary(forecast: pd.DataFrame) -> pd.DataFrame:
    """Per series: the horizon's total forecast and the sum of daily bounds (a conservative
    range), for run metadata and the report."""
    f = forecast[forecast["metric"] != "seasonal_index"].copy()
    f["series"] = f["channel"].fillna("audience:" + f["audience_id"].fillna(""))
    out = (
        f.groupby(["series", "metric"], as_index=False)[["yhat", "yhat_lower", "yhat_upper"]]
        .sum()
        .rename(columns={"yhat": "forecast", "yhat_lower": "low", "yhat_upper": "high"})
    )
    return out.sort_values(["metric", "series"]).reset_index(drop=True)
