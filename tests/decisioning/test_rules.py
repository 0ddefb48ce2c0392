"""Rules before choice: consent, suppression, channel, caps, compliance, brand safety,
regulated claims, blocked topics and terms, and fatigue remove candidates before the bandit
sees them; what is left is never chosen from outside; the fallback fills only fatigue gaps."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from marketing_ops.decisioning import (
    CompliancePolicy,
    ContentPolicy,
    apply_content_rules,
    choose_content,
)
from marketing_ops.decisioning.policy import FatiguePolicy, RegulatedClaimsPolicy

AS_OF = date(2026, 11, 23)
NO_HOURS = pd.DataFrame(columns=["audience_id", "hour_of_day", "opens", "clicks"])


def row(audience="loyal", asset="A1", **kw) -> dict:
    base = {
        "audience_id": audience,
        "asset_id": asset,
        "channel": "email",
        "consented_size": 500,
        "sends": 1000,
        "opens": 300,
        "clicks": 50,
        "conversions": 5,
        "ctr": 0.05,
        "readiness": 1.0,
        "sends_per_contact_7d": 0.0,
        "path": f"Audience({audience}) -> ContentAsset({asset})",
        "topic": "product_tour",
        "format": "email",
        "title": "Take the tour",
        "body": "Five minutes to see the dashboard.",
        "compliance_status": "approved",
        "brand_safe": True,
        "regulated_claim": False,
        "last_seen_at": pd.Timestamp("2026-09-01"),
    }
    return {**base, **kw}


@pytest.mark.parametrize(
    ("change", "content", "compliance", "rule"),
    [
        ({"consented_size": 0}, {}, {}, "consent"),
        ({"channel": "paid_social"}, {}, {}, "channel"),
        ({"sends_per_contact_7d": 2.0}, {"frequency_cap_per_week": 2}, {}, "frequency_cap"),
        ({"compliance_status": "pending"}, {}, {}, "compliance"),
        ({"compliance_status": None}, {}, {}, "compliance"),
        ({"brand_safe": False}, {}, {}, "brand_safety"),
        ({"brand_safe": "false"}, {}, {}, "brand_safety"),
        (
            {"regulated_claim": True},
            {},
            {"regulated_claims": RegulatedClaimsPolicy(excluded_audiences=["loyal"])},
            "regulated_claim",
        ),
        (
            {"regulated_claim": True},
            {},
            {"regulated_claims": RegulatedClaimsPolicy(allowed=False)},
            "regulated_claim",
        ),
        ({"topic": "seasonal_sale"}, {}, {"blocked_topics": ["seasonal_sale"]}, "blocked_topic"),
        ({"body": "GUARANTEED returns"}, {}, {"blocked_terms": ["guaranteed"]}, "blocked_term"),
        ({"last_seen_at": pd.Timestamp("2026-11-20 09:00")}, {}, {}, "fatigue"),
        (
            {"sends": 4000},
            {"fatigue": FatiguePolicy(max_sends_per_contact=6)},
            {},
            "fatigue",
        ),
    ],
)
def test_each_rule_removes_the_candidate_and_says_why(change, content, compliance, rule) -> None:
    """One good and one bad asset for the same audience: the bad one is excluded by the
    named rule, the good one stays and is what gets sent."""
    frame = pd.DataFrame([row(asset="A1"), row(asset="A2", **change)])
    kept, excluded = apply_content_rules(
        frame, ContentPolicy(**content), CompliancePolicy(**compliance), AS_OF
    )
    assert list(kept["asset_id"]) == ["A1"]
    assert excluded[["asset_id", "rule"]].values.tolist() == [["A2", rule]]
    out = choose_content(
        frame,
        NO_HOURS,
        ContentPolicy(**content),
        AS_OF,
        1,
        compliance=CompliancePolicy(**compliance),
    )
    assert out["asset_id"].tolist() == ["A1"] and out["propensity"].tolist() == [1.0]
    assert out["rules_applied"].iloc[0] == [f"1 candidate out: {excluded['reason'].iloc[0]} (A2)"]


def test_regulated_claim_passes_where_allowed() -> None:
    """A regulated claim is fine for an audience not excluded (it waits for approval later)."""
    frame = pd.DataFrame([row(regulated_claim=True)])
    kept, excluded = apply_content_rules(frame, ContentPolicy(), CompliancePolicy(), AS_OF)
    assert len(kept) == 1 and excluded.empty


def test_suppressed_audience_vanishes_and_an_emptied_audience_is_held() -> None:
    """A suppressed audience appears nowhere; an audience whose every candidate fails is held
    with the rules that emptied it, and no asset."""
    frame = pd.DataFrame(
        [
            row("loyal", "A1"),
            row("lapsed", "A1"),
            row("busy", "A1", compliance_status="rejected"),
            row("busy", "A2", last_seen_at=pd.Timestamp("2026-11-22")),
        ]
    )
    policy = ContentPolicy(suppressed_audiences=["lapsed"])
    out = choose_content(frame, NO_HOURS, policy, AS_OF, 1).set_index("audience_id")
    assert "lapsed" not in out.index
    assert out.loc["busy", "action"] == "hold" and pd.isna(out.loc["busy", "asset_id"])
    reason = out.loc["busy", "reason"]
    assert "compliance status is not approved (A1)" in reason and "fatigue" in reason
    assert out.loc["loyal", "action"] == "send"


def test_fallback_asset_fills_only_a_fatigue_gap() -> None:
    """Every asset resting: the fallback asset is sent (and says so); a fallback that fails
    compliance is never rescued."""
    recent = pd.Timestamp("2026-11-21")
    frame = pd.DataFrame(
        [row(asset="A1", last_seen_at=recent), row(asset="A2", last_seen_at=recent)]
    )
    out = choose_content(frame, NO_HOURS, ContentPolicy(fallback_asset="A2"), AS_OF, 1)
    assert out["asset_id"].tolist() == ["A2"] and "fallback asset A2" in out["reason"].iloc[0]
    frame.loc[1, "brand_safe"] = False
    out = choose_content(frame, NO_HOURS, ContentPolicy(fallback_asset="A2"), AS_OF, 1)
    assert out["action"].tolist() == ["hold"]


@pytest.mark.parametrize("seed", range(5))
def test_choice_never_leaves_the_qualified_set(seed: int) -> None:
    """Random candidates with random rule breaches: every send is a (audience, asset,
    channel) the rules kept, its alternatives too, and every kept audience gets an action."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(6):
        for s in range(8):
            rows.append(
                row(
                    f"aud{a}",
                    f"A{s:02d}",
                    channel=str(rng.choice(["email", "email", "paid_social"])),
                    consented_size=int(rng.choice([0, 200, 900])),
                    clicks=int(rng.integers(0, 80)),
                    compliance_status=str(rng.choice(["approved", "approved", "pending"])),
                    brand_safe=bool(rng.random() < 0.85),
                    regulated_claim=bool(rng.random() < 0.3),
                    last_seen_at=pd.Timestamp("2026-11-01")
                    + pd.Timedelta(days=int(rng.integers(0, 23))),
                )
            )
    frame = pd.DataFrame(rows)
    content = ContentPolicy(allowed_channels=["email"])
    compliance = CompliancePolicy(
        regulated_claims=RegulatedClaimsPolicy(excluded_audiences=["aud1", "aud4"])
    )
    kept, _ = apply_content_rules(frame, content, compliance, AS_OF)
    allowed = set(zip(kept["audience_id"], kept["asset_id"], kept["channel"], strict=True))
    out = choose_content(frame, NO_HOURS, content, AS_OF, seed, compliance=compliance)
    sends = out[out["action"] == "send"]
    for r in sends.to_dict("records"):
        assert (r["audience_id"], r["asset_id"], r["channel"]) in allowed
        for alt in r["alternatives"]:
            assert (r["audience_id"], alt["asset_id"], alt["channel"]) in allowed
    assert set(sends["audience_id"]) == set(kept["audience_id"])
