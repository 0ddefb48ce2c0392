"""One day's decisions from the warehouse's and the graph's frames: the agent's whole turn.

Pure: the Dagster asset reads the tables and the graph, calls :func:`decide`, and writes the
batch; tests and benchmarks call the same function on frames they build. Nothing here
opens a database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import numpy as np
import pandas as pd

from marketing_ops.decisioning.batch.assemble import assemble_batch
from marketing_ops.decisioning.budget.campaigns import campaign_shares, split_by_campaign
from marketing_ops.decisioning.budget.optimiser import BudgetPlan, plan_budget
from marketing_ops.decisioning.content.bandit import choose_content
from marketing_ops.decisioning.content.scoring import value_per_conversion
from marketing_ops.decisioning.ledger.autonomy import AutonomyState
from marketing_ops.decisioning.policy import PolicySet
from marketing_ops.forecasting.curves import ResponseCurve, adstock

__all__ = [
    "AUTO_CARRYOVER_DAYS",
    "DecisionInputs",
    "DecisionResult",
    "carry_in_adstock",
    "carryover_of",
    "curves_as_of",
    "NotEnoughHistory",
    "decide",
    "executed_test_spend",
    "last_period_spend",
    "latest_tests",
    "response_model_of",
    "seasonal_index_as_of",
]


class NotEnoughHistory(ValueError):
    """No channel has a response curve yet: too little spend and conversion history."""


@dataclass(frozen=True)
class DecisionInputs:
    """What the agent reads for one as-of day (frames as the warehouse and graph give them)."""

    kpis: pd.DataFrame  # marts.fct_channel_kpis_daily up to the day
    curve_rows: pd.DataFrame  # agent.response_curves of the day (draw 0 = point)
    forecasts: pd.DataFrame  # agent.forecasts of the day (incl. metric seasonal_index)
    send_hours: pd.DataFrame  # marts.fct_audience_send_hours
    candidates: pd.DataFrame  # graph eligible_candidates, every allowed channel
    ad_spend: pd.DataFrame = field(default_factory=pd.DataFrame)  # marts.fct_ad_spend_daily
    conversions: pd.DataFrame = field(default_factory=pd.DataFrame)  # marts.fct_conversions
    # the experiment verdicts of the media mix model fit behind curve_rows (the ledger's
    # experiment_verdict records of that fit version; empty for attributed curves)
    verdicts: pd.DataFrame = field(default_factory=pd.DataFrame)
    # what the agent's executed incrementality tests moved spend by, per day and channel
    # (:func:`executed_test_spend` of agent.decisions): the plan is the realised spend less it
    test_spend: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class DecisionResult:
    batch: pd.DataFrame
    plan: BudgetPlan
    choices: pd.DataFrame


def curves_as_of(
    frame: pd.DataFrame,
) -> tuple[dict[str, ResponseCurve], dict[str, list[ResponseCurve]]]:
    """Point curves (draw 0) and bootstrap draws from `agent.response_curves` rows.

    Raises NotEnoughHistory when there are none (a first run on a short history)."""
    if frame is None or "draw" not in frame:
        raise NotEnoughHistory(
            "not enough history to decide: no channel has a response curve yet (each needs "
            "response.min_history_days of spend and conversions, forecasting.yaml); load "
            "more days of signals and run the forecasts again"
        )
    point: dict[str, ResponseCurve] = {}
    samples: dict[str, list[ResponseCurve]] = {}
    for channel, rows in frame.sort_values("draw").groupby("channel"):
        curves = [ResponseCurve.from_dict(r) for r in rows.to_dict("records")]
        point[channel], samples[channel] = curves[0], curves[1:]
    return point, samples


FIT_TAG = "@fit:"  # as forecasting.mmm.kpis tags an MMM fit's curve rows


def response_model_of(frame: pd.DataFrame) -> dict[str, str]:
    """The model behind the curves: its version and, for a media mix model fit, the fit
    version the decision ledger records it under (``{}`` without a model version)."""
    if frame is None or "model_version" not in frame or frame.empty:
        return {}
    version = str(frame.sort_values("draw")["model_version"].iloc[0])
    model, _, fit = version.partition(FIT_TAG)
    return {"model_version": model, **({"mmm_fit": fit} if fit else {})}


# budget.carryover_days: auto counts this many days after the period once the decay is measured
# (six hostile worlds with tests that report their tail: >= 90 % of the oracle's uplift on 11
# of 12 world-days against 10 of 12 at 0; docs/decisions.md, 2026-12-06)
AUTO_CARRYOVER_DAYS = 28


def decay_measured(verdicts: pd.DataFrame) -> set[str]:
    """Channels with an accepted tail row among a fit's experiment verdicts: a read-out of the
    weeks after a test's end (``lift_start`` after ``end``), the carry-over alone, which pins
    the channel's decay."""
    need = {"channel", "accepted", "end", "lift_start"}
    if verdicts is None or verdicts.empty or not need <= set(verdicts.columns):
        return set()
    tail = pd.to_datetime(verdicts["lift_start"]) > pd.to_datetime(verdicts["end"])
    accepted = verdicts["accepted"].astype(bool)
    return {str(c) for c in verdicts.loc[tail & accepted, "channel"]}


