"""The decision layer's questions, asked of a real graph of the typed-out world."""

from __future__ import annotations

from datetime import date

import pytest

from marketing_ops.graph import (
    CANDIDATE_COLUMNS,
    ContentRules,
    GraphReader,
    build_graph,
    candidate_path,
    check_integrity,
    eligible_candidates,
    graph_frames,
    integrity_report,
    similar_assets,
)

from .world import TRICKY, make_inputs


def test_eligible_candidates_honour_consent_compliance_caps_and_fit(graph):
    """Only consented, uncapped audiences meet ready, compliant, email-fit current assets."""
    with GraphReader(graph) as reader:
        rows = eligible_candidates(reader, "email", frequency_cap_per_week=2)
    assert list(rows.columns) == CANDIDATE_COLUMNS
    pairs = set(zip(rows["audience_id"], rows["asset_id"], strict=True))
    # A3 pending, A4 not brand safe, A5 display-only, A6 not ready; lapsed has no consent;
    # busy had 2 sends per contact this week, a third would break the cap of 2.
    assert pairs == {("loyal", "A1"), ("loyal", "A2"), (TRICKY, "A1"), (TRICKY, "A2")}
    a1 = rows[(rows["audience_id"] == "loyal") & (rows["asset_id"] == "A1")].iloc[0]
    assert (a1["sends"], a1["clicks"], a1["consented_size"], a1["asset_version"]) == (
        400,
        40,
        80,
        2,
    )
    assert a1["ctr"] == pytest.approx(0.1)
    assert a1["sends_per_contact_7d"] == pytest.approx(1.0)
    assert "Audience(loyal; passes audience_suppression)" in a1["path"]
    assert "ContentAsset(A1 v2" in a1["path"] and "compliance_approval" in a1["path"]
    assert "Channel(email; passes channel_consent, content_channels)" in a1["path"]


def test_suppression_cap_readiness_and_audiences_are_parameters(graph):
    """Suppressing the tricky id removes exactly it (parameters, not text); with no cap the
    busy audience comes back; a lower readiness bar never admits non-compliant assets."""
    with GraphReader(graph) as reader:
        rows = eligible_candidates(reader, "email", suppressed_audiences=(TRICKY,))
        assert TRICKY not in set(rows["audience_id"])
        assert "busy" in set(rows["audience_id"])
        loose = eligible_candidates(reader, "email", min_readiness=0.5)
        one = eligible_candidates(reader, "email", audiences=(TRICKY,))
    assert "A6" in set(loose["asset_id"])
    assert not {"A3", "A4"} & set(loose["asset_id"])
    assert set(one["audience_id"]) == {TRICKY} and len(one) == 2


def test_policy_verdicts_in_the_graph_exclude_audiences_and_channels(tmp_path):
    """A suppression written in the policy, and a channel the policy does not allow, keep
    candidates out even when the caller passes no suppression list."""
    path = tmp_path / "g.kuzu"
    rules = ContentRules(allowed_channels=("email",), suppressed_audiences=("loyal",))
    build_graph(path, make_inputs(rules=rules))
    with GraphReader(path) as reader:
        email = eligible_candidates(reader, "email")
        display = eligible_candidates(reader, "display", min_readiness=0.0)
        why = candidate_path(reader, "loyal", "A5", "display")
    assert "loyal" not in set(email["audience_id"]) and len(email)
    assert display.empty
    verdicts = {(p["governs"], p["policy_id"]): p["passes"] for p in why["policies"]}
    assert verdicts[("Channel", "content_channels")] is False
    assert verdicts[("Audience", "audience_suppression")] is False
    assert why["hops"]  # the path exists; the policies are what rule it out


def test_path_versions_and_similar_assets(graph):
    """The evidence behind a candidate with the asset's version history; similar assets are
    current, compliant, same topic first."""
    with GraphReader(graph) as reader:
        path = candidate_path(reader, "loyal", "A1", "email")
        similar = similar_assets(reader, "A1", k=3)
        none = candidate_path(reader, "loyal", "A5", "email")
    assert path["hops"][0]["clicks"] == 40 and path["hops"][0]["asset_version"] == 2
    assert {p["policy_id"] for p in path["policies"] if p["governs"] == "ContentAsset"} == {
        "compliance_approval",
        "brand_safety",
    }
    assert [(v["version"], v["revises"]) for v in path["versions"]][0] == (2, 1)
    assert path["versions"][0]["changed_fields"] == "title"
    assert none["hops"] == []
    assert list(similar["asset_id"])[0] == "A6"  # same topic; A4 fails brand safety
    assert "A4" not in set(similar["asset_id"])


def _checks(path, inputs, as_of=date(2026, 11, 21), expected=None, **kw):
    frames = graph_frames(inputs)
    with GraphReader(path) as reader:
        outcomes = check_integrity(
            reader,
            as_of=as_of,
            expected=expected or frames.counts(),
            dangling=frames.dangling,
            **kw,
        )
    return {o.name: o for o in outcomes}


def test_integrity_passes_on_a_sound_graph_and_names_each_problem(tmp_path):
    """Without the dangling engagement row every verdict passes; each injected problem fails
    exactly the check that owns it."""
    inputs = make_inputs()
    sound = make_inputs(
        fct_email_engagement=inputs.fct_email_engagement.query("audience_id != 'ghost'")
    )
    path = tmp_path / "g.kuzu"
    build_graph(path, sound)
    ok = _checks(path, sound)
    assert all(o.passed for o in ok.values()), ok
    with GraphReader(path) as reader:
        assert set(integrity_report(reader).values()) == {0}

    dangling = _checks(path, inputs)
    assert not dangling["graph_references"].passed
    assert dangling["graph_references"].metadata["dangling_responds_to"] == 1

    stale = _checks(path, sound, as_of=date(2026, 12, 31), max_age_days=7)
    assert not stale["graph_performance_fresh"].passed
    assert stale["graph_performance_fresh"].metadata["age_days"] == 41

    off = _checks(path, sound, expected={**graph_frames(sound).counts(), "Audience": 5})
    assert not off["graph_matches_warehouse"].passed
    assert off["graph_matches_warehouse"].metadata["Audience_rows_off_by"] == -1
    assert off["graph_references"].passed and off["graph_performance_fresh"].passed


def test_orphans_and_missing_channels_fail_the_reference_check(tmp_path):
    """An asset whose channel the graph lacks is an orphan with a dangling reference."""
    assets = make_inputs().content_assets
    inputs = make_inputs(
        content_assets=assets.assign(channel_fit=assets["channel_fit"].where(assets["asset_id"] != "A2", "print")),
        fct_email_engagement=make_inputs().fct_email_engagement.query("audience_id != 'ghost'"),
    )  # fmt: skip
    path = tmp_path / "g.kuzu"
    build_graph(path, inputs)
    refs = _checks(path, inputs)["graph_references"]
    assert not refs.passed
    assert refs.metadata["assets_without_channel"] == 1
    assert refs.metadata["dangling_available_on"] == 1


def test_a_graph_without_engagement_is_a_cold_start_not_stale(tmp_path):
    inputs = make_inputs(fct_email_engagement=make_inputs().fct_email_engagement.iloc[:0])
    path = tmp_path / "g.kuzu"
    build_graph(path, inputs)
    fresh = _checks(path, inputs)["graph_performance_fresh"]
    assert fresh.passed and fresh.metadata["edges"] == 0
