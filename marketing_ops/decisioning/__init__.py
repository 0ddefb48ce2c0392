"""Decisions under policy: budget per channel or campaign, content per audience, approvals.

One folder per concern, this module is the public surface:

- :mod:`.policy`: the YAML policy files people write;
- :mod:`.budget`: the optimiser on the response curves (:mod:`.budget.optimiser`) and the
  campaign split (:mod:`.budget.campaigns`);
- :mod:`.content`: candidate actions scored with intervals (:mod:`.content.scoring`), chosen
  by bounded Thompson sampling after consent, caps, fatigue and compliance rules
  (:mod:`.content.bandit`);
- :mod:`.decide`: one day's turn, budget and content;
- :mod:`.batch`: the batch under the export contract (:mod:`.batch.assemble`), why each
  action has its status and the total-budget guardrail (:mod:`.batch.status`), every batch
  kept (:mod:`.batch.history`), in words (:mod:`.batch.explain`), recorded and replayed
  (:mod:`.batch.replay`);
- :mod:`.ledger`: the one hash chain (:mod:`.ledger.chain`), the decision ledger
  (:mod:`.ledger.decisions`), approvals (:mod:`.ledger.approvals`) and the run-time autonomy
  ceiling (:mod:`.ledger.autonomy`).
"""

from marketing_ops.decisioning.batch.assemble import (
    DECISION_COLUMNS,
    assemble_batch,
    export_batch,
)
from marketing_ops.decisioning.batch.explain import batch_markdown, rationale_markdown
from marketing_ops.decisioning.batch.history import (
    keep_earlier_batches,
    list_batches,
    load_batch,
)
from marketing_ops.decisioning.batch.status import hold_budget_within_total, status_for
from marketing_ops.decisioning.budget.campaigns import (
    campaign_curves,
    campaign_shares,
    split_by_campaign,
)
from marketing_ops.decisioning.budget.optimiser import (
    Alternative,
    BudgetPlan,
    PlanLine,
    period_revenue,
    phase_budget,
    plan_budget,
)
from marketing_ops.decisioning.content.bandit import (
    apply_content_rules,
    best_send_hour,
    bounded_propensities,
    choose_content,
    thompson_probabilities,
)
from marketing_ops.decisioning.content.scoring import (
    candidate_actions,
    hour_lifts,
    score_actions,
    value_per_conversion,
)
from marketing_ops.decisioning.decide import (
    DecisionInputs,
    DecisionResult,
    decide,
    executed_test_spend,
)
from marketing_ops.decisioning.ledger.approvals import (
    ApprovalError,
    apply_approvals,
    approve,
    read_approvals,
    reject,
)
from marketing_ops.decisioning.ledger.autonomy import (
    AutonomyState,
    apply_offramp,
    apply_scoped_autonomy,
    autonomy_state,
    drop_scope_autonomy,
    restore_scope_autonomy,
    scoped_autonomy,
    scopes_for,
    set_global_autonomy,
)
from marketing_ops.decisioning.ledger.chain import LedgerTampered
from marketing_ops.decisioning.ledger.decisions import read_entries
from marketing_ops.decisioning.ledger.models import (
    fit_entry,
    record_model_fit,
    verdict_entries,
    verdict_frame,
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

__all__ = [
    "fit_entry",
    "read_entries",
    "record_model_fit",
    "verdict_entries",
    "verdict_frame",
    "executed_test_spend",
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
    "hold_budget_within_total",
    "keep_earlier_batches",
    "list_batches",
    "load_batch",
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
