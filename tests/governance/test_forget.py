"""`marketing-ops forget --email`: after it, no record keyed to the person remains in the
warehouse (every table and view), the graph (and its snapshots), the archived source files or
the ledger payloads; everyone else's records are untouched; the erasure itself is on the
ledger (who asked, counts, a subject digest, no identifier), and the audit trail still
verifies."""

from __future__ import annotations

import gzip

from typer.testing import CliRunner
from worlds.decisions import inputs, record_day

from marketing_ops.cli import app
from marketing_ops.decisioning.batch.replay import frame_from_parquet, replay_batch
from marketing_ops.decisioning.ledger.decisions import (
    erasure_map,
    payload_path,
    read_entries,
    resolve_payload,
)
from marketing_ops.governance import audit
from marketing_ops.governance.erasure import find_identity, subject_digest
from marketing_ops.graph.build import list_snapshots
from marketing_ops.graph.engine import execute, open_database
from marketing_ops.graph.erasure import find_values
from marketing_ops.signals.privacy import DEMO_PII_KEY, email_key
from marketing_ops.simulator import load_ground_truth
from marketing_ops.warehouse import connect

runner = CliRunner()


def _text_columns(con) -> list[tuple[str, str, str]]:
    return con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_schema not in ('information_schema', "
        "'pg_catalog')"
    ).fetchall()


def _warehouse_hits(home, values: list[str]) -> dict[str, int]:
    """Rows of every table and view whose text columns hold one of ``values``."""
    hits = {}
    with connect(home.warehouse, read_only=True) as con:
        for schema, table, column in _text_columns(con):
            n = con.execute(
                f'select count(*) from "{schema}"."{table}" where "{column}" in (select unnest(?))',
                [values],
            ).fetchone()[0]  # identifiers from the catalog, values as a parameter
            if n:
                hits[f"{schema}.{table}.{column}"] = n
    return hits


def _file_text(path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace").lower()


def _pick_person(home):
    """The contact with the most keyed records (deals, email events, web visits)."""
    contacts = load_ground_truth(home).world.contacts
    keyed = {email_key(DEMO_PII_KEY, c["email"]): c for c in contacts}
    with connect(home.warehouse, read_only=True) as con:
        counts = con.execute(
            "select contact_key, count(*) from (select contact_key from raw.crm_deals "
            "union all select contact_key from raw.email_events) group by 1 order by 2 desc, 1"
        ).fetchall()
        web = dict(
            con.execute("select user_id, count(*) from raw.ga4_events group by 1").fetchall()
        )
    ranked = [(n + web.get(keyed[k]["contact_id"], 0), k) for k, n in counts if k in keyed]
    _, key = max(ranked)
    return keyed[key], key


def test_forget_erases_the_person_everywhere_and_records_it(world_copy) -> None:
    home = world_copy.home
    person, key = _pick_person(home)
    other = next(c for c in load_ground_truth(home).world.contacts if c is not person)
    other_key = email_key(DEMO_PII_KEY, other["email"])
    with connect(home.warehouse, read_only=True) as con:
        identity = find_identity(con, person["email"].strip().lower(), key)
    values = identity.values()
    # The person is really there, under several kinds of identifier, before the erasure.
    assert {"email", "crm_id", "device"} <= set(identity.ids), identity.ids
    before = _warehouse_hits(home, values)
    assert sum(before.values()) > 10 and any(k.startswith("marts.") for k in before), before
    other_before = _warehouse_hits(home, [other_key])
    assert other_before
    raw_email = person["email"].strip().lower()
    archive = sorted(p for p in home.archive.rglob("*") if p.is_file())
    assert any(raw_email in _file_text(p) for p in archive)

    # The graph keeps audiences, not people; a schema that did keep a person must not keep
    # them after `forget`, so the test adds one (a Contact node and an edge holding the key).
    with open_database(home.graph) as conn:
        execute(conn, "CREATE NODE TABLE Contact(contact_key STRING, PRIMARY KEY(contact_key))")
        execute(conn, "CREATE REL TABLE KNOWS(FROM Contact TO Contact, via STRING)")
        for k in (key, other_key):
            execute(conn, "CREATE (:Contact {contact_key: $k})", {"k": k})
        execute(
            conn,
            "MATCH (a:Contact {contact_key: $a}), (b:Contact {contact_key: $b}) "
            "CREATE (a)-[:KNOWS {via: $via}]->(b)",
            {"a": other_key, "b": other_key, "via": key},
        )
    assert find_values(home.graph, values) == {"Contact.contact_key": 1, "KNOWS.via": 1}

    # Ledger payloads that name the person: a batch decided from frames carrying their key.
    _, named = record_day(home, inputs({"contact_key": key}))
    _, plain = record_day(home, inputs(), world_copy.end)

    result = runner.invoke(
        app,
        [
            "forget", "--email", f"  {person['email'].strip().upper()} ", "--as", "Data Protection",
            "--reason", "request 42", "--yes", "--home", str(home.root),
        ],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    # Warehouse: no table or view holds any of their identifiers; the other person remains.
    assert _warehouse_hits(home, values) == {}
    assert _warehouse_hits(home, [other_key]) == other_before
    # Graph: nothing left, in the current graph or any snapshot; the other contact stays.
    for target in [home.graph, *list_snapshots(home.graph_snapshots)]:
        assert find_values(target, values) == {}, target
    assert find_values(home.graph, [other_key]) == {"Contact.contact_key": 1}
    # Archived files: no line with their address or identifiers.
    for path in (p for p in home.archive.rglob("*") if p.is_file()):
        text = _file_text(path)
        assert raw_email not in text, path
        assert identity.ids["crm_id"].isdisjoint(text.split(",")), path
    # Ledger payloads as they read today: none carries the key.
    entries = read_entries(home)
    replaced = erasure_map(entries)
    for entry in (e for e in entries if e["kind"] == "decision_batch"):
        for ref in entry["payloads"].values():
            path = payload_path(home, resolve_payload(ref, replaced))
            if path.suffix == ".parquet":
                frame = frame_from_parquet(path)
                assert not frame.astype(str).isin(values).any().any(), ref
            else:
                assert key not in path.read_text(), ref
    assert entries[-1]["kind"] == "erasure"
    erasure = entries[-1]
    assert named["payloads"]["inputs/kpis"] in erasure["payloads"]
    assert plain["payloads"]["inputs/kpis"] not in erasure["payloads"]
    # The erasure is recorded: who, why, where from, and who it was only as a digest.
    assert erasure["requested_by"] == "Data Protection" and erasure["reason"] == "request 42"
    assert erasure["subject"] == subject_digest(key)
    with connect(home.warehouse, read_only=True) as con:
        base = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_type = 'BASE TABLE'"
            ).fetchall()
        }
    held = {k.rsplit(".", 1)[0] for k in before} & base
    assert set(erasure["warehouse"]) == held
    assert all(n > 0 for n in erasure["warehouse"].values())
    assert erasure["graph"] == {"Contact.contact_key": 1, "KNOWS.via": 1}
    assert erasure["files"] and all(f["lines_removed"] > 0 for f in erasure["files"])
    ledger_text = (home.ledger / "decisions.jsonl").read_text().lower()
    assert key not in ledger_text and raw_email not in ledger_text
    assert all(v.lower() not in ledger_text for v in identity.ids["crm_id"])
    # The trail still verifies (redacted payloads and files are vouched for by the erasure),
    # and the batch whose inputs did not name the person still replays bit for bit.
    report = audit(home, files=True)
    assert report.ok, [p for c in report.checks for p in c.problems]
    assert replay_batch(home, plain["batch_id"]).identical
