"""Questions the decision layer asks the graph: one function per question, parameterised
Cypher only (values travel as ``$parameters``, never inside the query text)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import kuzu
import pandas as pd

__all__ = [
    "CANDIDATE_COLUMNS",
    "GraphReader",
    "candidate_path",
    "eligible_candidates",
    "integrity_report",
    "similar_assets",
]

CANDIDATE_COLUMNS = [
    "audience_id",
    "asset_id",
    "channel",
    "consented_size",
    "sends",
    "opens",
    "clicks",
    "conversions",
    "ctr",
    "readiness",
    "sends_per_contact_7d",
    "path",
    # asset facts and recency, for the decision layer's compliance and fatigue rules
    "topic",
    "format",
    "title",
    "body",
    "compliance_status",
    "brand_safe",
    "regulated_claim",
    "last_seen_at",
]


class GraphReader:
    """A read-only handle on the graph; use as a context manager so the file lock is freed."""

    def __init__(self, path: Path) -> None:
        if not Path(path).exists():
            raise FileNotFoundError(
                f"no knowledge graph at {path}: materialise graph/knowledge_graph first"
            )
        self._db = kuzu.Database(str(path), read_only=True)
        self._conn = kuzu.Connection(self._db)

    def frame(self, query: str, parameters: dict | None = None) -> pd.DataFrame:
        return self._conn.execute(query, parameters or {}).get_as_df()

    def close(self) -> None:
        self._conn.close()
        self._db.close()

    def __enter__(self) -> GraphReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_ELIGIBLE = """
MATCH (au:Audience)-[r:REACHABLE_VIA]->(ch:Channel {channel: $channel}),
      (a:ContentAsset)-[:AVAILABLE_ON]->(ch)
WHERE r.consented_size > 0
  AND NOT au.audience_id IN $suppressed
  AND a.readiness >= $min_readiness
  AND r.sends_per_contact_7d + 1.0 <= $cap
  AND NOT EXISTS { MATCH (a)-[g:GOVERNED_BY]->(:Policy) WHERE g.passes = false }
OPTIONAL MATCH (au)-[e:RESPONDS_TO]->(a)
RETURN au.audience_id AS audience_id,
       a.asset_id AS asset_id,
       a.version AS asset_version,
       ch.channel AS channel,
       r.consented_size AS consented_size,
       coalesce(e.sends, 0) AS sends,
       coalesce(e.opens, 0) AS opens,
       coalesce(e.clicks, 0) AS clicks,
       coalesce(e.conversions, 0) AS conversions,
       coalesce(e.ctr, 0.0) AS ctr,
       a.readiness AS readiness,
       r.sends_per_contact_7d AS sends_per_contact_7d,
       a.data_version AS data_version,
       a.topic AS topic,
       a.format AS format,
       a.title AS title,
       a.body AS body,
       a.compliance_status AS compliance_status,
       a.brand_safe AS brand_safe,
       a.regulated_claim AS regulated_claim,
       e.last_seen_at AS last_seen_at
ORDER BY audience_id, asset_id
"""

_POLICIES_PASSED = """
MATCH (a:ContentAsset)-[g:GOVERNED_BY]->(p:Policy)
WHERE a.asset_id IN $assets
RETURN a.asset_id AS asset_id, p.policy_id AS policy_id
ORDER BY asset_id, policy_id
"""


def eligible_candidates(
    reader: GraphReader,
    channel: str = "email",
    suppressed_audiences: tuple[str, ...] = (),
    frequency_cap_per_week: float | None = None,
    min_readiness: float = 1.0,
) -> pd.DataFrame:
    """(audience, asset, channel) triples that may be used now, with past engagement.

    Eligible means: the audience has consented contacts on the channel, is not suppressed
    and one more send keeps its sends per contact over the last 7 days within the cap; the asset fits the
    channel, is ready (``readiness >= min_readiness``) and passes every policy it is governed
    by. ``path`` is the chain of graph facts that makes the candidate eligible, for the
    rationale.
    """
    rows = reader.frame(
        _ELIGIBLE,
        {
            "channel": channel,
            "suppressed": list(suppressed_audiences),
            "min_readiness": float(min_readiness),
            "cap": 1e18 if frequency_cap_per_week is None else float(frequency_cap_per_week),
        },
    )
    if rows.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    passed = reader.frame(_POLICIES_PASSED, {"assets": sorted(rows["asset_id"].unique())})
    policies = passed.groupby("asset_id")["policy_id"].agg(", ".join).to_dict()
    rows["path"] = [_path_text(r, policies.get(r["asset_id"], "")) for r in rows.to_dict("records")]
    return rows[CANDIDATE_COLUMNS].reset_index(drop=True)


def _path_text(r: dict, policies: str) -> str:
    engagement = (
        f"RESPONDS_TO{{sends {int(r['sends'])}, clicks {int(r['clicks'])}, ctr {r['ctr']:.1%}}}"
        if r["sends"]
        else "no engagement yet (explored at the pooled prior)"
    )
    return (
        f"Audience({r['audience_id']}) -REACHABLE_VIA{{consented {int(r['consented_size'])}, "
        f"{r['sends_per_contact_7d']:.2f} sends/contact in 7d}}-> Channel({r['channel']}) "
        f"<-AVAILABLE_ON- ContentAsset({r['asset_id']} v{int(r['asset_version'])}, readiness "
        f"{r['readiness']:.2f}) -GOVERNED_BY-> Policy({policies or 'none'}: all pass); "
        f"{engagement}; graph {r['data_version']}"
    )


_PATH = """
MATCH (au:Audience {audience_id: $audience})-[r:REACHABLE_VIA]->(ch:Channel {channel: $channel}),
      (a:ContentAsset {asset_id: $asset})-[f:AVAILABLE_ON]->(ch)
