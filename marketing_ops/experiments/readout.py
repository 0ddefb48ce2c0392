"""Read a finished test: its lift with an interval, its quality, and its row for the model.

- geo holdout: difference in differences of the treated geos' KPI against their matched
  controls (each control scaled to its pair's pre-period level); the holdout's lift is minus
  the treated geos' change over the window, a geo spend-up's the change itself. With the
  design's ``notes["adjust_for"]`` (the model's channels) the difference is first adjusted
  for every channel's spend (:func:`experiments.designs.spend_covariates`; the module's
  docstring there gives why and what it measured); a design with
  a ``readout_end`` (``testing.tail_weeks``) is read again after it: the same difference over
  the days after the end, the carry-over alone, as a second row (:func:`geo_tail_readout`);
- spend pulse: the KPI over the window regressed on a trend and the on-flight indicator; the
  lift is the on-minus-off effect times the off periods (a spend-up pulse: times the raised
  on periods; carry-over into off flights biases it
  toward zero, so a pulse under-reads a long-carry-over channel: the calibration's prior check
  catches a gross case);
- audience holdout: treated minus held-out contacts' mean outcome with the *always-valid*
  interval of :func:`measurement.experiments.compare_arms` (people look at running tests),
  times the treated contacts; a sample-ratio mismatch rejects it.

A read-out that passes its own checks becomes a calibration :class:`Experiment` (the rows of
docs/contracts.md's experiments CSV): the data already hold the test's lower spend, so a
holdout is a ``spend_delta`` test whose high arm adds back the spend removed. A spend-up's
data hold the *higher* spend, and ``spend_delta`` would add the delta on top of it (the
response one step further up the curve), so it is written as a ``holdout_share`` of the
window's observed spend: the low arm removes the share the test added (exact for a channel
the plan had cut to zero, where the share is 1; otherwise the removal is spread in proportion
to each period's spend). Then the model's own :func:`check_experiments` decides (power,
agreement with the prior predictive, overlap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from marketing_ops.experiments.designs import (
    COVARIATE_LAGS,
    Design,
    control_ratio,
    fit_adjustment,
    geo_table,
    spend_covariates,
)
from marketing_ops.forecasting.mmm import (
    Experiment,
    ExperimentVerdict,
    MMMData,
    Priors,
    QualityRules,
    check_experiments,
)
from marketing_ops.forecasting.mmm.data import PERIOD_DAYS
from marketing_ops.measurement.experiments import compare_arms, sample_ratio_mismatch

__all__ = [
    "ReadoutRules",
    "Readout",
    "audience_readout",
    "calibration_input",
    "experiment_rows",
    "geo_readout",
    "geo_tail_readout",
    "pulse_readout",
    "readout_rows",
    "to_experiment",
]

Z = stats.norm.ppf(0.975)


@dataclass(frozen=True)
class ReadoutRules:
    min_pre_periods: int = 8
    min_pre_correlation: float = 0.5  # matched markets must move together before the test
    max_relative_se: float = 1.0  # SE above |lift|: the test says nothing either way


@dataclass(frozen=True)
class Readout:
    design: str
    channel: str
    kind: str
    lift: float  # KPI the channel produced over the window in the held-out units
    standard_error: float
    problems: tuple[str, ...] = ()
    details: dict = field(default_factory=dict)
    # a tail read-out (:func:`geo_tail_readout`): the days it read, after the test's end
    read_from: pd.Timestamp | None = None
    read_until: pd.Timestamp | None = None

    @property
    def tail(self) -> bool:
        return self.read_from is not None

    @property
    def interval(self) -> tuple[float, float]:
        return self.lift - Z * self.standard_error, self.lift + Z * self.standard_error


def _window(frame: pd.DataFrame, design: Design, date_col: str):
    dates = pd.to_datetime(frame[date_col])
    return frame[dates < design.start], frame[(dates >= design.start) & (dates <= design.end)]


def _quality(lift: float, se: float, rules: ReadoutRules, extra: list[str]) -> tuple[str, ...]:
    problems = list(extra)
    if not math.isfinite(se) or se <= 0:
        problems.append("no standard error (too few periods or units)")
    elif se > rules.max_relative_se * max(abs(lift), 1e-12):
        problems.append(f"inconclusive: SE {se:.4g} above |lift| {abs(lift):.4g}")
    return tuple(problems)


def geo_readout(
    frame: pd.DataFrame,
    design: Design,
    kpi: str,
    rules: ReadoutRules | None = None,
    geo_col: str = "geo",
    date_col: str = "date",
    pre_end: pd.Timestamp | None = None,
) -> Readout:
    """Difference in differences of a geo holdout (``frame``: one row per date and geo).

    The pre-period runs up to the design's own ``notes["pre_end"]``
    (:func:`experiments.designs.pre_period_end`: before any earlier test in these geos, whose
    spend change would otherwise leak into the baseline; the test's start for a design
    without it), or to ``pre_end`` when that is earlier. So the market match checked here is
    the one the design was proposed on."""
    return _did(frame, design, kpi, rules, geo_col, date_col, pre_end, tail=False)


def geo_tail_readout(
    frame: pd.DataFrame,
    design: Design,
    kpi: str,
    rules: ReadoutRules | None = None,
    geo_col: str = "geo",
    date_col: str = "date",
    pre_end: pd.Timestamp | None = None,
) -> Readout:
    """The tail of a geo test (``design.readout_end`` set): the same difference in differences
    over the days after its end up to ``readout_end``, when both arms spend the plan again and
    what is left is the carry-over of the test's spend change. It becomes a calibration row of
    its own beside the in-test row (``lift_start`` after the end), the shape over time that
    pins the channel's decay. A tail near zero is an answer (the decay is short), so it is not
    refused as inconclusive; the market match is the in-test row's."""
    if design.readout_end is None or design.readout_end <= design.end:
        raise ValueError(f"{design.name}: no tail to read (readout_end not after the end)")
    return _did(frame, design, kpi, rules, geo_col, date_col, pre_end, tail=True)


