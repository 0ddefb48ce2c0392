"""Approvals and the kill switch from the Dagster UI: jobs launched with typed config.

In the UI's Launchpad, ``record_approval`` takes ``{decision_id, verdict, approver, reason}``
and appends to the same hash-chained ledger as ``marketing-ops approve|reject``, with the
same rule: only an approver named in ``roles.yaml`` whose role covers the action type. A
refused approval fails the run with the reason. ``set_autonomy`` is the kill switch
(``level: off``) and the way back (``level: policy``). Both take effect at the next
execution: executed_actions re-reads the ledger and the switch every time it runs.
"""

from enum import StrEnum

import dagster as dg

from marketing_ops.decisioning import (
    ApprovalError,
    approve,
    load_policies,
    reject,
    set_global_autonomy,
)
from marketing_ops.defs._shared import STORE_POOL, StoreResource


class Verdict(StrEnum):
    approve = "approve"
    reject = "reject"


class Level(StrEnum):
    off = "off"
    recommend_only = "recommend_only"
    approve_above_threshold = "approve_above_threshold"
    full = "full"
    policy = "policy"


class ApprovalConfig(dg.Config):
    """One verdict on one decision, by a named approver."""

    decision_id: str
    verdict: Verdict
    approver: str
    reason: str = ""


class AutonomyConfig(dg.Config):
    """The run-time autonomy ceiling: off is the kill switch, policy defers to the files."""

    level: Level
    who: str
    reason: str = ""


def decision_action_type(con, decision_id: str) -> str | None:
    """The action type of a stored decision (None when there is no such decision)."""
    row = con.execute(
        "select action_type from agent.decisions where decision_id = ? limit 1", [decision_id]
    ).fetchone()
    return None if row is None else str(row[0])


@dg.op(pool=STORE_POOL)
def approval_verdict(
    context: dg.OpExecutionContext, config: ApprovalConfig, store: StoreResource
) -> None:
    """Append an approval or rejection to the ledger, refusing unknown decisions and
    approvers whose role does not cover the action."""
    home = store.home()
    roles = load_policies(home.policies).roles
    with store.warehouse() as con:
        action_type = decision_action_type(con, config.decision_id)
    if action_type is None:
        raise dg.Failure(f"decision_id: no decision {config.decision_id!r} in agent.decisions")
    record = approve if config.verdict is Verdict.approve else reject
    try:
        entry = record(
            home,
            config.decision_id,
            config.approver,
            roles,
            action_type=action_type,
            reason=config.reason,
        )
    except ApprovalError as exc:
        raise dg.Failure(f"refused: {exc}") from exc
    context.log.info(
        f"{entry['verdict']} {config.decision_id} as {config.approver} "
        f"(ledger entry {entry['seq']}, hash {entry['hash'][:12]})"
    )


@dg.op
def autonomy_switch(context: dg.OpExecutionContext, config: AutonomyConfig, store: StoreResource):
    """Set (or lift) the global autonomy ceiling; off is the kill switch."""
    level = None if config.level is Level.policy else config.level.value
    state = set_global_autonomy(store.home(), level, config.who, config.reason)
    context.log.info(f"autonomy now: {state}")


@dg.job(description="Approve or reject one decision as a named approver (see roles.yaml).")
def record_approval():
    approval_verdict()


@dg.job(description="Kill switch (level off) or any run-time autonomy ceiling; policy lifts it.")
def set_autonomy():
    autonomy_switch()


defs = dg.Definitions(jobs=[record_approval, set_autonomy])
