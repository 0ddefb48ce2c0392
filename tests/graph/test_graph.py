"""The knowledge graph: built from mart-shaped frames into a real Kùzu database, then asked
the decision layer's questions."""

from __future__ import annotations

import pandas as pd
import pytest

from marketing_ops.graph import (
    GraphInputs,
    GraphReader,
    build_graph,
    candidate_path,
    eligible_candidates,
    graph_frames,
    integrity_report,
    list_snapshots,
    readiness,
    restore_snapshot,
    similar_assets,
)

TRICKY = "x' OR true //"  # an id that would break a query built by formatting


def _inputs(**overrides) -> GraphInputs:
    audiences = pd.DataFrame(
        [
            ("loyal", 100, 80, 60, 5),
            ("lapsed", 50, 0, 40, 10),  # nobody consented to email
            ("busy", 20, 20, 20, 0),  # already mailed twice per contact this week
            (TRICKY, 10, 10, 10, 0),
        ],
        columns=["audience_id", "contacts", "email_consented", "ads_consented", "unsubscribed"],
    )
    assets = pd.DataFrame(
        [
            (
                "A1",
                2,
                "Sale",
                "Save now",
                "seasonal_sale",
                "email",
                "email",
                "approved",
                True,
                False,
            ),
            (
                "A2",
                1,
                "Tour",
                "Take a tour",
                "product_tour",
                "email",
                "email",
                "approved",
                True,
                False,
            ),
            ("A3", 1, "Price", "Cheaper", "pricing", "email", "email", "pending", True, True),
            (
                "A4",
                1,
                "Sale 2",
                "More",
                "seasonal_sale",
                "email",
                "email",
                "approved",
                False,
                False,
            ),
            (
                "A5",
                1,
                "Banner",
                "Look",
                "seasonal_sale",
                "banner",
                "display",
                "approved",
                True,
                False,
            ),
            ("A6", 1, "Sale 3", "", "seasonal_sale", "email", "email", "approved", True, False),
        ],
        columns=[
            "asset_id",
            "version",
            "title",
            "body",
            "topic",
            "format",
            "channel_fit",
            "compliance_status",
            "brand_safe",
            "regulated_claim",
        ],
    )
    channels = pd.DataFrame(
        [("email", "owned", False), ("display", "paid", True)],
        columns=["channel", "channel_type", "is_paid"],
    )
    campaigns = pd.DataFrame(
        [("c1", "DISPLAY | prospecting", "google_ads", "display")],
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
        ],
    )
    recent = pd.DataFrame([("loyal", 80), ("busy", 40)], columns=["audience_id", "sends"])
    kw = dict(
        dim_audience=audiences,
        dim_content_asset=assets,
        dim_channel=channels,
        dim_campaign=campaigns,
        fct_email_engagement=engagement,
        email_sends_7d=recent,
    )
    kw.update(overrides)
    return GraphInputs(**kw)


@pytest.fixture
def graph(tmp_path):
    path = tmp_path / "graph" / "g.kuzu"
    build_graph(path, _inputs(), "v1", snapshots=tmp_path / "graph" / "snapshots")
    return path


def test_readiness_is_the_share_of_checks_passed():
    """A complete, approved, brand-safe asset scores 1; each missing check costs one sixth."""
    frame = _inputs().dim_content_asset.set_index("asset_id")
    score = readiness(frame.reset_index()).set_axis(frame.index)
    assert score["A1"] == 1.0
    assert score["A3"] == pytest.approx(5 / 6)  # pending compliance
    assert score["A6"] == pytest.approx(5 / 6)  # empty body


def test_frames_drop_dangling_edges_and_judge_every_asset():
    """Engagement of an unknown audience never becomes an edge; every asset gets compliance
    and brand-safety verdicts, regulated claims a third one."""
    frames = graph_frames(_inputs(), "v1")
    assert "ghost" not in set(frames["RESPONDS_TO"]["from"])
    verdicts = frames["GOVERNED_BY"]
    assert set(verdicts.groupby("from").size()) <= {2, 3}
    a3 = verdicts[verdicts["from"] == "A3"].set_index("to")
    assert not a3.loc["regulated_claims", "passes"] and not a3.loc["compliance_approval", "passes"]
    assert (frames["Audience"]["data_version"] == "v1").all()


