"""Test designs: geo holdout on matched markets, audience holdout, spend pulses; and the guard
that refuses a test contaminated by another one running.

- **Geo holdout** (when the data has a ``geo`` column): geos are paired trimmed-match style,
  by their pre-period KPI level, adjacent geos of the sorted list forming a pair; in each pair
  a salted hash (:func:`measurement.experiments.assign_arms`) picks the geo that loses the
  channel's spend. The pair differences' pre-period noise gives the design's power.
- **Audience holdout** (email and owned channels): a salted-hash share of the audience gets
  nothing from the channel for the window; the holdout list is what the connector suppresses.
- **Spend pulse** (a channel without geos): the channel's national spend alternates off and
  on in flights of ``flight_periods``; on-minus-off, detrended, is the estimate.
- **Spend-up** (``direction="spend_up"``): the same two designs run the other way, to measure
  the response *above* the planned spend — or the response of a channel the plan cuts to zero,
  which no holdout can test. On matched markets the treated geos get ``raise_share`` more
  than planned (their recent level when the plan spends nothing there); without geos the
  national spend is raised in on flights. A holdout reads the curve below the plan, a spend-up
  above it; together they pin a saturating channel's bend.

Spend levels: a design is built at the plan's level, ``planned_multiple`` times the recent
spend (1: as the history spent), so it is priced and executed at the same level.

Pre-period: a geo test's baseline (market match, pair noise, the read-out's difference in
differences) is the history before :func:`pre_period_end` — its start, or the start of the
first earlier test in any of its geos, whose spend change would otherwise sit in the
baseline. The design records it (``notes["pre_end"]``) and the read-out uses it, so the
market-match statistic a design is refused on is the one its read-out would compute.

Spend covariates (``adjust_for``: the model's channels): the treated geos' KPI minus the
scaled controls' still moves with every channel's spend, because media effects saturate and so
are not proportional to a geo's size. The difference is regressed on each channel's spend
difference (treated minus scaled controls, this period and :data:`COVARIATE_LAGS` before) over
the pre-period, and the test's effect is what the regression leaves in the window, the test's
own channel taken at what the plan would have spent there (a spend-up: observed minus what it
added; a holdout: the controls' spend at the treated geos' pre-period ratio, that estimate's
error added to the standard error). The design prices the standard error from the same
regression's residuals. Measured on 30 weekly worlds (88 holdouts, 90 spend-ups; in-test and
4-week tail rows; docs/decisions.md, 2026-12-06): the 80 % interval covered the true lift in
72 / 83 / 81 / 81 % of tests (plain difference: 59 / 66 / 64 / 68 %), and the RMSE fell 15 to
41 %.

Contamination: two tests running in the same window contaminate each other when they share a
geo, an audience member, or the channel (a pulse is national, so it shares every geo). A test
whose tail is read after it (``readout_end``, the carry-over of its spend change) runs until
then: a test started in its geos before that would land in its tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from marketing_ops.experiments.power import (
    audience_standard_error,
    did_standard_error,
    minimum_detectable_effect,
    power,
)
from marketing_ops.measurement.experiments import assign_arms

__all__ = [
    "COVARIATE_LAGS",
    "NATIONAL",
    "Adjustment",
    "control_ratio",
    "geo_table",
    "Design",
    "audience_holdout",
    "contamination",
    "geo_holdout",
    "geo_spend_up",
    "match_markets",
    "pre_period_end",
    "refuse_contaminated",
    "spend_pulse",
    "spend_up_pulse",
]

NATIONAL = "*"  # a design that touches every geo
HOLDOUT, SPEND_UP = "holdout", "spend_up"  # a design's direction: spend removed or added


@dataclass(frozen=True)
class Design:
    """One proposed test. ``lift`` quantities are totals over the window, in KPI units."""

    name: str
    kind: str  # geo | audience | pulse
    channel: str
    start: pd.Timestamp
    end: pd.Timestamp
    periods: int
    treated: tuple[str, ...] = ()  # geos losing spend (geo), or (NATIONAL,) for a pulse
    control: tuple[str, ...] = ()
    holdout: tuple[str, ...] = ()  # audience ids held out (audience)
    holdout_share: float = 1.0  # share of the treated units' spend removed
    spend_removed: float = 0.0  # currency not spent because of the test
    standard_error: float = float("nan")
    expected_lift: float = float("nan")
    power: float = float("nan")
    schedule: tuple[bool, ...] = ()  # pulse: on (True) / off per period; spend-up: raised
    notes: dict = field(default_factory=dict)
    direction: str = HOLDOUT  # holdout: spend removed in the treated units; spend_up: added
    spend_added: float = 0.0  # currency spent on top of the plan because of the test
    # the channel's national spend per period the test runs against (the plan's level);
    # nan: the history's level
    base_spend: float = float("nan")
    # last day the test is read: after ``end`` its carry-over (the tail, a calibration row of
    # its own) until then; its units stay reserved until then. None: ``end``
    readout_end: pd.Timestamp | None = None

    @property
    def spend_up(self) -> bool:
        return self.direction == SPEND_UP

    @property
    def read_until(self) -> pd.Timestamp:
        """Last day the test is read (and its geos, audience and channel reserved)."""
        return self.end if self.readout_end is None else self.readout_end

    def geos(self) -> set[str]:
        return set(self.treated) | set(self.control)

    def with_expected_lift(self, lift: float, alpha: float = 0.05) -> Design:
        """The design with its power at the model's expected lift."""
        return replace(self, expected_lift=lift, power=power(abs(lift), self.standard_error, alpha))

    def minimum_detectable(self, alpha: float = 0.05, target_power: float = 0.8) -> float:
        return minimum_detectable_effect(self.standard_error, alpha, target_power)


