"""Questions the decision layer asks the graph: one function per question, parameterised
Cypher only (values travel as ``$parameters``, never inside the query text)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import kuzu
import pandas as pd

from marketing_ops.graph.engine import execute, run
from marketing_ops.graph.schema import COUNT_NODES, COUNT_RELS, NODE_TABLES, REL_TABLES, table_query

__all__ = [
    "CANDIDATE_COLUMNS",
    "GraphReader",
    "candidate_path",
    "eligible_candidates",
    "similar_assets",
    "table_columns",
    "table_counts",
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
    "asset_version",
    "data_version",
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
    """A read-only handle on the graph; use as a context manager so the file lock is freed.

    Read-only is enforced by Kùzu itself: any write through this handle fails.
    """

    def __init__(self, path: Path) -> None:
        if not Path(path).exists():
            raise FileNotFoundError(
                f"no knowledge graph at {path}: materialise graph/knowledge_graph first"
            )
        self.path = Path(path)
        self._db = kuzu.Database(str(path), read_only=True)
        self._conn = kuzu.Connection(self._db)
        self._extensions = False

    def frame(self, query: str, parameters: dict | None = None) -> pd.DataFrame:
        """Rows of a parameterised query; a refused or failed query raises GraphQueryError."""
        return run(self._conn, query, parameters)

    def load_extensions(self) -> None:
        """Full-text and vector search (bundled with Kùzu, loaded offline, once)."""
        if not self._extensions:
            for ext in ("fts", "vector"):
                execute(self._conn, f"LOAD EXTENSION {ext}")
            self._extensions = True

    def indexes(self) -> set[str]:
        self.load_extensions()
        return set(self.frame("CALL SHOW_INDEXES() RETURN index_name")["index_name"])

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


def table_columns(reader: GraphReader) -> dict[str, list[str]]:
    """Property columns of every node and relationship table, in declared order."""
    template = "CALL table_info('{table}') RETURN name"
    return {
        name: list(reader.frame(table_query(template, name))["name"])
        for name in (*NODE_TABLES, *REL_TABLES)
    }


def table_counts(reader: GraphReader) -> dict[str, int]:
    """Rows in every node and relationship table."""
    counts = {}
    for name in (*NODE_TABLES, *REL_TABLES):
        query = table_query(COUNT_NODES if name in NODE_TABLES else COUNT_RELS, name)
        counts[name] = int(reader.frame(query)["n"].iloc[0])
    return counts


_ELIGIBLE = """
MATCH (au:Audience)-[r:REACHABLE_VIA]->(ch:Channel {channel: $channel})
WHERE r.consented_size > 0
  AND ($all_audiences OR au.audience_id IN $audiences)
  AND NOT au.audience_id IN $suppressed
  AND r.sends_per_contact_7d + 1.0 <= $cap
  AND NOT EXISTS { MATCH (au)-[g:GOVERNED_BY]->(:Policy) WHERE g.passes = false }
  AND NOT EXISTS { MATCH (ch)-[g:GOVERNED_BY]->(:Policy) WHERE g.passes = false }
WITH au, r, ch
MATCH (a:ContentAsset)-[:AVAILABLE_ON]->(ch)
WHERE a.is_current
  AND a.readiness >= $min_readiness
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

# Policies each node passes, aggregated in Kùzu (for the rationale's path text).
_PASSED = {
    "ContentAsset": """
        MATCH (n:ContentAsset)-[g:GOVERNED_BY]->(p:Policy)
        WHERE n.is_current AND g.passes
        RETURN n.asset_id AS key, list_sort(collect(p.policy_id)) AS policies""",
    "Channel": """
        MATCH (n:Channel)-[g:GOVERNED_BY]->(p:Policy) WHERE g.passes AND n.channel IN $keys
        RETURN n.channel AS key, list_sort(collect(p.policy_id)) AS policies""",
    "Audience": """
        MATCH (n:Audience)-[g:GOVERNED_BY]->(p:Policy) WHERE g.passes AND n.audience_id IN $keys
        RETURN n.audience_id AS key, list_sort(collect(p.policy_id)) AS policies""",
}


def _passed(reader: GraphReader, table: str, keys=None) -> dict[str, str]:
    """Policies each node passes, as text for the rationale ("brand_safety, ...").

    Current assets are read all at once: a list parameter of thousands of ids is slower in
    Kùzu than aggregating every asset's verdicts.
    """
    params = {} if keys is None else {"keys": sorted(set(keys))}
    rows = reader.frame(_PASSED[table], params)
    return {k: ", ".join(p) for k, p in zip(rows["key"], rows["policies"], strict=True)}


