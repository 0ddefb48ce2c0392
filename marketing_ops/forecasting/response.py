"""Adstock + Hill response curves per paid channel, fitted on top of the demand index, with
block-bootstrap uncertainty.

The model of a paid channel's *measured* business conversions (never the platform's claims):

    conversions[t] = index[t] * max_response * hill(adstock(spend, decay)[t], half_saturation, shape)

``index`` is the demand index of :func:`marketing_ops.forecasting.baseline.demand_index`
(Prophet on spend-free demand): media response rides on the same busy days as baseline
demand. There is no intercept: a paid channel's conversions come through its clicks and
sends, so without spend there are none; demand that comes anyway is in the spend-free
channels, which Prophet forecasts. Leaving the intercept out is also what makes a saturated
channel identifiable (with one, a flat curve and a constant trade off freely).

Estimation: bounded least squares over (log max_response, log half_saturation, shape, decay)
from three decay starts, then re-weighted by 1/sqrt(mean) because counts are roughly Poisson
(busy days are noisier); the start with the lowest Poisson deviance wins. Uncertainty: the
standardised residuals are resampled in blocks of ``block_days`` (keeps their autocorrelation),
added back to the fit and re-fitted; each re-fit is one draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import version as _package_version

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.stats import norm

from marketing_ops.forecasting.curves import ResponseCurve, adstock, hill
from marketing_ops.forecasting.parallel import parallel_map
from marketing_ops.forecasting.settings import ForecastSettings, load_forecast_settings

__all__ = [
    "FittedResponse",
    "RESPONSE_COLUMNS",
    "fit_channel",
    "fit_response_curves",
    "curve_summary",
    "predictive_interval",
    "response_frame",
    "responses_from_frame",
    "response_model_version",
    "curves_model_of",
    "kpi_history_days",
]

DECAY_STARTS = (0.1, 0.4, 0.7)
MAX_DECAY = 0.95
RESPONSE_COLUMNS = [
    "as_of",
    "channel",
    "draw",
    "decay",
    "half_saturation",
    "shape",
    "max_response",
    "value_per_conversion",
    "r2",
    "dispersion",
    "revenue_dispersion",
    "current_daily_spend",
    "marginal_roi_at_current",
    "model_version",
]


def response_model_version(settings: ForecastSettings) -> str:
    return f"adstock-hill-scipy{_package_version('scipy')}+{settings.version}"


def kpi_history_days(kpis: pd.DataFrame) -> int:
    """Days of KPI history in ``kpis`` (channel KPI rows, ``date_day``)."""
    return int(kpis["date_day"].nunique()) if len(kpis) else 0


def curves_model_of(settings: ForecastSettings, kpis: pd.DataFrame) -> str:
    """The model behind the day's response curves, ``attributed`` or ``mmm``:
    ``response_model`` as written, ``auto`` resolved on the days of KPI history in ``kpis``
    (:meth:`ForecastSettings.curves_model`)."""
    return settings.curves_model(kpi_history_days(kpis))


@dataclass(frozen=True)
class FittedResponse:
    """Point curve, bootstrap draws, and how well the curve explains history.

    ``dispersion`` is the residual variance over the mean (1 for Poisson counts): outcome
    noise on top of the curve's own uncertainty when forecasting actual conversions;
    ``revenue_dispersion`` the same for revenue in units of conversions x value."""

    curve: ResponseCurve
    samples: list[ResponseCurve] = field(default_factory=list)
    fit_quality: dict = field(default_factory=dict)
    dispersion: float = 1.0
    current_daily_spend: float = 0.0
    revenue_dispersion: float = 1.0

    def conversions_interval(self, daily_spend, index, initial_adstock: float, level=0.8):
        """Point and percentile interval of *expected* conversions per day over the draws
        (the curve's uncertainty, without outcome noise)."""
        point = self.curve.conversions(daily_spend, index, initial_adstock)
        if not self.samples:
            return point, point, point
        d = np.vstack([c.conversions(daily_spend, index, initial_adstock) for c in self.samples])
        q = (1 - level) / 2
        return point, np.quantile(d, q, axis=0), np.quantile(d, 1 - q, axis=0)

    def draws(self, daily_spend, index, initial_adstock: float) -> np.ndarray:
        """Expected conversions per day under every bootstrap draw (draws x days)."""
        curves = self.samples or [self.curve]
        return np.vstack([c.conversions(daily_spend, index, initial_adstock) for c in curves])

    def marginal_roi_interval(self, daily_spend: float, level: float = 0.8):
        """Steady-state revenue of the next EUR per day: point and interval over the draws."""
        point = float(self.curve.marginal_roi(daily_spend))
        if not self.samples:
            return point, point, point
        values = np.array([float(c.marginal_roi(daily_spend)) for c in self.samples])
        q = (1 - level) / 2
        return point, float(np.quantile(values, q)), float(np.quantile(values, 1 - q))


def _curve(channel: str, x: np.ndarray, value_per_conversion: float) -> ResponseCurve:
    log_m, log_k, shape, decay = x
    return ResponseCurve(
        channel,
        float(decay),
        float(np.exp(log_k)),
        float(shape),
        float(np.exp(log_m)),
        float(value_per_conversion),
    )


def _mean(x, spend, index):
    log_m, log_k, shape, decay = x
    return index * np.exp(log_m) * hill(adstock(spend, decay), np.exp(log_k), shape)


def _deviance(y, mu) -> float:
    """Poisson deviance: the yardstick that compares fits from different starts and weights."""
    mu = np.maximum(mu, 1e-9)
    term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(2.0 * np.sum(term - (y - mu)))


def _bounds(y, spend):
    scale = max(float(np.mean(y)), 1e-3)
    positive = spend[spend > 0]
    typical = float(np.median(positive)) if positive.size else 1.0
    # Half-saturation in adstock units: adstock runs up to spend / (1 - decay).
    lo = np.array([np.log(scale / 100), np.log(typical / 50), 0.5, 0.0])
    hi = np.array([np.log(scale * 100), np.log(typical * 100), 4.0, MAX_DECAY])
    return lo, hi, scale, typical


def _fit(y, spend, index, starts):
    lo, hi, scale, typical = _bounds(y, spend)
    best, best_dev = None, np.inf
    for x0 in starts:
        x0 = np.clip(x0, lo + 1e-6, hi - 1e-6)
        r = least_squares(lambda p: _mean(p, spend, index) - y, x0, bounds=(lo, hi), max_nfev=400)
        weights = 1.0 / np.sqrt(np.maximum(_mean(r.x, spend, index), 0.5))
        r = least_squares(
            lambda p, w=weights: (_mean(p, spend, index) - y) * w,
            r.x,
            bounds=(lo, hi),
            max_nfev=400,
        )
        dev = _deviance(y, _mean(r.x, spend, index))
        if dev < best_dev:
            best, best_dev = r.x, dev
    return best


def _starts(y, spend):
    _, _, scale, typical = _bounds(y, spend)
    return [np.array([np.log(scale * 2), np.log(typical / (1 - d)), 1.5, d]) for d in DECAY_STARTS]


def fit_channel(
    y,
    spend,
    index,
    value_per_conversion: float,
    channel: str,
    bootstrap: int = 0,
    seed: int = 0,
    block_days: int = 14,
    revenue=None,
) -> FittedResponse:
    """Fit one channel's curve on daily conversions, spend and demand index (aligned days).

    ``revenue`` (same days) measures how much noisier revenue is than conversions x value
    (each sale's value varies): its dispersion widens revenue intervals."""
    y, spend, index = (np.asarray(v, float) for v in (y, spend, index))
    x = _fit(y, spend, index, _starts(y, spend))
    mu = _mean(x, spend, index)
    point = _curve(channel, x, value_per_conversion)
    res = y - mu
    r2 = float(1 - np.sum(res**2) / max(np.sum((y - y.mean()) ** 2), 1e-12))
    keep = mu > 0.5
    dispersion = float(np.mean(res[keep] ** 2 / mu[keep])) if keep.any() else 1.0
    revenue_dispersion = dispersion
    if revenue is not None and value_per_conversion > 0 and keep.any():
        rev_res = np.asarray(revenue, float) - mu * value_per_conversion
        revenue_dispersion = float(
            np.mean(rev_res[keep] ** 2 / (mu[keep] * value_per_conversion**2))
        )
    # Standardised residuals, resampled in blocks and scaled back by each day's mean.
    std = res / np.sqrt(np.maximum(mu, 0.5))
    rng = np.random.default_rng(seed)
    n = len(y)
    block = min(block_days, n)
    samples = []
    for _ in range(bootstrap):
        starts = rng.integers(0, max(n - block, 0) + 1, size=int(np.ceil(n / block)))
        boot = np.concatenate([std[s : s + block] for s in starts])[:n]
        yb = np.clip(mu + boot * np.sqrt(np.maximum(mu, 0.5)), 0, None)
        samples.append(_curve(channel, _fit(yb, spend, index, [x]), value_per_conversion))
    return FittedResponse(
        point,
        samples,
        {"r2": r2, "n_days": n, "dispersion": dispersion},
        dispersion=dispersion,
        current_daily_spend=float(spend[-28:].mean()) if n else 0.0,
        revenue_dispersion=revenue_dispersion,
    )


def _task(args):
    return fit_channel(*args)


def fit_response_curves(
    kpis: pd.DataFrame,
    index: pd.DataFrame,
    settings: ForecastSettings | None = None,
    channels=None,
    bootstrap: int | None = None,
    workers: int | None = None,
) -> dict[str, FittedResponse]:
    """Response curve per paid channel on measured conversions, on top of the demand index
    (``date_day``, ``index``). Channels without spend or with too little history are skipped:
    a curve needs spend that moved to be learnt from."""
    settings = settings or load_forecast_settings()
    rs = settings.response
    channels = rs.channels if channels is None else channels
    bootstrap = rs.bootstrap_draws if bootstrap is None else bootstrap
    workers = settings.workers if workers is None else workers
    idx = index.assign(date_day=pd.to_datetime(index["date_day"]).dt.date).set_index("date_day")
    tasks = []
    for i, ch in enumerate(channels):
        h = kpis[kpis["channel"] == ch].copy()
        h["date_day"] = pd.to_datetime(h["date_day"]).dt.date
        h = h[h["date_day"].isin(idx.index)].sort_values("date_day").tail(settings.history_days)
        if len(h) < rs.min_history_days or h["spend"].sum() <= 0 or h["conversions"].sum() <= 0:
            continue
        vpc = float(h["revenue"].sum() / h["conversions"].sum())
        tasks.append(
            (
                h["conversions"].to_numpy(float),
                h["spend"].to_numpy(float),
                idx.loc[h["date_day"], "index"].to_numpy(float),
                vpc,
                ch,
                bootstrap,
                rs.seed + i,
                rs.block_days,
                h["revenue"].to_numpy(float),
            )
        )
    fits = parallel_map(_task, tasks, workers)
    return {t[4]: f for t, f in zip(tasks, fits, strict=True)}


def response_frame(fitted: dict[str, FittedResponse], as_of, model_version: str) -> pd.DataFrame:
    """Rows of ``agent.response_curves``: draw 0 is the point curve, 1..n the bootstrap draws."""
    rows = []
    for fr in fitted.values():
        current = fr.current_daily_spend
        for draw, curve in enumerate([fr.curve, *fr.samples]):
            rows.append(
                {
                    "as_of": as_of,
                    **curve.to_dict(),
                    "draw": draw,
                    "r2": fr.fit_quality.get("r2"),
                    "dispersion": fr.dispersion,
                    "revenue_dispersion": fr.revenue_dispersion,
                    "current_daily_spend": current,
                    "marginal_roi_at_current": float(curve.marginal_roi(current)),
                    "model_version": model_version,
                }
            )
    return pd.DataFrame(rows, columns=RESPONSE_COLUMNS)


def responses_from_frame(frame: pd.DataFrame) -> dict[str, FittedResponse]:
    """Back from ``agent.response_curves`` rows (one as-of day) to fitted responses."""
    out: dict[str, FittedResponse] = {}
    if frame is None or frame.empty:
        return out
    for channel, rows in frame.sort_values("draw").groupby("channel"):
        records = rows.to_dict("records")
        curves = [ResponseCurve.from_dict(r) for r in records]
        first = records[0]

        def number(name: str, default: float, row=first) -> float:
            value = row.get(name)
            return float(value) if value is not None and pd.notna(value) else default

        out[str(channel)] = FittedResponse(
            curves[0],
            curves[1:],
            {"r2": first.get("r2")},
            dispersion=number("dispersion", 1.0),
            current_daily_spend=number("current_daily_spend", 0.0),
            revenue_dispersion=number("revenue_dispersion", number("dispersion", 1.0)),
        )
    return out


def predictive_interval(mean: np.ndarray, draws: np.ndarray, dispersion: float, level: float):
    """Interval for *observed* outcomes: the curve's spread over draws plus quasi-Poisson noise
    (variance = dispersion x mean), Gaussian-approximated; never below zero."""
    var = np.var(draws, axis=0) + max(dispersion, 0.0) * np.maximum(mean, 0.0)
    z = float(norm.ppf(0.5 + level / 2))
    half = z * np.sqrt(var)
    return np.clip(mean - half, 0.0, None), mean + half


def curve_summary(fitted: dict[str, FittedResponse], level: float = 0.8) -> pd.DataFrame:
    """One row per channel: the curve's parameters, fit, recent spend and the marginal ROI
    there with its bootstrap interval (revenue of the next EUR per day, steady state)."""
    rows = []
    for channel, fr in sorted(fitted.items()):
        c = fr.curve
        roi, lo, hi = fr.marginal_roi_interval(fr.current_daily_spend, level)
        rows.append(
            {
                "channel": channel,
                "decay": c.decay,
                "half_saturation": c.half_saturation,
                "shape": c.shape,
                "max_response": c.max_response,
                "value_per_conversion": c.value_per_conversion,
                "r2": fr.fit_quality.get("r2"),
                "daily_spend_now": fr.current_daily_spend,
                "marginal_roi": roi,
                "marginal_roi_low": lo,
                "marginal_roi_high": hi,
                "draws": len(fr.samples),
            }
        )
    return pd.DataFrame(rows)