def match_markets(kpi_by_geo: pd.DataFrame, salt: str) -> list[tuple[str, str]]:
    """(treated, control) pairs of geos from a pre-period ``date x geo`` KPI table.

    Trimmed-match style: sort by mean KPI, pair neighbours (an odd geo out is dropped, the one
    with the largest level), then a salted hash picks the treated geo of each pair."""
    order = kpi_by_geo.mean().sort_values().index.tolist()
    pairs = []
    for a, b in zip(order[0::2], order[1::2], strict=False):
        arm = assign_arms([f"{a}|{b}"], {"first": 0.5, "second": 0.5}, salt).iloc[0]
        pairs.append((a, b) if arm == "first" else (b, a))
    return pairs


def _pre_correlation(kpi_by_geo: pd.DataFrame, pairs: list[tuple[str, str]]) -> float:
    """Correlation of the summed treated and control KPI before the test: what the read-out
    checks (``ReadoutRules.min_pre_correlation``), known when the design is made."""
    treated = kpi_by_geo[[t for t, _ in pairs]].sum(axis=1)
    control = kpi_by_geo[[c for _, c in pairs]].sum(axis=1)
    return float(np.corrcoef(treated, control)[0, 1]) if len(kpi_by_geo) > 2 else float("nan")


def _pair_sigma(kpi_by_geo: pd.DataFrame, pairs: list[tuple[str, str]]) -> float:
    """Sd of the summed treated-minus-control series, each control scaled to its geo's level."""
    treated = kpi_by_geo[[t for t, _ in pairs]].sum(axis=1)
    control = kpi_by_geo[[c for _, c in pairs]].sum(axis=1)
    diff = treated - control * treated.mean() / control.mean()
    return float(diff.std(ddof=1))


COVARIATE_LAGS = 2  # a channel's spend this period and the two before (its carry-over)
MIN_RESIDUAL_DOF = 10  # fewer pre-periods than this beyond the regressors: no adjustment


@dataclass(frozen=True)
class Adjustment:
    """The pre-period regression of a geo test's KPI difference on spend covariates."""

    beta: np.ndarray  # constant, then the covariates
    sigma: float  # residual sd
    xtx_inv: np.ndarray
    own_effect: float = 0.0  # the test channel's coefficients summed over its lags
    planned_miss: float = 0.0  # sd of a holdout's planned-spend estimate per period

    def effect(self, diff: np.ndarray, x: np.ndarray) -> tuple[float, float]:
        """Mean of what the regression leaves over these periods, and its SE (per period)."""
        xs = np.column_stack([np.ones(len(x)), x])
        xbar = xs.mean(axis=0)
        se = self.sigma * math.sqrt(xbar @ self.xtx_inv @ xbar + 1 / max(len(diff), 1))
        return float((diff - xs @ self.beta).mean()), se


