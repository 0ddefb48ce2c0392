"""Every action that does not go out says why in its row (the rule or threshold, with its
numbers), whatever made it so: autonomy level, kill switch, thresholds, risk, a rejection, a
run-time ceiling, a later batch; and approvals can look at risk, not only money moved."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pandas as pd
import pytest
from worlds.decisions import AS_OF, SIGNALS, build_batch, inputs, with_autonomy

from marketing_ops.decisioning import (
    AutonomyState,
    apply_approvals,
    apply_scoped_autonomy,
    decide,
    keep_earlier_batches,
)

_NUMBER = re.compile(r"\d")


def _autonomy(row: dict) -> dict:
    return json.loads(row["rationale"])["autonomy"]


def _assert_every_hold_explained(batch: pd.DataFrame) -> None:
    for row in batch.to_dict("records"):
        if row["status"] == "executed":
            continue
        autonomy = _autonomy(row)
        assert autonomy["status_reason"].strip(), row
        if row["status"] in ("pending_approval", "proposed"):
            assert autonomy["waits_for_approval_because"], row
            assert all(w.strip() for w in autonomy["waits_for_approval_because"]), row


@pytest.mark.parametrize(
    ("level", "state"),
    [
        ("off", AutonomyState()),
        ("recommend_only", AutonomyState()),
        ("approve_above_threshold", AutonomyState()),
        ("full", AutonomyState()),
        ("full", AutonomyState("recommend_only", "drift off-ramp", reason="ctr drift")),
        ("approve_above_threshold", AutonomyState("off", "Head of Marketing", reason="outage")),
    ],
)
def test_every_non_executed_action_says_why(policies, level, state) -> None:
    """At every autonomy level and run-time ceiling each row has a status reason, and every
    pending or proposed row lists what a person has to look at."""
    batch = build_batch(with_autonomy(policies, level), state)
    _assert_every_hold_explained(batch)
    for row in batch.to_dict("records"):
        reason = _autonomy(row)["status_reason"]
        if row["status"] == "proposed":
            assert "recommend_only" in reason or "recommend_only" in str(_autonomy(row))
        if row["status"] == "blocked" and row["asset_id"] is not None and state.level == "off":
            assert "set by Head of Marketing" in reason and "outage" in reason


def test_threshold_reasons_carry_their_numbers(policies) -> None:
    """A waiting action names the threshold it crossed and by how much."""
    batch = build_batch(with_autonomy(policies, "approve_above_threshold"))
    waiting = batch[batch["status"] == "pending_approval"]
    assert len(waiting)
    for row in waiting.to_dict("records"):
        for why in _autonomy(row)["waits_for_approval_because"]:
            assert _NUMBER.search(why), why


def test_rejections_ceilings_and_later_batches_say_why(policies) -> None:
    """Statuses that change after the decision carry their reason too: a rejection names the
    approver and why, a lowered scope names itself, a later batch supersedes by id."""
    batch = build_batch(with_autonomy(policies, "full"))
    content = batch.loc[batch["action_type"] == "content_selection", "decision_id"].iloc[0]
    ledger = [
        {
            "decision_id": content,
            "verdict": "rejected",
            "approver": "CRM Manager",
            "at": "2026-11-23T08:00:00",
            "reason": "wrong season",
        }
    ]
    scopes = {"channel:display": AutonomyState("recommend_only", "drift off-ramp", "", "psi 0.4")}
    now = apply_scoped_autonomy(apply_approvals(batch, ledger), scopes, ledger)
    rejected = now[now["decision_id"] == content].iloc[0]
    assert rejected["status"] == "rejected"
    assert _autonomy(rejected)["status_reason"] == (
        "rejected by CRM Manager at 2026-11-23T08:00:00: wrong season"
    )
    display = now[(now["action_type"] == "budget_allocation") & (now["channel"] == "display")]
    assert display["status"].item() == "proposed"
    assert "channel:display at most recommend_only" in _autonomy(display.iloc[0])["status_reason"]
    _assert_every_hold_explained(now)
    again = build_batch(with_autonomy(policies, "full"))
    day = keep_earlier_batches(now.assign(as_of=AS_OF), again.assign(as_of=AS_OF))
    earlier = day[day["batch_id"] == now["batch_id"].iloc[0]]
    superseded = earlier[earlier["status"] == "superseded"]
    was_open = now["status"].isin(["approved", "proposed", "pending_approval"])
    assert len(superseded) == was_open.sum()
    for row in superseded.to_dict("records"):
        assert again["batch_id"].iloc[0] in _autonomy(row)["status_reason"]
    _assert_every_hold_explained(day)


def _risky_world():
    """Every curve at half its response: the next euro earns about 1 EUR, so whether a line
    should get more money is a coin toss over the curve samples."""
    base = inputs(campaigns=True)
    curves = base.curve_rows.copy()
    curves["max_response"] *= 0.5
    return replace(base, curve_rows=curves)


def _risk_policies(policies, max_p):
    approvals = policies.approvals.model_copy(
        update={"max_p_marginal_roi_below_1": max_p, "money_moved_eur": 1e9, "min_confidence": 0}
    )
    return policies.model_copy(update={"approvals": approvals})


@pytest.mark.parametrize(("max_p", "search_waits"), [(None, False), (0.5, True), (0.9, False)])
def test_risky_increase_waits_for_approval(policies, max_p, search_waits) -> None:
    """With max_p_marginal_roi_below_1 set, a line that adds money where the next euro
    returns under 1 EUR on more of the curve samples than allowed waits, saying the share;
    a line that cuts spend is never held for it."""
    batch = decide(AS_OF, _risky_world(), _risk_policies(policies, max_p), AutonomyState(), SIGNALS)
    budget = batch.batch[batch.batch["action_type"] == "budget_allocation"].set_index("channel")
    search = budget.loc["paid_search"]
    scores = json.loads(search["rationale"])["scores"]
    assert search["amount"] > scores["last_period_amount"]  # the plan adds money to search
    assert 0.5 < scores["p_marginal_roi_below_1"] < 0.9
    assert (search["status"] == "pending_approval") is search_waits
    if search_waits:
        (why,) = _autonomy(search)["waits_for_approval_because"]
        share = f"{scores['p_marginal_roi_below_1']:.0%}"
        assert f"on {share} of the curve samples (threshold 50%" in why
    display = budget.loc["display"]
    assert display["amount"] < json.loads(display["rationale"])["scores"]["last_period_amount"]
    assert json.loads(display["rationale"])["scores"]["p_marginal_roi_below_1"] == 1.0
    assert display["status"] == "approved"
