"""`decisions`: next-period budget per channel (or campaign) and content per audience, under
policy, with the rationale readable in the UI; approvals and the kill switch from the UI."""

import dagster as dg
import pandas as pd

from marketing_ops.decisioning import (
    autonomy_state,
    batch_markdown,
    decide,
    ensure_default_policies,
    keep_earlier_batches,
    list_batches,
    load_policies,
    read_approvals,
)
from marketing_ops.decisioning.decide import DecisionInputs
from marketing_ops.defs._shared import STORE_POOL, StoreResource, as_of, daily, input_versions
from marketing_ops.defs.decisions.approvals import defs as approval_defs
from marketing_ops.defs.decisions.recording import record_decisions
from marketing_ops.graph import GraphReader, eligible_candidates
from marketing_ops.warehouse import read_table, replace_partition

BASELINES = dg.AssetKey(["forecasts", "baselines"])
CURVES = dg.AssetKey(["forecasts", "response_curves"])
GRAPH = dg.AssetKey(["graph", "knowledge_graph"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
SEND_HOURS = dg.AssetKey(["marts", "fct_audience_send_hours"])
AD_SPEND = dg.AssetKey(["marts", "fct_ad_spend_daily"])
CONVERSIONS = dg.AssetKey(["marts", "fct_conversions"])

__all__ = ["decision_batch", "defs"]


@dg.asset(
    key=["decisions", "decision_batch"],
    group_name="decisions",
    deps=[BASELINES, CURVES, GRAPH, KPIS, SEND_HOURS, AD_SPEND, CONVERSIONS],
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
    inputs = DecisionInputs(
        kpis, curve_rows, forecasts, send_hours, candidates, ad_spend, conversions
    )
    autonomy = autonomy_state(home)
    signals = input_versions(context.instance, keys)
    result = decide(day, inputs, policies, autonomy, signals)
    batch = result.batch
    # On the ledger first (inputs, versions, lineage; replayed once from what it stored):
    # nothing reaches agent.decisions, and so execution, without its entry.
    ledger = record_decisions(context, store, day, batch, inputs, policies, autonomy, signals, keys)
    with store.warehouse() as con:
        # every batch kept: the day's earlier batches stay, their open actions superseded
        earlier = read_table(con, "agent.decisions", date_column="as_of", start=day, end=day)
        rows = keep_earlier_batches(earlier, batch.assign(as_of=day))
        replace_partition(con, "agent.decisions", rows, day)
        batches = list_batches(con, day)
    counts = batch.groupby(["action_type", "status"]).size().reset_index(name="actions")
    top = batch.sort_values("expected_revenue", ascending=False).head(10)
    plan = result.plan
    return dg.MaterializeResult(
        metadata={
            "batch_id": str(batch["batch_id"].iloc[0]),
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
            **ledger,
        },
        data_version=dg.DataVersion(str(batch["batch_id"].iloc[0])),
    )


defs = dg.Definitions.merge(dg.Definitions(assets=[decision_batch]), approval_defs)