def geo_table(
    frame: pd.DataFrame, column: str, index: pd.DatetimeIndex, geo_col: str, date_col: str
) -> pd.DataFrame:
    """``column`` per period of ``index`` (rows; 0 where a period has none) and geo (columns):
    the spend the spend covariates and a design's and a read-out's planned-spend estimate
    sum over a test's arms."""
    by_geo = frame.pivot_table(index=date_col, columns=geo_col, values=column, aggfunc="sum")
    by_geo.index = pd.to_datetime(by_geo.index)
    return by_geo.reindex(index).fillna(0.0)


def spend_covariates(
    frame: pd.DataFrame,
    treated,
    control,
    scale: float,
    channels,
    index: pd.DatetimeIndex,
    geo_col: str = "geo",
    date_col: str = "date",
    counterfactual: tuple[str, pd.Series] | None = None,
) -> np.ndarray:
    """Per channel of ``channels`` that ``frame`` has, the treated geos' spend minus ``scale``
    x the controls', on ``index``, this period and :data:`COVARIATE_LAGS` before (periods x
    covariates). ``counterfactual``: (channel, treated spend per period) replacing that
    channel's treated spend where given (a test's own channel in its window)."""
    cols = []
    for c in channels:
        if c not in frame.columns:
            continue
        spend = geo_table(frame, c, index, geo_col, date_col)
        treated_spend = spend[list(treated)].sum(axis=1)
        if counterfactual is not None and counterfactual[0] == c:
            treated_spend = counterfactual[1].reindex(index).combine_first(treated_spend)
        x = (treated_spend - scale * spend[list(control)].sum(axis=1)).to_numpy(float)
        for lag in range(COVARIATE_LAGS + 1):
            cols.append(np.concatenate([np.zeros(lag), x[: len(x) - lag]]))
    return np.column_stack(cols) if cols else np.zeros((len(index), 0))


def fit_adjustment(diff: np.ndarray, x: np.ndarray, pre: np.ndarray) -> Adjustment | None:
    """OLS of ``diff`` on a constant and ``x`` over the ``pre`` periods (the first
    :data:`COVARIATE_LAGS`, whose lags are unknown, left out); None without covariates or
    with too few periods for them."""
    rows = np.asarray(pre) & (np.arange(len(diff)) >= COVARIATE_LAGS)
    k = x.shape[1] + 1
    if x.shape[1] == 0 or rows.sum() - k < MIN_RESIDUAL_DOF:
        return None
    xs = np.column_stack([np.ones(int(rows.sum())), x[rows]])
    xtx_inv = np.linalg.pinv(xs.T @ xs)
    beta = xtx_inv @ xs.T @ diff[rows]
    resid = diff[rows] - xs @ beta
    return Adjustment(beta, float(np.sqrt(resid @ resid / (rows.sum() - k))), xtx_inv)


def control_ratio(treated: pd.Series, control: pd.Series) -> tuple[float, float]:
    """The treated geos' spend as a multiple of the controls' (over these periods) and the sd
    of that estimate's per-period misses: what a holdout's read-out takes for the treated
    geos' planned spend, and how wrong it can be."""
    total = float(control.sum())
    ratio = float(treated.sum()) / total if total > 0 else 0.0
    miss = float((treated - ratio * control).std(ddof=1)) if len(treated) > 1 else 0.0
    return ratio, miss if math.isfinite(miss) else 0.0


def pre_period_end(start: pd.Timestamp, geos, earlier=()) -> pd.Timestamp:
    """Where the pre-period of a geo test starting at ``start`` in ``geos`` (treated and
    control) ends — the one rule its design and its read-out share: the start of the first
    earlier test (any channel, ``earlier``: the designs of tests run or running) that touched
    one of these geos (a national pulse touches every geo; an audience holdout none), so no
    earlier test's spend change sits in the baseline; the test's own start when there is none."""
    geos = set(geos)
    starts = [
        d.start for d in earlier if d.start < start and (NATIONAL in d.geos() or d.geos() & geos)
    ]
    return min([pd.Timestamp(start), *starts])


