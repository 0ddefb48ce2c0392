"""`decisions`: next-period budget per channel and content per audience, under policy."""

import dagster as dg
import numpy as np
import pandas as pd

from marketing_ops.decisioning import (
    assemble_batch,
    autonomy_state,
    choose_content,
    ensure_default_policies,
    load_policies,
    plan_budget,
)
from marketing_ops.defs.lineage import input_versions
from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.forecasting.curves import ResponseCurve, adstock
from marketing_ops.graph import GraphReader, eligible_candidates
from marketing_ops.warehouse import read_table, replace_partition

BASELINES = dg.AssetKey(["forecasts", "baselines"])
CURVES = dg.AssetKey(["forecasts", "response_curves"])
GRAPH = dg.AssetKey(["graph", "knowledge_graph"])
KPIS = dg.AssetKey(["marts", "fct_channel_kpis_daily"])
SEND_HOURS = dg.AssetKey(["marts", "fct_audience_send_hours"])
PERIOD_DAYS = 7


def curves_as_of(
    frame: pd.DataFrame,
) -> tuple[dict[str, ResponseCurve], dict[str, list[ResponseCurve]]]:
    """Point curves (draw 0) and bootstrap draws from `agent.response_curves` rows."""
    point: dict[str, ResponseCurve] = {}
    samples: dict[str, list[ResponseCurve]] = {}
    for channel, rows in frame.sort_values("draw").groupby("channel"):
        curves = [ResponseCurve.from_dict(r) for r in rows.to_dict("records")]
        point[channel], samples[channel] = curves[0], curves[1:]
    return point, samples


def carry_in_adstock(kpis: pd.DataFrame, curves: dict[str, ResponseCurve]) -> dict[str, float]:
    """Adstock each channel carries into the next period from its spend history."""
    out = {}
    for channel, curve in curves.items():
        spend = kpis.loc[kpis["channel"] == channel].sort_values("date_day")["spend"].to_numpy()
        out[channel] = float(adstock(spend, curve.decay)[-1]) if len(spend) else 0.0
    return out


def seasonal_index_as_of(forecasts: pd.DataFrame, channels) -> dict[str, np.ndarray]:
    idx = forecasts[forecasts["metric"] == "seasonal_index"].sort_values("date_day")
    out = {}
    for channel in channels:
        values = idx.loc[idx["channel"] == channel, "yhat"].to_numpy(dtype=float)
        out[channel] = values if len(values) else np.ones(PERIOD_DAYS)
    return out


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
    curves, samples = curves_as_of(curve_rows)
    recent = kpis[kpis["date_day"] > pd.Timestamp(day) - pd.Timedelta(days=PERIOD_DAYS)]
    last_period = recent.groupby("channel")["spend"].sum().to_dict()
    plan = plan_budget(
        curves,
        last_period_spend={c: float(last_period.get(c, 0.0)) for c in curves},
        seasonal_index=seasonal_index_as_of(forecasts, curves),
        initial_adstock=carry_in_adstock(kpis, curves),
        policy=policies.budget,
        samples=samples,
    )
    with GraphReader(home.graph) as reader:
        candidates = eligible_candidates(
            reader,
            channel="email",
            suppressed_audiences=tuple(policies.content.suppressed_audiences),
            frequency_cap_per_week=policies.content.frequency_cap_per_week,
        )
    choices = choose_content(
        candidates, send_hours, policies.content, as_of=day, seed=int(day.strftime("%Y%m%d"))
    )
    signals = input_versions(context.instance, [KPIS, BASELINES, CURVES, GRAPH, SEND_HOURS])
    batch = assemble_batch(day, plan, choices, policies, signals, autonomy_state(home))
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
        },
        data_version=dg.DataVersion(str(batch["batch_id"].iloc[0])),
    )


defs = dg.Definitions(assets=[decision_batch])
