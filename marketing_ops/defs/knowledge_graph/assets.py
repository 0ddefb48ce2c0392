"""`knowledge_graph`: the Kùzu map of audiences, assets, channels, campaigns and policies."""

import dagster as dg
from pydantic import Field

from marketing_ops.decisioning import ensure_default_policies, load_policies
from marketing_ops.defs._shared import STORE_POOL, StoreResource, as_of, daily
from marketing_ops.graph import (
    CHECKS,
    ContentRules,
    GraphReader,
    build_graph,
    check_integrity,
    embedder_for,
)
from marketing_ops.graph.inputs import (
    EMAIL_DAILY,
    GRAPH_INPUTS,
    content_rules,
    read_graph_inputs,
)

GRAPH_KEY = dg.AssetKey(["graph", "knowledge_graph"])


class KnowledgeGraphConfig(dg.Config):
    """Launch-time options of a graph build (the defaults suit a daily run)."""

    semantic: str = Field(
        default="auto",
        description="Sentence embeddings for semantic retrieval: auto (when the semantic "
        "extra is installed), on (fail without it) or off.",
    )
    incremental: bool = Field(
        default=True,
        description="Change the current graph in place where its inputs changed; false "
        "rebuilds every table.",
    )
    max_engagement_age_days: int = Field(
        default=7,
        description="The newest RESPONDS_TO edge may be at most this many days older than "
        "the as-of day (graph_performance_fresh).",
    )


def policy_rules(home) -> ContentRules:
    """What the content policy files say that the graph records as verdicts."""
    ensure_default_policies(home.policies)
    policies = load_policies(home.policies)
    return content_rules(policies)


@dg.asset(
    key=GRAPH_KEY,
    group_name="knowledge_graph",
    deps=[
        dg.AssetKey(["marts", name.split(".")[1]]) for name in [*GRAPH_INPUTS.values(), EMAIL_DAILY]
    ],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"kuzu"},
    owners=["team:marketing-ops"],
    check_specs=[
        dg.AssetCheckSpec(name, asset=GRAPH_KEY, blocking=True, description=text)
        for name, text in CHECKS.items()
    ],
)
def knowledge_graph(
    context: dg.AssetExecutionContext, config: KnowledgeGraphConfig, store: StoreResource
) -> dg.MaterializeResult:
    """Audiences, content asset versions, channels, campaigns and policies with engagement,
    consent, frequency and policy verdicts on the edges, as of the partition's day. Built
    incrementally from the current graph (only changed tables and rows are rewritten); the
    graph it replaces is kept as a snapshot (`marketing-ops graph snapshots`). Its four
    integrity checks block the decisions when they fail."""
    day = as_of(context)
    home = store.home()
    with store.warehouse() as con:
        inputs = read_graph_inputs(con, day, policy_rules(home))
    report = build_graph(
        home.graph,
        inputs,
        as_of=day,
        snapshots=home.graph_snapshots,
        embedder=embedder_for(config.semantic),
        incremental=config.incremental,
    )
    context.log.info(
        f"graph as of {day}: {report.mode} build in {report.seconds:.1f}s, "
        f"rewrote {', '.join(report.changed_tables) or 'nothing'}, embedded {report.embedded}"
    )
    with GraphReader(home.graph) as reader:
        outcomes = check_integrity(
            reader,
            as_of=day,
            expected=report.expected,
            dangling=report.dangling,
            max_age_days=config.max_engagement_age_days,
        )
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "build_mode": report.mode,
            "build_seconds": round(report.seconds, 2),
            "changed_tables": ", ".join(report.changed_tables) or "none",
            "texts_embedded": report.embedded,
            **{k: int(v) for k, v in report.counts.items()},
            "snapshot": str(report.snapshot) if report.snapshot else "first build",
        },
        data_version=dg.DataVersion(report.data_version),
        check_results=[
            dg.AssetCheckResult(
                check_name=o.name,
                passed=o.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=o.metadata,
                description=o.description,
            )
            for o in outcomes
        ],
    )


defs = dg.Definitions(assets=[knowledge_graph])