def carryover_of(budget, channels, verdicts: pd.DataFrame) -> tuple[int, dict]:
    """The days after the period the plan values, and why (the rationale's ``carryover``).

    A number in the policy is used as written. ``auto``: :data:`AUTO_CARRYOVER_DAYS` when the
    fit's accepted experiments include a tail row for every planned channel, else 0: valued
    on a decay no test measured, the tail misleads (a fit without tests put display's decay
    at 0.38 where it was 0.56 and the plan lost to keeping last week's split)."""
    if budget.carryover_days != "auto":
        return int(budget.carryover_days), {"days": int(budget.carryover_days), "setting": "fixed"}
    measured = decay_measured(verdicts)
    missing = sorted(str(c) for c in channels if c not in measured)
    days = AUTO_CARRYOVER_DAYS if channels and not missing else 0
    why = {
        "days": days,
        "setting": "auto",
        "decay_measured": sorted(str(c) for c in channels if c in measured),
    }
    if missing:
        why["decay_not_measured"] = missing
    return days, why


def carry_in_adstock(kpis: pd.DataFrame, curves: dict[str, ResponseCurve]) -> dict[str, float]:
    """Adstock each channel carries into the next period from its spend history."""
    out = {}
    for channel, curve in curves.items():
        spend = kpis.loc[kpis["channel"] == channel].sort_values("date_day")["spend"].to_numpy()
        out[channel] = float(adstock(spend, curve.decay)[-1]) if len(spend) else 0.0
    return out


def seasonal_index_as_of(
    forecasts: pd.DataFrame, channels, period_days: int = 7
) -> dict[str, np.ndarray]:
    """The forecast's seasonal index per channel for the days ahead (1.0 when absent)."""
    if forecasts is None or forecasts.empty or "metric" not in forecasts:
        return {c: np.ones(period_days) for c in channels}
    idx = forecasts[forecasts["metric"] == "seasonal_index"].sort_values("date_day")
    out = {}
    for channel in channels:
        values = idx.loc[idx["channel"] == channel, "yhat"].to_numpy(dtype=float)
        out[channel] = values if len(values) else np.ones(period_days)
    return out


def last_period_spend(
    kpis: pd.DataFrame, as_of: date, days: int, test_spend: pd.DataFrame | None = None
) -> dict[str, float]:
    """Spend per channel over the ``days`` up to and including ``as_of``, as planned: the
    realised spend less what the agent's executed tests moved it by (``test_spend``,
    :func:`executed_test_spend`). A holdout's removed spend is part of the period's budget
    and a spend-up's added spend is not, so a test never shrinks or grows the next period's
    total (``total_budget: keep_last_period``) nor the split its shift caps start from."""

    def recent(frame: pd.DataFrame) -> pd.DataFrame:
        when = pd.to_datetime(frame["date_day"])
        since = pd.Timestamp(as_of) - pd.Timedelta(days=days)
        return frame[(when > since) & (when <= pd.Timestamp(as_of))]

    spend = recent(kpis).groupby("channel")["spend"].sum()
    if test_spend is not None and not test_spend.empty:
        moved = _moved(recent(kpis), recent(test_spend))
        spend = spend.sub(moved.reindex(spend.index, fill_value=0.0)).clip(lower=0.0)
    return {str(k): float(v) for k, v in spend.items()}


def _moved(kpis: pd.DataFrame, tests: pd.DataFrame) -> pd.Series:
    """EUR per channel the tests moved: as :func:`executed_test_spend` lists them, except on
    a geo holdout's days (``held_share``: its treated geos' share of the channel's spend),
    where the plan is re-decided while the test runs, so what its geos did not spend is read
    from what the others did: realised x share / (1 - share)."""
    t = tests.copy()
    if "held_share" not in t:
        return t.groupby("channel")["amount"].sum()
    share = pd.to_numeric(t["held_share"], errors="coerce")
    held = share.notna() & (share > 0) & (share < 1)
    if held.any():
        realised = kpis.assign(day=pd.to_datetime(kpis["date_day"]).dt.date)
        realised = realised.groupby(["day", "channel"])["spend"].sum()
        days = pd.to_datetime(t.loc[held, "date_day"]).dt.date
        keys = list(zip(days, t.loc[held, "channel"], strict=True))
        spent = realised.reindex(keys).fillna(0.0).to_numpy(float)
        t.loc[held, "amount"] = -spent * share[held] / (1 - share[held])
    return t.groupby("channel")["amount"].sum()