def _did(frame, design, kpi, rules, geo_col, date_col, pre_end, tail: bool) -> Readout:
    rules = rules or ReadoutRules()
    table = frame.pivot_table(index=date_col, columns=geo_col, values=kpi, aggfunc="sum")
    table.index = pd.to_datetime(table.index)
    treated = table[list(design.treated)].sum(axis=1)
    control = table[list(design.control)].sum(axis=1)
    ends = [design.start, design.notes.get("pre_end"), pre_end]
    pre = table.index < min(pd.Timestamp(e) for e in ends if e is not None)
    first, last = design.start, design.end
    if tail:  # the weeks after the test, both arms back on the plan
        first, last = design.end + pd.Timedelta(days=1), design.read_until
    post = (table.index >= first) & (table.index <= last)
    scale = treated[pre].mean() / control[pre].mean()
    diff = treated - scale * control
    n_pre, n_post = int(pre.sum()), int(post.sum())
    effect = diff[post].mean() - diff[pre].mean()
    se = diff[pre].std(ddof=1) * math.sqrt(1 / max(n_pre, 1) + 1 / max(n_post, 1)) * n_post
    adjust = tuple(c for c in design.notes.get("adjust_for") or () if c in frame.columns)
    adjusted = _adjusted(frame, design, diff, scale, adjust, pre, post, geo_col, date_col)
    if adjusted is not None:  # what the spend covariates leave in the window
        effect, se = adjusted
    corr = float(np.corrcoef(treated[pre], control[pre])[0, 1]) if n_pre > 2 else math.nan
    extra = []
    if n_pre < rules.min_pre_periods:
        extra.append(f"pre-period too short: {n_pre} periods < {rules.min_pre_periods}")
    if not corr >= rules.min_pre_correlation:
        extra.append(
            f"poor market match: pre-period correlation {corr:.2f} < {rules.min_pre_correlation}"
        )
    if tail and n_post == 0:
        extra.append(f"no period read between {first.date()} and {last.date()}")
    lift = effect * n_post if design.spend_up else -effect * n_post
    problems = _quality(lift, se, rules, extra)
    moved = _spend_moved(frame, design, table.index, pre, geo_col, date_col)
    if tail:  # a small tail is a finding, not an inconclusive test
        problems = tuple(p for p in problems if not p.startswith("inconclusive"))
    return Readout(
        design.name,
        design.channel,
        "geo",
        float(lift),
        float(se),
        problems,
        {
            "pre_periods": n_pre,
            "test_periods": n_post,
            "pre_correlation": corr,
            "adjusted_for": list(adjust) if adjusted is not None else [],
            **({"spend_moved": moved} if moved is not None else {}),
        },
        read_from=first if tail else None,
        read_until=last if tail else None,
    )


