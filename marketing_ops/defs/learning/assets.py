"""`learning`: how wrong the forecasts were, whether the world drifted (and the off-ramp),
and whether a candidate content policy would beat the current one (the OPE gate)."""

import json

import dagster as dg
import pandas as pd

from marketing_ops.decisioning import apply_offramp, executed_test_spend, scoped_autonomy
from marketing_ops.decisioning.decide import curves_as_of
from marketing_ops.defs._shared import STORE_POOL, StoreResource, as_of, daily
from marketing_ops.defs.learning import sensors
from marketing_ops.measurement import (
    FORECAST_ERROR_COLUMNS,
    drift_report,
    evaluate_candidate,
    logged_content_decisions,
)
from marketing_ops.measurement import forecast_error as score_forecasts
from marketing_ops.warehouse import read_table, replace_partition

OUTCOMES = dg.AssetKey(["measurement", "decision_outcomes"])
BASELINES = dg.AssetKey(["forecasts", "baselines"])
CURVES = dg.AssetKey(["forecasts", "response_curves"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
DRIFT = dg.AssetKey(["learning", "drift"])
# Check name -> the drift report's family it judges.
DRIFT_CHECKS = {
    "signal_drift": "signal",
    "forecast_error_drift": "forecast_error",
    "guardrail_regressions": "guardrail",
}


@dg.asset(
    key=["learning", "forecast_error"],
    group_name="learning",
    deps=[OUTCOMES, BASELINES],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"duckdb"},
    owners=["team:marketing-ops"],
)
def forecast_error(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Error of every earlier forecast whose target days now have actuals (MAPE, sMAPE,
    bias, interval coverage per channel and metric): the signal that triggers re-fitting."""
    day = as_of(context)
    with store.warehouse() as con:
        forecasts = read_table(con, "agent.forecasts", date_column="as_of", end=day)
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
    if not forecasts.empty:
        forecasts = forecasts[forecasts["metric"] != "seasonal_index"]
    errors = score_forecasts(forecasts, kpis).assign(as_of=day)
    with store.warehouse() as con:
        replace_partition(con, "agent.forecast_error", errors, day)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "forecasts_scored": int(errors["n"].sum()) if len(errors) else 0,
            "errors": dg.MetadataValue.md(
                errors[FORECAST_ERROR_COLUMNS].round(3).to_markdown(index=False)
            )
            if len(errors)
            else "no forecast has reached its target days yet",
        }
    )


def _check(name: str, family: str, findings: pd.DataFrame, dropped: dict) -> dg.AssetCheckResult:
    rows = findings[findings["family"] == family]
    crossed = rows[rows["crossed"]]
    scopes = sorted(set(crossed["scope"]))
    if crossed.empty:
        description = f"{len(rows)} {family} checks, none crossed its threshold"
    else:
        description = (
            "; ".join(crossed["detail"])
            + f". Autonomy for {', '.join(scopes)} is now recommend-only; a person restores it "
            "with `marketing-ops restore-autonomy SCOPE --as NAME`."
        )
    table = rows[["scope", "signal", "relative_change", "psi", "ks_p", "p_value", "crossed"]]
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=DRIFT,
        passed=crossed.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "findings": dg.MetadataValue.md(table.round(3).to_markdown(index=False))
            if len(rows)
            else "no data for this family yet",
            "scopes_lowered": ", ".join(s for s in scopes if s in dropped) or "none",
        },
    )


@dg.asset(
    key=["learning", "drift"],
    group_name="learning",
    deps=[KPIS, CURVES, BASELINES],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"scipy"},
    owners=["team:marketing-ops"],
    check_specs=[
        dg.AssetCheckSpec(name, asset=DRIFT, description=f"No {family.replace('_', ' ')} drift.")
        for name, family in DRIFT_CHECKS.items()
    ],
)
def drift(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Population stability and KS tests on key signals (efficiency against the response
    model, revenue per conversion, baseline demand), forecast-error drift and guardrail
    regressions (blended ROAS and CAC, win rate), recent weeks against the months before.
    A crossed threshold drops autonomy to recommend-only for the affected scope (a channel,
    or the budget policy) at once; the checks say why, and the drift sensor asks for the
    forecasts to be re-fitted. Returning to autonomy needs a person."""
    day = as_of(context)
    home = store.home()
    with store.warehouse() as con:
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
        curve_rows = read_table(
            con, "agent.response_curves", date_column="as_of", start=day, end=day
        )
        forecasts = read_table(con, "agent.forecasts", date_column="as_of", end=day)
        # the agent's own tests move spend and conversions: not drift (executed_test_spend)
        tests = executed_test_spend(read_table(con, "agent.decisions"))
    curves, _ = curves_as_of(curve_rows) if len(curve_rows) else ({}, {})
    report = drift_report(kpis, day, curves, forecasts if len(forecasts) else None, tests=tests)
    dropped = apply_offramp(home, report.crossed)
    with store.warehouse() as con:
        replace_partition(con, "agent.drift", report.findings.assign(as_of=day), day)
    context.log.info(report.summary())
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "summary": report.summary(),
            "offramp_scopes": ",".join(sorted(report.crossed)),
            "lowered_scopes_now": ", ".join(
                f"{k} (by {v.set_by})" for k, v in scoped_autonomy(home).items()
            )
            or "none",
        },
        check_results=[
            _check(name, family, report.findings, dropped) for name, family in DRIFT_CHECKS.items()
        ],
    )


@dg.asset(
    key=["learning", "policy_evaluation"],
    group_name="learning",
    deps=[OUTCOMES],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"python"},
    owners=["team:marketing-ops"],
)
def policy_evaluation(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Off-policy evaluation of an exploit-only content policy (learnt on the older half of
    the logged sends, judged on the newer half) with IPS, SNIPS and doubly robust estimates
    and bootstrap intervals; the OPE gate promotes it only if its lower bound beats the
    current policy's measured clicks per send."""
    day = as_of(context)
    with store.warehouse() as con:
        decisions = read_table(con, "agent.decisions", date_column="as_of", end=day)
        outcomes = read_table(
            con, "agent.decision_outcomes", date_column="as_of", start=day, end=day
        )
    log = logged_content_decisions(decisions, outcomes)
    result = evaluate_candidate(log)
    if result is None:
        return dg.MaterializeResult(
            metadata={
                "as_of": str(day),
                "logged_sends": len(log),
                "gate": "not evaluated: fewer than 30 measured sends with propensities",
            }
        )
    gate = result["gate"]
    rows = pd.DataFrame(
        [
            {
                "as_of": day,
                "estimator": e.estimator,
                "value": e.value,
                "lower": e.lower,
                "upper": e.upper,
                "n": e.n,
                "effective_n": e.effective_n,
                "current_value": result["current_value"],
                "promote": gate.promote,
                "reason": gate.reason,
                "candidate": json.dumps(result["candidate"], sort_keys=True),
            }
            for e in result["estimates"].values()
        ]
    )
    with store.warehouse() as con:
        replace_partition(con, "agent.policy_evaluations", rows, day)
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "logged_sends": len(log),
            "promote": gate.promote,
            "gate": gate.reason,
            "estimates": dg.MetadataValue.md(
                rows[["estimator", "value", "lower", "upper", "current_value"]]
                .round(4)
                .to_markdown(index=False)
            ),
        }
    )


defs = dg.Definitions.merge(
    dg.Definitions(assets=[forecast_error, drift, policy_evaluation]), sensors.defs
)
