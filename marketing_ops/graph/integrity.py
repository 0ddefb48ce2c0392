"""Is the graph sound enough to decide from? Four verdicts, each a blocking asset check.

* ``graph_references``: no orphan node (an asset with no channel or no policy verdict, an
  audience or campaign with no channel, a channel or audience with no verdict), no asset
  without exactly one current version, no version cut off from the one it revises, and no
  dangling reference in the marts (engagement, campaign content, channel fit or a campaign's
  channel naming something the graph does not have).
* ``graph_readiness``: every asset version has a readiness score, and every current asset
  has a verdict from each policy that governs it.
* ``graph_performance_fresh``: the newest performance edge (RESPONDS_TO.last_seen_at) is at
  most ``max_age_days`` older than the as-of day. No edge at all is a cold start, not stale.
* ``graph_matches_warehouse``: every table holds exactly the rows the marts imply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from marketing_ops.graph.queries import GraphReader, table_counts

__all__ = [
    "CHECKS",
    "CheckOutcome",
    "check_integrity",
    "integrity_report",
]

CHECKS: dict[str, str] = {
    "graph_references": "No orphan nodes and no dangling references from the marts.",
    "graph_readiness": "Every asset has a readiness score and every current asset a verdict "
    "from each policy that governs it.",
    "graph_performance_fresh": "The newest engagement edge is recent enough to decide from.",
    "graph_matches_warehouse": "Every node and edge table holds exactly the rows the marts imply.",
}

_ORPHANS = {
    "assets_without_channel": """
        MATCH (a:ContentAsset) WHERE NOT EXISTS { MATCH (a)-[:AVAILABLE_ON]->(:Channel) }
        RETURN count(*) AS n""",
    "assets_without_policy_verdict": """
        MATCH (a:ContentAsset) WHERE NOT EXISTS { MATCH (a)-[:GOVERNED_BY]->(:Policy) }
        RETURN count(*) AS n""",
    "audiences_without_channel": """
        MATCH (au:Audience) WHERE NOT EXISTS { MATCH (au)-[:REACHABLE_VIA]->(:Channel) }
        RETURN count(*) AS n""",
    "audiences_without_policy_verdict": """
        MATCH (au:Audience) WHERE NOT EXISTS { MATCH (au)-[:GOVERNED_BY]->(:Policy) }
        RETURN count(*) AS n""",
    "campaigns_without_channel": """
        MATCH (c:Campaign) WHERE NOT EXISTS { MATCH (c)-[:RUNS_ON]->(:Channel) }
        RETURN count(*) AS n""",
    "channels_without_policy_verdict": """
        MATCH (ch:Channel) WHERE NOT EXISTS { MATCH (ch)-[:GOVERNED_BY]->(:Policy) }
        RETURN count(*) AS n""",
    "assets_without_readiness": """
        MATCH (a:ContentAsset) WHERE a.readiness IS NULL RETURN count(*) AS n""",
}

_VERSIONS = """
MATCH (a:ContentAsset)
RETURN a.asset_id AS asset_id, a.version AS version, a.is_current AS is_current,
       EXISTS { MATCH (a)-[:VERSION_OF]->(:ContentAsset) } AS revises
"""

_CURRENT_VERDICTS = """
MATCH (a:ContentAsset {is_current: true})
OPTIONAL MATCH (a)-[:GOVERNED_BY]->(p:Policy)
RETURN a.asset_key AS asset_key, a.regulated_claim AS regulated_claim,
       collect(p.policy_id) AS policies
"""

_NEWEST_EDGE = "MATCH ()-[e:RESPONDS_TO]->() RETURN max(e.last_seen_at) AS newest, count(e) AS n"


def _version_problems(reader: GraphReader) -> dict[str, int]:
    v = reader.frame(_VERSIONS)
    if v.empty:
        return {"assets_without_one_current_version": 0, "versions_not_linked": 0}
    current = v.groupby("asset_id")["is_current"].sum()
    lowest = v.groupby("asset_id")["version"].transform("min")
    return {
        "assets_without_one_current_version": int((current != 1).sum()),
        "versions_not_linked": int(((v["version"] > lowest) & ~v["revises"]).sum()),
    }


def integrity_report(reader: GraphReader) -> dict[str, int]:
    """Counts of orphans and missing facts; all zero in a healthy graph."""
    report = {name: int(reader.frame(q)["n"].iloc[0]) for name, q in _ORPHANS.items()}
    report.update(_version_problems(reader))
    verdicts = reader.frame(_CURRENT_VERDICTS)
    missing = 0
    for row in verdicts.itertuples(index=False):
        needed = {"compliance_approval", "brand_safety"}
        if row.regulated_claim:
            needed.add("regulated_claims")
        missing += bool(needed - set(row.policies or []))
    report["current_assets_missing_verdicts"] = missing
    return report


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict, in the shape a Dagster asset check result needs."""

    name: str
    passed: bool
    description: str
    metadata: dict[str, float | int | str] = field(default_factory=dict)


def _verdict(name: str, problems: dict[str, int]) -> CheckOutcome:
    broken = {k: v for k, v in problems.items() if v}
    text = (
        CHECKS[name]
        if not broken
        else "failed: " + ", ".join(f"{k}={v}" for k, v in sorted(broken.items()))
    )
    return CheckOutcome(name, not broken, text, dict(problems))


def _freshness(reader: GraphReader, as_of: date, max_age_days: int) -> CheckOutcome:
    row = reader.frame(_NEWEST_EDGE).iloc[0]
    edges = int(row["n"])
    if edges == 0:
        return CheckOutcome(
            "graph_performance_fresh",
            True,
            "no engagement edges yet: a cold start, candidates are explored at the prior",
            {"edges": 0},
        )
    newest = pd.Timestamp(row["newest"])
    age = (pd.Timestamp(as_of) - newest.normalize()).days
    passed = age <= max_age_days
    text = f"newest engagement {newest.date()} is {age} days before {as_of}" + (
        "" if passed else f", older than the allowed {max_age_days} days"
    )
    meta = {"edges": edges, "newest": str(newest), "age_days": age, "max_age_days": max_age_days}
    return CheckOutcome("graph_performance_fresh", passed, text, meta)


def check_integrity(
    reader: GraphReader,
    *,
    as_of: date,
    expected: dict[str, int],
    dangling: dict[str, int],
    max_age_days: int = 7,
) -> list[CheckOutcome]:
    """The four verdicts of this module for the graph ``reader`` opens.

    ``expected`` are the rows per table the marts imply and ``dangling`` the mart rows the
    build had to drop, both from the build's report.
    """
    report = integrity_report(reader)
    readiness_keys = ("assets_without_readiness", "current_assets_missing_verdicts")
    references = {k: v for k, v in report.items() if k not in readiness_keys}
    references.update({f"dangling_{k.lower()}": int(v) for k, v in dangling.items()})
    counts = table_counts(reader)
    mismatch = {
        f"{name}_rows_off_by": counts.get(name, 0) - n for name, n in sorted(expected.items())
    }
    return [
        _verdict("graph_references", references),
        _verdict("graph_readiness", {k: report[k] for k in readiness_keys}),
        _freshness(reader, as_of, max_age_days),
        CheckOutcome(
            "graph_matches_warehouse",
            not any(mismatch.values()),
            CHECKS["graph_matches_warehouse"]
            if not any(mismatch.values())
            else "rows differ from the marts: "
            + ", ".join(f"{k}={v}" for k, v in mismatch.items() if v),
            {**{f"{k}_rows": v for k, v in counts.items()}, **mismatch},
        ),
    ]