def _matched(frame, channel, kpi, start, salt, geo_col, date_col, earlier=(), adjust_for=()):
    """(pre-period, KPI table, pairs, pair sigma, pre-period end) of a matched-market design:
    the pairs from the whole history before ``start``, the statistics the read-out will check
    (market match, pair noise, periods) from the history before :func:`pre_period_end`. With
    ``adjust_for`` the noise is the residual sd of the spend-covariate regression the read-out
    will run (the pair difference's sd when there are too few periods for it)."""
    pre = frame[pd.to_datetime(frame[date_col]) < start]
    table = pre.pivot_table(index=date_col, columns=geo_col, values=kpi, aggfunc="sum")
    table.index = pd.to_datetime(table.index)
    pairs = match_markets(table, f"{salt}:{channel}:{start.date()}")
    if not pairs:
        raise ValueError("a geo test needs at least two geos")
    end = pre_period_end(start, [g for pair in pairs for g in pair], earlier)
    table = table[table.index < end]
    sigma = _pair_sigma(table, pairs)
    adjust = [c for c in adjust_for if c in pre.columns]
    if not adjust:
        return pre, table, pairs, sigma, end, None
    treated, control = [t for t, _ in pairs], [c for _, c in pairs]
    scale = table[treated].sum(axis=1).mean() / table[control].sum(axis=1).mean()
    diff = (table[treated].sum(axis=1) - scale * table[control].sum(axis=1)).to_numpy()
    x = spend_covariates(pre, treated, control, scale, adjust, table.index, geo_col, date_col)
    fit = fit_adjustment(diff, x, np.ones(len(diff), dtype=bool))
    if fit is None:
        return pre, table, pairs, sigma, end, None
    if channel in adjust:
        # a holdout's read-out estimates the treated geos' planned spend from the controls'
        # (:func:`control_ratio`): that estimate's error reaches the lift through the
        # channel's coefficients
        own = 1 + adjust.index(channel) * (COVARIATE_LAGS + 1)
        spend = geo_table(pre, channel, table.index, geo_col, date_col)
        _, miss = control_ratio(spend[treated].sum(axis=1), spend[control].sum(axis=1))
        own_effect = float(fit.beta[own : own + COVARIATE_LAGS + 1].sum())
        fit = replace(fit, own_effect=own_effect, planned_miss=miss)
    return pre, table, pairs, fit.sigma, end, fit


def _recent_level(spend: pd.Series | pd.DataFrame, periods: int, reference: int):
    """Spend per period over the last ``periods``; where that is zero (the channel was cut),
    the mean of the last ``reference`` periods with spend (the channel's usual level)."""
    recent = spend.tail(periods).mean()
    usual = spend.tail(reference).where(spend.tail(reference) > 0).mean()
    if isinstance(recent, pd.Series):
        return recent.where(recent > 0, usual.fillna(0.0))
    return recent if recent > 0 else float(np.nan_to_num(usual))


def _treated_share(pre, treated, channel, periods, geo_col, date_col, reference=52) -> float:
    """The treated geos' share of the channel's recent spend (their usual level where the
    recent weeks spent nothing): a geo test moves spend in these geos only, so it is priced
    as a copy of the nation this size (:func:`experiments.value.lift_draws`)."""
    by_geo = pre.pivot_table(index=date_col, columns=geo_col, values=channel, aggfunc="sum")
    level = _recent_level(by_geo, periods, reference)
    total = float(level.sum())
    return float(level[list(treated)].sum()) / total if total > 0 else 1.0


def geo_holdout(
    frame: pd.DataFrame,
    channel: str,
    kpi: str,
    start: pd.Timestamp,
    periods: int,
    freq: str = "W",
    salt: str = "geo-test",
    geo_col: str = "geo",
    date_col: str = "date",
    planned_multiple: float = 1.0,
    earlier=(),
    adjust_for=(),
) -> Design:
    """Matched-market holdout of ``channel`` starting at ``start``, fitted on the history before
    it; the treated geos stop what the plan (``planned_multiple`` x recent spend) spends there.
    ``earlier``: the designs of tests run or running (they end the pre-period,
    :func:`pre_period_end`); ``adjust_for``: the spend columns (channels) the read-out adjusts
    the difference for (see the module's docstring)."""
    pre, table, pairs, sigma, pre_end, fit = _matched(
        frame, channel, kpi, start, salt, geo_col, date_col, earlier, adjust_for
    )
    treated = tuple(t for t, _ in pairs)
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    by_geo = pre[pre[geo_col].isin(treated)].pivot_table(
        index=date_col, columns=geo_col, values=channel, aggfunc="sum"
    )
    se = did_standard_error(sigma, len(table), periods)
    if fit is not None:  # the planned-spend estimate's error, as the read-out adds it
        se = math.hypot(se, fit.planned_miss * fit.own_effect * math.sqrt(periods))
    # what each treated geo stops
    removed = (by_geo.tail(periods).mean() * periods * planned_multiple).to_dict()
    return Design(
        name=f"geo-holdout-{channel}-{start.date()}",
        kind="geo",
        channel=channel,
        start=start,
        end=start + step * periods - pd.Timedelta(days=1),
        periods=periods,
        treated=treated,
        control=tuple(c for _, c in pairs),
        spend_removed=float(sum(removed.values())),
        standard_error=se,
        notes={
            "pairs": pairs,
            "pre_periods": len(table),
            "pair_sigma": sigma,
            "removed_by_geo": {g: float(v) for g, v in removed.items()},
            "pre_correlation": _pre_correlation(table, pairs),
            "pre_end": pre_end,
            "adjust_for": tuple(adjust_for),
            "treated_share": _treated_share(pre, treated, channel, periods, geo_col, date_col),
        },
    )


