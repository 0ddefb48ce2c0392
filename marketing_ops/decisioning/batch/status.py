"""Why each action has its status, said in its row, and the total-budget guardrail.

Every status other than ``executed`` carries its reason in the row's rationale
(``autonomy.status_reason``; ``autonomy.waits_for_approval_because`` lists what a person has
to look at, never empty for ``pending_approval`` and ``proposed``): the autonomy level and
where it comes from, the threshold crossed with its numbers, the approver who rejected, the
ceiling the drift off-ramp set, the batch that superseded it.

The guardrail: what goes ahead without a person never takes the period's paid spend over the
total budget, whatever still waits. A budget line that waits keeps spending last period's
amount until a person decides, so with campaign-level plans the increases approved by
threshold could otherwise be spent while the cuts that fund them wait. When they would,
the increases that earn least at the margin wait too, until the rest fits.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from marketing_ops.decisioning.policy import PolicySet, stricter

__all__ = [
    "hold_budget_within_total",
    "level_and_source",
    "set_status",
    "status_for",
    "status_reason",
]

# Statuses whose money is (or is about to be) spent at the new amount.
_GOES_AHEAD = ("approved", "executed", "rolled_back")


def status_for(level: str, reasons_to_wait: list[str]) -> str:
    """The status an action gets at an autonomy level, given why it might need a person."""
    if level == "off":
        return "blocked"
    if level == "recommend_only":
        return "proposed"
    if level == "approve_above_threshold":
        return "pending_approval" if reasons_to_wait else "approved"
    return "approved"


def level_and_source(policies: PolicySet, state, action_type: str) -> tuple[str, str]:
    """The autonomy level an action gets and, in words, where it comes from (the policy file
    or the run-time ceiling ``state``, an :class:`~marketing_ops.decisioning.AutonomyState`)."""
    own = policies.autonomy.level_for(action_type)
    if state.level is None or stricter(own, state.level) == own:
        policy = "budget" if action_type == "budget_allocation" else "content"
        return own, f"autonomy.yaml sets {policy} actions to {own}"
    return state.level, f"run-time autonomy {state}"


def status_reason(status: str, level: str, source: str, waits: list[str]) -> str:
    """One sentence on why an action has the status it got when it was decided."""
    if status == "approved":
        if level == "full":
            return f"goes ahead without a person: {source}"
        return f"goes ahead without a person: below every approval threshold ({source})"
    if status == "pending_approval":
        return "waits for a named approver: " + "; ".join(waits)
    if status == "proposed":
        return f"recommended only: {source}; a person approves every action"
    if status == "blocked":
        return f"not executed: {source}"
    return f"status {status}"


def proposal_waits(level: str, source: str, waits: list[str]) -> list[str]:
    """What a person has to look at: recommend-only names itself first, then the thresholds."""
    if level == "recommend_only":
        return [f"recommend_only: a person approves every action ({source})", *waits]
    return list(waits)


def dump_rationale(rationale: dict) -> str:
    """The one JSON form of a rationale (sorted keys, no NaN)."""
    return json.dumps(rationale, sort_keys=True, default=_json_default, allow_nan=False)


def _json_default(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def set_status(
    batch: pd.DataFrame, index, status: str, reason: str, waits: list[str] | None = None
) -> None:
    """Give row ``index`` of ``batch`` a new status with its reason, in place (and add to what
    it waits for)."""
    rationale = json.loads(batch.at[index, "rationale"])
    autonomy = dict(rationale.get("autonomy") or {})
    autonomy["status_reason"] = reason
    if waits:
        autonomy["waits_for_approval_because"] = [
            *(autonomy.get("waits_for_approval_because") or []),
            *waits,
        ]
    rationale["autonomy"] = autonomy
    batch.at[index, "status"] = status
    batch.at[index, "rationale"] = dump_rationale(rationale)


def _scores(rationale: str) -> dict:
    return json.loads(rationale).get("scores") or {}


def hold_budget_within_total(
    batch: pd.DataFrame, approved_by_person: frozenset[str] | set[str] = frozenset()
) -> pd.DataFrame:
    """The batch with the total-budget guardrail applied (pure).

    Spend if the batch executed now = new amounts of the budget lines that go ahead + last
    period's amounts of those that do not. While that is over the plan's total budget, the
    increase approved without a person that earns least at the margin waits for approval
    (``approved_by_person`` are never held back: a person decided those)."""
    budget = batch[batch["action_type"] == "budget_allocation"]
    out = batch
    for _, lines in budget.groupby("batch_id", sort=False):  # a day may hold several batches
        out = _hold_one_batch(out, lines, approved_by_person)
    return out


def _hold_one_batch(
    batch: pd.DataFrame, budget: pd.DataFrame, approved_by_person: frozenset[str] | set[str]
) -> pd.DataFrame:
    scores = {i: _scores(r) for i, r in budget["rationale"].items()}
    total = next(iter(scores.values())).get("plan_total_budget")
    if total is None or not math.isfinite(float(total)):
        return batch
    last = {i: float(s.get("last_period_amount") or 0.0) for i, s in scores.items()}
    amount = budget["amount"].astype(float).to_dict()
    ahead = budget["status"].isin(_GOES_AHEAD).to_dict()
    spend = sum(amount[i] if ahead[i] else last[i] for i in budget.index)
    tol = 0.01 + 1e-9 * abs(float(total))
    if spend <= total + tol:
        return batch
    increases = [
        i
        for i in budget.index
        if budget.at[i, "status"] == "approved"
        and str(budget.at[i, "decision_id"]) not in approved_by_person
        and amount[i] > last[i]
    ]
    increases.sort(
        key=lambda i: (scores[i].get("marginal_roi") or 0.0, budget.at[i, "decision_id"])
    )
    cuts = [i for i in budget.index if not ahead[i] and amount[i] < last[i]]
    out = batch.copy()
    for i in increases:
        if spend <= total + tol:
            break
        reason = (
            f"total budget guardrail: executing it now would take the period's paid spend to "
            f"{spend:,.0f} EUR, over the total budget of {float(total):,.0f} EUR, while "
            f"{_describe_cuts(budget, cuts, amount, last)} wait for approval"
        )
        set_status(out, i, "pending_approval", "waits for a named approver: " + reason, [reason])
        spend -= amount[i] - last[i]
    return out


def _line_name(budget: pd.DataFrame, i) -> str:
    campaign = budget.at[i, "campaign_id"]
    return str(campaign) if isinstance(campaign, str) and campaign else str(budget.at[i, "channel"])


def _describe_cuts(budget: pd.DataFrame, cuts: list, amount: dict, last: dict) -> str:
    if not cuts:
        return "lines that keep last period's spend"
    total_cut = sum(last[i] - amount[i] for i in cuts)
    names = ", ".join(_line_name(budget, i) for i in cuts[:5])
    more = ", ..." if len(cuts) > 5 else ""
    return f"cuts of {total_cut:,.0f} EUR ({names}{more})"
