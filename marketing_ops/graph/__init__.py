"""The Kùzu knowledge graph: schema (:mod:`.schema`), the mapping from the marts
(:mod:`.frames`), bulk and incremental builds with snapshots (:mod:`.build`), the questions
the decision layer asks it (:mod:`.queries`), integrity verdicts (:mod:`.integrity`) and
content retrieval by full-text or, with the optional extra, semantic search
(:mod:`.retrieval`, :mod:`.embeddings`).

All Kùzu calls live in this package, so the engine can be swapped without touching callers.
"""

from marketing_ops.graph.build import (
    KEEP_SNAPSHOTS,
    BuildReport,
    build_graph,
    find_snapshot,
    list_snapshots,
    read_manifest,
    restore_snapshot,
    writer_lock,
)
from marketing_ops.graph.embeddings import (
    MODEL_NAME,
    SEMANTIC_MODES,
    Embedder,
    SemanticUnavailable,
    embedder_for,
    load_embedder,
    semantic_available,
)
from marketing_ops.graph.engine import GraphQueryError
from marketing_ops.graph.frames import (
    POLICIES,
    ContentRules,
    GraphFrames,
    GraphInputs,
    graph_frames,
    readiness,
    table_hash,
)
from marketing_ops.graph.inputs import content_rules, read_graph_inputs
from marketing_ops.graph.integrity import CHECKS, CheckOutcome, check_integrity, integrity_report
from marketing_ops.graph.queries import (
    CANDIDATE_COLUMNS,
    GraphReader,
    candidate_path,
    eligible_candidates,
    similar_assets,
    table_columns,
    table_counts,
)
from marketing_ops.graph.retrieval import (
    RETRIEVAL_COLUMNS,
    assets_for_audience,
    audience_intent,
    search_assets,
)
from marketing_ops.graph.schema import DDL, NODE_TABLES, REL_TABLES, SCHEMA_VERSION

__all__ = [
    "content_rules",
    "read_graph_inputs",
    "CANDIDATE_COLUMNS",
    "CHECKS",
    "DDL",
    "KEEP_SNAPSHOTS",
    "MODEL_NAME",
    "NODE_TABLES",
    "POLICIES",
    "REL_TABLES",
    "RETRIEVAL_COLUMNS",
    "SCHEMA_VERSION",
    "SEMANTIC_MODES",
    "BuildReport",
    "CheckOutcome",
    "ContentRules",
    "Embedder",
    "GraphFrames",
    "GraphInputs",
    "GraphQueryError",
    "GraphReader",
    "SemanticUnavailable",
    "assets_for_audience",
    "audience_intent",
    "build_graph",
    "candidate_path",
    "check_integrity",
    "eligible_candidates",
    "embedder_for",
    "find_snapshot",
    "graph_frames",
    "integrity_report",
    "list_snapshots",
    "load_embedder",
    "read_manifest",
    "readiness",
    "restore_snapshot",
    "search_assets",
    "semantic_available",
    "similar_assets",
    "table_columns",
    "table_counts",
    "table_hash",
    "writer_lock",
]
