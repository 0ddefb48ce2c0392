"""The same simulated market written in the tools' other export shapes loads to exactly the
same raw rows as the canonical files: every adapter variant, checked end to end."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from marketing_ops.config import data_home
from marketing_ops.signals import SOURCES, ingest_source
from marketing_ops.signals.store import RAW_TABLE_NAMES
from marketing_ops.simulator import WorldConfig, generate_history

DAYS = 6
KEY = b"variants-test-key"


def _load(root, variants: bool) -> tuple[dict, object, dict[str, int]]:
    """Raw rows per source after loading the simulated files; the home; rows written."""
    home = data_home(root).ensure()
    start = date.today() - timedelta(days=DAYS + 3)
    summary = generate_history(
        home,
        WorldConfig(seed=3, start=start, days=DAYS, contacts=80, export_variants=variants),
    )
    tables = {}
    with duckdb.connect(str(home.warehouse)) as con:
        for source in SOURCES:
            report = ingest_source(home, con, source, start, start + timedelta(days=DAYS), KEY)
            assert report.rejected == 0 and report.to_metadata()["quarantined"] == 0, (
                source,
                report.files,
            )
            tables[source] = sorted(
                con.execute(
                    f"select * exclude (_file_hash, _file_name, _line, _loaded_at) "
                    f"from {RAW_TABLE_NAMES[source]}"
                ).fetchall(),
                key=repr,
            )
    return tables, home, summary.rows


def test_variant_exports_load_to_the_same_rows(tmp_path) -> None:
    plain, _, written = _load(tmp_path / "plain", variants=False)
    varied, home, _ = _load(tmp_path / "variants", variants=True)

    names = {p.name for p in home.archive.rglob("*")}
    shapes = {
        "ga4 gzipped": any(n.endswith(".jsonl.gz") for n in names),
        "meta API page": any(n.endswith(".json") for n in names),
    }
    assert all(shapes.values()), shapes
    google = [p.read_bytes() for p in (home.archive / "google_ads").iterdir()]
    assert any(b.startswith(b"\xff\xfe") for b in google)  # the UTF-16 Excel download
    assert any(b.startswith(b"segments.date") for b in google)  # the API report
    for source in SOURCES:
        assert varied[source] == plain[source], source
        # rows loaded exactly where the simulator wrote some (crm_contacts only on days
        # with new contacts)
        assert bool(plain[source]) == bool(written.get(source)), (source, written)
