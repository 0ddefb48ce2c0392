"""Decisions under policy: budget per channel or campaign, content per audience, approvals.

Policies are YAML files people write (:mod:`.policy`); the budget optimiser works on the
response curves (:mod:`.optimiser`, campaigns in :mod:`.campaigns`); candidate content
actions are scored with intervals (:mod:`.scoring`) and chosen by bounded Thompson sampling
after consent, caps, fatigue and compliance rules (:mod:`.bandit`); :mod:`.decide` runs one
day's turn; the batch follows the export contract (:mod:`.batch`), whose status follows
autonomy and the approval ledger (:mod:`.approvals`), and :mod:`.explain` says why in words.
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
from marketing_ops.decisioning.bandit import (
    apply_content_rules,
    best_send_hour,
    bounded_propensities,
    choose_content,
    thompson_probabilities,
)
from marketing_ops.decisioning.batch import (
    DECISION_COLUMNS,
    assemble_batch,
    export_batch,
    status_for,
)
from marketing_ops.decisioning.campaigns import campaign_curves, campaign_shares, split_by_campaign
from marketing_ops.decisioning.decide import DecisionInputs, DecisionResult, decide
from marketing_ops.decisioning.explain import batch_markdown, rationale_markdown
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
    CompliancePolicy,
    ContentPolicy,
    FatiguePolicy,
    PolicyError,
    PolicySet,
    RolesPolicy,
    ensure_default_policies,
    load_policies,
)
from marketing_ops.decisioning.scoring import (
    candidate_actions,
    hour_lifts,
    score_actions,
    value_per_conversion,
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
    "CompliancePolicy",
    "ContentPolicy",
    "DecisionInputs",
    "DecisionResult",
    "FatiguePolicy",
    "LedgerTampered",
    "PlanLine",
    "PolicyError",
    "PolicySet",
    "RolesPolicy",
    "apply_approvals",
    "apply_content_rules",
    "apply_offramp",
    "apply_scoped_autonomy",
    "approve",
    "assemble_batch",
    "autonomy_state",
    "batch_markdown",
    "best_send_hour",
    "bounded_propensities",
    "campaign_curves",
    "campaign_shares",
    "candidate_actions",
    "choose_content",
    "decide",
    "drop_scope_autonomy",
    "ensure_default_policies",
    "export_batch",
    "hour_lifts",
    "load_policies",
    "period_revenue",
    "phase_budget",
    "plan_budget",
    "rationale_markdown",
    "read_approvals",
    "reject",
    "score_actions",
    "restore_scope_autonomy",
    "scoped_autonomy",
    "scopes_for",
    "set_global_autonomy",
    "split_by_campaign",
    "status_for",
    "thompson_probabilities",
    "value_per_conversion",
]
