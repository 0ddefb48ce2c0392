"""Drift: has the world moved away from what the agent's models and decisions assume?

Three families of evidence, each comparing a recent window with a reference window before it:

1. **Signal drift** (population stability index and the two-sample Kolmogorov-Smirnov test)
   on key daily signals: each paid channel's efficiency *against its response model*
   (conversions measured / conversions the curve predicts for the spend actually made: the
   agent's own budget moves do not show up as drift, a price shock does), revenue per
   conversion per channel, and baseline demand (conversions of the unpaid channels).
2. **Forecast-error drift**: the response model's error on recent days against its error on
   the reference days (and Prophet's, when baseline forecasts exist).
3. **Guardrail regressions**: blended paid ROAS and CAC, and the deal win rate, recent
   against reference, with a Welch test so a noisy week does not trip them.

Seasonality moves every one of these signals (an autumn peak raises ROAS, a summer trough
lowers it), so efficiency, ROAS and CAC are first divided by a seasonal index read from the
unpaid channels' demand (its trailing 7-day mean against the reference window's mean): demand
nobody paid for rises and falls with the season, not with our spend or a price shock.

A finding *crosses* only when the change is large (relative threshold), statistically clear
(PSI above its threshold and KS p below its threshold, or the Welch p-value), and harmful
(efficiency, order value, demand, ROAS or win rate down; CAC or error up). Harmless shifts
are still reported. Why so strict: a crossing drops autonomy to recommend-only for the
affected scope until a person restores it, so false alarms have a real cost. PSI on a few
weeks of daily values is noisy (its expectation under no change is about
``(bins - 1) * (1/n_recent + 1/n_reference)``), hence few bins and the KS test beside it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import stats

from marketing_ops.forecasting.curves import ResponseCurve

__all__ = [
    "DRIFT_COLUMNS",
    "DriftReport",
    "DriftThresholds",
    "ResponseBreak",
    "distribution_shift",
    "drift_report",
    "population_stability_index",
    "response_breaks",
]

DRIFT_COLUMNS = [
    "family",
    "scope",
    "signal",
    "n_reference",
    "n_recent",
    "reference_mean",
    "recent_mean",
    "relative_change",
    "psi",
    "ks_p",
    "p_value",
    "crossed",
    "detail",
]
PAID = ("paid_search", "display", "paid_social")
UNPAID = ("organic_search", "direct", "referral")


@dataclass(frozen=True)
class DriftThresholds:
    """When a change counts as drift. Defaults favour few false alarms (see module doc)."""

    reference_days: int = 90
    recent_days: int = 21
    psi: float = 0.25
    ks_p: float = 0.01
    efficiency_drop: float = 0.30  # conversions vs the response model
    order_value_drop: float = 0.25
    demand_drop: float = 0.30  # wider: seasonality moves demand by this much on its own
    error_rise: float = 1.0  # recent mean absolute error more than doubles
    roas_drop: float = 0.25
    cac_rise: float = 0.33
    win_rate_drop: float = 0.30
    guardrail_p: float = 0.01
    min_days: int = 10
    # response_breaks: days each side of a break, and the smallest change that counts as one
    break_min_days: int = 14
    break_change: float = 0.30


def population_stability_index(
    reference: np.ndarray, current: np.ndarray, bins: int = 5, eps: float = 1e-4
) -> float:
    """PSI = sum((cur% - ref%) * ln(cur% / ref%)) over quantile bins of the reference."""
    ref, cur = np.asarray(reference, float), np.asarray(current, float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) < 2 or len(cur) < 1:
        return math.nan
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
    rp = np.maximum(r / r.sum(), eps)
    cp = np.maximum(c / c.sum(), eps)
    return float(np.sum((cp - rp) * np.log(cp / rp)))


def distribution_shift(reference: np.ndarray, current: np.ndarray, bins: int = 5) -> dict:
    """PSI, KS statistic and p-value, means and the relative change of the mean."""
    ref, cur = np.asarray(reference, float), np.asarray(current, float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) < 2 or len(cur) < 2:
        return {
            "psi": math.nan,
            "ks_p": math.nan,
            "reference_mean": math.nan,
            "recent_mean": math.nan,
            "relative_change": math.nan,
            "n_reference": len(ref),
            "n_recent": len(cur),
        }
    ks = stats.ks_2samp(ref, cur)
    rm, cm = float(ref.mean()), float(cur.mean())
    return {
        "psi": population_stability_index(ref, cur, bins),
        "ks_p": float(ks.pvalue),
        "reference_mean": rm,
        "recent_mean": cm,
        "relative_change": (cm - rm) / abs(rm) if rm else math.nan,
        "n_reference": len(ref),
        "n_recent": len(cur),
    }


@dataclass
class DriftReport:
    """Every finding, and the scopes whose autonomy must drop (with the reasons)."""

    as_of: date
    findings: pd.DataFrame
    crossed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return bool(self.crossed)

    def reason(self, scope: str) -> str:
        return "; ".join(self.crossed.get(scope, []))

    def summary(self) -> str:
        if not self.crossed:
            return f"no drift crossed a threshold as of {self.as_of} ({len(self.findings)} checks)"
        return "; ".join(f"{s}: {self.reason(s)}" for s in sorted(self.crossed))


def _windows(days: pd.Series, as_of: date, t: DriftThresholds) -> tuple[pd.Series, pd.Series]:
    recent_start = as_of - timedelta(days=t.recent_days - 1)
    ref_start = recent_start - timedelta(days=t.reference_days)
    d = pd.to_datetime(days).dt.date
    return (d >= ref_start) & (d < recent_start), (d >= recent_start) & (d <= as_of)


# Days after a test's last day whose conversions still hold its spend change (carry-over):
# left out with the test's own days
TEST_TAIL_DAYS = 7


def _tested(h: pd.DataFrame, channel: str, tests: pd.DataFrame | None) -> np.ndarray:
    """Which of ``h``'s days (one channel's rows) an executed test of ``channel`` moved spend
    on, or still holds the carry-over of (``TEST_TAIL_DAYS`` after): ``tests`` is
    ``decisioning.executed_test_spend``'s frame. A holdout in some geos lowers the national
    conversions more than the national curve expects of the lower spend (the held-out geos
    answer nothing): the agent's own test is not a change in the channel's response."""
    if tests is None or tests.empty:
        return np.zeros(len(h), dtype=bool)
    days = pd.to_datetime(tests.loc[tests["channel"] == channel, "date_day"]).dt.date
    held = {d + timedelta(days=k) for d in days for k in range(TEST_TAIL_DAYS + 1)}
    return h["date_day"].isin(held).to_numpy()


def _finding(family, scope, signal, shift, crossed, detail, p_value=math.nan) -> dict:
    return {
        "family": family,
        "scope": scope,
        "signal": signal,
        **{k: shift.get(k, math.nan) for k in DRIFT_COLUMNS if k in shift},
        "p_value": p_value,
        "crossed": bool(crossed),
        "detail": detail,
    }


def _distribution_crossed(shift: dict, drop: float, t: DriftThresholds) -> bool:
    return bool(
        min(shift["n_reference"], shift["n_recent"]) >= t.min_days
        and shift["psi"] > t.psi
        and shift["ks_p"] < t.ks_p
        and shift["relative_change"] < -drop
    )


def _fit_curve(
    h: pd.DataFrame, ref: pd.Series, channel: str, index: np.ndarray
) -> ResponseCurve | None:
    """A curve over every day up to as-of, as the forecasts stage fits it: fitting on the
    reference window alone would judge recent days at spend levels the curve never saw
    (a saturation misfit looks like an efficiency drop). A shock still shows: a curve has
    no time in it, so a level shift in the last weeks cannot be absorbed by it."""
    from marketing_ops.forecasting.response import fit_channel

    if ref.sum() < 28:
        return None
    r = h
    if len(r) < 28 or r["spend"].sum() <= 0:
        return None
    conv = r["conversions"].sum()
    vpc = float(r["revenue"].sum() / conv) if conv > 0 else 0.0
    return fit_channel(r["conversions"], r["spend"], index, vpc, channel).curve


def _calibrated(
    curve: ResponseCurve, h: pd.DataFrame, ref: np.ndarray, season: np.ndarray
) -> np.ndarray:
    """Conversions the model expects each day: ``base + scale * season * curve(spend)``,
    with base and scale fitted (non-negative least squares) on the reference window only.

    The curve alone leaves out the channel's base level and seasonality; without them the
    ratio measured / modelled moves with the spend level (a low-spend flight looks like a
    windfall), which would make the agent's own budget moves look like drift.
    """
    from scipy.optimize import nnls

    media = curve.conversions(h["spend"].to_numpy(float)) * season
    y = h["conversions"].to_numpy(float)
    design = np.column_stack([np.ones(len(y)), media])
    if ref.sum() < 5:
        return media
    (base, scale), _ = nnls(design[ref], y[ref])
    fitted = base + scale * media
    floor = max(float(np.mean(y[ref])) * 0.05, 0.5)  # no near-zero denominators
    return np.maximum(fitted, floor)


def _efficiency_change(
    actual: np.ndarray, predicted: np.ndarray, ref: np.ndarray, cur: np.ndarray
) -> tuple[float, float]:
    """Relative change of measured / modelled conversions (recent against reference) and the
    one-sided p-value of a drop under an over-dispersed Poisson model.

    Summing over the window before dividing keeps low-volume days from dominating; the
    dispersion (Pearson chi-square per day on the reference window) absorbs how much worse
    than Poisson the model fits even when nothing changed, so a channel the model fits
    loosely needs a bigger drop before it counts.
    """
    a_ref, p_ref = actual[ref].sum(), predicted[ref].sum()
    a_cur, p_cur = actual[cur].sum(), predicted[cur].sum()
    if p_ref <= 0 or p_cur <= 0 or a_ref <= 0:
        return math.nan, math.nan
    level = a_ref / p_ref
    dispersion = max(
        1.0,
        float(np.sum((actual[ref] - level * predicted[ref]) ** 2 / (level * predicted[ref])))
        / max(int(ref.sum()) - 2, 1),
    )
    expected = level * p_cur
    z = (a_cur - expected) / math.sqrt(dispersion * expected)
    return float(a_cur / expected - 1.0), float(stats.norm.cdf(z))


def _moved(shift: dict) -> str:
    return (
        f"{shift['reference_mean']:.2f} -> {shift['recent_mean']:.2f} "
        f"({shift['relative_change']:+.0%}, PSI {shift['psi']:.2f}, KS p {shift['ks_p']:.2g})"
    )


def _welch(ref: np.ndarray, cur: np.ndarray) -> float:
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) < 3 or len(cur) < 3:
        return math.nan
    return float(stats.ttest_ind(ref, cur, equal_var=False).pvalue)


def drift_report(
    kpis: pd.DataFrame,
    as_of: date,
    curves: dict[str, ResponseCurve] | None = None,
    forecasts: pd.DataFrame | None = None,
    thresholds: DriftThresholds | None = None,
    tests: pd.DataFrame | None = None,
) -> DriftReport:
    """All drift findings as of a day from the daily channel KPIs (``fct_channel_kpis_daily``
    columns), the current response curves (fitted on the reference window when missing) and,
    optionally, the Prophet baseline forecasts (``agent.forecasts`` rows). ``tests``: the
    spend the agent's executed tests moved (``decisioning.executed_test_spend``); a channel's
    days under a test, and a week after, are in neither window of its own findings."""
    t = thresholds or DriftThresholds()
    k = kpis.copy()
    k["date_day"] = pd.to_datetime(k["date_day"]).dt.date
    k = k[k["date_day"] <= as_of].sort_values("date_day")
    rows: list[dict] = []

    season = _seasonal_index(k, as_of, t)
    for channel in PAID:
        h = k[k["channel"] == channel].reset_index(drop=True)
        if h.empty or h["spend"].sum() <= 0:
            continue
        ref, cur = _windows(h["date_day"], as_of, t)
        tested = _tested(h, channel, tests)
        ref, cur = ref & ~tested, cur & ~tested
        scope = f"channel:{channel}"
        index = _index_for(season, h["date_day"])
        curve = (curves or {}).get(channel) or _fit_curve(h, ref, channel, index)
        if curve is not None:
            predicted = _calibrated(curve, h, ref.to_numpy(), index)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(
                    predicted > 0, h["conversions"].to_numpy(float) / predicted, np.nan
                )
            shift = distribution_shift(ratio[ref.to_numpy()], ratio[cur.to_numpy()])
            change, p = _efficiency_change(
                h["conversions"].to_numpy(float), predicted, ref.to_numpy(), cur.to_numpy()
            )
            shift["relative_change"] = change
            rows.append(
                _finding(
                    "signal",
                    scope,
                    "efficiency_vs_response_model",
                    shift,
                    bool(
                        min(shift["n_reference"], shift["n_recent"]) >= t.min_days
                        and change < -t.efficiency_drop
                        and p < t.guardrail_p / 10
                        and shift["psi"] > t.psi
                    ),
                    f"{channel}: conversions against the response model for the spend made "
                    f"{_moved(shift)}, one-sided p {p:.2g}",
                    p,
                )
            )
            err = np.abs(h["conversions"].to_numpy(float) - predicted)
            e_ref, e_cur = err[ref.to_numpy()], err[cur.to_numpy()]
            e_shift = distribution_shift(e_ref, e_cur)
            p = _welch(e_ref, e_cur)
            rise = e_shift["relative_change"]
            rows.append(
                _finding(
                    "forecast_error",
                    scope,
                    "response_model_abs_error",
                    e_shift,
                    bool(
                        min(e_shift["n_reference"], e_shift["n_recent"]) >= t.min_days
                        and rise > t.error_rise
                        and p < t.guardrail_p
                    ),
                    f"{channel}: mean absolute error of modelled conversions "
                    f"{e_shift['reference_mean']:.1f} -> {e_shift['recent_mean']:.1f}",
                    p,
                )
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            aov = np.where(h["conversions"] > 0, h["revenue"] / h["conversions"], np.nan)
        shift = distribution_shift(aov[ref.to_numpy()], aov[cur.to_numpy()])
        rows.append(
            _finding(
                "signal",
                scope,
                "revenue_per_conversion",
                shift,
                _distribution_crossed(shift, t.order_value_drop, t),
                f"{channel}: revenue per conversion {_moved(shift)}",
            )
        )

    unpaid = k[k["channel"].isin(UNPAID)].groupby("date_day", as_index=False)["conversions"].sum()
    if len(unpaid):
        ref, cur = _windows(unpaid["date_day"], as_of, t)
        v = unpaid["conversions"].to_numpy(float)
        shift = distribution_shift(v[ref.to_numpy()], v[cur.to_numpy()])
        rows.append(
            _finding(
                "signal",
                "budget",
                "baseline_demand",
                shift,
                _distribution_crossed(shift, t.demand_drop, t),
                f"baseline demand (unpaid conversions per day) {_moved(shift)}",
            )
        )

    paid = (
        k[k["channel"].isin(PAID)]
        .groupby("date_day", as_index=False)[["spend", "revenue", "conversions"]]
        .sum()
    )
    if len(paid):
        ref, cur = _windows(paid["date_day"], as_of, t)
        idx = _index_for(season, paid["date_day"])
        with np.errstate(divide="ignore", invalid="ignore"):
            roas = np.where(paid["spend"] > 0, paid["revenue"] / paid["spend"], np.nan) / idx
            cac = np.where(paid["conversions"] > 0, paid["spend"] / paid["conversions"], np.nan)
            cac = cac * idx
        for name, values, bad_sign, limit in (
            ("blended_paid_roas", roas, -1, t.roas_drop),
            ("blended_paid_cac", cac, +1, t.cac_rise),
        ):
            a, b = values[ref.to_numpy()], values[cur.to_numpy()]
            shift = distribution_shift(a, b)
            p = _welch(a, b)
            change = shift["relative_change"]
            crossed = (
                min(shift["n_reference"], shift["n_recent"]) >= t.min_days
                and change * bad_sign > limit
                and p < t.guardrail_p
            )
            rows.append(
                _finding(
                    "guardrail",
                    "budget",
                    name,
                    shift,
                    crossed,
                    f"{name.replace('_', ' ')} {shift['reference_mean']:.2f} -> "
                    f"{shift['recent_mean']:.2f} (Welch p {p:.2g})",
                    p,
                )
            )
    if {"deals_won", "deals_lost"} <= set(k.columns):
        deals = k.groupby("date_day", as_index=False)[["deals_won", "deals_lost"]].sum()
        ref, cur = _windows(deals["date_day"], as_of, t)
        won, lost = deals["deals_won"].to_numpy(float), deals["deals_lost"].to_numpy(float)
        wr, lr = won[ref.to_numpy()].sum(), lost[ref.to_numpy()].sum()
        wc, lc = won[cur.to_numpy()].sum(), lost[cur.to_numpy()].sum()
        if wr + lr > 0 and wc + lc > 0:
            a, b = wr / (wr + lr), wc / (wc + lc)
            # two-proportion z-test on deals
            pooled = (wr + wc) / (wr + lr + wc + lc)
            se = math.sqrt(pooled * (1 - pooled) * (1 / (wr + lr) + 1 / (wc + lc)))
            p = float(2 * stats.norm.sf(abs(a - b) / se)) if se > 0 else math.nan
            change = (b - a) / a if a else math.nan
            rows.append(
                _finding(
                    "guardrail",
                    "budget",
                    "win_rate",
                    {
                        "reference_mean": a,
                        "recent_mean": b,
                        "relative_change": change,
                        "n_reference": int(wr + lr),
                        "n_recent": int(wc + lc),
                    },
                    change < -t.win_rate_drop and p < t.guardrail_p,
                    f"deal win rate {a:.1%} -> {b:.1%} (p {p:.2g})",
                    p,
                )
            )

    if forecasts is not None and len(forecasts):
        rows.extend(_prophet_error_drift(forecasts, k, as_of, t))

    findings = pd.DataFrame(rows, columns=DRIFT_COLUMNS)
    crossed: dict[str, list[str]] = {}
    for r in findings[findings["crossed"]].itertuples():
        crossed.setdefault(r.scope, []).append(r.detail)
    return DriftReport(as_of, findings, crossed)


@dataclass(frozen=True)
class ResponseBreak:
    """A step in one channel's response: from ``day`` on, measured conversions against its
    response model for the spend made are ``change`` (relative) off their level before."""

    channel: str
    day: date
    change: float
    p_value: float  # one split's two-sided p; crossed only below guardrail_p / splits tried
    detail: str


def _best_split(y: np.ndarray, mu: np.ndarray, min_side: int) -> tuple[int, float, float]:
    """The day index splitting ``y`` (measured) against ``mu`` (modelled) into two levels
    that differ the most: ``(k, change, z)``, the level of days ``k:`` against ``:k``, z
    under an over-dispersed Poisson model (dispersion from the two-level fit, as
    :func:`_efficiency_change` does from its reference window)."""
    n = len(y)
    cy, cm = np.cumsum(y), np.cumsum(mu)
    k = np.arange(min_side, n - min_side + 1)
    yb, mb = cy[k - 1], cm[k - 1]
    ya, ma = cy[-1] - yb, cm[-1] - mb
    with np.errstate(divide="ignore", invalid="ignore"):
        lb, la = yb / mb, ya / ma
        # two-sample Poisson rate comparison, the before-level as the null
        z = (ya - lb * ma) / np.sqrt(lb * ma * (1 + ma / mb))
    z = np.where(np.isfinite(z), z, 0.0)
    best = int(np.argmax(np.abs(z)))
    split = int(k[best])
    level = np.where(np.arange(n) < split, lb[best], la[best]) * mu
    keep = level > 0
    dispersion = max(1.0, float(np.sum((y - level)[keep] ** 2 / level[keep])) / max(n - 2, 1))
    return split, float(la[best] / lb[best] - 1.0), float(z[best] / math.sqrt(dispersion))


def response_breaks(
    kpis: pd.DataFrame,
    as_of: date,
    thresholds: DriftThresholds | None = None,
    since: date | None = None,
    tests: pd.DataFrame | None = None,
) -> dict[str, ResponseBreak]:
    """The clearest step in each paid channel's response, where one is clear (one a channel).

    Each channel's daily measured conversions against its response model (one curve over
    every day up to ``as_of``, with base and seasonal index, as the efficiency finding of
    :func:`drift_report` models them: a curve has no time in it, so a step in the response
    shows as a step in the ratio); the split of the days since ``since`` (default: all) into
    two levels that differ the most. It counts as a break when the levels differ by more than
    ``break_change`` either way and its p-value is below ``guardrail_p`` divided by the number
    of splits tried (every day was a candidate). The drift report asks "is the recent window
    worse than the one before?"; this asks "from which day is the response not what it was?",
    which is what a lift test measured before that day needs to know (calibration refuses
    it for its channel's current response). ``tests``: as in :func:`drift_report`, the days
    of the agent's own tests (and a week after) are not candidates or evidence."""
    t = thresholds or DriftThresholds()
    k = kpis.copy()
    k["date_day"] = pd.to_datetime(k["date_day"]).dt.date
    k = k[k["date_day"] <= as_of].sort_values("date_day")
    if since is not None:
        k = k[k["date_day"] >= since]
    season = _seasonal_index(k, as_of, t)
    out: dict[str, ResponseBreak] = {}
    for channel in PAID:
        h = k[k["channel"] == channel].reset_index(drop=True)
        if len(h) < 2 * t.break_min_days or h["spend"].sum() <= 0:
            continue
        kept = ~_tested(h, channel, tests)  # every day but the tests'
        if kept.sum() < 2 * t.break_min_days:
            continue
        index = _index_for(season, h["date_day"])
        curve = _fit_curve(h, pd.Series(kept, index=h.index), channel, index)
        if curve is None:
            continue
        mu = _calibrated(curve, h, kept, index)
        y = h["conversions"].to_numpy(float)
        split, change, z = _best_split(y[kept], mu[kept], t.break_min_days)
        splits = int(kept.sum()) - 2 * t.break_min_days + 1
        p = float(2 * stats.norm.sf(abs(z)))
        if abs(change) > t.break_change and p < t.guardrail_p / splits:
            day = h["date_day"][kept].iloc[split]
            out[channel] = ResponseBreak(
                channel,
                day,
                change,
                p,
                f"{channel}: measured conversions against its response model {change:+.0%} "
                f"from {day} on (p {p:.2g}, {splits} days tried)",
            )
    return out


def _seasonal_index(kpis: pd.DataFrame, as_of: date, t: DriftThresholds) -> pd.Series:
    """Day -> demand index: unpaid conversions' trailing 7-day mean over its reference mean."""
    unpaid = (
        kpis[kpis["channel"].isin(UNPAID)].groupby("date_day")["conversions"].sum().sort_index()
    )
    if unpaid.empty:
        return pd.Series(dtype=float)
    smooth = unpaid.rolling(7, min_periods=1).mean()
    ref, _ = _windows(pd.Series(smooth.index), as_of, t)
    base = float(smooth[ref.to_numpy()].mean()) if ref.any() else float(smooth.mean())
    return smooth / base if base > 0 else smooth * 0 + 1.0


def _index_for(season: pd.Series, days: pd.Series) -> np.ndarray:
    if season.empty:
        return np.ones(len(days))
    idx = season.reindex(pd.to_datetime(days).dt.date.to_numpy()).to_numpy(float)
    return np.where(np.isfinite(idx) & (idx > 0), idx, 1.0)


def _prophet_error_drift(
    forecasts: pd.DataFrame, kpis: pd.DataFrame, as_of: date, t: DriftThresholds
) -> list[dict]:
    """Absolute percentage error of true (ex-ante) baseline forecasts, recent vs reference."""
    fc = forecasts.copy()
    fc = fc[fc["metric"] == "conversions"]
    if fc.empty:
        return []
    fc["date_day"] = pd.to_datetime(fc["date_day"]).dt.date
    fc["as_of"] = pd.to_datetime(fc["as_of"]).dt.date
    fc = fc[(fc["date_day"] > fc["as_of"]) & (fc["date_day"] <= as_of)]
    joined = fc.merge(kpis[["date_day", "channel", "conversions"]], on=["date_day", "channel"])
    out = []
    for channel, g in joined.groupby("channel"):
        ref, cur = _windows(g["date_day"], as_of, t)
        denom = np.abs(g["conversions"].to_numpy(float)) + np.abs(g["yhat"].to_numpy(float))
        err = np.where(denom > 0, 2 * np.abs(g["yhat"] - g["conversions"]) / denom, 0.0)
        a, b = err[ref.to_numpy()], err[cur.to_numpy()]
        shift = distribution_shift(a, b)
        p = _welch(a, b)
        out.append(
            _finding(
                "forecast_error",
                f"channel:{channel}" if channel in PAID else "budget",
                "baseline_forecast_smape",
                shift,
                bool(
                    min(shift["n_reference"], shift["n_recent"]) >= t.min_days
                    and shift["relative_change"] > t.error_rise
                    and p < t.guardrail_p
                ),
                f"{channel}: baseline forecast sMAPE {shift['reference_mean']:.2f} -> "
                f"{shift['recent_mean']:.2f}",
                p,
            )
        )
    return out


def thresholds_dict(t: DriftThresholds) -> dict:
    return asdict(t)