def _adjusted(frame, design, diff, scale, adjust, pre, post, geo_col, date_col):
    """(effect per period, SE of the window's total) of the difference adjusted for spend
    covariates (:func:`experiments.designs.fit_adjustment`); None without covariates or with
    too few pre-periods for them. A holdout's own channel in its window is only estimated
    (:func:`_planned`); that estimate's error, through the regression's coefficients on the
    channel, is added to the SE."""
    if not adjust or not post.any():
        return None
    index = diff.index
    window = (index >= design.start) & (index <= design.end)
    planned, planned_sd = _planned(frame, design, index, window, pre, geo_col, date_col)
    x = spend_covariates(
        frame,
        design.treated,
        design.control,
        scale,
        adjust,
        index,
        geo_col,
        date_col,
        counterfactual=(design.channel, planned),
    )
    fit = fit_adjustment(diff.to_numpy(), x, pre)
    if fit is None:
        return None
    effect, per_period = fit.effect(diff[post].to_numpy(), x[post])
    n_post = int(post.sum())
    var = (per_period * n_post) ** 2
    if planned_sd > 0 and design.channel in adjust:
        own = 1 + adjust.index(design.channel) * (COVARIATE_LAGS + 1)
        beta = fit.beta[own : own + COVARIATE_LAGS + 1]
        # each estimated period t reaches the read-out's rows t + lag with weight beta[lag]
        weight = [
            sum(b for lag, b in enumerate(beta) if t + lag < len(post) and post[t + lag])
            for t in np.flatnonzero(window)
        ]
        var += planned_sd**2 * float(np.sum(np.square(weight)))
    return effect, math.sqrt(var)


def _spend_moved(frame, design: Design, index, pre, geo_col, date_col) -> float | None:
    """EUR a holdout kept from its treated geos over its days, as the plan would have spent
    it there (:func:`_planned`: the controls' spend at the treated geos' pre-period ratio,
    which follows the plan's weekly changes); None without the channel's spend in ``frame``
    or for a spend-up (what it added is as designed). The plan is re-decided every period
    while a test runs: a design's ``spend_removed`` is what the plan of its first day would
    have spent, not what the weeks after it did."""
    if design.spend_up or design.channel not in frame.columns:
        return None
    window = (index >= design.start) & (index <= design.end)
    planned, _ = _planned(frame, design, index, window, pre, geo_col, date_col)
    return float(planned.sum()) if len(planned) else None


