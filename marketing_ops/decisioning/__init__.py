"""Decisions under policy: budget per channel, content per audience, with approvals.

Policies are YAML files people write (:mod:`.policy`); the budget optimiser works on the
response curves (:mod:`.optimiser`); content is chosen by Thompson sampling over the graph's
eligible candidates (:mod:`.bandit`); both become one decision batch in the export contract
(:mod:`.batch`), whose status follows autonomy and the approval ledger (:mod:`.approvals`).
"""

from marketing_ops.decisioning.approvals import (
    ApprovalError,
    AutonomyState,
    LedgerTampered,
    apply_approvals,
    apply_offramp,
    apply_scoped_autonomy,
    approve,
    autonomy_state,
    drop_scope_autonomy,
    read_approvals,
    reject,
    restore_scope_autonomy,
    scoped_autonomy,
    scopes_for,
    set_global_autonomy,
)
from marketing_ops.decisioning.bandit import best_send_hour, bounded_propensities, choose_content
from marketing_ops.decisioning.batch import (
    DECISION_COLUMNS,
    assemble_batch,
    export_batch,
    status_for,
)
from marketing_ops.decisioning.optimiser import (
    Alternative,
    BudgetPlan,
    PlanLine,
    period_revenue,
    phase_budget,
    plan_budget,
)
from marketing_ops.decisioning.policy import (
    AUTONOMY_LEVELS,
    ApprovalPolicy,
    AutonomyPolicy,
    BudgetPolicy,
    ChannelBounds,
    ContentPolicy,
    PolicyError,
    PolicySet,
    RolesPolicy,
    ensure_default_policies,
    load_policies,
)

__all__ = [
    "AUTONOMY_LEVELS",
    "DECISION_COLUMNS",
    "Alternative",
    "ApprovalError",
    "ApprovalPolicy",
    "AutonomyPolicy",
    "AutonomyState",
    "BudgetPlan",
    "BudgetPolicy",
    "ChannelBounds",
    "ContentPolicy",
    "LedgerTampered",
    "PlanLine",
    "PolicyError",
    "PolicySet",
    "RolesPolicy",
    "apply_approvals",
    "apply_offramp",
    "apply_scoped_autonomy",
    "approve",
    "assemble_batch",
    "autonomy_state",
    "best_send_hour",
    "bounded_propensities",
    "choose_content",
    "drop_scope_autonomy",
    "ensure_default_policies",
    "export_batch",
    "load_policies",
    "period_revenue",
    "phase_budget",
    "plan_budget",
    "read_approvals",
    "reject",
    "restore_scope_autonomy",
    "scoped_autonomy",
    "scopes_for",
    "set_global_autonomy",
    "status_for",
]
