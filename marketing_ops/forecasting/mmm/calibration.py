"""Experiments (lift tests, holdouts, geo tests) as likelihood terms, each quality-checked first.

A test compares two spend arms of one channel over a window (optionally in one geo): a holdout
removes ``holdout_share`` of the observed spend, a lift test adds ``spend_delta`` (total over
the window, spread evenly). The arms differ only in ``start``..``end``; the read-out may go on
after it (``readout_end``, default ``end``), so the lift includes the change's carry-over after
the test, and may start later than the test (``lift_start``, default ``start``): one test can
report its lift during the test and its tail after it as two rows, the shape over time that
pins the channel's decay (one sum over both cannot tell a low decay with a strong curve from a
high decay with a weak one). The model's lift is the channel's contribution in the high arm
minus the low arm over the read-out's periods (``lift_start``..``readout_end``), with carry-over
from before; it enters the likelihood as ``lift ~ Normal(model lift, standard_error)``
(PyMC-Marketing's add_lift_test_measurements does the same on the saturation curve alone,
without carry-over).

A break in a channel's response (``breaks``: the first day of the new response per channel,
detected from data, e.g. :func:`marketing_ops.measurement.drift.response_breaks`) refuses
every row of that channel read before it in the break's effect segment: the model's lift
applies the effect level of the test's own periods, and when the break falls inside the
model's last segment that level is today's, so a lift measured before the break would pull
today's response back to what it was (docs/decisions.md, 2026-12-06).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import jax
import numpy as np
import pandas as pd
from numpyro.infer import Predictive
from scipy.stats import norm

from marketing_ops.forecasting.mmm.data import PERIOD_DAYS, MMMData
from marketing_ops.forecasting.mmm.model import ExperimentArrays, Priors, mmm_model, model_inputs
from marketing_ops.forecasting.mmm.transforms import lagged

if TYPE_CHECKING:
    from marketing_ops.forecasting.mmm.fit import MMMFit

__all__ = [
    "EXPERIMENT_COLUMNS",
    "Experiment",
    "ExperimentVerdict",
    "QualityRules",
    "calibrated_fit",
    "check_experiments",
    "experiment_arrays",
    "prior_fit",
    "read_experiments",
]

EXPERIMENT_COLUMNS = ("channel", "start", "end", "kind", "lift", "standard_error")
KINDS = ("holdout", "lift", "geo")


@dataclass(frozen=True)
class Experiment:
    channel: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str
    lift: float
    standard_error: float
    spend_delta: float = 0.0
    holdout_share: float = 0.0
    geo: str = ""
    name: str = ""
    # last day of the read-out; None: ``end`` (the change's carry-over after the test not read)
    readout_end: pd.Timestamp | None = None
    # first day of the read-out; None: ``start``. ``end`` + 1 with a ``readout_end``: the tail
    # alone (the carry-over after the test), reported beside a row read over the test's days
    lift_start: pd.Timestamp | None = None

    @property
    def read_until(self) -> pd.Timestamp:
        """Last day the lift was measured over (``readout_end``, else ``end``)."""
        return self.end if self.readout_end is None else self.readout_end

    @property
    def read_from(self) -> pd.Timestamp:
        """First day the lift was measured over (``lift_start``, else ``start``)."""
        return self.start if self.lift_start is None else self.lift_start

    @property
    def tail_only(self) -> bool:
        """Read only after the spend change ended: the change's carry-over alone."""
        return self.read_from > self.end

    def same_test(self, other: Experiment) -> bool:
        """Another row of the same test (channel, window, kind and geo): its lift over other
        days, e.g. the in-test row and the tail row."""
        return (self.channel, self.start, self.end, self.kind, self.geo or "") == (
            other.channel,
            other.start,
            other.end,
            other.kind,
            other.geo or "",
        )


@dataclass(frozen=True)
class ExperimentVerdict:
    experiment: Experiment
    accepted: bool
    reason: str
    prior_lift_median: float = float("nan")
    power: float = float("nan")


