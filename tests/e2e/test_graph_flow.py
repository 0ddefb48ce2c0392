"""The knowledge graph built by Dagster from the simulated world: its checks ran and passed,
its counts follow from the warehouse, consent and compliance hold for every candidate, and
hostile text stays text."""

from __future__ import annotations

import dataclasses
import json
import shutil

import dagster as dg
from typer.testing import CliRunner
from worlds.markets import dbt_build

from marketing_ops.cli import app
from marketing_ops.config import data_home
from marketing_ops.defs.knowledge_graph.assets import GRAPH_KEY, policy_rules, read_graph_inputs
from marketing_ops.graph import (
    CHECKS,
    ContentRules,
    GraphReader,
    build_graph,
    eligible_candidates,
    table_counts,
)
from marketing_ops.runner import prepare_instance
from marketing_ops.warehouse import connect

INJECTIONS = (
    "x'}) MATCH (n) DETACH DELETE n //",
    "\"; CALL DROP_FTS_INDEX('ContentAsset', 'content_text'); //",
)


def _sql(home, query: str) -> int:
    with connect(home.warehouse, read_only=True) as con:
        return int(con.execute(query).fetchone()[0])


def test_graph_checks_ran_and_passed(flow_world) -> None:
    """All four blocking integrity checks were evaluated on the flow's graph and passed."""
    instance = prepare_instance(flow_world.home)
    keys = [dg.AssetCheckKey(GRAPH_KEY, name) for name in CHECKS]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    assert {k.name: r.status.value for k, r in latest.items()} == dict.fromkeys(CHECKS, "SUCCEEDED")


def test_graph_counts_follow_from_the_warehouse(flow_world) -> None:
    """Every node and edge count, computed independently in SQL over the marts."""
    h = flow_world.home
    audiences = _sql(h, "select count(*) from marts.dim_audience")
    channels = _sql(h, "select count(*) from marts.dim_channel")
    versions = _sql(h, "select count(*) from marts.dim_content_asset_version")
    expected = {
        "Audience": audiences,
        "ContentAsset": versions,
        "Channel": channels,
        "Campaign": _sql(h, "select count(*) from marts.dim_campaign"),
        "Policy": 6,
        "RESPONDS_TO": _sql(h, """select count(*) from marts.fct_email_engagement e
            where e.audience_id in (select audience_id from marts.dim_audience)
              and e.asset_id in (select asset_id from marts.dim_content_asset_version)"""),
        "AVAILABLE_ON": _sql(h, """select count(*) from (
            select unnest(string_split(channel_fit, '|')) as channel
            from marts.dim_content_asset_version)
            where channel in (select channel from marts.dim_channel)"""),
        "REACHABLE_VIA": audiences * channels,
        "RUNS_ON": _sql(h, """select count(*) from marts.dim_campaign
            where channel in (select channel from marts.dim_channel)"""),
        "USES": _sql(h, """select count(*) from marts.fct_campaign_content
            where asset_id in (select asset_id from marts.dim_content_asset_version)
              and campaign_id in (select campaign_id from marts.dim_campaign)"""),
        "VERSION_OF": versions
        - _sql(h, "select count(distinct asset_id) from marts.dim_content_asset_version"),
        "GOVERNED_BY": 2 * versions
        + _sql(h, "select count(*) from marts.dim_content_asset_version where regulated_claim")
        + 2 * channels
        + audiences,
    }  # fmt: skip
    with GraphReader(h.graph) as reader:
        assert table_counts(reader) == expected
    assert expected["RESPONDS_TO"] > 0 and expected["USES"] > 0


def test_candidates_never_lack_consent_or_compliance(flow_world, tmp_path) -> None:
    """On the flow's graph no candidate asset is non-compliant (the simulator has pending,
    rejected and unsafe ones). Rebuilt from the same marts with one audience's email consent
    withdrawn, that audience disappears from the candidates it was in."""
    h = flow_world.home
    with connect(h.warehouse, read_only=True) as con:
        assets = con.execute("select asset_id, is_compliant from marts.dim_content_asset").df()
        inputs = read_graph_inputs(con, flow_world.end, policy_rules(h))
    noncompliant = set(assets.loc[~assets["is_compliant"], "asset_id"])
    assert len(noncompliant) >= 3
    with GraphReader(h.graph) as reader:
        candidates = eligible_candidates(reader, "email", min_readiness=0.0)
    assert len(candidates) and not set(candidates["asset_id"]) & noncompliant

    victim = candidates["audience_id"].iloc[0]
    audiences = inputs.dim_audience.copy()
    audiences.loc[audiences["audience_id"] == victim, "email_consented"] = 0
    path = tmp_path / "g.kuzu"
    build_graph(path, dataclasses.replace(inputs, dim_audience=audiences))
    with GraphReader(path) as reader:
        after = eligible_candidates(reader, "email", min_readiness=0.0)
    assert victim not in set(after["audience_id"])
    assert set(after["audience_id"]) == set(candidates["audience_id"]) - {victim}
    assert not set(after["asset_id"]) & noncompliant


def test_the_rationale_carries_the_graph_path(flow_world) -> None:
    """Content decisions cite the path: audience, channel and asset with their verdicts."""
    with connect(flow_world.home.warehouse, read_only=True) as con:
        rationale = con.execute(
            "select rationale from agent.decisions where action_type = 'content_selection'"
        ).fetchall()
    paths = [json.loads(r)["graph_path"] for (r,) in rationale]
    assert paths and all("Channel(email; passes channel_consent" in p for p in paths if p)
    assert any("-GOVERNED_BY-> Policy(" in p for p in paths)


def test_cypher_injection_in_a_campaign_name_is_stored_as_text(flow_world, tmp_path) -> None:
    """Campaigns named like Cypher injections go raw -> dbt -> graph and come back verbatim,
    found by a parameter from the CLI; the graph around them is untouched."""
    home = data_home(tmp_path / "home").ensure()
    shutil.copy2(flow_world.home.warehouse, home.warehouse)
    with connect(home.warehouse) as con:
        for i, name in enumerate(INJECTIONS):
            con.execute(
                "insert into raw.google_ads select * replace (? as campaign_id, ? as campaign_name) "
                "from raw.google_ads limit 1",
                [f"66600000{i}", name],
            )
    dbt_build(home.warehouse, tmp_path, "--select", "dim_campaign")
    with connect(home.warehouse, read_only=True) as con:
        inputs = read_graph_inputs(con, flow_world.end, ContentRules(allowed_channels=("email",)))
    report = build_graph(home.graph, inputs, as_of=flow_world.end)
    with GraphReader(flow_world.home.graph) as reader:
        before = table_counts(reader)
    assert report.counts["Campaign"] == before["Campaign"] + len(INJECTIONS)
    assert {k: v for k, v in report.counts.items() if k not in ("Campaign", "RUNS_ON")} == {
        k: v for k, v in before.items() if k not in ("Campaign", "RUNS_ON")
    }
    runner = CliRunner()
    for i, name in enumerate(INJECTIONS):
        result = runner.invoke(app, [
            "graph", "query", "MATCH (c:Campaign) WHERE c.campaign_name = $name "
            "RETURN c.campaign_id AS id, c.campaign_name AS name",
            "-p", f"name={name}", "--format", "json", "--home", str(home.root),
        ])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == [{"id": f"66600000{i}", "name": name}]
    with GraphReader(home.graph) as reader:
        assert "content_text" in reader.indexes()