def geo_spend_up(
    frame: pd.DataFrame,
    channel: str,
    kpi: str,
    start: pd.Timestamp,
    periods: int,
    freq: str = "W",
    salt: str = "geo-spend-up",
    geo_col: str = "geo",
    date_col: str = "date",
    planned_multiple: float = 1.0,
    raise_share: float = 0.3,
    reference_periods: int = 52,
    earlier=(),
    adjust_for=(),
) -> Design:
    """Matched-market spend-up of ``channel``: the treated geos spend ``raise_share`` more
    than the plan (``planned_multiple`` x their recent spend), or their recent level when the
    plan spends nothing (a channel cut to zero). The same pairs and DiD as a holdout, so the
    same standard error; the lift is the KPI the added spend buys. ``earlier`` and
    ``adjust_for``: as for :func:`geo_holdout`."""
    pre, table, pairs, sigma, pre_end, _ = _matched(
        frame, channel, kpi, start, salt, geo_col, date_col, earlier, adjust_for
    )
    treated = tuple(t for t, _ in pairs)
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    by_geo = pre[pre[geo_col].isin(treated)].pivot_table(
        index=date_col, columns=geo_col, values=channel, aggfunc="sum"
    )
    level = _recent_level(by_geo, periods, reference_periods)
    per_period = level * planned_multiple * raise_share if planned_multiple > 0 else level
    added = (per_period * periods).to_dict()
    return Design(
        name=f"geo-spend-up-{channel}-{start.date()}",
        kind="geo",
        channel=channel,
        start=start,
        end=start + step * periods - pd.Timedelta(days=1),
        periods=periods,
        treated=treated,
        control=tuple(c for _, c in pairs),
        standard_error=did_standard_error(sigma, len(table), periods),
        notes={
            "pairs": pairs,
            "pre_periods": len(table),
            "pair_sigma": sigma,
            "added_by_geo": {g: float(v) for g, v in added.items()},
            "planned_multiple": planned_multiple,
            "raise_share": raise_share,
            "pre_correlation": _pre_correlation(table, pairs),
            "pre_end": pre_end,
            "adjust_for": tuple(adjust_for),
            "treated_share": _treated_share(
                pre, treated, channel, periods, geo_col, date_col, reference_periods
            ),
        },
        direction=SPEND_UP,
        spend_added=float(sum(added.values())),
    )


def _pulse_factor(on: tuple[bool, ...]) -> float:
    """The on-flight effect's standard error per unit of noise in the read-out's regression
    (:func:`experiments.readout.pulse_readout`: the window's KPI on a constant, a trend and
    the on indicator). Flights alternate, so the indicator leans on the trend: with one off
    and one on flight the two are nearly collinear, and the plain two-sample
    sqrt(1/n_on + 1/n_off) understated the read-out's error 2x (daily, 2 weeks)."""
    x = np.column_stack([np.ones(len(on)), np.arange(len(on)), np.asarray(on, dtype=float)])
    if len(on) < 4 or min(on) == max(on):
        return float("inf")
    return float(np.sqrt(np.linalg.inv(x.T @ x)[2, 2]))