def eligible_candidates(
    reader: GraphReader,
    channel: str = "email",
    suppressed_audiences: tuple[str, ...] = (),
    frequency_cap_per_week: float | None = None,
    min_readiness: float = 1.0,
    audiences: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """(audience, asset, channel) triples that may be used now, with past engagement.

    Eligible means: the audience has consented contacts on the channel, is neither
    suppressed here (``suppressed_audiences``) nor by a policy verdict in the graph, and one
    more send keeps its sends per contact over the last 7 days within the cap; the channel
    passes its policies (consent basis, allowed by the content policy); the asset's current
    version fits the channel, is ready (``readiness >= min_readiness``) and passes every
    policy it is governed by. ``audiences`` limits the question to some audiences. ``path``
    is the chain of graph facts that makes the candidate eligible, for the rationale.
    """
    rows = reader.frame(
        _ELIGIBLE,
        {
            "channel": channel,
            "all_audiences": audiences is None,
            "audiences": list(audiences or ()),
            "suppressed": list(suppressed_audiences),
            "min_readiness": float(min_readiness),
            "cap": 1e18 if frequency_cap_per_week is None else float(frequency_cap_per_week),
        },
    )
    if rows.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    assets = _passed(reader, "ContentAsset")
    audience_ok = _passed(reader, "Audience", rows["audience_id"])
    channel_ok = _passed(reader, "Channel", [channel])
    fields = ["audience_id", "asset_id", "asset_version", "channel", "consented_size",
              "sends_per_contact_7d", "readiness", "sends", "clicks", "ctr", "data_version"]  # fmt: skip
    rows["path"] = [
        _path_text(
            dict(zip(fields, values, strict=True)),
            assets.get(values[1], ""),
            audience_ok.get(values[0], ""),
            channel_ok.get(channel, ""),
        )
        # plain lists, not to_dict("records"): thousands of rows per audience
        for values in zip(*(rows[f].tolist() for f in fields), strict=True)
    ]
    return rows[CANDIDATE_COLUMNS].reset_index(drop=True)


def _path_text(r: dict, asset_policies: str, audience_policies: str, channel_policies: str) -> str:
    engagement = (
        f"RESPONDS_TO{{sends {int(r['sends'])}, clicks {int(r['clicks'])}, ctr {r['ctr']:.1%}}}"
        if r["sends"]
        else "no engagement yet (explored at the pooled prior)"
    )
    return (
        f"Audience({r['audience_id']}; passes {audience_policies or 'no policy'}) "
        f"-REACHABLE_VIA{{consented {int(r['consented_size'])}, "
        f"{r['sends_per_contact_7d']:.2f} sends/contact in 7d}}-> "
        f"Channel({r['channel']}; passes {channel_policies or 'no policy'}) "
        f"<-AVAILABLE_ON- ContentAsset({r['asset_id']} v{int(r['asset_version'])}, readiness "
        f"{r['readiness']:.2f}) -GOVERNED_BY-> Policy({asset_policies or 'none'}: all pass); "
        f"{engagement}; asset data {r['data_version']}"
    )


_PATH = """
MATCH (au:Audience {audience_id: $audience})-[r:REACHABLE_VIA]->(ch:Channel {channel: $channel}),
      (a:ContentAsset {asset_id: $asset, is_current: true})-[f:AVAILABLE_ON]->(ch)
OPTIONAL MATCH (au)-[e:RESPONDS_TO]->(a)
RETURN au.audience_id AS audience_id, r.consented_size AS consented_size,
       r.sends_per_contact_7d AS sends_per_contact_7d, ch.channel AS channel,
       f.format_fit AS format_fit, a.asset_id AS asset_id, a.version AS asset_version,
       a.readiness AS readiness, e.sends AS sends, e.clicks AS clicks, e.ctr AS ctr,
       e.last_seen_at AS last_seen_at
"""

_GOVERNANCE = """
MATCH (n)-[g:GOVERNED_BY]->(p:Policy)
WHERE (label(n) = 'ContentAsset' AND n.asset_id = $asset AND n.is_current)
   OR (label(n) = 'Channel' AND n.channel = $channel)
   OR (label(n) = 'Audience' AND n.audience_id = $audience)
RETURN label(n) AS governs, p.policy_id AS policy_id, p.kind AS kind, g.passes AS passes,
       g.reason AS reason
ORDER BY governs, policy_id
"""

_VERSIONS = """
MATCH (a:ContentAsset {asset_id: $asset})
OPTIONAL MATCH (a)-[v:VERSION_OF]->(prev:ContentAsset)
RETURN a.version AS version, a.is_current AS is_current,
       a.compliance_status AS compliance_status, a.first_seen_on AS first_seen_on,
       prev.version AS revises, v.changed_fields AS changed_fields
ORDER BY version DESC
"""


def candidate_path(reader: GraphReader, audience_id: str, asset_id: str, channel: str) -> dict:
    """Every graph fact linking an audience to an asset's current version on a channel, the
    policy verdicts on all three and the asset's version history: the evidence behind (or
    against) a candidate. Empty ``hops`` means no such path."""
    params = {"audience": audience_id, "asset": asset_id, "channel": channel}
    hops = reader.frame(_PATH, params).to_dict("records")
    governance = reader.frame(_GOVERNANCE, params).to_dict("records")
    versions = reader.frame(_VERSIONS, {"asset": asset_id}).to_dict("records")
    return {"hops": hops, "policies": governance, "versions": versions}


_SIMILAR = """
MATCH (a:ContentAsset {asset_id: $asset, is_current: true})-[:AVAILABLE_ON]->(ch:Channel)
      <-[:AVAILABLE_ON]-(b:ContentAsset)
WHERE b.is_current AND b.asset_id <> a.asset_id
  AND (b.topic = a.topic OR b.format = a.format)
  AND NOT EXISTS { MATCH (b)-[g:GOVERNED_BY]->(:Policy) WHERE g.passes = false }
WITH DISTINCT a, b
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
