"""`decisions`: next-period budget per channel and content per audience, under policy."""

import dagster as dg

from marketing_ops.decisioning import (
    autonomy_state,
    ensure_default_policies,
    load_policies,
)
from marketing_ops.decisioning.decide import DecisionInputs, decide
from marketing_ops.defs.decisions.approvals import defs as approval_defs
from marketing_ops.defs.decisions.ledger import record_decisions
from marketing_ops.defs.lineage import input_versions
from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.graph import GraphReader, eligible_candidates
from marketing_ops.warehouse import read_table, replace_partition

BASELINES = dg.AssetKey(["forecasts", "baselines"])
CURVES = dg.AssetKey(["forecasts", "response_curves"])
GRAPH = dg.AssetKey(["graph", "knowledge_graph"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
SEND_HOURS = dg.AssetKey(["marts", "fct_audience_send_hours"])


@dg.asset(
    key=["decisions", "decision_batch"],
    group_name="decisions",
    deps=[BASELINES, CURVES, GRAPH, KPIS, SEND_HOURS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"scipy", "kuzu"},
    owners=["team:marketing-ops"],
)
def decision_batch(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """The decision batch as of the partition's day: a budget per paid channel for the next
    7 days (optimised on the response curves under the budget policy, phased by forecast
    seasonality) and a content choice and send time per audience (Thompson sampling over
    the graph's eligible candidates), each with rationale, alternatives and status."""
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
    with GraphReader(home.graph) as reader:
        candidates = eligible_candidates(
            reader,
            channel="email",
            suppressed_audiences=tuple(policies.content.suppressed_audiences),
            frequency_cap_per_week=policies.content.frequency_cap_per_week,
        )
    keys = [KPIS, BASELINES, CURVES, GRAPH, SEND_HOURS]
    inputs = DecisionInputs(kpis, curve_rows, forecasts, send_hours, candidates)
    autonomy = autonomy_state(home)
    signals = input_versions(context.instance, keys)
    batch = decide(day, inputs, policies, autonomy, signals).batch
    # On the ledger first (inputs, versions, lineage; replayed once from what it stored):
    # nothing reaches agent.decisions, and so execution, without its entry.
    ledger = record_decisions(context, store, day, batch, inputs, policies, autonomy, signals, keys)
    with store.warehouse() as con:
        replace_partition(con, "agent.decisions", batch.assign(as_of=day), day)
    counts = batch.groupby(["action_type", "status"]).size().reset_index(name="actions")
    top = batch.sort_values("expected_revenue", ascending=False).head(10)
    return dg.MaterializeResult(
        metadata={
            "batch_id": str(batch["batch_id"].iloc[0]),
            "policy_version": policies.version,
            "actions": len(batch),
            "by_status": dg.MetadataValue.md(counts.to_markdown(index=False)),
            "top_actions": dg.MetadataValue.md(
                top[
                    [
                        "decision_id",
                        "action_type",
                        "channel",
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
            **ledger,
        },
        data_version=dg.DataVersion(str(batch["batch_id"].iloc[0])),
    )


defs = dg.Definitions.merge(dg.Definitions(assets=[decision_batch]), approval_defs)
