"""Content retrieval over the simulator's catalogue: full-text (BM25) by default, semantic
with the real all-MiniLM-L6-v2 model from the optional extra (``make test`` installs it)."""

from __future__ import annotations

import pandas as pd
import pytest

from marketing_ops.graph import (
    RETRIEVAL_COLUMNS,
    ContentRules,
    GraphInputs,
    GraphReader,
    SemanticUnavailable,
    assets_for_audience,
    audience_intent,
    build_graph,
    eligible_candidates,
    load_embedder,
    search_assets,
)
from marketing_ops.simulator.world import SEGMENTS, WorldConfig, build_world

CHANNELS = pd.DataFrame(
    [("email", "owned", False), ("display", "paid", True), ("paid_social", "paid", True),
     ("paid_search", "paid", True)],
    columns=["channel", "channel_type", "is_paid"],
)  # fmt: skip


def catalogue_inputs(retitle: str | None = None) -> GraphInputs:
    """The simulator's 36-asset catalogue, six audiences, and loyal customers who clicked
    the webinar emails (so their intent reads as webinars)."""
    assets = pd.DataFrame(build_world(WorldConfig(seed=3, days=30, contacts=50)).assets)
    if retitle:
        assets.loc[assets["asset_id"] == "A001", "title"] = retitle
    audiences = pd.DataFrame(
        [(s, 100, 80, 60, 2) for s in SEGMENTS],
        columns=["audience_id", "contacts", "email_consented", "ads_consented", "unsubscribed"],
    )
    webinars = assets[(assets["topic"] == "webinar") & assets["channel_fit"].str.contains("email")]
    engagement = pd.DataFrame(
        [("loyal_customers", a, "email", 200, 80, 30, 2, pd.Timestamp("2026-11-20"))
         for a in webinars["asset_id"]],
        columns=["audience_id", "asset_id", "channel", "sends", "opens", "clicks",
                 "conversions", "last_seen_at"],
    )  # fmt: skip
    return GraphInputs(
        dim_audience=audiences,
        content_assets=assets,
        dim_channel=CHANNELS,
        dim_campaign=pd.DataFrame(columns=["campaign_id", "campaign_name", "platform", "channel"]),
        fct_email_engagement=engagement,
        rules=ContentRules(allowed_channels=("email",), version="p1"),
    )


@pytest.fixture(scope="module")
def catalogue():
    return catalogue_inputs()


@pytest.fixture(scope="module")
def fts_graph(tmp_path_factory, catalogue):
    path = tmp_path_factory.mktemp("fts") / "g.kuzu"
    build_graph(path, catalogue)
    return path


@pytest.fixture(scope="module")
def embedder():
    """The real model. Missing extra = a failing test, never a skip: CI installs it."""
    try:
        return load_embedder()
    except SemanticUnavailable as exc:
        pytest.fail(f"{exc} (make test installs it)")


@pytest.fixture(scope="module")
def semantic_graph(tmp_path_factory, catalogue, embedder):
    path = tmp_path_factory.mktemp("semantic") / "g.kuzu"
    report = build_graph(path, catalogue, embedder=embedder)
    assert report.embedded == len(catalogue.content_assets)  # one text per asset version
    return path


def _topics(path, found: pd.DataFrame) -> list[str]:
    with GraphReader(path) as reader:
        topics = reader.frame(
            "MATCH (a:ContentAsset) WHERE a.asset_id IN $ids RETURN a.asset_id AS id, a.topic AS t",
            {"ids": list(found["asset_id"])},
        ).set_index("id")["t"]
    return [topics[a] for a in found["asset_id"]]


def test_full_text_search_ranks_by_bm25(fts_graph):
    """Words of the webinar body find the webinars first, best score first."""
    with GraphReader(fts_graph) as reader:
        found = search_assets(reader, "live webinar forecasting demand", k=5)
    assert list(found.columns) == RETRIEVAL_COLUMNS
    assert set(found["method"]) == {"fts"}
    assert _topics(fts_graph, found) == ["webinar"] * len(found) and len(found) == 5
    assert found["score"].is_monotonic_decreasing


