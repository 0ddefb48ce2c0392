"""The Kùzu knowledge graph: schema (:mod:`.schema`), build from the marts (:mod:`.build`),
and the questions the decision layer asks it (:mod:`.queries`).

All Kùzu calls live in this package, so the engine can be swapped without touching callers.
"""

from marketing_ops.graph.build import (
    POLICIES,
    BuildReport,
    GraphInputs,
    build_graph,
    graph_frames,
    list_snapshots,
    readiness,
    restore_snapshot,
)
from marketing_ops.graph.queries import (
    CANDIDATE_COLUMNS,
    GraphReader,
    candidate_path,
    eligible_candidates,
    integrity_report,
    similar_assets,
)
from marketing_ops.graph.schema import DDL, NODE_TABLES, REL_TABLES

__all__ = [
    "CANDIDATE_COLUMNS",
    "DDL",
    "NODE_TABLES",
    "POLICIES",
    "REL_TABLES",
    "BuildReport",
    "GraphInputs",
    "GraphReader",
    "build_graph",
    "candidate_path",
    "eligible_candidates",
    "graph_frames",
    "integrity_report",
    "list_snapshots",
    "readiness",
    "restore_snapshot",
    "similar_assets",
]
