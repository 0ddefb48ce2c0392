"""The total budget holds in every approval state: with a campaign-level plan where some lines
wait for approval, what goes ahead without a person plus what the waiting lines keep spending
(last period's amount) never exceeds the total, whichever waiting lines are then rejected."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
from worlds.decisions import AS_OF, SIGNALS, inputs

from marketing_ops.decisioning import (
    AutonomyState,
    DecisionInputs,
    apply_approvals,
    apply_scoped_autonomy,
    decide,
)

TOTAL = 7 * (400.0 + 300.0 + 200.0)  # keep_last_period: last week's measured paid spend


def _world() -> DecisionInputs:
    """The decide world with a poor display curve and two search campaigns that convert
    alike: the plan cuts display hard (-840 EUR) and adds about 590 EUR to each campaign, the
    shape where small increases go ahead while the big cut that funds them waits."""
    base = inputs(campaigns=True)
    curves = base.curve_rows.copy()
    curves.loc[curves["channel"] == "display", "max_response"] *= 0.2
    conversions = base.conversions.copy()
    conversions["campaign_id"] = ["S1" if i % 2 else "S2" for i in range(len(conversions))]
    return replace(base, curve_rows=curves, conversions=conversions)


def _campaign_policies(policies, money_moved_eur: float):
    budget = policies.budget.model_copy(
        update={"plan_level": "campaign", "max_shift_pct": 60, "campaign_max_shift_pct": 90}
    )
    approvals = policies.approvals.model_copy(
        update={"money_moved_eur": money_moved_eur, "min_confidence": 0.0}
    )
    return policies.model_copy(update={"budget": budget, "approvals": approvals})


def _spend_if_executed(batch) -> float:
    """Next period's paid spend if the batch executed now: lines that go ahead at their new
    amount, every other line at last period's."""
    budget = batch[batch["action_type"] == "budget_allocation"]
    total = 0.0
    for row in budget.to_dict("records"):
        last = json.loads(row["rationale"])["scores"]["last_period_amount"]
        total += row["amount"] if row["status"] in ("approved", "executed") else last
    return total


def _moves(policies) -> list[float]:
    """Thresholds between the plan's money moved per line, so each one splits the lines
    into some that go ahead and some that wait."""
    batch = decide(AS_OF, _world(), _campaign_policies(policies, 1e9), AutonomyState(), SIGNALS)
    budget = batch.batch[batch.batch["action_type"] == "budget_allocation"]
    moved = sorted(json.loads(r)["scores"]["money_moved"] for r in budget["rationale"])
    return [(a + b) / 2 for a, b in itertools.pairwise(moved) if b - a > 1.0]


def test_what_goes_ahead_never_exceeds_the_total(policies) -> None:
    """For every threshold that splits the campaign lines, the spend if executed now is within
    the total; and at least one split needed the guardrail (an increase held back, saying why
    with the numbers)."""
    thresholds = _moves(policies)
    assert thresholds, "the world's plan moves its lines by different amounts"
    held = 0
    for threshold in thresholds:
        batch = decide(
            AS_OF, _world(), _campaign_policies(policies, threshold), AutonomyState(), SIGNALS
        ).batch
        assert _spend_if_executed(batch) <= TOTAL + 0.01, threshold
        for row in batch[batch["action_type"] == "budget_allocation"].to_dict("records"):
            waits = json.loads(row["rationale"])["autonomy"]["waits_for_approval_because"]
            if any("total budget guardrail" in w for w in waits):
                held += 1
                assert row["status"] == "pending_approval"
                assert f"total budget of {TOTAL:,.0f} EUR" in " ".join(waits)
    assert held > 0


def test_the_total_holds_whichever_waiting_lines_are_rejected(policies) -> None:
    """Each subset of the waiting lines rejected (they keep last period's spend), statuses
    applied as execution applies them: within the total every time."""
    threshold = _moves(policies)[-1]  # the split where increases go ahead, the big cut waits
    batch = decide(
        AS_OF, _world(), _campaign_policies(policies, threshold), AutonomyState(), SIGNALS
    ).batch
    waiting = list(batch.loc[batch["status"] == "pending_approval", "decision_id"])
    assert waiting
    for n in range(len(waiting) + 1):
        for rejected in itertools.combinations(waiting, n):
            ledger = [
                {"decision_id": d, "verdict": "rejected", "approver": "Head of Marketing"}
                for d in rejected
            ]
            now = apply_scoped_autonomy(apply_approvals(batch, ledger), {}, ledger)
            assert _spend_if_executed(now) <= TOTAL + 0.01, rejected


@pytest.mark.parametrize("level", ["approve_above_threshold", "full"])
def test_a_cut_held_by_a_ceiling_holds_the_increases_it_funds(policies, level) -> None:
    """The drift off-ramp lowers one channel to recommend-only at execution: its cut no
    longer goes ahead, so the increases elsewhere wait too, each saying why."""
    pol = _campaign_policies(policies, 1e9)
    autonomy = pol.autonomy.model_copy(update={"level": level})
    batch = decide(
        AS_OF, _world(), pol.model_copy(update={"autonomy": autonomy}), AutonomyState(), SIGNALS
    ).batch
    budget = batch[batch["action_type"] == "budget_allocation"]
    assert (budget["status"] == "approved").all()
    cut = next(
        r
        for r in budget.to_dict("records")
        if r["amount"] < json.loads(r["rationale"])["scores"]["last_period_amount"] - 1.0
    )
    scopes = {f"channel:{cut['channel']}": AutonomyState("recommend_only", "drift off-ramp")}
    now = apply_scoped_autonomy(batch, scopes, [])
    assert _spend_if_executed(now) <= TOTAL + 0.01
    held = now[(now["action_type"] == "budget_allocation") & (now["status"] != "approved")]
    assert cut["decision_id"] in set(held["decision_id"])
    for row in held.to_dict("records"):
        reason = json.loads(row["rationale"])["autonomy"]["status_reason"]
        assert reason.startswith(("waits for a named approver", "run-time ceiling")), reason