def test_search_text_is_a_parameter(fts_graph):
    """A query full of Cypher and quote characters is searched for, not executed."""
    with GraphReader(fts_graph) as reader:
        found = search_assets(reader, "webinar') RETURN 1 // \" MATCH (n) DETACH DELETE n", k=3)
        still = int(reader.frame("MATCH (a:ContentAsset) RETURN count(a) AS n")["n"].iloc[0])
    assert _topics(fts_graph, found)[0] == "webinar" and still == 36


def test_an_audience_gets_only_what_it_may_receive(fts_graph):
    """Retrieval for an audience returns only its eligible candidates on the channel: no
    pending, rejected, unsafe or display-only asset, whatever the text matches."""
    with GraphReader(fts_graph) as reader:
        eligible = set(eligible_candidates(reader, "email", audiences=("b2b_leads",))["asset_id"])
        found = assets_for_audience(reader, "b2b_leads", intent="plans pricing save sale", k=20)
        everything = search_assets(reader, "plans pricing save sale", k=36)
    assert len(found) and set(found["asset_id"]) <= eligible
    assert set(everything["asset_id"]) - eligible  # the index alone would return more


def test_intent_is_read_from_what_an_audience_clicked(fts_graph):
    """Loyal customers clicked webinars: their intent says so and retrieval follows it;
    without history an intent must be given."""
    with GraphReader(fts_graph) as reader:
        intent = audience_intent(reader, "loyal_customers")
        found = assets_for_audience(reader, "loyal_customers", k=2)  # two webinar emails
        fresh = assets_for_audience(reader, "loyal_customers", k=3, exclude_seen=True)
        with pytest.raises(ValueError, match="no clicks"):
            assets_for_audience(reader, "new_visitors")
    assert intent.startswith("webinar")
    assert set(_topics(fts_graph, found)) == {"webinar"}
    assert len(fresh) == 3 and not set(fresh["asset_id"]) & set(found["asset_id"])


def test_semantic_search_needs_embeddings_in_the_graph(fts_graph):
    with GraphReader(fts_graph) as reader, pytest.raises(SemanticUnavailable, match="rebuild"):
        search_assets(reader, "anything", method="semantic")


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("how other companies succeeded", "case_study"),
        ("learn to predict sales in a live online session", "webinar"),
        ("first steps after signing up", "onboarding"),
    ],
)
def test_semantic_search_finds_meaning_without_shared_words(
    semantic_graph, embedder, question, topic
):
    """The real model puts the asset that means the question first, from the vector index."""
    with GraphReader(semantic_graph) as reader:
        found = search_assets(reader, question, method="semantic", k=3, embedder=embedder)
    assert _topics(semantic_graph, found)[0] == topic
    assert set(found["method"]) == {"semantic"} and found["score"].between(-1, 1).all()


def test_semantic_beats_full_text_where_no_word_is_shared(semantic_graph, embedder):
    """ "how other companies succeeded" shares no indexed word with the case study body."""
    with GraphReader(semantic_graph) as reader:
        lexical = search_assets(reader, "how other companies succeeded", k=3)
        semantic = assets_for_audience(
            reader, "b2b_leads", intent="how other companies succeeded", method="semantic",
            k=3, embedder=embedder,
        )  # fmt: skip
        eligible = set(eligible_candidates(reader, "email", audiences=("b2b_leads",))["asset_id"])
    assert "case_study" not in _topics(semantic_graph, lexical)
    assert _topics(semantic_graph, semantic)[0] == "case_study"
    assert set(semantic["asset_id"]) <= eligible


def test_incremental_build_embeds_only_changed_text(tmp_path, catalogue, embedder):
    """Unchanged texts keep their vectors; a retitled asset is re-embedded and found by its
    new meaning through the rebuilt vector index."""
    path = tmp_path / "g.kuzu"
    first = build_graph(path, catalogue, embedder=embedder)
    again = build_graph(path, catalogue, embedder=embedder)
    retitled = build_graph(
        path, catalogue_inputs(retitle="Gardening tips for tomato plants"), embedder=embedder
    )
    assert first.embedded == 36 and again.embedded == 0 and again.changed_tables == []
    assert retitled.mode == "incremental" and retitled.embedded == 1
    with GraphReader(path) as reader:
        found = search_assets(reader, "growing vegetables", method="semantic", k=1,
                              embedder=embedder)  # fmt: skip
    assert list(found["asset_id"]) == ["A001"]