@dataclass(frozen=True)
class QualityRules:
    min_days: int = 14
    min_power: float = 0.2  # at the prior-predictive median effect, 5 % two-sided
    tail: float = 0.005  # reject a lift outside the prior predictive's central 99 %


def _number(raw, path, line, field, required=True) -> float:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)) or str(raw).strip() == "":
        if required:
            raise ValueError(f"{path}: line {line}: field '{field}' is empty; expected a number")
        return 0.0
    try:
        return float(raw)
    except ValueError:
        raise ValueError(
            f"{path}: line {line}: field '{field}' = {raw!r} is not a number"
        ) from None


def _date(raw, path, line, field) -> pd.Timestamp:
    try:
        return pd.Timestamp(str(raw))
    except ValueError:
        raise ValueError(
            f"{path}: line {line}: field '{field}' = {raw!r} is not a date (YYYY-MM-DD)"
        ) from None


def _optional_date(raw, path, line, field) -> pd.Timestamp | None:
    """An optional date column: None when absent or empty, else the date (or the error)."""
    if raw is None or str(raw).strip() == "":
        return None
    return _date(raw, path, line, field)


def _readout_end(raw, end: pd.Timestamp, path, line) -> pd.Timestamp | None:
    readout = _optional_date(raw, path, line, "readout_end")
    if readout is not None and readout < end:
        raise ValueError(
            f"{path}: line {line}: field 'readout_end' = {raw!r} is before the test's end "
            f"({end.date()}); the read-out cannot stop before the spend change does"
        )
    return readout


def _lift_start(raw, start: pd.Timestamp, until: pd.Timestamp, path, line) -> pd.Timestamp | None:
    first = _optional_date(raw, path, line, "lift_start")
    if first is None:
        return None
    if first < start:
        raise ValueError(
            f"{path}: line {line}: field 'lift_start' = {raw!r} is before the test's start "
            f"({start.date()}); the lift is read from the spend change on"
        )
    if first > until:
        raise ValueError(
            f"{path}: line {line}: field 'lift_start' = {raw!r} is after the read-out's end "
            f"({until.date()}, readout_end or else end)"
        )
    return first