def _planned(frame, design: Design, index, window, pre, geo_col, date_col):
    """The test's channel as the plan would have spent it in the treated geos over the test's
    window (the counterfactual of its spend covariate), and that estimate's error sd per
    period: a spend-up's observed spend minus what it added (exact); a holdout's (nothing
    observed) the controls' spend at the treated geos' ratio to them over the pre-period
    (``pre``, as the design computed it), which follows the plan's flights week by week, its
    error the pre-period's sd of that ratio's misses."""
    if design.channel not in frame.columns or not window.any():
        return pd.Series(dtype=float), 0.0
    spend = geo_table(frame, design.channel, index, geo_col, date_col)
    treated = spend[list(design.treated)].sum(axis=1)
    if design.spend_up:
        added = design.notes.get("added_by_geo") or {}
        per_period = sum(added.get(g, 0.0) for g in design.treated) / max(design.periods, 1)
        return treated[window] - per_period, 0.0
    control = spend[list(design.control)].sum(axis=1)
    ratio, miss = control_ratio(treated[pre], control[pre])
    return control[window] * ratio, miss


def pulse_readout(kpi: pd.Series, design: Design, rules: ReadoutRules | None = None) -> Readout:
    """On/off flights: OLS of the window's KPI on a trend and the on indicator."""
    rules = rules or ReadoutRules()
    window = kpi[(kpi.index >= design.start) & (kpi.index <= design.end)].to_numpy(float)
    on = np.asarray(design.schedule[: len(window)], dtype=float)
    x = np.column_stack([np.ones(len(window)), np.arange(len(window)), on])
    coef, *_ = np.linalg.lstsq(x, window, rcond=None)
    dof = len(window) - x.shape[1]
    problems = []
    if dof < 1 or on.min() == on.max():
        return Readout(
            design.name, design.channel, "pulse", math.nan, math.nan, ("too few flights",)
        )
    resid = window - x @ coef
    cov = (resid @ resid / dof) * np.linalg.inv(x.T @ x)
    n_off, n_on = int((on == 0).sum()), int((on == 1).sum())
    # a holdout pulse loses the effect in its off periods; a spend-up gains it in its on ones
    n = n_on if design.spend_up else n_off
    lift, se = coef[2] * n, math.sqrt(cov[2, 2]) * n
    return Readout(
        design.name,
        design.channel,
        "pulse",
        float(lift),
        float(se),
        _quality(lift, se, rules, problems),
        {"off_periods": n_off, "on_periods": n_on, "dof": dof},
    )


def audience_readout(
    treated: np.ndarray,
    holdout: np.ndarray,
    design: Design,
    rules: ReadoutRules | None = None,
) -> Readout:
    """Treated minus held-out mean outcome per contact (always-valid interval) x treated."""
    rules = rules or ReadoutRules()
    share = design.notes.get("share", len(design.holdout) / max(design.notes.get("units", 1), 1))
    srm = sample_ratio_mismatch(
        {"holdout": len(holdout), "treated": len(treated)},
        {"holdout": share, "treated": 1 - share},
    )
    cmp = compare_arms(treated, holdout, ("treated", "holdout"))
    n = len(treated)
    se = (cmp.always_valid_upper - cmp.always_valid_lower) / (2 * Z) * n
    lift = cmp.difference * n
    extra = [f"sample ratio mismatch: {srm}"] if srm.mismatch else []
    return Readout(
        design.name,
        design.channel,
        "audience",
        float(lift),
        float(se),
        _quality(lift, se, rules, extra),
        {"always_valid_p": cmp.always_valid_p, "srm_p": srm.p_value},
    )


def _window_spend(data: MMMData, design: Design, geo: str) -> float:
    """The channel's observed spend in the test's window (one geo's, or all geos')."""
    span = pd.Timedelta(days=PERIOD_DAYS[data.freq] - 1)
    inside = (data.dates >= design.start) & (data.dates + span <= design.end)
    c = data.channels.index(design.channel)
    rows = [data.geos.index(geo)] if geo and geo in data.geos else slice(None)
    return float(data.spend[rows][:, inside, c].sum())


