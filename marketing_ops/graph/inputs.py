"""The marts the knowledge graph is built from, read as of a day, and the content-policy
verdicts it records: what the graph asset and the closed loop both build the graph from."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from marketing_ops.graph.frames import ContentRules, GraphInputs
from marketing_ops.warehouse import read_table

__all__ = ["EMAIL_DAILY", "GRAPH_INPUTS", "content_rules", "read_graph_inputs"]

GRAPH_INPUTS = {
    "dim_audience": "marts.dim_audience",
    "content_assets": "marts.dim_content_asset_version",
    "dim_channel": "marts.dim_channel",
    "dim_campaign": "marts.dim_campaign",
    "fct_email_engagement": "marts.fct_email_engagement",
    "campaign_content": "marts.fct_campaign_content",
}
EMAIL_DAILY = "marts.fct_audience_email_daily"


def read_graph_inputs(con, day: date, rules: ContentRules) -> GraphInputs:
    """The marts the graph is built from as of ``day`` (email sends over the 7 days up to it)."""
    frames = {name: read_table(con, table) for name, table in GRAPH_INPUTS.items()}
    daily_sends = read_table(
        con, EMAIL_DAILY, date_column="date_day", start=day - timedelta(days=6), end=day
    )
    email_sends_7d = (
        daily_sends.groupby("audience_id", as_index=False)["sends"].sum()
        if len(daily_sends)
        else pd.DataFrame(columns=["audience_id", "sends"])
    )
    return GraphInputs(**frames, email_sends_7d=email_sends_7d, rules=rules)


def content_rules(policies) -> ContentRules:
    """What a policy set's content policy says that the graph records as verdicts."""
    return ContentRules(
        allowed_channels=tuple(policies.content.allowed_channels),
        suppressed_audiences=tuple(policies.content.suppressed_audiences),
        version=policies.version,
    )
