"""Measurement: outcomes joined back to decision ids, KPIs per decision, policy, channel and
day, policy experiments, off-policy evaluation, drift, and how wrong the forecasts were."""

from marketing_ops.measurement.drift import (
    DRIFT_COLUMNS,
    DriftReport,
    DriftThresholds,
    distribution_shift,
    drift_report,
    population_stability_index,
)
from marketing_ops.measurement.experiments import (
    ArmComparison,
    SrmCheck,
    always_valid,
    assign_arms,
    compare_arms,
    experiment_report,
    sample_ratio_mismatch,
)
from marketing_ops.measurement.kpis import (
    DAILY_COLUMNS,
    KPI_COLUMNS,
    decision_days,
    kpi_rollup,
    uplift_vs_holdout,
)
from marketing_ops.measurement.ope import (
    LOG_COLUMNS,
    GateDecision,
    OpeEstimate,
    deterministic_policy,
    estimate_policy_value,
    evaluate_candidate,
    greedy_candidate,
    logged_content_decisions,
    ope_gate,
    reward_model,
)
from marketing_ops.measurement.outcomes import (
    FORECAST_ERROR_COLUMNS,
    OUTCOME_COLUMNS,
    agent_email_events,
    decision_outcomes,
    forecast_error,
)

__all__ = [
    "DAILY_COLUMNS",
    "DRIFT_COLUMNS",
    "KPI_COLUMNS",
    "FORECAST_ERROR_COLUMNS",
    "LOG_COLUMNS",
    "OUTCOME_COLUMNS",
    "ArmComparison",
    "DriftReport",
    "DriftThresholds",
    "GateDecision",
    "OpeEstimate",
    "SrmCheck",
    "agent_email_events",
    "always_valid",
    "assign_arms",
    "compare_arms",
    "decision_days",
    "decision_outcomes",
    "deterministic_policy",
    "distribution_shift",
    "drift_report",
    "estimate_policy_value",
    "evaluate_candidate",
    "experiment_report",
    "forecast_error",
    "greedy_candidate",
    "kpi_rollup",
    "logged_content_decisions",
    "ope_gate",
    "population_stability_index",
    "reward_model",
    "sample_ratio_mismatch",
    "uplift_vs_holdout",
]