def to_experiment(
    readout: Readout, design: Design, geos: tuple[str, ...] = (), data: MMMData | None = None
) -> Experiment:
    """The calibration row (a tail read-out's reads only the days after the test,
    ``lift_start``..``readout_end``; its arms are the test's). A holdout: the data hold the
    test's lower spend, so the high arm adds it back (``spend_delta``). A spend-up: the data hold the higher spend, so the low arm
    removes the added share of the window's observed spend (``holdout_share``; needs ``data``).

    A geo model (``geos`` with more than one) takes a one-geo test in that geo; a test over
    several geos is a national experiment and needs a national fit."""
    geo = ""
    if len(geos) > 1:
        if len(design.treated) != 1:
            raise ValueError(
                f"{design.name}: {len(design.treated)} treated geos; a geo model takes one-geo "
                "tests (fit nationally to use it)"
            )
        geo = design.treated[0]
    # a geo holdout: what it kept from its geos as read from their controls (the plan moves
    # while it runs); else as designed
    arms = {"spend_delta": readout.details.get("spend_moved", design.spend_removed)}
    if design.spend_up:
        if data is None:
            raise ValueError(f"{design.name}: a spend-up's calibration row needs the data")
        observed = _window_spend(data, design, geo)
        share = min(design.spend_added / observed, 1.0) if observed > 0 else 0.0
        arms = {"holdout_share": share}
    return Experiment(
        channel=readout.channel,
        start=design.start,
        end=design.end,
        kind="geo" if design.kind == "geo" else "lift" if design.kind == "pulse" else "holdout",
        lift=readout.lift,
        standard_error=readout.standard_error,
        geo=geo,
        name=design.name + ("-tail" if readout.tail else ""),
        readout_end=readout.read_until,
        lift_start=readout.read_from,
        **arms,
    )


def readout_rows(
    readouts: list[Readout], designs: list[Design], data: MMMData
) -> list[tuple[Experiment, str]]:
    """Each read-out's calibration row and, when it failed its own quality checks, why ('':
    it goes on to the model's :func:`check_experiments`)."""
    by_name = {d.name: d for d in designs}
    return [
        (to_experiment(r, by_name[r.design], data.geos, data), "; ".join(r.problems))
        for r in readouts
    ]


def calibration_input(
    readouts: list[Readout],
    designs: list[Design],
    data: MMMData,
    priors: Priors | None = None,
    rules: QualityRules | None = None,
) -> tuple[list[Experiment], list[ExperimentVerdict]]:
    """Experiments safe to fit on, and a verdict for every read-out (for the ledger).

    A read-out that fails its own quality checks is rejected with those reasons; the rest go
    through the model's :func:`check_experiments`."""
    rows = readout_rows(readouts, designs, data)
    rejected = {i: ExperimentVerdict(e, False, why) for i, (e, why) in enumerate(rows) if why}
    clean = [i for i in range(len(rows)) if i not in rejected]
    checked = check_experiments([rows[i][0] for i in clean], data, priors, rules) if clean else []
    verdicts = {**rejected, **dict(zip(clean, checked, strict=True))}
    ordered = [verdicts[i] for i in range(len(rows))]
    return [v.experiment for v in ordered if v.accepted], ordered


def experiment_rows(experiments: list[Experiment]) -> pd.DataFrame:
    """Experiments as the docs/contracts.md CSV (what :func:`read_experiments` reads back)."""
    return pd.DataFrame(
        [
            {
                "channel": e.channel,
                "start": e.start.date().isoformat(),
                "end": e.end.date().isoformat(),
                "kind": e.kind,
                "lift": e.lift,
                "standard_error": e.standard_error,
                "spend_delta": e.spend_delta or "",
                "holdout_share": e.holdout_share or "",
                "geo": e.geo,
                "name": e.name,
                "readout_end": "" if e.readout_end is None else e.readout_end.date().isoformat(),
                "lift_start": "" if e.lift_start is None else e.lift_start.date().isoformat(),
            }
            for e in experiments
        ]
    )
