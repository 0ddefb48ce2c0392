"""A small graph world, typed out so every rule shows up once.

Audiences: ``loyal`` (consented, mailed once per contact this week), ``lapsed`` (nobody
consented to email), ``busy`` (two sends per contact this week), and one whose id is a
Cypher injection attempt. Assets: A1 (two versions, both approved), A2 fine, A3 pending
with a regulated claim, A4 not brand safe, A5 display only, A6 without body (not ready).
Channels: email and display. One display campaign, one email campaign that used A1 and A2.
"""

from __future__ import annotations

import pandas as pd

from marketing_ops.graph import ContentRules, GraphInputs

TRICKY = "x' OR true //"  # an id that would break a query built by formatting

ASSET_COLUMNS = [
    "asset_id", "version", "title", "body", "topic", "format", "channel_fit",
    "compliance_status", "brand_safe", "regulated_claim", "first_seen_on", "is_current",
]  # fmt: skip

ASSETS = [
    ("A1", 1, "Sale", "Save now", "seasonal_sale", "email", "email", "approved", True, False, "2026-11-01", False),
    ("A1", 2, "Big sale", "Save now", "seasonal_sale", "email", "email", "approved", True, False, "2026-11-10", True),
    ("A2", 1, "Tour", "Take a tour", "product_tour", "email", "email", "approved", True, False, "2026-11-01", True),
    ("A3", 1, "Price", "Cheaper", "pricing", "email", "email", "pending", True, True, "2026-11-01", True),
    ("A4", 1, "Sale 2", "More", "seasonal_sale", "email", "email", "approved", False, False, "2026-11-01", True),
    ("A5", 1, "Banner", "Look", "seasonal_sale", "banner", "display", "approved", True, False, "2026-11-01", True),
    ("A6", 1, "Sale 3", "", "seasonal_sale", "email", "email", "approved", True, False, "2026-11-01", True),
]  # fmt: skip


def make_inputs(**overrides) -> GraphInputs:
    """The world above as mart-shaped frames; keyword arguments replace whole inputs."""
    audiences = pd.DataFrame(
        [
            ("loyal", 100, 80, 60, 5),
            ("lapsed", 50, 0, 40, 10),
            ("busy", 20, 20, 20, 0),
            (TRICKY, 10, 10, 10, 0),
        ],
        columns=["audience_id", "contacts", "email_consented", "ads_consented", "unsubscribed"],
    )
    assets = pd.DataFrame(ASSETS, columns=ASSET_COLUMNS)
    channels = pd.DataFrame(
        [("email", "owned", False), ("display", "paid", True)],
        columns=["channel", "channel_type", "is_paid"],
    )
    campaigns = pd.DataFrame(
        [
            ("c1", "DISPLAY | prospecting", "google_ads", "display"),
            ("em-20261118-loyal", "em-20261118-loyal", "email", "email"),
        ],
        columns=["campaign_id", "campaign_name", "platform", "channel"],
    )
    engagement = pd.DataFrame(
        [
            ("loyal", "A1", "email", 400, 120, 40, 4, pd.Timestamp("2026-11-20 10:00")),
            ("loyal", "A2", "email", 300, 60, 6, 0, pd.Timestamp("2026-11-18 10:00")),
            ("ghost", "A1", "email", 5, 1, 1, 0, pd.Timestamp("2026-11-18 10:00")),  # dangling
        ],
        columns=[
            "audience_id",
            "asset_id",
            "channel",
            "sends",
            "opens",
            "clicks",
            "conversions",
            "last_seen_at",
        ],  # fmt: skip
    )
    recent = pd.DataFrame([("loyal", 80), ("busy", 40)], columns=["audience_id", "sends"])
    used = pd.DataFrame(
        [
            ("em-20261118-loyal", "A1", 400, "2026-11-18 09:00", "2026-11-18 09:05"),
            ("em-20261118-loyal", "A2", 300, "2026-11-18 09:00", "2026-11-18 09:04"),
        ],
        columns=["campaign_id", "asset_id", "sends", "first_sent_at", "last_sent_at"],
    )
    kw = dict(
        dim_audience=audiences,
        content_assets=assets,
        dim_channel=channels,
        dim_campaign=campaigns,
        fct_email_engagement=engagement,
        email_sends_7d=recent,
        campaign_content=used,
        rules=ContentRules(allowed_channels=("email",), version="p1"),
    )
    kw.update(overrides)
    return GraphInputs(**kw)