def spend_pulse(
    kpi: pd.Series,
    spend: pd.Series,
    channel: str,
    start: pd.Timestamp,
    periods: int,
    flight_periods: int = 2,
    freq: str = "W",
    planned_multiple: float = 1.0,
) -> Design:
    """On/off flights of a national channel; ``kpi`` and ``spend`` are the history per period;
    off flights stop what the plan (``planned_multiple`` x recent spend) spends."""
    on = tuple(bool((i // flight_periods) % 2) for i in range(periods))
    n_off = periods - sum(on)
    sigma = float(kpi.diff().std(ddof=1) / np.sqrt(2))  # per-period noise, level changes removed
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    se_per_period = sigma * _pulse_factor(on)
    return Design(
        name=f"pulse-{channel}-{start.date()}",
        kind="pulse",
        channel=channel,
        start=start,
        end=start + step * periods - pd.Timedelta(days=1),
        periods=periods,
        treated=(NATIONAL,),
        spend_removed=float(spend.tail(periods).mean() * planned_multiple * n_off),
        standard_error=float(se_per_period * n_off),
        schedule=on,
        notes={"off_periods": n_off, "noise_sd": sigma},
    )


def spend_up_pulse(
    kpi: pd.Series,
    spend: pd.Series,
    channel: str,
    start: pd.Timestamp,
    periods: int,
    flight_periods: int = 2,
    freq: str = "W",
    planned_multiple: float = 1.0,
    raise_share: float = 0.3,
    reference_periods: int = 52,
) -> Design:
    """A national spend-up in flights: on flights spend ``raise_share`` more than the plan
    (``planned_multiple`` x recent spend), or the channel's recent level when the plan spends
    nothing; off flights spend the plan. The lift is the KPI the added spend buys in the on
    flights (on-minus-off per period times the on periods)."""
    on = tuple(bool((i // flight_periods) % 2) for i in range(periods))
    n_on = sum(on)
    sigma = float(kpi.diff().std(ddof=1) / np.sqrt(2))
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    se_per_period = sigma * _pulse_factor(on)
    level = _recent_level(spend, periods, reference_periods)
    per_on = level * planned_multiple * raise_share if planned_multiple > 0 else level
    return Design(
        name=f"spend-up-pulse-{channel}-{start.date()}",
        kind="pulse",
        channel=channel,
        start=start,
        end=start + step * periods - pd.Timedelta(days=1),
        periods=periods,
        treated=(NATIONAL,),
        standard_error=float(se_per_period * n_on),
        schedule=on,
        notes={
            "on_periods": n_on,
            "noise_sd": sigma,
            "added_per_on_period": float(per_on),
            "planned_multiple": planned_multiple,
            "raise_share": raise_share,
        },
        direction=SPEND_UP,
        spend_added=float(per_on * n_on),
    )


def audience_holdout(
    units: list[str],
    channel: str,
    start: pd.Timestamp,
    days: int,
    outcome_sd: float,
    share: float = 0.1,
    salt: str = "audience-test",
) -> Design:
    """A salted-hash ``share`` of ``units`` held out of ``channel`` for ``days`` days."""
    arms = assign_arms(units, {"holdout": share, "treated": 1 - share}, f"{salt}:{channel}")
    holdout = tuple(arms.index[arms == "holdout"])
    n_treated = len(units) - len(holdout)
    return Design(
        name=f"audience-holdout-{channel}-{start.date()}",
        kind="audience",
        channel=channel,
        start=start,
        end=start + pd.Timedelta(days=days - 1),
        periods=days,
        holdout=holdout,
        standard_error=audience_standard_error(outcome_sd, n_treated, len(holdout)),
        notes={"units": len(units), "n_treated": n_treated, "share": share},
    )


def contamination(design: Design, running: list[Design]) -> str:
    """Why ``design`` would be contaminated by a running test ('' when it is clean)."""
    for other in running:
        if other.read_until < design.start or design.read_until < other.start:
            continue
        read = "" if other.readout_end is None else f", read to {other.read_until.date()}"
        when = f"{other.name} ({other.start.date()} to {other.end.date()}{read})"
        if other.channel == design.channel:
            return f"overlaps {when}: same channel {design.channel} in the same window"
        national = NATIONAL in design.geos() | other.geos()
        shared = design.geos() & other.geos()
        if (national and design.geos() and other.geos()) or shared:
            where = "every geo (a national pulse)" if national else ", ".join(sorted(shared))
            return f"overlaps {when}: geos {where} in the same window"
        audience = set(design.holdout) & set(other.holdout)
        if audience:
            return f"overlaps {when}: {len(audience)} audience members held out by both"
    return ""


def refuse_contaminated(
    designs: list[Design], running: list[Design]
) -> tuple[list[Design], list[tuple[Design, str]]]:
    """Designs kept (in order, each checked against the running and those kept before it)
    and those refused with the reason."""
    kept, refused = [], []
    for d in designs:
        reason = contamination(d, [*running, *kept])
        if reason:
            refused.append((d, reason))
        else:
            kept.append(d)
    return kept, refused
