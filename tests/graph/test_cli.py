"""`marketing-ops graph ...` on a real graph in a temporary data home."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.cli.graph import parse_params
from marketing_ops.config import data_home
from marketing_ops.graph import build_graph, list_snapshots, read_manifest

from .world import TRICKY, make_inputs


@pytest.fixture
def home(tmp_path):
    h = data_home(tmp_path / "home").ensure()
    build_graph(h.graph, make_inputs(), as_of="2026-11-20", snapshots=h.graph_snapshots)
    fewer = make_inputs().dim_audience.iloc[:2]
    build_graph(h.graph, make_inputs(dim_audience=fewer), as_of="2026-11-21",
                snapshots=h.graph_snapshots)  # fmt: skip
    return h


def run(home, *args: str):
    result = CliRunner().invoke(app, ["graph", *args, "--home", str(home.root)])
    return result


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (["k=5"], {"k": 5}),
        (["name=loyal"], {"name": "loyal"}),
        (['$ids=["A1", "A2"]'], {"ids": ["A1", "A2"]}),
        ([f"aud={TRICKY}"], {"aud": TRICKY}),
        (["flag=true", "x=null"], {"flag": True, "x": None}),
    ],
)
def test_parameters_are_parsed_as_json_or_text(pairs, expected):
    assert parse_params(pairs) == expected


def test_a_parameter_needs_a_name():
    import typer

    with pytest.raises(typer.BadParameter, match="expected name=value"):
        parse_params(["=5"])


def test_query_takes_values_as_parameters_and_refuses_writes(home):
    found = run(home, "query", "MATCH (a:Audience) WHERE a.audience_id = $aud RETURN a.contacts AS n",
                "-p", "aud=loyal", "--format", "json")  # fmt: skip
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout) == [{"n": 100}]
    write = run(home, "query", "MATCH (a:Audience) DETACH DELETE a")
    assert write.exit_code == 2 and "read-only" in write.output
    count = run(home, "query", "MATCH (a:Audience) RETURN count(a) AS n", "--format", "csv")
    assert count.stdout.splitlines() == ["n", "2"]


def test_schema_candidates_path_search_and_check(home):
    schema = run(home, "schema")
    assert (
        schema.exit_code == 0 and "GOVERNED_BY" in schema.stdout and "content_text" in schema.stdout
    )
    cands = run(home, "candidates", "--format", "csv")
    assert cands.exit_code == 0 and "loyal,A1,email" in cands.stdout
    path = run(home, "path", "loyal", "A1")
    assert path.exit_code == 0 and "compliance" in path.stdout and "versions of A1" in path.stdout
    search = run(home, "search", "tour", "--format", "json")
    assert [r["asset_id"] for r in json.loads(search.stdout)] == ["A2"]
    check = run(home, "check")  # the world has a dangling engagement row: a failed check
    assert check.exit_code == 1 and "dangling_responds_to=1" in check.stdout


def test_snapshots_list_and_restore_by_as_of_day(home):
    listed = run(home, "snapshots")
    assert listed.exit_code == 0 and "2026-11-20" in listed.stdout and "(current)" in listed.stdout
    restored = run(home, "restore", "2026-11-20")
    assert restored.exit_code == 0, restored.output
    assert read_manifest(home.graph)["as_of"] == "2026-11-20"
    assert len(list_snapshots(home.graph_snapshots)) == 2  # the replaced graph is kept
    missing = run(home, "restore", "1999-01-01")
    assert missing.exit_code == 2 and "no graph snapshot matches" in missing.output
