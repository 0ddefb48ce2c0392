"""`knowledge_graph`: the Kuzu map of audiences, assets, channels, campaigns and policies."""

import dagster as dg

from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.graph import GraphInputs, build_graph
from marketing_ops.warehouse import combined_version, frame_version, read_table

GRAPH_INPUTS = {
    "dim_audience": "marts.dim_audience",
    "dim_content_asset": "marts.dim_content_asset",
    "dim_channel": "marts.dim_channel",
    "dim_campaign": "marts.dim_campaign",
    "fct_email_engagement": "marts.fct_email_engagement",
}


@dg.asset(
    key=["graph", "knowledge_graph"],
    group_name="knowledge_graph",
    deps=[dg.AssetKey(["marts", name]) for name in GRAPH_INPUTS],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"kuzu"},
    owners=["team:marketing-ops"],
)
def knowledge_graph(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Audiences, content assets, channels, campaigns and policies with performance and
    consent on the edges, rebuilt from the marts (the previous build kept as a snapshot)."""
    day = as_of(context)
    with store.warehouse() as con:
        frames = {name: read_table(con, table) for name, table in GRAPH_INPUTS.items()}
    version = combined_version({name: frame_version(f) for name, f in frames.items()})
    inputs = GraphInputs(**frames)
    home = store.home()
    report = build_graph(home.graph, inputs, data_version=f"{day.isoformat()}-{version}")
    return dg.MaterializeResult(
        metadata={"as_of": str(day), **{k: int(v) for k, v in report.counts.items()}},
        data_version=dg.DataVersion(version),
    )


defs = dg.Definitions(assets=[knowledge_graph])
