"""Incrementality tests in the product's decision batch (pure: the decision asset calls these).

When ``testing.enabled`` and the media mix model's posterior is at hand, the decision asset
adds :func:`batch_tests`'s rows to the batch it decided: the same ``batch_id``, so
``agent.decisions``, ``marketing-ops explain`` and the batch's report show them like any
other action. Tests already running (approved, executed or still waiting in earlier batches,
read back from ``agent.decisions`` by :func:`running_tests`) count against the testing budget,
``max_concurrent`` and the contamination guard.

The posterior is not one of the decision's recorded input frames, so the test rows are
recorded with the batch as rows decided upstream (``record_batch(..., carried=tests)``): a
replay decides the rest again from the inputs and carries these as recorded.
"""

from __future__ import annotations

import json

import pandas as pd

from marketing_ops.decisioning import DECISION_COLUMNS, PolicySet
from marketing_ops.experiments.designs import Design
from marketing_ops.experiments.governance import (
    ACTION_TYPE,
    Proposal,
    experiment_actions,
    periods_per_week,
    propose_tests,
)
from marketing_ops.experiments.value import InformationValue
from marketing_ops.forecasting.mmm import MMMFit

__all__ = ["OPEN_STATUSES", "STEER_WEEKS", "batch_tests", "running_tests"]

# How long a test's answer steers spend: a quarter (the value of information is counted over it)
STEER_WEEKS = 13
# A test in one of these states holds its geos, channel and share of the testing budget
OPEN_STATUSES = ("approved", "executed", "pending_approval", "proposed")


def _proposal(row: dict) -> Proposal:
    r = json.loads(row["rationale"])
    t, s = r["test"], r["scores"]
    design = Design(
        name=t["design"],
        kind=t["kind"],
        channel=str(row["channel"]),
        start=pd.Timestamp(t["start"]),
        end=pd.Timestamp(t["end"]),
        periods=int(t["periods"]),
        treated=tuple(t["treated_geos"]),
        control=tuple(t["control_geos"]),
        holdout=tuple(t["holdout"]),
        spend_removed=float(t["spend_removed"]),
        standard_error=float(s.get("standard_error", float("nan"))),
        power=float(s.get("power", float("nan"))),
        schedule=tuple(t["schedule"]),
        direction=t.get("direction", "holdout"),
        spend_added=float(t.get("spend_added", 0.0)),
        base_spend=float(t.get("base_spend") if t.get("base_spend") is not None else "nan"),
        notes={} if t.get("pre_end") is None else {"pre_end": pd.Timestamp(t["pre_end"])},
        readout_end=None if t.get("readout_end") is None else pd.Timestamp(t["readout_end"]),
    )
    value = InformationValue(
        channel=design.channel,
        evpi=float(s.get("value_of_perfect_information", 0.0)),
        evsi=float(s.get("value_of_information", 0.0)),
        cost=-float(s.get("expected_profit", 0.0)),
        expected_lift=float("nan"),
        lift_sd=float("nan"),
    )
    return Proposal(design, value)


def running_tests(decisions: pd.DataFrame, day) -> list[Proposal]:
    """Tests in ``agent.decisions`` still open or running on ``day`` (one per design: the
    latest row of each), rebuilt from their rationale. A test whose tail is read after it
    (``readout_end``) runs until then."""
    if decisions is None or decisions.empty:
        return []
    rows = decisions[decisions["action_type"] == ACTION_TYPE]
    if rows.empty:
        return []
    rows = rows.sort_values("created_at", kind="stable")
    latest: dict[str, dict] = {}
    for row in rows.to_dict("records"):
        latest[json.loads(row["rationale"])["test"]["design"]] = row
    out = []
    for row in latest.values():
        p = _proposal(row)
        if row["status"] in OPEN_STATUSES and p.design.read_until >= pd.Timestamp(day):
            out.append(p)
    return out


def _unfunded(batch: pd.DataFrame, channels: list[str]) -> list[str]:
    """Channels whose budget the batch sets to zero (every budget action of the channel)."""
    budget = batch[batch["action_type"] == "budget_allocation"]
    amounts = budget.groupby(budget["channel"].astype(str))["amount"].sum()
    return [c for c in channels if c in amounts.index and float(amounts[c]) <= 0]


def batch_tests(
    fit: MMMFit,
    day,
    policies: PolicySet,
    batch: pd.DataFrame,
    earlier: pd.DataFrame | None = None,
    autonomy=None,
    kpi_value: float = 1.0,
    model: dict | None = None,
    n_draws: int = 200,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tests worth proposing in ``batch`` (rows in the export contract's columns, its
    ``batch_id`` and ``created_at``) and, per channel not proposed, why.

    Tests start the day after ``day``; their value is counted over :data:`STEER_WEEKS` of
    the model's periods. ``earlier``: ``agent.decisions`` (running tests); ``kpi_value``:
    currency per unit of the model's KPI; ``model``: the fit the values rest on."""
    empty = pd.DataFrame(columns=DECISION_COLUMNS)
    if not policies.testing.enabled:
        return empty, {c: "testing.enabled is false" for c in fit.data.channels}
    if batch.empty:
        return empty, {c: "the batch has no actions to join" for c in fit.data.channels}
    start = pd.Timestamp(day) + pd.Timedelta(days=1)
    horizon = STEER_WEEKS * periods_per_week(fit.data.freq)
    frame = pd.DataFrame({"date": fit.data.dates})  # the warehouse's KPIs are national
    wanted = list(policies.testing.channels or fit.data.channels)
    # a channel the batch cuts to zero has nothing to hold out: only a spend-up can test it
    planned = {c: 0.0 for c in _unfunded(batch, wanted)}
    kept, skipped = propose_tests(
        fit,
        frame,
        start,
        policies.testing.model_copy(update={"channels": wanted}),
        running_tests(earlier, start),
        horizon,
        n_draws=n_draws,
        kpi_value=kpi_value,
        planned=planned,
    )
    first = batch.iloc[0]
    actions = experiment_actions(
        kept,
        str(first["batch_id"]),
        policies,
        first["created_at"],
        horizon,
        autonomy=autonomy,
        model=model,
    )
    return actions, skipped