OPTIONAL MATCH (au)-[e:RESPONDS_TO]->(a)
RETURN au.audience_id AS audience_id, r.consented_size AS consented_size,
       r.sends_per_contact_7d AS sends_per_contact_7d, ch.channel AS channel,
       f.format_fit AS format_fit, a.asset_id AS asset_id, a.version AS asset_version,
       a.readiness AS readiness, e.sends AS sends, e.clicks AS clicks, e.ctr AS ctr,
       e.last_seen_at AS last_seen_at
"""

_GOVERNANCE = """
MATCH (a:ContentAsset {asset_id: $asset})-[g:GOVERNED_BY]->(p:Policy)
RETURN p.policy_id AS policy_id, p.kind AS kind, g.passes AS passes, g.reason AS reason
ORDER BY policy_id
"""


def candidate_path(reader: GraphReader, audience_id: str, asset_id: str, channel: str) -> dict:
    """Every graph fact linking an audience to an asset on a channel, and the policy verdicts:
    the evidence behind (or against) a candidate. Empty ``hops`` means no such path."""
    params = {"audience": audience_id, "asset": asset_id, "channel": channel}
    hops = reader.frame(_PATH, params).to_dict("records")
    governance = reader.frame(_GOVERNANCE, {"asset": asset_id}).to_dict("records")
    return {"hops": hops, "policies": governance}


_SIMILAR = """
MATCH (a:ContentAsset {asset_id: $asset})-[:AVAILABLE_ON]->(ch:Channel)
      <-[:AVAILABLE_ON]-(b:ContentAsset)
WHERE b.asset_id <> a.asset_id
  AND (b.topic = a.topic OR b.format = a.format)
  AND NOT EXISTS { MATCH (b)-[g:GOVERNED_BY]->(:Policy) WHERE g.passes = false }
OPTIONAL MATCH (:Audience)-[e:RESPONDS_TO]->(b)
WITH b, a, sum(coalesce(e.sends, 0)) AS sends, sum(coalesce(e.clicks, 0)) AS clicks
RETURN b.asset_id AS asset_id, b.topic AS topic, b.format AS format,
       b.topic = a.topic AS same_topic, b.format = a.format AS same_format,
       sends, clicks,
       CASE WHEN sends > 0 THEN CAST(clicks AS DOUBLE) / sends ELSE 0.0 END AS ctr
ORDER BY same_topic DESC, ctr DESC, asset_id
LIMIT $k
"""


def similar_assets(reader: GraphReader, asset_id: str, k: int = 5) -> pd.DataFrame:
    """Usable assets like one that performs: same topic or format on a shared channel,
    same topic first, then by observed click rate."""
    return reader.frame(_SIMILAR, {"asset": asset_id, "k": int(k)})


_INTEGRITY = {
    "assets_without_channel": """
        MATCH (a:ContentAsset) WHERE NOT EXISTS { MATCH (a)-[:AVAILABLE_ON]->(:Channel) }
        RETURN count(*) AS n""",
    "assets_without_policy_verdict": """
        MATCH (a:ContentAsset) WHERE NOT EXISTS { MATCH (a)-[:GOVERNED_BY]->(:Policy) }
        RETURN count(*) AS n""",
    "assets_without_readiness": """
        MATCH (a:ContentAsset) WHERE a.readiness IS NULL RETURN count(*) AS n""",
    "audiences_without_channel": """
        MATCH (au:Audience) WHERE NOT EXISTS { MATCH (au)-[:REACHABLE_VIA]->(:Channel) }
        RETURN count(*) AS n""",
    "campaigns_without_channel": """
        MATCH (c:Campaign) WHERE NOT EXISTS { MATCH (c)-[:RUNS_ON]->(:Channel) }
        RETURN count(*) AS n""",
}


def integrity_report(reader: GraphReader) -> dict[str, int]:
    """Counts of orphans and missing facts; all zero in a healthy graph."""
    return {name: int(reader.frame(q)["n"].iloc[0]) for name, q in _INTEGRITY.items()}
