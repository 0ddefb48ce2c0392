"""`knowledge_graph`: the Kuzu map of audiences, assets, channels, campaigns and policies."""

from datetime import timedelta

import dagster as dg

from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.graph import GraphInputs, GraphReader, build_graph, integrity_report
from marketing_ops.warehouse import combined_version, frame_version, read_table

GRAPH_INPUTS = {
    "dim_audience": "marts.dim_audience",
    "dim_content_asset": "marts.dim_content_asset",
    "dim_channel": "marts.dim_channel",
    "dim_campaign": "marts.dim_campaign",
    "fct_email_engagement": "marts.fct_email_engagement",
}
EMAIL_DAILY = "marts.fct_audience_email_daily"
INTEGRITY_CHECK = "graph_integrity"


@dg.asset(
    key=["graph", "knowledge_graph"],
    group_name="knowledge_graph",
    deps=[dg.AssetKey(["marts", name]) for name in [*GRAPH_INPUTS, "fct_audience_email_daily"]],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"kuzu"},
    owners=["team:marketing-ops"],
    check_specs=[
        dg.AssetCheckSpec(
            INTEGRITY_CHECK,
            asset=dg.AssetKey(["graph", "knowledge_graph"]),
            blocking=True,
            description="No orphan asset, audience or campaign; every asset has a readiness "
            "score and a verdict from every policy that governs it.",
        )
    ],
)
def knowledge_graph(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Audiences, content assets, channels, campaigns and policies with engagement, consent
    and frequency on the edges, rebuilt from the marts as of the partition's day. The graph
    it replaces is kept as a snapshot (the last 7 are kept)."""
    day = as_of(context)
    with store.warehouse() as con:
        frames = {name: read_table(con, table) for name, table in GRAPH_INPUTS.items()}
        daily_sends = read_table(
            con, EMAIL_DAILY, date_column="date_day", start=day - timedelta(days=6), end=day
        )
    email_sends_7d = (
        daily_sends.groupby("audience_id", as_index=False)["sends"].sum()
        if len(daily_sends)
        else None
    )
    parts = {name: frame_version(f) for name, f in frames.items()}
    parts["email_sends_7d"] = frame_version(daily_sends)
    version = combined_version(parts)
    inputs = GraphInputs(
        **frames, **({"email_sends_7d": email_sends_7d} if email_sends_7d is not None else {})
    )
    home = store.home()
    report = build_graph(
        home.graph,
        inputs,
        data_version=f"{day.isoformat()}-{version}",
        snapshots=home.graph_snapshots,
    )
    with GraphReader(home.graph) as reader:
        problems = integrity_report(reader)
    broken = {k: v for k, v in problems.items() if v}
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            **{k: int(v) for k, v in report.counts.items()},
            "snapshot": str(report.snapshot) if report.snapshot else "first build",
        },
        data_version=dg.DataVersion(version),
        check_results=[
            dg.AssetCheckResult(
                check_name=INTEGRITY_CHECK,
                passed=not broken,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={k: int(v) for k, v in problems.items()},
                description="graph is consistent"
                if not broken
                else "graph has orphans or missing facts: "
                + ", ".join(f"{k}={v}" for k, v in broken.items()),
            )
        ],
    )


defs = dg.Definitions(assets=[knowledge_graph])
