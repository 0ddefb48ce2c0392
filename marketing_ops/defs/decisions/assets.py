"""`decisions`: next-period budget per channel (or campaign) and content per audience, under
policy, with the rationale readable in the UI; approvals and the kill switch from the UI."""

import dagster as dg
import pandas as pd

from marketing_ops.decisioning import (
    autonomy_state,
    batch_markdown,
    decide,
    ensure_default_policies,
    executed_test_spend,
    keep_earlier_batches,
    list_batches,
    load_policies,
    read_approvals,
    verdict_frame,
)
from marketing_ops.decisioning.decide import DecisionInputs, response_model_of
from marketing_ops.defs._shared import STORE_POOL, StoreResource, as_of, daily, input_versions
from marketing_ops.defs.decisions.approvals import defs as approval_defs
from marketing_ops.defs.decisions.recording import record_decisions
from marketing_ops.defs.decisions.testing import proposed_tests
from marketing_ops.graph import GraphReader, eligible_candidates
from marketing_ops.warehouse import read_table, replace_partition

BASELINES = dg.AssetKey(["forecasts", "baselines"])
CURVES = dg.AssetKey(["forecasts", "response_curves"])
GRAPH = dg.AssetKey(["graph", "knowledge_graph"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
SEND_HOURS = dg.AssetKey(["marts", "fct_audience_send_hours"])
AD_SPEND = dg.AssetKey(["marts", "fct_ad_spend_daily"])
CONVERSIONS = dg.AssetKey(["marts", "fct_conversions"])
GEO_KPIS = dg.AssetKey(["marts", "fct_geo_kpis_daily"])  # what geo tests are designed on
BATCH_KEY = dg.AssetKey(["decisions", "decision_batch"])
EARLIER_SHOWN = 20

__all__ = ["decision_batch", "defs"]


@dg.asset(
    key=["decisions", "decision_batch"],
    group_name="decisions",
    deps=[BASELINES, CURVES, GRAPH, KPIS, SEND_HOURS, AD_SPEND, CONVERSIONS, GEO_KPIS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"scipy", "kuzu"},
    owners=["team:marketing-ops"],
)
def decision_batch(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """The decision batch as of the partition's day: a budget per paid channel (or campaign)
    for the next period, optimised on the response curves under the budget policy and phased
    by forecast seasonality, and a content choice, channel and send time per audience
    (Thompson sampling over the graph's eligible candidates after consent, caps, fatigue and
    compliance rules), each with rationale, counterfactual alternatives and status."""
    day = as_of(context)
    home = store.home()
    ensure_default_policies(home.policies)
    policies = load_policies(home.policies)
    with store.warehouse() as con:
        kpis = read_table(con, "marts.fct_channel_kpis_daily", date_column="date_day", end=day)
        curve_rows = read_table(
            con, "agent.response_curves", date_column="as_of", start=day, end=day
        )
        forecasts = read_table(con, "agent.forecasts", date_column="as_of", start=day, end=day)
        send_hours = read_table(con, "marts.fct_audience_send_hours")
        campaign_level = policies.budget.plan_level == "campaign"
        ad_spend = (
            read_table(con, "marts.fct_ad_spend_daily", date_column="date_day", end=day)
            if campaign_level
            else pd.DataFrame()
        )
        conversions = (
            read_table(con, "marts.fct_conversions", date_column="date_day", end=day)
            if campaign_level
            else pd.DataFrame()
        )
        # tests already running hold their geos, channel and budget (testing.yaml); the
        # executed ones moved last period's spend away from its plan (executed_test_spend)
        decisions = read_table(con, "agent.decisions")
        earlier = decisions if policies.testing.enabled else None
    with GraphReader(home.graph) as reader:
        candidates = pd.concat(
            [
                eligible_candidates(
                    reader,
                    channel=channel,
                    suppressed_audiences=tuple(policies.content.suppressed_audiences),
                    frequency_cap_per_week=policies.content.frequency_cap_per_week,
                )
                for channel in policies.content.allowed_channels
            ],
            ignore_index=True,
        )
    keys = [KPIS, BASELINES, CURVES, GRAPH, SEND_HOURS] + (
        [AD_SPEND, CONVERSIONS] if campaign_level else []
    )
    # the verdicts of the fit behind the curves: which channels' decay tests measured
    fit = response_model_of(curve_rows).get("mmm_fit")
    inputs = DecisionInputs(
        kpis,
        curve_rows,
        forecasts,
        send_hours,
        candidates,
        ad_spend,
        conversions,
        verdict_frame(home, fit),
        executed_test_spend(decisions),
    )
    autonomy = autonomy_state(home)
    signals = input_versions(context.instance, keys)
    result = decide(day, inputs, policies, autonomy, signals)
    # incrementality tests (testing.yaml) priced on the media mix model, in the same batch
    testing = proposed_tests(
        store, day, kpis, policies, autonomy, result.batch, earlier, signals, curves_fit=fit
    )
    tests = testing.tests
    batch = pd.concat([result.batch, tests], ignore_index=True) if len(tests) else result.batch
    # On the ledger first (inputs, versions, lineage; replayed once from what it stored):
    # nothing reaches agent.decisions, and so execution, without its entry.
    ledger = record_decisions(
        context, store, day, batch, inputs, policies, autonomy, signals, keys, carried=tests
    )
    with store.warehouse() as con:
        # every batch kept: the day's earlier batches stay, their open actions superseded
        day_rows = read_table(con, "agent.decisions", date_column="as_of", start=day, end=day)
        rows = keep_earlier_batches(day_rows, batch.assign(as_of=day))
        replace_partition(con, "agent.decisions", rows, day)
        batches = list_batches(con, day)
        kept = read_table(con, "agent.decisions")
    batch_id = str(batch["batch_id"].iloc[0])
    earlier = _earlier_batches(kept, _batch_runs(context.instance), batch_id)
    counts = batch.groupby(["action_type", "status"]).size().reset_index(name="actions")
    top = batch.sort_values("expected_revenue", ascending=False).head(10)
    plan = result.plan
    return dg.MaterializeResult(
        metadata={
            "batch_id": batch_id,
            "policy_version": policies.version,
            "actions": len(batch),
            "plan_expected_revenue": float(plan.expected_revenue),
            "plan_total_spend": float(plan.total_spend),
            "by_status": dg.MetadataValue.md(counts.to_markdown(index=False)),
            "top_actions": dg.MetadataValue.md(
                top[
                    [
                        "decision_id",
                        "action_type",
                        "channel",
                        "campaign_id",
                        "audience_id",
                        "asset_id",
                        "amount",
                        "expected_revenue",
                        "status",
                    ]
                ]
                .round(2)
                .to_markdown(index=False)
            ),
            "rationale": dg.MetadataValue.md(batch_markdown(batch, read_approvals(home))),
            "batches_today": dg.MetadataValue.md(
                batches.drop(columns=["as_of"]).to_markdown(index=False)
                + "\n\nEarlier batches stay in agent.decisions: "
                "`marketing-ops decisions --batch BATCH_ID` shows or exports one."
            ),
            "earlier_batch_count": len(earlier),
            "earlier_batches": dg.MetadataValue.md(_earlier_markdown(earlier)),
            **ledger,
            **_testing_metadata(policies, testing),
        },
        data_version=dg.DataVersion(batch_id),
    )


def _testing_metadata(policies, testing) -> dict:
    """Proposed tests, per channel without one why, and ROAS per channel before and after
    the read-outs' calibration (only with testing.enabled)."""
    if not policies.testing.enabled:
        return {}
    lines = [f"- `{r.decision_id}` {r.channel}: {r.status}" for r in testing.tests.itertuples()]
    lines += [f"- {channel}: no test ({why})" for channel, why in testing.untested.items()]
    return {
        "tests_proposed": len(testing.tests),
        "tests": dg.MetadataValue.md("\n".join(lines) or "_none_"),
        **(
            {"posterior_before_after": dg.MetadataValue.md(testing.posterior)}
            if testing.posterior
            else {}
        ),
    }


def _batch_runs(instance: dg.DagsterInstance) -> dict[str, str]:
    """batch id -> the run that decided it, from this asset's materialisations."""
    records = instance.fetch_materializations(BATCH_KEY, limit=500).records
    runs = {}
    for record in records:
        mat = record.asset_materialization
        entry = (mat.metadata or {}).get("batch_id") if mat else None
        if entry is not None:
            runs.setdefault(str(entry.value), record.run_id)
    return runs


def _earlier_batches(kept: pd.DataFrame, runs: dict[str, str], latest: str) -> pd.DataFrame:
    """The batches agent.decisions keeps besides ``latest``, newest first: as of, when
    decided, how many actions, under which policy, and the run that decided each."""
    columns = ["batch_id", "as_of", "decided_at", "actions", "policy_version", "run_id"]
    if kept.empty:
        return pd.DataFrame(columns=columns)
    others = kept[kept["batch_id"] != latest]
    summary = (
        others.groupby("batch_id")
        .agg(
            as_of=("as_of", "max"),
            decided_at=("created_at", "max"),
            actions=("decision_id", "count"),
            policy_version=("policy_version", "first"),
        )
        .reset_index()
        .sort_values(["decided_at", "batch_id"], ascending=False)
    )
    summary["run_id"] = summary["batch_id"].map(runs).fillna("")
    return summary[columns]


def _earlier_markdown(earlier: pd.DataFrame) -> str:
    """Links to the earlier batches: the run that decided each (the UI's run page) and the
    command that exports it."""
    if earlier.empty:
        return "_No earlier batch: this is the first one._"
    lines = ["| batch | as of | decided at | actions | policy | run |", "|---|---|---|---|---|---|"]
    for r in earlier.head(EARLIER_SHOWN).itertuples():
        run = f"[{r.run_id[:8]}](/runs/{r.run_id})" if r.run_id else "-"
        decided = pd.Timestamp(r.decided_at).strftime("%Y-%m-%d %H:%M")
        lines.append(
            f"| `{r.batch_id}` | {pd.Timestamp(r.as_of).date()} | {decided} | {r.actions} "
            f"| {r.policy_version} | {run} |"
        )
    if len(earlier) > EARLIER_SHOWN:
        lines.append(f"\n_{len(earlier) - EARLIER_SHOWN} older batches not shown._")
    lines.append("\nExport any of them: `marketing-ops decisions --batch <batch> --format csv`.")
    return "\n".join(lines)


defs = dg.Definitions.merge(dg.Definitions(assets=[decision_batch]), approval_defs)
