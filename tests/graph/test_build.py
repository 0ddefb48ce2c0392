"""Builds into a real Kùzu database: full and incremental builds agree, every build keeps a
restorable snapshot, one writer at a time, readers cannot write."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from marketing_ops.graph import (
    ContentRules,
    GraphReader,
    build_graph,
    find_snapshot,
    list_snapshots,
    read_manifest,
    restore_snapshot,
    writer_lock,
)

from .conftest import dump_graph, frame_of
from .world import ASSET_COLUMNS, ASSETS, make_inputs


def test_a_build_holds_exactly_the_rows_the_marts_imply(graph):
    manifest = read_manifest(graph)
    assert manifest["mode"] == "full" and manifest["as_of"] == "2026-11-20"
    rows = {name: t["rows"] for name, t in manifest["tables"].items()}
    assert rows["ContentAsset"] == len(ASSETS)
    assert rows["VERSION_OF"] == 1 and rows["USES"] == 2 and rows["RESPONDS_TO"] == 2
    assert rows["GOVERNED_BY"] == 15 + 2 * 2 + 4  # asset verdicts, channels x 2, audiences


def _new_version(inputs):
    """A3 gets a v2 approved by compliance, with a new title."""
    assets = inputs.content_assets.copy()
    assets.loc[assets["asset_id"] == "A3", "is_current"] = False
    v2 = ("A3", 2, "Price cut", "Cheaper", "pricing", "email", "email", "approved", True, True,
          "2026-11-21", True)  # fmt: skip
    return make_inputs(
        content_assets=pd.concat([assets, pd.DataFrame([v2], columns=ASSET_COLUMNS)])
    )


CHANGES = {
    "nothing": lambda i: i,
    "audience_removed_and_added": lambda i: make_inputs(
        dim_audience=pd.concat(
            [
                i.dim_audience[i.dim_audience["audience_id"] != "loyal"],
                pd.DataFrame([("new", 5, 5, 5, 0)], columns=i.dim_audience.columns),
            ]
        )
    ),  # fmt: skip
    "engagement_changed": lambda i: make_inputs(
        fct_email_engagement=i.fct_email_engagement.assign(clicks=lambda f: f["clicks"] + 1)
    ),
    "asset_new_version": _new_version,
    "asset_retitled": lambda i: make_inputs(
        content_assets=i.content_assets.assign(
            title=lambda f: f["title"].where(f["asset_id"] != "A2", "Tour, revisited")
        )
    ),
    "policy_suppresses": lambda i: make_inputs(
        rules=ContentRules(allowed_channels=("email", "display"), suppressed_audiences=("busy",))
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_incremental_build_equals_a_full_rebuild(tmp_path, graph, change):
    """Whatever changed, changing the graph in place gives the graph a rebuild gives."""
    inputs = CHANGES[change](make_inputs())
    report = build_graph(graph, inputs, as_of="2026-11-21")
    full = tmp_path / "full.kuzu"
    rebuilt = build_graph(full, inputs, as_of="2026-11-21", incremental=False)
    assert report.mode == "incremental" and rebuilt.mode == "full"
    assert report.counts == rebuilt.counts == report.expected
    assert dump_graph(graph) == dump_graph(full)
    if change == "nothing":
        assert report.changed_tables == []
        assert dump_graph(graph, provenance=True) == dump_graph(full, provenance=True)
    else:
        assert report.changed_tables


def test_incremental_build_touches_only_what_changed(graph):
    """New engagement rewrites RESPONDS_TO only; rows of other tables keep their stamps."""
    before = frame_of(graph, "MATCH (a:Audience) RETURN a.audience_id AS id, a.data_version AS v")
    inputs = CHANGES["engagement_changed"](make_inputs())
    report = build_graph(graph, inputs, as_of="2026-11-21")
    assert report.changed_tables == ["RESPONDS_TO"]
    after = frame_of(graph, "MATCH (a:Audience) RETURN a.audience_id AS id, a.data_version AS v")
    pd.testing.assert_frame_equal(before.sort_values("id"), after.sort_values("id"))
    edges = frame_of(graph, "MATCH ()-[e:RESPONDS_TO]->() RETURN DISTINCT e.data_version AS v")
    assert list(edges["v"]) == [
        f"marts.fct_email_engagement@{report.versions['marts.fct_email_engagement']}"
    ]


def test_full_text_index_follows_incremental_changes(graph):
    """A retitled asset is found by its new words after an in-place build."""
    build_graph(graph, CHANGES["asset_retitled"](make_inputs()), as_of="2026-11-21")
    with GraphReader(graph) as reader:
        from marketing_ops.graph import search_assets

        hits = search_assets(reader, "revisited")
    assert list(hits["asset_id"]) == ["A2"]


def test_each_build_keeps_the_graph_it_replaced_and_restores_it(tmp_path, graph):
    """The replaced graph is a snapshot named by its as-of day; restoring brings it back and
    keeps the graph it replaced as a snapshot too (a restore can be undone)."""
    snapshots = tmp_path / "graph" / "snapshots"
    fewer = make_inputs().dim_audience.iloc[:1]
    report = build_graph(graph, make_inputs(dim_audience=fewer), as_of="2026-11-21",
                         snapshots=snapshots)  # fmt: skip
    assert report.counts["Audience"] == 1
    assert list_snapshots(snapshots) == [report.snapshot]
    assert find_snapshot(snapshots, "2026-11-20") == report.snapshot
    assert read_manifest(report.snapshot)["as_of"] == "2026-11-20"

    def audiences():
        return len(frame_of(graph, "MATCH (a:Audience) RETURN a.audience_id AS id"))

    assert audiences() == 1
    kept = restore_snapshot(graph, report.snapshot, snapshots)
    assert audiences() == 4 and read_manifest(graph)["as_of"] == "2026-11-20"
    assert read_manifest(kept)["as_of"] == "2026-11-21"
    restore_snapshot(graph, kept, snapshots)
    assert audiences() == 1


def test_snapshot_lookup_names_what_exists(tmp_path):
    with pytest.raises(FileNotFoundError, match="no graph snapshot matches '1999-01-01'"):
        find_snapshot(tmp_path, "1999-01-01")


def test_one_writer_at_a_time(graph):
    """A second writer waits for the lock and gives up with a message naming it."""
    entered = threading.Event()
    release = threading.Event()

    def hold():
        with writer_lock(graph):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        with pytest.raises(TimeoutError, match="another process is writing"):
            with writer_lock(graph, timeout=0.3):
                pass
    finally:
        release.set()
        holder.join()
    with writer_lock(graph, timeout=1):  # free again
        pass


def test_readers_cannot_write(graph):
    with GraphReader(graph) as reader, pytest.raises(RuntimeError, match="read-only"):
        reader.frame("CREATE (:Policy {policy_id: $p})", {"p": "sneaky"})


def test_reader_names_a_missing_graph(tmp_path):
    with pytest.raises(FileNotFoundError, match="materialise graph/knowledge_graph"):
        GraphReader(tmp_path / "nothing.kuzu")


def test_a_large_catalogue_with_empty_columns_loads(tmp_path):
    """More than 2048 assets from a latest-only catalogue: first_seen_on and embedding are
    null in every row. Kùzu 0.11 crashed scanning such columns; they are left out of COPY."""
    n = 2100
    assets = pd.DataFrame(
        {
            "asset_id": [f"B{i:05d}" for i in range(n)],
            "version": 1,
            "title": "Title",
            "body": "Body",
            "topic": "pricing",
            "format": "email",
            "channel_fit": "email",
            "compliance_status": "approved",
            "brand_safe": True,
            "regulated_claim": False,
        }
    )
    report = build_graph(tmp_path / "g.kuzu", make_inputs(content_assets=assets))
    assert report.counts["ContentAsset"] == n == report.expected["ContentAsset"]
    nulls = frame_of(
        tmp_path / "g.kuzu",
        "MATCH (a:ContentAsset) WHERE a.first_seen_on IS NULL AND a.embedding IS NULL "
        "RETURN count(a) AS n",
    )
    assert int(nulls["n"].iloc[0]) == n
