"""After the whole flow has run on a simulated market, no contact's raw email or phone is
anywhere the product writes: warehouse (every text column of every table and view), graph
(every node and relationship), Dagster's instance (event logs, asset metadata, compute logs),
outbox, ledger, reports and quarantine error files. Their keyed forms are there, so the check
is not vacuous."""

from __future__ import annotations

import re

from marketing_ops.graph.queries import GraphReader
from marketing_ops.signals.privacy import email_key, normalise_phone
from marketing_ops.simulator import load_ground_truth
from marketing_ops.warehouse import connect

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\+?\d[\d ()-]{6,}\d")


def _leaks(text: str, emails: set[str], phones: set[str]) -> list[str]:
    found = [e for e in _EMAIL.findall(text) if e.lower() in emails]
    found += [p for p in _DIGITS.findall(text) if normalise_phone(p) in phones]
    return found


def test_no_raw_email_or_phone_anywhere(flow_world) -> None:
    home = flow_world.home
    contacts = load_ground_truth(home).world.contacts
    emails = {c["email"].lower() for c in contacts}
    phones = {normalise_phone(c["phone"]) for c in contacts if c.get("phone")}
    assert len(emails) > 100 and len(phones) > 100

    leaks: dict[str, list[str]] = {}
    texts_seen = 0
    keys: set[str] = set()
    with connect(home.warehouse, read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', "
            "'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            values = con.execute(
                f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
            ).fetchall()  # identifiers from the catalog
            texts_seen += len(values)
            for (value,) in values:
                if bad := _leaks(value, emails, phones):
                    leaks[f"{schema}.{table}.{column}"] = bad[:3]
                if column == "contact_key":
                    keys.add(value)
    assert texts_seen > 1000
    # Keys are there, and they are the keyed emails (demo key, as the tests run in demo mode).
    from marketing_ops.signals.privacy import DEMO_PII_KEY

    assert keys & {email_key(DEMO_PII_KEY, e) for e in emails}

    with GraphReader(home.graph) as graph:
        for query in ("MATCH (n) RETURN n", "MATCH ()-[r]->() RETURN r"):
            text = graph.frame(query).to_string()
            if bad := _leaks(text, emails, phones):
                leaks[f"graph: {query}"] = bad[:3]

    scanned = 0
    for folder in (home.dagster_home, home.outbox, home.ledger, home.reports, home.quarantine):
        for path in folder.rglob("*"):
            if not path.is_file() or (
                folder == home.quarantine and not path.name.endswith(".json")
            ):
                continue  # quarantined files are kept as received, like the inbox and archive
            scanned += 1
            text = path.read_bytes().decode("utf-8", errors="replace")
            if bad := _leaks(text, emails, phones):
                leaks[str(path.relative_to(home.root))] = bad[:3]
    assert scanned > 3
    assert leaks == {}
