"""The knowledge graph's schema: what the agent's map is made of.

Nodes
    Audience(audience_id, contacts, email_consented, ads_consented, unsubscribed)
    ContentAsset(asset_id, version, title, body, topic, format, compliance_status,
                 brand_safe, regulated_claim, readiness)
    Channel(channel, channel_type, is_paid)
    Campaign(campaign_id, campaign_name, platform)
    Policy(policy_id, kind, description)

Relationships
    RESPONDS_TO   Audience -> ContentAsset   sends, opens, clicks, conversions, ctr, cvr, last_seen_at
    AVAILABLE_ON  ContentAsset -> Channel    format_fit (the asset's format suits the channel)
    REACHABLE_VIA Audience -> Channel        consented_size, sends_per_contact_7d
    RUNS_ON       Campaign -> Channel
    GOVERNED_BY   ContentAsset -> Policy     passes, reason

Every node and relationship carries ``data_version``: the warehouse version it was built from.
Kùzu 0.11 is the engine; only this package talks to it, so it can be swapped (its upstream
repository was archived in October 2025).
"""

from __future__ import annotations

__all__ = ["DDL", "NODE_TABLES", "REL_TABLES"]

# Load order: nodes first, then the relationships between them.
NODE_TABLES: tuple[str, ...] = ("Audience", "ContentAsset", "Channel", "Campaign", "Policy")
REL_TABLES: tuple[str, ...] = (
    "RESPONDS_TO",
    "AVAILABLE_ON",
    "REACHABLE_VIA",
    "RUNS_ON",
    "GOVERNED_BY",
)

DDL: dict[str, str] = {
    "Audience": """
        CREATE NODE TABLE Audience(
            audience_id STRING, contacts INT64, email_consented INT64, ads_consented INT64,
            unsubscribed INT64, data_version STRING,
            PRIMARY KEY (audience_id))""",
    "ContentAsset": """
        CREATE NODE TABLE ContentAsset(
            asset_id STRING, version INT64, title STRING, body STRING, topic STRING,
            format STRING, compliance_status STRING, brand_safe BOOLEAN,
            regulated_claim BOOLEAN, readiness DOUBLE, data_version STRING,
            PRIMARY KEY (asset_id))""",
    "Channel": """
        CREATE NODE TABLE Channel(
            channel STRING, channel_type STRING, is_paid BOOLEAN, data_version STRING,
            PRIMARY KEY (channel))""",
    "Campaign": """
        CREATE NODE TABLE Campaign(
            campaign_id STRING, campaign_name STRING, platform STRING, data_version STRING,
            PRIMARY KEY (campaign_id))""",
    "Policy": """
        CREATE NODE TABLE Policy(
            policy_id STRING, kind STRING, description STRING, data_version STRING,
            PRIMARY KEY (policy_id))""",
    "RESPONDS_TO": """
        CREATE REL TABLE RESPONDS_TO(
            FROM Audience TO ContentAsset,
            sends INT64, opens INT64, clicks INT64, conversions INT64, ctr DOUBLE, cvr DOUBLE,
            last_seen_at TIMESTAMP, data_version STRING)""",
    "AVAILABLE_ON": """
        CREATE REL TABLE AVAILABLE_ON(
            FROM ContentAsset TO Channel, format_fit STRING, data_version STRING)""",
    "REACHABLE_VIA": """
        CREATE REL TABLE REACHABLE_VIA(
            FROM Audience TO Channel,
            consented_size INT64, sends_per_contact_7d DOUBLE, data_version STRING)""",
    "RUNS_ON": """
        CREATE REL TABLE RUNS_ON(FROM Campaign TO Channel, data_version STRING)""",
    "GOVERNED_BY": """
        CREATE REL TABLE GOVERNED_BY(
            FROM ContentAsset TO Policy, passes BOOLEAN, reason STRING, data_version STRING)""",
}
