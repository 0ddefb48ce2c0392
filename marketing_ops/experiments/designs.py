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

Contamination: two tests running in the same window contaminate each other when they share a
geo, an audience member, or the channel (a pulse is national, so it shares every geo). A test
whose tail is read after it (``readout_end``, the carry-over of its spend change) runs until
then: a test started in its geos before that would land in its tail.
"""

from __future__ import annotations

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
    "NATIONAL",
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


def _matched(frame, channel, kpi, start, salt, geo_col, date_col, earlier=()):
    """(pre-period, KPI table, pairs, pair sigma, pre-period end) of a matched-market design:
    the pairs from the whole history before ``start``, the statistics the read-out will check
    (market match, pair noise, periods) from the history before :func:`pre_period_end`."""
    pre = frame[pd.to_datetime(frame[date_col]) < start]
    table = pre.pivot_table(index=date_col, columns=geo_col, values=kpi, aggfunc="sum")
    table.index = pd.to_datetime(table.index)
    pairs = match_markets(table, f"{salt}:{channel}:{start.date()}")
    if not pairs:
        raise ValueError("a geo test needs at least two geos")
    end = pre_period_end(start, [g for pair in pairs for g in pair], earlier)
    table = table[table.index < end]
    return pre, table, pairs, _pair_sigma(table, pairs), end


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
) -> Design:
    """Matched-market holdout of ``channel`` starting at ``start``, fitted on the history before
    it; the treated geos stop what the plan (``planned_multiple`` x recent spend) spends there.
    ``earlier``: the designs of tests run or running (they end the pre-period,
    :func:`pre_period_end`)."""
    pre, table, pairs, sigma, pre_end = _matched(
        frame, channel, kpi, start, salt, geo_col, date_col, earlier
    )
    treated = tuple(t for t, _ in pairs)
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    by_geo = pre[pre[geo_col].isin(treated)].pivot_table(
        index=date_col, columns=geo_col, values=channel, aggfunc="sum"
    )
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
        standard_error=did_standard_error(sigma, len(table), periods),
        notes={
            "pairs": pairs,
            "pre_periods": len(table),
            "pair_sigma": sigma,
            "removed_by_geo": {g: float(v) for g, v in removed.items()},
            "pre_correlation": _pre_correlation(table, pairs),
            "pre_end": pre_end,
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
) -> Design:
    """Matched-market spend-up of ``channel``: the treated geos spend ``raise_share`` more
    than the plan (``planned_multiple`` x their recent spend), or their recent level when the
    plan spends nothing (a channel cut to zero). The same pairs and DiD as a holdout, so the
    same standard error; the lift is the KPI the added spend buys. ``earlier``: as for
    :func:`geo_holdout`."""
    pre, table, pairs, sigma, pre_end = _matched(
        frame, channel, kpi, start, salt, geo_col, date_col, earlier
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
