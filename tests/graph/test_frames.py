"""The mapping from the marts to the graph's tables: pure, no database."""

from __future__ import annotations

import pandas as pd
import pytest

from marketing_ops.graph import (
    NODE_TABLES,
    POLICIES,
    REL_TABLES,
    ContentRules,
    graph_frames,
    readiness,
    table_hash,
)

from .world import TRICKY, make_inputs


def test_readiness_is_the_share_of_checks_passed():
    """A complete, approved, brand-safe asset scores 1; each missing check costs one sixth."""
    assets = make_inputs().content_assets
    score = readiness(assets).set_axis(assets["asset_id"] + "@" + assets["version"].astype(str))
    assert score["A1@2"] == 1.0
    assert score["A3@1"] == pytest.approx(5 / 6)  # pending compliance
    assert score["A6@1"] == pytest.approx(5 / 6)  # empty body


@pytest.mark.parametrize("table", [*NODE_TABLES, *REL_TABLES])
def test_every_row_names_the_inputs_it_was_built_from(table):
    """data_version on every node and edge is ``input@content-hash`` of real inputs."""
    frames = graph_frames(make_inputs())
    stamps = set(frames[table]["data_version"])
    assert stamps, f"{table} is empty in the test world"
    versions = frames.versions
    for stamp in stamps:
        for part in stamp.split("+"):
            name, _, version = part.rpartition("@")
            assert versions[name] == version


def test_a_changed_input_changes_only_the_stamps_built_from_it():
    before = graph_frames(make_inputs())
    audiences = make_inputs().dim_audience.assign(contacts=lambda f: f["contacts"] + 1)
    after = graph_frames(make_inputs(dim_audience=audiences))
    assert set(before["Audience"]["data_version"]) != set(after["Audience"]["data_version"])
    assert set(before["ContentAsset"]["data_version"]) == set(after["ContentAsset"]["data_version"])


def test_dangling_references_are_dropped_and_counted():
    """Engagement of an unknown audience never becomes an edge, but it is reported."""
    frames = graph_frames(make_inputs())
    assert "ghost" not in set(frames["RESPONDS_TO"]["from"])
    assert frames.dangling["RESPONDS_TO"] == 1
    unknown = make_inputs().content_assets.assign(channel_fit="email|print")
    assert graph_frames(make_inputs(content_assets=unknown)).dangling["AVAILABLE_ON"] == 7


def test_versions_are_nodes_linked_to_what_they_revise():
    """Every version is a node, only the highest is current, VERSION_OF names the change,
    and engagement and campaign use attach to the current version."""
    frames = graph_frames(make_inputs())
    assets = frames["ContentAsset"].set_index("asset_key")
    assert list(assets.loc[["A1@v1", "A1@v2"], "is_current"]) == [False, True]
    links = frames["VERSION_OF"]
    assert links[["from", "to", "changed_fields"]].values.tolist() == [["A1@v2", "A1@v1", "title"]]
    assert set(frames["RESPONDS_TO"]["to"]) == {"A1@v2", "A2@v1"}
    assert set(frames["USES"]["to"]) == {"A1@v2", "A2@v1"}


def test_latest_only_catalogue_marks_the_highest_version_current():
    """dim_content_asset (no is_current column) still gives one current node per asset."""
    latest = make_inputs().content_assets.drop(columns=["is_current", "first_seen_on"])
    assets = graph_frames(make_inputs(content_assets=latest))["ContentAsset"]
    assert assets.groupby("asset_id")["is_current"].sum().eq(1).all()


def test_policies_govern_assets_channels_and_audiences():
    """Every asset version gets compliance and brand-safety verdicts (regulated claims a
    third); channels get consent and allowed-channel verdicts; audiences suppression."""
    rules = ContentRules(allowed_channels=("email",), suppressed_audiences=("busy",))
    verdicts = graph_frames(make_inputs(rules=rules))["GOVERNED_BY"]
    per_asset = verdicts[verdicts["from_table"] == "ContentAsset"].groupby("from").size()
    assert per_asset.to_dict() == {"A1@v1": 2, "A1@v2": 2, "A2@v1": 2, "A3@v1": 3,
                                   "A4@v1": 2, "A5@v1": 2, "A6@v1": 2}  # fmt: skip
    v = verdicts.set_index(["from", "to"])["passes"]
    assert not v[("A3@v1", "regulated_claims")]
    assert v[("email", "content_channels")] and not v[("display", "content_channels")]
    assert v[("email", "channel_consent")]
    assert not v[("busy", "audience_suppression")] and v[(TRICKY, "audience_suppression")]
    assert set(verdicts["to"]) <= set(POLICIES)


def test_reach_counts_consent_per_channel_and_recent_sends():
    reach = graph_frames(make_inputs())["REACHABLE_VIA"].set_index(["from", "to"])
    assert reach.loc[("lapsed", "email"), "consented_size"] == 0
    assert reach.loc[("lapsed", "display"), "consented_size"] == 40
    assert reach.loc[("busy", "email"), "sends_per_contact_7d"] == pytest.approx(2.0)


def test_earned_channels_have_no_consent_basis():
    channels = pd.DataFrame(
        [("email", "owned", False), ("direct", "earned", False)],
        columns=["channel", "channel_type", "is_paid"],
    )
    frames = graph_frames(make_inputs(dim_channel=channels))
    reach = frames["REACHABLE_VIA"]
    assert (reach.loc[reach["to"] == "direct", "consented_size"] == 0).all()
    v = frames["GOVERNED_BY"].set_index(["from", "to"])["passes"]
    assert not v[("direct", "channel_consent")]


def test_table_hash_ignores_provenance_but_not_content():
    """Equal content, equal hash whatever version stamp; any changed value, another hash."""
    frame = graph_frames(make_inputs())["Audience"]
    restamped = frame.assign(data_version="elsewhere")
    assert table_hash(frame) == table_hash(restamped)
    changed = frame.copy()
    changed.loc[0, "contacts"] += 1
    changed["row_hash"] = graph_frames(
        make_inputs(dim_audience=make_inputs().dim_audience.assign(
            contacts=lambda f: f["contacts"] + (f["audience_id"] == frame.loc[0, "audience_id"])
        ))
    )["Audience"]["row_hash"]  # fmt: skip
    assert table_hash(changed) != table_hash(frame)


def test_a_duplicate_key_is_refused_with_its_name():
    twice = pd.concat([make_inputs().dim_audience] * 2)
    with pytest.raises(ValueError, match="Audience: key audience_id='busy'"):
        graph_frames(make_inputs(dim_audience=twice))