def test_eligible_candidates_honour_consent_compliance_caps_and_fit(graph):
    """Only consented, uncapped audiences meet ready, compliant, email-fit assets."""
    with GraphReader(graph) as reader:
        rows = eligible_candidates(reader, "email", frequency_cap_per_week=2)
    pairs = set(zip(rows["audience_id"], rows["asset_id"], strict=True))
    # A3 pending, A4 not brand safe, A5 display-only, A6 not ready; lapsed has no consent;
    # busy had 2 sends per contact this week, a third would break the cap of 2.
    assert pairs == {("loyal", "A1"), ("loyal", "A2"), (TRICKY, "A1"), (TRICKY, "A2")}
    a1 = rows[(rows["audience_id"] == "loyal") & (rows["asset_id"] == "A1")].iloc[0]
    assert (a1["sends"], a1["clicks"], a1["consented_size"]) == (400, 40, 80)
    assert a1["ctr"] == pytest.approx(0.1)
    assert a1["sends_per_contact_7d"] == pytest.approx(1.0)
    assert "Audience(loyal)" in a1["path"] and "ContentAsset(A1 v2" in a1["path"]
    assert "compliance_approval" in a1["path"]


def test_suppression_cap_and_readiness_are_parameters(graph):
    """Suppressing the tricky id removes exactly it (parameters, not text); with no cap the
    busy audience comes back; a lower readiness bar still never admits non-compliant assets."""
    with GraphReader(graph) as reader:
        rows = eligible_candidates(reader, "email", suppressed_audiences=(TRICKY,))
        assert TRICKY not in set(rows["audience_id"])
        assert "busy" in set(rows["audience_id"])
        loose = eligible_candidates(reader, "email", min_readiness=0.5)
    assert "A6" in set(loose["asset_id"])
    assert not {"A3", "A4"} & set(loose["asset_id"])


def test_path_similarity_and_integrity(graph):
    """The evidence behind a candidate, similar assets (same topic first) and a clean
    integrity report."""
    with GraphReader(graph) as reader:
        path = candidate_path(reader, "loyal", "A1", "email")
        similar = similar_assets(reader, "A1", k=3)
        problems = integrity_report(reader)
        none = candidate_path(reader, "loyal", "A5", "email")
    assert path["hops"][0]["clicks"] == 40
    assert {p["policy_id"] for p in path["policies"]} == {"compliance_approval", "brand_safety"}
    assert none["hops"] == []
    assert list(similar["asset_id"])[0] == "A6"  # same topic; A4 fails brand safety
    assert "A4" not in set(similar["asset_id"])
    assert problems == dict.fromkeys(problems, 0)


def test_rebuild_keeps_a_snapshot_that_restores(tmp_path, graph):
    """Each build swaps in a new graph and keeps the old one; restoring brings it back."""
    snapshots = tmp_path / "graph" / "snapshots"
    fewer = _inputs().dim_audience.iloc[:1]
    report = build_graph(graph, _inputs(dim_audience=fewer), "v2", snapshots=snapshots)
    assert report.counts["Audience"] == 1
    assert list_snapshots(snapshots) == [report.snapshot]

    def versions():
        with GraphReader(graph) as reader:
            return reader.frame("MATCH (a:Audience) RETURN DISTINCT a.data_version AS v")[
                "v"
            ].tolist()

    assert versions() == ["v2"]
    restore_snapshot(graph, report.snapshot)
    assert versions() == ["v1"]


def test_reader_names_a_missing_graph(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialise graph/knowledge_graph"):
        GraphReader(tmp_path / "nothing.kuzu")