def read_experiments(path: Path | str) -> list[Experiment]:
    """Experiments from the CSV format of docs/contracts.md; errors name the file, line and field."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in EXPERIMENT_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {missing}; expected {list(EXPERIMENT_COLUMNS)} "
            "plus spend_delta or holdout_share, optional readout_end, lift_start, geo and name"
        )
    out = []
    for n, row in enumerate(frame.to_dict("records"), start=2):
        kind = row["kind"].strip().lower()
        if kind not in KINDS:
            raise ValueError(
                f"{path}: line {n}: field 'kind' = {row['kind']!r}; expected one of {KINDS}"
            )
        start, end = _date(row["start"], path, n, "start"), _date(row["end"], path, n, "end")
        readout_end = _readout_end(row.get("readout_end"), end, path, n)
        until = end if readout_end is None else readout_end
        out.append(
            Experiment(
                channel=row["channel"].strip(),
                start=start,
                end=end,
                kind=kind,
                lift=_number(row["lift"], path, n, "lift"),
                standard_error=_number(row["standard_error"], path, n, "standard_error"),
                spend_delta=_number(row.get("spend_delta"), path, n, "spend_delta", required=False),
                holdout_share=_number(
                    row.get("holdout_share"), path, n, "holdout_share", required=False
                ),
                geo=str(row.get("geo", "")).strip(),
                name=str(row.get("name", "") or f"line {n}"),
                readout_end=readout_end,
                lift_start=_lift_start(row.get("lift_start"), start, until, path, n),
            )
        )
    return out


def _inside(first: pd.Timestamp, last: pd.Timestamp, data: MMMData) -> np.ndarray:
    """Indices of the periods wholly inside ``first``..``last``."""
    span = pd.Timedelta(days=PERIOD_DAYS[data.freq] - 1)
    return np.flatnonzero((data.dates >= first) & (data.dates + span <= last))


def _periods(exp: Experiment, data: MMMData) -> np.ndarray:
    """The periods whose spend the test changed."""
    return _inside(exp.start, exp.end, data)


def _readout(exp: Experiment, data: MMMData) -> np.ndarray:
    """The periods the lift was read out over (``lift_start``..``readout_end``): the test's,
    then its read-out after the end; or the read-out after the end alone (a tail row)."""
    return _inside(exp.read_from, exp.read_until, data)


def _arms(exp: Experiment, data: MMMData, geo: int, c: int, periods: np.ndarray):
    observed = data.spend[geo, :, c].copy()
    other = observed.copy()
    if exp.holdout_share > 0:
        other[periods] *= 1 - exp.holdout_share
        return observed, other
    other[periods] += exp.spend_delta / max(len(periods), 1)
    return other, observed


def experiment_arrays(
    experiments: list[Experiment], data: MMMData, spend_scale: np.ndarray
) -> ExperimentArrays:
    """Arrays for the likelihood; every experiment must already be valid for ``data``.

    The arms differ in the test's periods; the lift sums over the read-out's periods
    (``lift_start``..``readout_end``), whose lagged arms (``data.window`` periods back) carry the change's adstock into the read-out
    after the test (up to the lag window: the model's carry-over ends there too)."""
    width = max(len(_readout(e, data)) for e in experiments)
    e_n, lag = len(experiments), data.window
    out = {k: np.zeros((e_n, width, lag)) for k in ("high", "low")}
    periods, mask = np.zeros((e_n, width), dtype=int), np.zeros((e_n, width))
    ch, geo = np.zeros(e_n, dtype=int), np.zeros(e_n, dtype=int)
    for i, e in enumerate(experiments):
        ch[i] = data.channels.index(e.channel)
        geo[i] = data.geos.index(e.geo) if e.geo in data.geos else 0
        high, low = _arms(e, data, geo[i], ch[i], _periods(e, data))
        idx = _readout(e, data)
        for key, arm in (("high", high), ("low", low)):
            out[key][i, : len(idx)] = lagged(arm[:, None] / spend_scale[ch[i]], lag)[idx, :, 0]
        periods[i, : len(idx)], mask[i, : len(idx)] = idx, 1.0
    lift = np.array([e.lift for e in experiments])
    se = np.array([e.standard_error for e in experiments])
    return ExperimentArrays(ch, geo, periods, mask, out["high"], out["low"], lift, se)


def _static_problem(e: Experiment, data: MMMData, rules: QualityRules) -> str:
    if e.channel not in data.channels:
        return f"channel {e.channel!r} is not in the model ({', '.join(data.channels)})"
    if e.geo and len(data.geos) > 1 and e.geo not in data.geos:
        return f"geo {e.geo!r} is not in the data"
    if not np.isfinite(e.standard_error) or e.standard_error <= 0:
        return "standard error must be positive"
    if (e.end - e.start).days + 1 < rules.min_days:
        return f"too short: {(e.end - e.start).days + 1} days < {rules.min_days}"
    if len(_periods(e, data)) == 0:
        return "window outside the data's history"
    if e.read_until < e.end:
        return f"read-out ends ({e.read_until.date()}) before the test does ({e.end.date()})"
    if e.read_from < e.start:
        return f"lift read from {e.read_from.date()}, before the test starts ({e.start.date()})"
    if e.read_from > e.read_until:
        return (
            f"lift read from {e.read_from.date()}, after the read-out ends ({e.read_until.date()})"
        )
    # a window only partly inside the history would be compared with the model's lift over
    # the part inside: refused, not cut silently
    last_day = data.dates[-1] + pd.Timedelta(days=PERIOD_DAYS[data.freq] - 1)
    if e.read_until > last_day:
        what = "read-out" if e.readout_end is not None else "test"
        return (
            f"{what} runs past the data's history (to {e.read_until.date()}, "
            f"data ends {last_day.date()})"
        )
    if e.start < data.dates[0]:
        return (
            f"test starts before the data's history ({e.start.date()}, "
            f"data starts {data.dates[0].date()})"
        )
    if len(_readout(e, data)) == 0:
        return (
            f"no whole period between lift_start {e.read_from.date()} and the read-out's end "
            f"{e.read_until.date()}"
        )
    if e.holdout_share <= 0 and e.spend_delta <= 0:
        return "needs holdout_share > 0 or spend_delta > 0"
    c = data.channels.index(e.channel)
    if e.holdout_share > 0 and data.spend[:, _periods(e, data), c].sum() <= 0:
        return "holdout of a channel with no spend in the window"
    if e.lift < -2 * e.standard_error:
        return f"negative lift {e.lift:.4g} (SE {e.standard_error:.4g}): media effects are non-negative in the model"
    return ""


def _before_break(e: Experiment, breaks: dict, data: MMMData, segment: np.ndarray) -> str:
    """A row read (partly) before a break in its channel's response, in the same effect
    segment as the break's first period: the model applies one effect level to both, so the
    row would pin the level after the break to the one before it. (A row in an earlier
    segment than the break keeps its own level and stays.) The reason names the break."""
    brk = breaks.get(e.channel)
    if brk is None or e.read_from >= pd.Timestamp(brk.day):
        return ""
    after = np.flatnonzero(data.dates >= pd.Timestamp(brk.day))
    read = _readout(e, data)
    before = read[read < after[0]] if len(after) else read
    if len(after) and len(before) and segment[before[-1]] != segment[after[0]]:
        return ""
    return (
        f"read before a break in {e.channel}'s response inside the model's effect segment "
        f"(lift from {e.read_from.date()}, break {pd.Timestamp(brk.day).date()}: "
        f"{brk.detail}): it measured the response that was, not today's"
    )


def _overlap(e: Experiment, accepted: list[Experiment]) -> str:
    """Same channel and geo, read-out windows overlapping: one test's change lands in the
    other's read-out (or carries over into it). Rows of the same test are one change: they
    clash only when they read the same days (the lift counted twice)."""
    for other in accepted:
        if e.same_test(other):
            if other.read_from <= e.read_until and e.read_from <= other.read_until:
                return (
                    f"reads the same days as accepted row {other.name} of the same test "
                    f"({max(e.read_from, other.read_from).date()} to "
                    f"{min(e.read_until, other.read_until).date()}: counted twice)"
                )
            continue
        same = other.channel == e.channel and (other.geo or "") == (e.geo or "")
        if same and other.start <= e.read_until and e.start <= other.read_until:
            return f"overlaps accepted test {other.name} on {e.channel} (contaminated)"
    return ""


def _prior_lift(
    data: MMMData, priors: Priors, experiments: list[Experiment], draws: int, seed: int
):
    scale = model_inputs(data, priors).spend_scale
    x = model_inputs(data, priors, experiment_arrays(experiments, data, scale))
    pred = Predictive(mmm_model, num_samples=draws, return_sites=["lift"])
    return np.asarray(pred(jax.random.PRNGKey(seed), x, priors, observe=False)["lift"])  # (S, E)


def prior_fit(fit: MMMFit, draws: int = 400, seed: int = 0) -> MMMFit:
    """``fit`` with its samples replaced by draws of the model's priors (on the same inputs):
    the model before it saw the data. What :func:`check_experiments` judges a test's power
    against, so a test can be sized at design time to pass that check at read-out (the
    posterior functions of :mod:`.posterior` and :mod:`.budget` take it as they take a fit)."""
    pred = Predictive(mmm_model, num_samples=draws)
    raw = pred(jax.random.PRNGKey(seed), fit.inputs, fit.priors, observe=False)
    samples = {k: np.asarray(v) for k, v in raw.items() if k in fit.samples}
    return replace(fit, samples=samples)


def _evidence_problem(
    e: Experiment, prior: np.ndarray, rules: QualityRules, rng
) -> tuple[str, float, float]:
    median = float(np.median(prior))
    power = float(
        norm.sf(1.96 - median / e.standard_error) + norm.cdf(-1.96 - median / e.standard_error)
    )
    # Power is the test's: a tail row (read from after the spend change) is judged by the
    # prior predictive only. Its prior median is the prior's guess of the decay, so a low
    # prior decay would refuse exactly the measurement that corrects it.
    if power < rules.min_power and not e.tail_only:
        return (
            f"underpowered: power {power:.2f} < {rules.min_power} at the prior's median lift {median:.4g}",
            median,
            power,
        )
    predictive = prior + rng.normal(0, e.standard_error, size=prior.shape)
    lo, hi = np.quantile(predictive, [rules.tail, 1 - rules.tail])
    if not lo <= e.lift <= hi:
        return (
            (
                f"disagrees with the prior predictive: lift {e.lift:.4g} outside "
                f"[{lo:.4g}, {hi:.4g}] ({100 - 200 * rules.tail:.0f} %)"
            ),
            median,
            power,
        )
    return "", median, power


def check_experiments(
    experiments: list[Experiment],
    data: MMMData,
    priors: Priors | None = None,
    rules: QualityRules | None = None,
    draws: int = 500,
    seed: int = 0,
    breaks: dict | None = None,
) -> list[ExperimentVerdict]:
    """Accept or reject each experiment, with the reason; accepted ones are safe to fit on.
    ``breaks``: channel -> its response break (``.day``, ``.detail``); rows of that channel
    read before it in the effect segment that holds it are refused."""
    priors, rules = priors or Priors(), rules or QualityRules()
    verdicts: dict[int, ExperimentVerdict] = {}
    valid = []
    segment = model_inputs(data, priors).segment
    if not priors.time_varying:
        segment = np.zeros_like(segment)
    for i, e in enumerate(experiments):
        problem = _static_problem(e, data, rules) or _before_break(e, breaks or {}, data, segment)
        if problem:
            verdicts[i] = ExperimentVerdict(e, False, problem)
        else:
            valid.append(i)
    prior = (
        _prior_lift(data, priors, [experiments[i] for i in valid], draws, seed) if valid else None
    )
    rng, accepted = np.random.default_rng(seed), []
    # most precise first, so of two overlapping tests the sharper one is kept
    for j, i in sorted(enumerate(valid), key=lambda ji: experiments[ji[1]].standard_error):
        e = experiments[i]
        problem, median, power = _evidence_problem(e, prior[:, j], rules, rng)
        problem = problem or _overlap(e, accepted)
        if not problem:
            accepted.append(e)
        verdicts[i] = ExperimentVerdict(e, not problem, problem or "accepted", median, power)
    return [verdicts[i] for i in range(len(experiments))]


def calibrated_fit(
    data: MMMData,
    experiments: list[Experiment],
    priors: Priors | None = None,
    sampler=None,
    rules: QualityRules | None = None,
    breaks: dict | None = None,
):
    """Check the experiments (``breaks``: see :func:`check_experiments`), then fit with the
    accepted ones as likelihood terms.

    Returns ``(fit, verdicts)``; the caller records each verdict (the decision ledger)."""
    from marketing_ops.forecasting.mmm.fit import fit_mmm  # fit imports nothing from here

    priors = priors or Priors()
    verdicts = check_experiments(experiments, data, priors, rules, breaks=breaks)
    accepted = [v.experiment for v in verdicts if v.accepted]
    arrays = (
        experiment_arrays(accepted, data, model_inputs(data, priors).spend_scale)
        if accepted
        else None
    )
    return fit_mmm(data, priors, sampler, arrays), verdicts