def latest_tests(decisions: pd.DataFrame | None) -> list[dict]:
    """The latest row of each incrementality test in ``agent.decisions`` (one per design,
    whatever batches it went through)."""
    if decisions is None or decisions.empty or "action_type" not in decisions:
        return []
    rows = decisions[decisions["action_type"] == "incrementality_test"]
    latest: dict[str, dict] = {}
    for row in rows.sort_values("created_at", kind="stable").to_dict("records"):
        latest[json.loads(row["rationale"])["test"]["design"]] = row
    return list(latest.values())


def executed_test_spend(decisions: pd.DataFrame | None) -> pd.DataFrame:
    """What the agent's executed incrementality tests (``agent.decisions``, each test's latest
    row) moved spend by: ``date_day``, ``channel``, ``amount`` (EUR; negative where a holdout
    stopped spend, positive where a spend-up added it), ``held_share``. A geo test moves its
    designed amount evenly over its days; a pulse over its off flights (holdout) or on flights
    (spend-up); an audience holdout moves no spend. A geo holdout's ``held_share`` is its
    treated geos' share of the channel's spend: :func:`last_period_spend` reads what they did
    not spend from the realised spend instead (the plan changes while a test runs)."""
    columns = ["date_day", "channel", "amount", "held_share"]
    rows = []
    for r in latest_tests(decisions):
        if r["status"] != "executed":
            continue
        test = json.loads(r["rationale"])["test"]
        up = test.get("direction") == "spend_up"
        amount = float(test.get("spend_added" if up else "spend_removed") or 0.0)
        days = pd.date_range(test["start"], test["end"], freq="D")
        if test["kind"] == "audience" or amount <= 0 or len(days) == 0:
            continue
        share = test.get("treated_share") if test["kind"] == "geo" and not up else None
        if test["kind"] == "pulse" and test.get("schedule"):
            schedule = test["schedule"]
            per = max(1, len(days) // len(schedule))
            days = [
                d
                for i, d in enumerate(days)
                if (i // per < len(schedule)) and schedule[i // per] == up
            ]
        for d in days:
            per_day = (1 if up else -1) * amount / len(days)
            rows.append((d.date(), str(r["channel"]), per_day, share))
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"amount": float, "held_share": float})  # typed, also when empty


def decide(
    as_of: date,
    inputs: DecisionInputs,
    policies: PolicySet,
    autonomy: AutonomyState,
    signals: list[dict],
    seed: int | None = None,
    created_at: datetime | None = None,
) -> DecisionResult:
    """Plan next period's budget, choose content and send time, and assemble the batch.

    ``created_at`` is the batch's moment (now when not given; a replay passes the recorded
    one): it is part of every id, so deciding the same day again makes a new batch."""
    budget = policies.budget
    curves, samples = curves_as_of(inputs.curve_rows)
    # The plan covers the channels the budget policy lists (paid media); email's cost follows
    # the content decisions, not a budget. No list: every channel with a curve.
    listed = set(budget.channels)
    paid = {c: v for c, v in curves.items() if not listed or c in listed}
    tail, carryover = carryover_of(budget, sorted(paid), inputs.verdicts)
    budget = budget.model_copy(update={"carryover_days": tail})
    last = last_period_spend(inputs.kpis, as_of, budget.period_days, inputs.test_spend)
    index = seasonal_index_as_of(inputs.forecasts, paid, budget.period_days)
    carry = carry_in_adstock(inputs.kpis, paid)
    model = response_model_of(inputs.curve_rows)
    # a media mix model's draws are a posterior: plan on the expected revenue over them
    posterior = bool(model.get("mmm_fit"))
    plan = plan_budget(
        paid,
        last_period_spend={c: last.get(c, 0.0) for c in paid},
        seasonal_index=index,
        initial_adstock=carry,
        policy=budget,
        samples={c: samples.get(c, []) for c in paid},
        expectation=posterior,
    )
    extra = {"carryover": carryover, **({"response_model": model} if model else {})}
    plan = replace(plan, extra={**plan.extra, **extra})
    if budget.plan_level == "campaign":
        shares = campaign_shares(
            inputs.ad_spend,
            inputs.conversions,
            as_of,
            budget.campaign_history_days,
            budget.period_days,
            budget.campaign_pooling_conversions,
        )
        plan = split_by_campaign(plan, paid, shares, index, carry, budget, samples, posterior)
    choices = choose_content(
        inputs.candidates,
        inputs.send_hours,
        policies.content,
        as_of=as_of,
        seed=int(as_of.strftime("%Y%m%d")) if seed is None else seed,
        value_per_conversion=value_per_conversion(inputs.kpis),
        compliance=policies.compliance,
    )
    batch = assemble_batch(as_of, plan, choices, policies, signals, autonomy, created_at)
    return DecisionResult(batch, plan, choices)
