"""Tests governed like any decision: proposed by value under the testing policy, approved,
executed per geo through the connectors, and recorded on the decision ledger.

A proposed test is a row of the decision batch (the export contract's columns, action type
``incrementality_test``) whose rationale says why this channel (what knowing it better is
worth), what it costs (profit forgone against the plan), its power and its design; ``explain``
renders it like any other action. Its status follows the budget policy's autonomy level: with
``approve_above_threshold`` a test whose expected cost is above ``testing.approval_above_eur``
waits for a named approver, and with ``testing.every_test_waits_for_approval`` (the default)
every test waits, at autonomy ``full`` too. Execution turns an approved test into one payload
per treated geo (the budget change there: minus what a holdout stops, plus what a spend-up
adds), one per audience holdout (the holdout list) or one per pulse (the on/off schedule),
each delivered once through the channel's connector.

Candidates per channel: a holdout (spend removed below the plan) and a spend-up (spend added
above it), each at the plan's level; a channel the plan cuts to zero gets only spend-ups
(nothing to hold out). The best of them by merit is proposed: its value of information less
its expected cost when positive (a test the model prices as paying for itself gets no credit
for that: the price is the belief under test).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from marketing_ops.decisioning import DECISION_COLUMNS, PolicySet, status_for
from marketing_ops.decisioning.batch.status import level_and_source
from marketing_ops.decisioning.ledger.decisions import append_entry
from marketing_ops.decisioning.policy import TestingPolicy
from marketing_ops.execution import Connector, action_payload
from marketing_ops.experiments.designs import (
    Design,
    contamination,
    geo_holdout,
    geo_spend_up,
    spend_pulse,
    spend_up_pulse,
)
from marketing_ops.experiments.power import power
from marketing_ops.experiments.readout import ReadoutRules
from marketing_ops.experiments.value import (
    InformationValue,
    lift_draws,
    profit_draws,
    reference_spend,
    value_of_test,
)
from marketing_ops.forecasting.mmm import MMMFit, QualityRules
from marketing_ops.forecasting.mmm.calibration import prior_fit

__all__ = [
    "ACTION_TYPE",
    "Proposal",
    "best_design",
    "execute_experiments",
    "propose_tests",
    "record_experiments",
    "record_verdicts",
    "experiment_actions",
    "experiment_payloads",
]

ACTION_TYPE = "incrementality_test"


@dataclass(frozen=True)
class Proposal:
    design: Design
    value: InformationValue


def periods_per_week(freq: str) -> int:
    """Model periods in a week (the testing policy counts weeks; a daily model, days)."""
    return 7 if freq == "D" else 1


def _candidates(
    fit: MMMFit,
    frame: pd.DataFrame,
    channel: str,
    start: pd.Timestamp,
    policy: TestingPolicy,
    planned: float | None = None,
    earlier: list[Design] = (),
) -> list[Design]:
    """Holdouts and spend-ups of ``channel`` at the plan's level: ``planned`` is its national
    spend per period over the test (None: the history's level). A channel planned at zero
    gets spend-ups only. ``earlier``: designs of tests run or running (a geo design's
    pre-period ends before them)."""
    weeks = sorted({policy.min_weeks, (policy.min_weeks + policy.max_weeks) // 2, policy.max_weeks})
    freq, per_week = fit.data.freq, periods_per_week(fit.data.freq)
    now = reference_spend(fit, channel)
    multiple = 1.0 if planned is None else (planned / now if now > 0 else 0.0)
    base = now * multiple
    up = {"planned_multiple": multiple, "raise_share": policy.spend_up_share}
    if "geo" in frame.columns and frame["geo"].nunique() > 1:
        open_geos = frame[~frame["geo"].isin(policy.locked_geos)]
        # the read-out adjusts for every channel's spend (designs: spend covariates)
        geo = {"earlier": earlier, "adjust_for": tuple(fit.data.channels)}
        make = [(geo_spend_up, {**up, **geo})] + (
            [(geo_holdout, {"planned_multiple": multiple, **geo})] * (multiple > 0)
        )
        designs = [
            f(open_geos, channel, fit.data.kpi_name, start, w * per_week, freq, **kw)
            for f, kw in make
            for w in weeks
        ]
    else:
        kpi = pd.Series(fit.data.kpi.sum(axis=0), index=fit.data.dates)
        spend = pd.Series(fit.data.spend[:, :, fit.data.channels.index(channel)].sum(axis=0))
        # flights of two weeks on a weekly model, one week on a daily one; two off and two on
        # flights at least: with one of each the on-minus-off effect leans on the trend, and
        # placebo pulses on daily worlds read 1.5x their own standard error
        flight = 2 if per_week == 1 else per_week
        make = [(spend_up_pulse, up)] + (
            [(spend_pulse, {"planned_multiple": multiple})] * (multiple > 0)
        )
        designs = [
            f(kpi, spend, channel, start, w * per_week, flight, freq, **kw)
            for f, kw in make
            for w in weeks
            if w * per_week >= 4 * flight
        ]
    # a geo test's tail (its carry-over after the end) is read for testing.tail_weeks
    tail = pd.Timedelta(weeks=policy.tail_weeks)
    # a design whose spend change is zero tests nothing (no spend in the history either)
    return [
        replace(d, base_spend=base, readout_end=d.end + tail if tail and d.kind == "geo" else None)
        for d in designs
        if (d.spend_added if d.spend_up else d.spend_removed) > 0
    ]


def at_stake(p: Proposal) -> float:
    """What a test holds of the testing budget: a holdout its expected profit forgone (it
    spends less than the plan, so the period's total budget holds); a spend-up the whole
    spend it adds, which runs on top of the period's total budget, so that spend is bounded
    by a budget a person wrote whatever the model expects it to earn back."""
    if p.design.spend_up:
        return max(p.design.spend_added, p.value.cost, 0.0)
    return max(p.value.cost, 0.0)


def _read_out_rejected(d: Design) -> str:
    """Why the read-out would reject ``d`` ('' when it would not): for its markets, matched
    markets that did not move together before the test (``ReadoutRules.min_pre_correlation``)
    or too short a pre-period (``min_pre_periods``), on the pre-period the read-out will use
    (before any earlier test in these geos, ``designs.pre_period_end``); for the model's
    calibration check (``check_experiments``), power under ``QualityRules.min_power`` at the
    *prior's* median lift (``notes["calibration_power"]``, set by :func:`propose_tests`),
    where the design's own power is at the posterior's expected lift. The design knows all
    of it when it is made, and an answer that cannot be used is worth nothing."""
    why = []
    if d.kind == "geo":
        rules = ReadoutRules()
        since = d.notes.get("pre_end")
        before = f" (history before {pd.Timestamp(since).date()})" if since is not None else ""
        n_pre = d.notes.get("pre_periods")
        if n_pre is not None and n_pre < rules.min_pre_periods:
            why.append(f"pre-period too short: {n_pre} periods < {rules.min_pre_periods}{before}")
        corr = d.notes.get("pre_correlation")
        if corr is not None and not corr >= rules.min_pre_correlation:
            why.append(
                f"poor market match: pre-period correlation {corr:.2f} < "
                f"{rules.min_pre_correlation}{before}"
            )
    calibration = d.notes.get("calibration_power")
    least = QualityRules().min_power
    if calibration is not None and calibration < least:
        why.append(
            f"underpowered for the model's calibration check: power {calibration:.2f} < "
            f"{least} at the prior's median lift {d.notes['prior_lift_median']:,.0f} "
            f"(SE {d.standard_error:,.0f})"
        )
    return "; ".join(why) + ": its read-out would be rejected" if why else ""


def calibration_power(prior: MMMFit, d: Design, n_draws: int = 400) -> Design:
    """``d`` with ``notes["prior_lift_median"]`` (the lift the model's priors expect of it,
    ``prior`` from :func:`~marketing_ops.forecasting.mmm.calibration.prior_fit`) and
    ``notes["calibration_power"]`` (the power at that lift with the design's standard error,
    as ``check_experiments`` computes it from the read-out's)."""
    median = float(np.median(lift_draws(prior, d, n_draws)))
    notes = {
        **d.notes,
        "prior_lift_median": median,
        "calibration_power": power(abs(median), d.standard_error),
    }
    return replace(d, notes=notes)


def _not_worth_learning(p: Proposal, policy: TestingPolicy) -> str:
    """Why ``p``'s answer is not worth a test ('' when it is): its read-out would be rejected
    (for its markets, or by the model's calibration check), or the model expects (next to)
    nothing from it — whatever it is priced at, such a test is a budget move (the budget
    policy's job, under its total)."""
    rejected = _read_out_rejected(p.design)
    if rejected:
        return rejected
    if p.value.evsi <= policy.min_value_of_information_eur:
        return (
            f"worth nothing to learn: value of information {p.value.evsi:,.0f} EUR <= "
            f"testing.min_value_of_information_eur {policy.min_value_of_information_eur:,.0f}"
        )
    moved = p.design.spend_added if p.design.spend_up else p.design.spend_removed
    if p.value.evsi < policy.min_value_share_of_spend * moved:
        return (
            f"worth too little to learn for the spend it moves: value of information "
            f"{p.value.evsi:,.0f} EUR < testing.min_value_share_of_spend "
            f"{policy.min_value_share_of_spend:g} x {moved:,.0f} EUR "
            f"{'added' if p.design.spend_up else 'not spent'}"
        )
    return ""


def _why_not(p: Proposal, policy: TestingPolicy, committed: float, kept: list[Design]) -> str:
    if p.design.power < policy.min_power:
        return f"power {p.design.power:.2f} < testing.min_power {policy.min_power}"
    uninformative = _not_worth_learning(p, policy)
    if uninformative:
        return uninformative
    if p.value.net <= policy.min_net_value_eur:
        return (
            f"worth {p.value.evsi:,.0f} EUR, costs {p.value.cost:,.0f} EUR: net "
            f"{p.value.net:,.0f} <= testing.min_net_value_eur {policy.min_net_value_eur:,.0f}"
        )
    if committed + at_stake(p) > policy.budget_eur:
        what = (
            f"adds {p.design.spend_added:,.0f} EUR of spend"
            if p.design.spend_up
            else f"cost {p.value.cost:,.0f} EUR"
        )
        return (
            f"{what}: over the testing budget left "
            f"({policy.budget_eur - committed:,.0f} of {policy.budget_eur:,.0f} EUR)"
        )
    return contamination(p.design, kept)


def best_design(options: list[Proposal], policy: TestingPolicy) -> Proposal:
    """A channel's design to propose: among those powered enough and worth something to learn
    (all of them when none is), the best by merit — value of information less a positive
    expected cost. So a channel is not refused "worth nothing to learn" for a spend-up priced
    as paying for itself when a holdout of it would teach something, and a spend-up's price
    does not outrank another design's information."""
    powered = [p for p in options if p.design.power >= policy.min_power] or options
    informative = [p for p in powered if not _not_worth_learning(p, policy)] or powered
    return max(informative, key=lambda p: p.value.merit)


def propose_tests(
    fit: MMMFit,
    frame: pd.DataFrame,
    start: pd.Timestamp,
    policy: TestingPolicy,
    running: list[Proposal],
    horizon: int,
    n_draws: int = 200,
    kpi_value: float = 1.0,
    planned: dict[str, float] | None = None,
    earlier: list[Design] | None = None,
) -> tuple[list[Proposal], dict[str, str]]:
    """Tests worth running from ``start`` (best merit first: value of information less a
    positive expected cost) and, per channel left out, why.

    ``frame`` is the history (``date``, optional ``geo``, the KPI and spend columns);
    ``horizon`` is how many periods the answer will steer spend for; ``kpi_value`` is the
    currency per KPI unit (1 when the KPI is revenue); ``planned``: each channel's national
    spend per period over the coming weeks in the plan (a channel not in it: the history's
    level), so tests are priced at the level they will run at; ``earlier``: the designs of
    every test run or running in these markets (None: the running ones) — a geo design's
    pre-period, and so the market match it is refused on, ends before the first of them in its
    geos, as its read-out's will (``designs.pre_period_end``). A test's cost is priced at
    ``testing.cost_quantile`` of its posterior (``value.value_of_test``)."""
    if not policy.enabled:
        return [], {c: "testing.enabled is false" for c in fit.data.channels}
    best, skipped = [], {}
    earlier = [p.design for p in running] if earlier is None else list(earlier)
    prior = prior_fit(fit, n_draws)
    for channel in policy.channels or fit.data.channels:
        options = []
        profit = profit_draws(fit, channel, horizon, n_draws=n_draws, kpi_value=kpi_value)
        level = (planned or {}).get(channel)
        for d in _candidates(fit, frame, channel, start, policy, level, earlier):
            d = calibration_power(prior, d, n_draws)
            v = value_of_test(
                fit,
                d,
                horizon,
                n_draws,
                profit=profit,
                kpi_value=kpi_value,
                cost_quantile=policy.cost_quantile,
            )
            options.append(Proposal(d.with_expected_lift(v.expected_lift), v))
        if not options:
            skipped[channel] = (
                f"no design fits in testing.max_weeks {policy.max_weeks}"
                if reference_spend(fit, channel) > 0 or "geo" in frame.columns
                else "no spend in the history to size a test on"
            )
            continue
        best.append(best_design(options, policy))
    kept = []
    committed = sum(at_stake(p) for p in running)
    for p in sorted(best, key=lambda p: -p.value.merit):
        if len(running) + len(kept) >= policy.max_concurrent:
            reason = f"testing.max_concurrent {policy.max_concurrent} tests already running"
        else:
            reason = _why_not(p, policy, committed, [r.design for r in running + kept])
        if reason:
            skipped[p.design.channel] = reason
        else:
            kept.append(p)
            committed += at_stake(p)
    return kept, skipped


def _decision_id(batch_id: str, design: Design) -> str:
    digest = hashlib.sha256(f"{batch_id}|{design.name}".encode()).hexdigest()[:12]
    return f"T-{digest}"


def _summary(p: Proposal, horizon: int) -> str:
    d, v = p.design, p.value
    if d.spend_up:
        where = {
            "geo": f"geo spend-up in {', '.join(d.treated)} (controls {', '.join(d.control)})",
            "pulse": f"spend-up pulse, {sum(d.schedule)} periods raised",
        }[d.kind]
        change = f"{d.spend_added:,.0f} EUR more spent"
    else:
        where = {
            "geo": f"geo holdout in {', '.join(d.treated)} (controls {', '.join(d.control)})",
            "pulse": f"on/off spend pulse, {sum(not s for s in d.schedule)} periods off",
            "audience": f"audience holdout of {len(d.holdout)} contacts",
        }[d.kind]
        change = f"{d.spend_removed:,.0f} EUR not spent"
    units = "" if v.kpi_value == 1.0 else f" KPI units at {v.kpi_value:,.2f} EUR each"
    priced = (
        f" if {d.channel} returns {'less' if d.spend_up else 'more'} than expected "
        f"(testing.cost_quantile {v.cost_quantile:g}; "
        f"{v.expected_cost:,.0f} EUR at the expected lift)"
        if math.isfinite(v.cost_quantile) and math.isfinite(v.expected_cost)
        else ""
    )
    return (
        f"Test {d.channel}: {where}, {d.periods} periods from {d.start.date()}"
        + (
            ""
            if d.readout_end is None
            else f", read on to {d.readout_end.date()} for the carry-over it leaves"
        )
        + ". The model is "
        f"unsure what {d.channel} returns (the test's lift: {v.expected_lift:,.0f} +/- "
        f"{v.lift_sd:,.0f}{units}); knowing it is worth {v.evsi:,.0f} EUR over the next {horizon} "
        f"periods (perfect knowledge: {v.evpi:,.0f}). It costs {v.cost:,.0f} EUR of profit "
        f"forgone ({change}){priced}. Net {v.net:,.0f} EUR; power "
        f"{d.power:.0%} at the expected lift (detects {d.minimum_detectable():,.0f} at 80 %)"
        + (
            f", {d.notes['calibration_power']:.0%} at the prior's median lift (the model's "
            f"calibration check asks {QualityRules().min_power:.0%})."
            if "calibration_power" in d.notes
            else "."
        )
    )


def _test_detail(d: Design) -> dict:
    return {
        "design": d.name,
        "kind": d.kind,
        "start": d.start.date().isoformat(),
        "end": d.end.date().isoformat(),
        "periods": d.periods,
        "treated_geos": list(d.treated),
        "control_geos": list(d.control),
        "removed_by_geo": d.notes.get("removed_by_geo", {}),
        "added_by_geo": d.notes.get("added_by_geo", {}),
        "schedule": [bool(s) for s in d.schedule],
        "holdout": list(d.holdout),
        "spend_removed": d.spend_removed,
        # a geo test's treated geos' share of the channel's spend (what a holdout keeps)
        "treated_share": d.notes.get("treated_share"),
        "direction": d.direction,
        "spend_added": d.spend_added,
        "base_spend": d.base_spend if math.isfinite(d.base_spend) else None,
        "pre_end": None
        if d.notes.get("pre_end") is None
        else pd.Timestamp(d.notes["pre_end"]).date().isoformat(),
        "readout_end": None if d.readout_end is None else d.readout_end.date().isoformat(),
    }


def _row(
    p: Proposal,
    batch_id: str,
    policies: PolicySet,
    created_at,
    horizon: int,
    autonomy=None,
    model: dict | None = None,
) -> dict:
    t = policies.testing
    # a test moves budget: the budget actions' level, under the run-time ceiling when given
    if autonomy is None:
        level = policies.autonomy.level_for("budget_allocation")
    else:
        level, _ = level_and_source(policies, autonomy, "budget_allocation")
    waits = []
    if p.value.cost > t.approval_above_eur:
        waits.append(
            f"expected cost {p.value.cost:,.0f} EUR > testing.approval_above_eur {t.approval_above_eur:,.0f}"
        )
    elif t.every_test_waits_for_approval:
        waits.append(
            f"testing.every_test_waits_for_approval (expected cost {p.value.cost:,.0f} EUR)"
        )
    status = status_for(level, waits)
    if t.every_test_waits_for_approval and status == "approved":  # autonomy full
        status = "pending_approval"
    sign = 1.0 if p.design.spend_up else -1.0  # a spend-up gains its lift, a holdout loses it
    revenue = sign * p.value.expected_lift * p.value.kpi_value
    sd = p.value.lift_sd * p.value.kpi_value
    lo = revenue - 1.645 * sd
    rationale = {
        "summary": _summary(p, horizon),
        "scores": {
            "expected_revenue": revenue,
            "revenue_interval": [lo, lo + 2 * 1.645 * sd],
            "expected_profit": -p.value.cost,
            "cost_eur": p.value.cost,
            "value_of_information": p.value.evsi,
            "value_of_perfect_information": p.value.evpi,
            "net_value": p.value.net,
            "power": p.design.power,
            "standard_error": p.design.standard_error,
        },
        "autonomy": {
            "level": level,
            "status_reason": "waits for a named approver: " + "; ".join(waits)
            if status == "pending_approval"
            else f"status {status} at autonomy {level}",
            "waits_for_approval_because": waits,
        },
        "binding_constraints": [f"testing budget {t.budget_eur:,.0f} EUR (testing.yaml)"],
        "alternatives": [
            {
                "description": "no test (difference: the test's value minus its cost)",
                "expected_revenue": 0.0,
                "difference": p.value.net,
            }
        ],
        "test": _test_detail(p.design),
        **({"response_model": model} if model else {}),
    }
    return {
        "decision_id": _decision_id(batch_id, p.design),
        "batch_id": batch_id,
        "action_type": ACTION_TYPE,
        "channel": p.design.channel,
        "campaign_id": "",
        "audience_id": "",
        "asset_id": "",
        "scheduled_for": p.design.start.date().isoformat(),
        "amount": p.design.spend_added if p.design.spend_up else -p.design.spend_removed,
        "expected_conversions": math.nan,
        "expected_revenue": revenue,
        "expected_lower": lo,
        "expected_upper": lo + 2 * 1.645 * sd,
        "propensity": math.nan,
        "status": status,
        "policy_version": policies.version,
        "rationale": json.dumps(rationale, default=float),
        "created_at": pd.Timestamp(created_at),
    }


def experiment_actions(
    proposals: list[Proposal],
    batch_id: str,
    policies: PolicySet,
    created_at,
    horizon: int,
    autonomy=None,
    model: dict | None = None,
) -> pd.DataFrame:
    """The proposals as decision-batch rows (the export contract's columns). ``autonomy``: the
    run-time :class:`~marketing_ops.decisioning.AutonomyState` (its ceiling applies to tests
    too); ``model``: the response model the values rest on (``model_version``, ``mmm_fit``),
    which ``explain`` resolves on the decision ledger."""
    rows = [_row(p, batch_id, policies, created_at, horizon, autonomy, model) for p in proposals]
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def payload_key(geo: str) -> str:
    """A geo as a payload id's suffix: safe in a file name (letters, digits, ``_``, ``-``), and
    one per geo. Regions are named as the sources name them ("New York", "Baden-Württemberg"):
    a name with other characters gets them replaced and a short hash of the name, so "New York"
    and "New_York" stay two payloads."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", geo)
    if safe == geo:
        return geo
    return f"{safe}-{hashlib.sha256(geo.encode()).hexdigest()[:6]}"


def experiment_payloads(row: dict) -> list[dict]:
    """What the connectors receive for an approved test: one payload per treated geo (its
    budget change: minus what a holdout stops, plus what a spend-up adds), or one for the
    holdout list or the pulse schedule (a spend-up's on flights are its raised periods)."""
    base = action_payload(row)
    test = json.loads(row["rationale"])["test"]
    direction = test.get("direction", "holdout")
    shared = {
        "test": {
            **{k: test[k] for k in ("design", "kind", "start", "end")},
            "direction": direction,
        }
    }
    if test["kind"] == "geo":
        up = direction == "spend_up"
        change = test.get("added_by_geo", {}) if up else test["removed_by_geo"]
        return [
            {
                **base,
                **shared,
                "decision_id": f"{row['decision_id']}-{payload_key(geo)}",
                "geo": geo,
                "amount_eur": (1.0 if up else -1.0) * float(change.get(geo, 0.0)),
                "daily_amounts": [],
            }
            for geo in test["treated_geos"]
        ]
    if test["kind"] == "audience":
        return [{**base, **shared, "holdout_audience": test["holdout"]}]
    return [{**base, **shared, "schedule_on": test["schedule"]}]


def execute_experiments(
    batch: pd.DataFrame, connectors: dict[str, Connector], kill_switch_on: bool
) -> pd.DataFrame:
    """Deliver each approved test's payloads; one row per payload with what happened."""
    out = []
    for row in batch[batch["action_type"] == ACTION_TYPE].to_dict("records"):
        if kill_switch_on or row["status"] != "approved":
            why = "kill switch on" if kill_switch_on else f"not executed: status {row['status']}"
            out.append({"decision_id": row["decision_id"], "payload_id": "", "note": why})
            continue
        connector = connectors.get(str(row["channel"])) or connectors["*"]
        for payload in experiment_payloads(row):
            receipt = connector.deliver(payload)
            out.append(
                {
                    "decision_id": row["decision_id"],
                    "payload_id": payload["decision_id"],
                    "geo": payload.get("geo", ""),
                    "amount_eur": payload.get("amount_eur"),
                    "delivered": receipt.done,
                    "location": receipt.location,
                    "note": receipt.note,
                }
            )
    return pd.DataFrame(out)


def record_experiments(home, actions: pd.DataFrame) -> dict:
    """The proposed tests' ledger entry: ids, designs, value, cost, status."""
    tests = [
        {
            "decision_id": r["decision_id"],
            "channel": r["channel"],
            "status": r["status"],
            "policy_version": r["policy_version"],
            **{
                k: v
                for k, v in json.loads(r["rationale"])["scores"].items()
                if k != "revenue_interval"
            },
            "design": json.loads(r["rationale"])["test"],
        }
        for r in actions.to_dict("records")
    ]
    batch_id = str(actions["batch_id"].iloc[0]) if len(actions) else ""
    return append_entry(home, "experiment_batch", {"batch_id": batch_id, "tests": tests})


def record_verdicts(home, verdicts) -> dict:
    """Each read-out's calibration verdict (accepted or the reason it was not) on the ledger."""
    rows = [
        {
            "name": v.experiment.name,
            "channel": v.experiment.channel,
            "lift": v.experiment.lift,
            "standard_error": v.experiment.standard_error,
            "accepted": v.accepted,
            "reason": v.reason,
        }
        for v in verdicts
    ]
    return append_entry(home, "experiment_verdicts", {"verdicts": rows})
