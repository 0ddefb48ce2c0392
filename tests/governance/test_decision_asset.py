"""The decision asset records every batch on the ledger from inside its step: on a loaded
world, materialising `decisions/decision_batch` appends an entry (replayed bit for bit when
recorded, with code version and the source files it rests on) and shows it in the asset's
metadata; `explain DECISION_ID --lineage` walks back to the archived files and their content
hashes, and says so when one of them was altered."""

from __future__ import annotations

import json
from datetime import timedelta

import dagster as dg
from typer.testing import CliRunner
from worlds.decisions import inputs

from marketing_ops.cli import app
from marketing_ops.decisioning import export_batch, list_batches, load_batch
from marketing_ops.decisioning.batch.replay import replay_batch
from marketing_ops.decisioning.ledger.decisions import batch_entries, read_entries
from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.decisions.assets import decision_batch
from marketing_ops.warehouse import connect, replace_partition

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def _upstream_for(home, day) -> None:
    """What the forecast stage would have written as of ``day``: curves and seasonal index."""
    frames = inputs()
    shift = day - frames.curve_rows["as_of"].iloc[0]
    curves = frames.curve_rows.assign(as_of=day)
    forecasts = frames.forecasts.assign(
        as_of=day, date_day=[d + timedelta(days=shift.days) for d in frames.forecasts["date_day"]]
    )
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.response_curves", curves, day)
        replace_partition(con, "agent.forecasts", forecasts, day)


def _decide(home, day) -> dg.ExecuteInProcessResult:
    """Materialise the decision asset alone for ``day``."""
    deps = [dg.AssetSpec(k) for k in decision_batch.dependency_keys]
    result = dg.materialize(
        [*deps, decision_batch],
        partition_key=day.isoformat(),
        resources={"store": StoreResource(home_root=str(home.root))},
        selection=[decision_batch],
    )
    assert result.success
    return result


def test_asset_records_the_batch_and_explain_walks_to_the_files(world_copy) -> None:
    home, day = world_copy.home, world_copy.end
    _upstream_for(home, day)
    result = _decide(home, day)
    (mat,) = result.asset_materializations_for_node("decisions__decision_batch")
    meta = mat.metadata
    (entry,) = batch_entries(read_entries(home))
    assert meta["batch_id"].value == entry["batch_id"]
    assert meta["ledger_entry"].value == entry["seq"] == 1
    assert meta["ledger_hash"].value == entry["hash"]
    assert meta["replay_verified"].value is True and entry["replay_verified"] is True
    assert entry["code_version"]["source_sha256"] and entry["dagster_run_id"] == result.run_id
    with connect(home.warehouse, read_only=True) as con:
        loaded = con.execute(
            "select count(*) from raw.file_log where status = 'loaded' and partition_date <= ?",
            [day],
        ).fetchone()[0]
        stored = con.execute(
            "select count(*) from agent.decisions where batch_id = ?", [entry["batch_id"]]
        ).fetchone()[0]
    assert entry["source_files"]["count"] == loaded > 50
    assert stored == entry["actions"] > 0
    assert "ga4" in meta["lineage"].value and "crm_deals" in meta["lineage"].value
    assert replay_batch(home, entry["batch_id"]).identical

    decision = entry["decision_ids"][0]
    out = runner.invoke(app, ["explain", decision, "--lineage", "--home", str(home.root)], env=WIDE)
    assert out.exit_code == 0, out.output
    assert "hash chain verified" in out.output and "Lineage intact" in out.output
    assert "file log reproduces the recorded manifest" in out.output
    assert f"Source files: {loaded} current when decided" in out.output
    assert "Code: package" in out.output and "policy version" in out.output
    audit = runner.invoke(app, ["audit", "verify", "--files", "--home", str(home.root)], env=WIDE)
    assert audit.exit_code == 0, audit.output

    archived = sorted((home.archive / "crm_deals").rglob("*__*"))[0]
    archived.write_bytes(archived.read_bytes() + b"\nD999,tampered\n")
    out = runner.invoke(app, ["explain", decision, "--lineage", "--home", str(home.root)], env=WIDE)
    assert out.exit_code == 1
    assert "altered" in out.output and "Lineage does NOT check out" in out.output
    audit = runner.invoke(app, ["audit", "verify", "--files", "--home", str(home.root)], env=WIDE)
    assert audit.exit_code == 1 and archived.name in audit.output.replace("\n", "")


def test_deciding_a_day_again_keeps_the_earlier_batch(world_copy) -> None:
    """Two materialisations of one day: two ledger entries and two batches in agent.decisions;
    the earlier one's open actions are superseded (naming the later batch), both load and
    export, and the asset's metadata lists both."""
    home, day = world_copy.home, world_copy.end
    _upstream_for(home, day)
    metas = []
    for _ in range(2):
        result = _decide(home, day)
        (mat,) = result.asset_materializations_for_node("decisions__decision_batch")
        metas.append(mat.metadata)
    first, second = (m["batch_id"].value for m in metas)
    assert first != second
    assert [e["batch_id"] for e in batch_entries(read_entries(home))] == [first, second]
    with connect(home.warehouse, read_only=True) as con:
        listed = list_batches(con, day)
        earlier, latest = load_batch(con, first), load_batch(con, second)
    assert list(listed["batch_id"]) == [first, second]
    assert list(listed["current"]) == [False, True]
    assert set(earlier["status"]) <= {"superseded", "blocked", "rejected"}
    assert "superseded" in set(earlier["status"])
    assert "superseded" not in set(latest["status"])
    for rationale in earlier.loc[earlier["status"] == "superseded", "rationale"]:
        assert second in json.loads(rationale)["autonomy"]["status_reason"]
    assert {r["batch_id"] for r in json.loads(export_batch(earlier, "json"))} == {first}
    assert first in metas[1]["batches_today"].value and second in metas[1]["batches_today"].value


def test_latest_batch_links_the_earlier_ones(world_copy) -> None:
    """Deciding two days in a row: the second batch's metadata lists the first, with a link
    to the run that decided it, and does not list itself."""
    home, day = world_copy.home, world_copy.end
    instance = dg.DagsterInstance.ephemeral()
    deps = [dg.AssetSpec(k) for k in decision_batch.dependency_keys]
    made = []
    for as_of in (day - timedelta(days=1), day):
        _upstream_for(home, as_of)
        result = dg.materialize(
            [*deps, decision_batch],
            partition_key=as_of.isoformat(),
            resources={"store": StoreResource(home_root=str(home.root))},
            selection=[decision_batch],
            instance=instance,
        )
        assert result.success
        (mat,) = result.asset_materializations_for_node("decisions__decision_batch")
        made.append((mat.metadata["batch_id"].value, result.run_id, mat.metadata))
    (first, first_run, _), (latest, _, meta) = made
    earlier = meta["earlier_batches"].value
    assert f"| `{first}` | {day - timedelta(days=1)} |" in earlier
    assert f"(/runs/{first_run})" in earlier
    assert f"`{latest}`" not in earlier and meta["batch_id"].value == latest
    assert meta["earlier_batch_count"].value >= 1
