"""Jobs: the two halves of one pass through the flow, and the whole graph."""

import dagster as dg

from marketing_ops.defs._shared import daily

INGEST_GROUPS = ("signals", "warehouse")
DECIDE_GROUPS = (
    "knowledge_graph",
    "forecasts",
    "decisions",
    "execution",
    "measurement",
    "learning",
)

ingest_and_model = dg.define_asset_job(
    "ingest_and_model",
    selection=dg.AssetSelection.groups(*INGEST_GROUPS),
    partitions_def=daily,
    description="Load signal files and build the warehouse for a day or a range of days (one run).",
)

decide_and_act = dg.define_asset_job(
    "decide_and_act",
    selection=dg.AssetSelection.groups(*DECIDE_GROUPS),
    partitions_def=daily,
    description="Graph, forecasts, decisions, execution, measurement and learning as of one day.",
)

whole_flow = dg.define_asset_job(
    "whole_flow",
    selection=dg.AssetSelection.all(),
    partitions_def=daily,
    description="Every stage for one day: what the inbox sensor requests for a new day of data.",
)

defs = dg.Definitions(jobs=[ingest_and_model, decide_and_act, whole_flow])
