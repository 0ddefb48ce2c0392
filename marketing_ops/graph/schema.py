"""The knowledge graph's schema: what the agent's map is made of.

Nodes
    Audience(audience_id, contacts, email_consented, ads_consented, unsubscribed)
        A segment of contacts, with how many consented to each kind of contact.
    ContentAsset(asset_key = "<asset_id>@v<version>", asset_id, version, is_current, title,
                 body, topic, format, channel_fit, compliance_status, brand_safe,
                 regulated_claim, readiness, first_seen_on, search_text, text_hash, embedding)
        One node per version of an asset; ``is_current`` marks the highest version, the only
        one the agent may send. ``search_text`` is what full-text search (BM25 index
        ``content_text``) and the optional sentence embedding (``embedding``, vector index
        ``content_embedding``) are computed from.
    Channel(channel, channel_type, is_paid, consent_basis)
        ``consent_basis`` names the audience count that says who may be reached on it
        (``email_consented`` for email, ``ads_consented`` for paid media, none for earned
        channels, which cannot be sent to).
    Campaign(campaign_id, campaign_name, platform)
    Policy(policy_id, kind, applies_to, description)
        Rules a node is judged against (compliance, brand safety, regulatory, consent, the
        content policy's allowed channels and suppressed audiences).

Relationships
    RESPONDS_TO   Audience -> ContentAsset (current version)
                  channel, sends (email impressions), opens, clicks, conversions, ctr, cvr,
                  last_seen_at: what the audience did with the asset.
    AVAILABLE_ON  ContentAsset -> Channel      format_fit (the asset's format, listed as fit
                  for the channel by the catalogue)
    REACHABLE_VIA Audience -> Channel          consented_size, sends_per_contact_7d
    RUNS_ON       Campaign -> Channel
    USES          Campaign -> ContentAsset (current version)  sends, first_sent_at, last_sent_at
    VERSION_OF    ContentAsset -> ContentAsset  a version to the version it revises
                  (v3 -> v2 -> v1), changed_fields naming what changed
    GOVERNED_BY   ContentAsset | Channel | Audience -> Policy   passes, reason

Every node and relationship carries ``data_version``: the version of the warehouse input
(mart content hash, or policy version) the row was written from. Node tables also carry
``row_hash``, a hash of the row's content that lets a build change only the rows that changed.
Kùzu 0.11 is the engine; only this package talks to it, so it can be swapped (its upstream
repository was archived in October 2025).
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "COUNT_NODES",
    "COUNT_RELS",
    "DDL",
    "EMBEDDING_DIMENSIONS",
    "FTS_INDEX",
    "GOVERNED_NODES",
    "NODE_KEYS",
    "NODE_TABLES",
    "REL_ENDS",
    "REL_TABLES",
    "SCHEMA_VERSION",
    "VECTOR_INDEX",
    "table_query",
]

# all-MiniLM-L6-v2 (the optional semantic extra) embeds text into 384 dimensions.
EMBEDDING_DIMENSIONS = 384
FTS_INDEX = "content_text"
VECTOR_INDEX = "content_embedding"

# Load order: nodes first, then the relationships between them.
NODE_TABLES: tuple[str, ...] = ("Audience", "ContentAsset", "Channel", "Campaign", "Policy")
REL_TABLES: tuple[str, ...] = (
    "RESPONDS_TO",
    "AVAILABLE_ON",
    "REACHABLE_VIA",
    "RUNS_ON",
    "USES",
    "VERSION_OF",
    "GOVERNED_BY",
)
NODE_KEYS: dict[str, str] = {
    "Audience": "audience_id",
    "ContentAsset": "asset_key",
    "Channel": "channel",
    "Campaign": "campaign_id",
    "Policy": "policy_id",
}
# Kinds of node that policies govern (GOVERNED_BY has one FROM/TO pair for each).
GOVERNED_NODES: tuple[str, ...] = ("ContentAsset", "Channel", "Audience")
# (from, to) node tables of each relationship; GOVERNED_BY's "from" is given per row.
REL_ENDS: dict[str, tuple[str, str]] = {
    "RESPONDS_TO": ("Audience", "ContentAsset"),
    "AVAILABLE_ON": ("ContentAsset", "Channel"),
    "REACHABLE_VIA": ("Audience", "Channel"),
    "RUNS_ON": ("Campaign", "Channel"),
    "USES": ("Campaign", "ContentAsset"),
    "VERSION_OF": ("ContentAsset", "ContentAsset"),
    "GOVERNED_BY": ("*", "Policy"),
}

DDL: dict[str, str] = {
    "Audience": """
        CREATE NODE TABLE Audience(
            audience_id STRING, contacts INT64, email_consented INT64, ads_consented INT64,
            unsubscribed INT64, row_hash STRING, data_version STRING,
            PRIMARY KEY (audience_id))""",
    "ContentAsset": f"""
        CREATE NODE TABLE ContentAsset(
            asset_key STRING, asset_id STRING, version INT64, is_current BOOLEAN,
            title STRING, body STRING, topic STRING, format STRING, channel_fit STRING,
            compliance_status STRING, brand_safe BOOLEAN, regulated_claim BOOLEAN,
            readiness DOUBLE, first_seen_on DATE, search_text STRING, text_hash STRING,
            embedding FLOAT[{EMBEDDING_DIMENSIONS}], row_hash STRING, data_version STRING,
            PRIMARY KEY (asset_key))""",
    "Channel": """
        CREATE NODE TABLE Channel(
            channel STRING, channel_type STRING, is_paid BOOLEAN, consent_basis STRING,
            row_hash STRING, data_version STRING,
            PRIMARY KEY (channel))""",
    "Campaign": """
        CREATE NODE TABLE Campaign(
            campaign_id STRING, campaign_name STRING, platform STRING, row_hash STRING,
            data_version STRING,
            PRIMARY KEY (campaign_id))""",
    "Policy": """
        CREATE NODE TABLE Policy(
            policy_id STRING, kind STRING, applies_to STRING, description STRING,
            row_hash STRING, data_version STRING,
            PRIMARY KEY (policy_id))""",
    "RESPONDS_TO": """
        CREATE REL TABLE RESPONDS_TO(
            FROM Audience TO ContentAsset,
            channel STRING, sends INT64, opens INT64, clicks INT64, conversions INT64,
            ctr DOUBLE, cvr DOUBLE, last_seen_at TIMESTAMP, data_version STRING)""",
    "AVAILABLE_ON": """
        CREATE REL TABLE AVAILABLE_ON(
            FROM ContentAsset TO Channel, format_fit STRING, data_version STRING)""",
    "REACHABLE_VIA": """
        CREATE REL TABLE REACHABLE_VIA(
            FROM Audience TO Channel,
            consented_size INT64, sends_per_contact_7d DOUBLE, data_version STRING)""",
    "RUNS_ON": """
        CREATE REL TABLE RUNS_ON(FROM Campaign TO Channel, data_version STRING)""",
    "USES": """
        CREATE REL TABLE USES(
            FROM Campaign TO ContentAsset,
            sends INT64, first_sent_at TIMESTAMP, last_sent_at TIMESTAMP, data_version STRING)""",
    "VERSION_OF": """
        CREATE REL TABLE VERSION_OF(
            FROM ContentAsset TO ContentAsset, changed_fields STRING, data_version STRING)""",
    "GOVERNED_BY": """
        CREATE REL TABLE GOVERNED_BY(
            FROM ContentAsset TO Policy, FROM Channel TO Policy, FROM Audience TO Policy,
            passes BOOLEAN, reason STRING, data_version STRING)""",
}

# A build may change a graph in place only when it was made with exactly this schema.
SCHEMA_VERSION = hashlib.sha256(
    "\n".join(" ".join(DDL[t].split()) for t in (*NODE_TABLES, *REL_TABLES)).encode()
).hexdigest()[:12]


# Cypher that names a table or column. Kùzu takes identifiers only as literals, so these are
# templates filled by :func:`table_query`, which admits schema names only; values still
# travel as $parameters.
COUNT_NODES = "MATCH (n:{table}) RETURN count(n) AS n"
COUNT_RELS = "MATCH ()-[r:{table}]->() RETURN count(r) AS n"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def table_query(template: str, table: str, **identifiers: str) -> str:
    """``template`` with ``{table}`` and other ``{identifier}`` slots filled, after checking
    that ``table`` is a graph table and every identifier a plain name (never a value)."""
    if table not in DDL:
        raise ValueError(f"not a graph table: {table!r}")
    for slot, name in identifiers.items():
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{slot}: not a plain Cypher identifier: {name!r}")
    return template.format(table=table, **identifiers)
