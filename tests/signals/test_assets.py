"""The `raw/<source>` asset: per-file counts in its materialisation metadata."""

from __future__ import annotations

import dagster as dg
from signal_samples import DAY, GOOGLE_HEADER, drop, google_csv

from marketing_ops.config import DataHome
from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.signals.assets import build_source_asset


def test_materialisation_lists_every_file_with_reconciling_counts(home: DataHome) -> None:
    """One materialisation of a day: a file, a re-export of the same campaigns plus one
    (with a bad row) that replaces all its rows, and a quarantined file each appear in
    `files_detail` with received = loaded + rejected and their status; the totals add up,
    the replaced rows are counted, the quarantine is a warning; no raw email reaches the
    metadata."""
    d = DAY.isoformat()
    drop(home, "google_ads", f"google_ads_{d}.csv", google_csv(DAY, 2))
    drop(
        home,
        "google_ads",
        f"google_ads_{d}_fix.csv",
        google_csv(DAY, 3) + f"{d},1,ana@example.com,1,5,1,0,0,EUR\n",
    )
    drop(home, "google_ads", f"google_ads_{d}_bad.csv", "Day,Cost\n" + f"{d},1\n")

    result = dg.materialize(
        [build_source_asset("google_ads")],
        partition_key=d,
        resources={"store": StoreResource(home_root=str(home.root))},
    )

    (materialization,) = result.asset_materializations_for_node("raw__google_ads")
    meta = materialization.metadata
    rows = {r.data["file"]: r.data for r in meta["files_detail"].value.records}
    assert rows[f"google_ads_{d}_fix.csv"]["status"] == "loaded"
    assert rows[f"google_ads_{d}.csv"]["status"] == "superseded"
    assert rows[f"google_ads_{d}_bad.csv"]["status"] == "quarantined"
    assert "required column missing: campaign_id" in rows[f"google_ads_{d}_bad.csv"]["reason"]
    for row in rows.values():
        assert row["received"] == row["loaded"] + row["rejected"]
    assert (
        rows[f"google_ads_{d}_fix.csv"]["loaded"],
        rows[f"google_ads_{d}_fix.csv"]["rejected"],
    ) == (3, 1)
    assert meta["received"].value == meta["loaded"].value + meta["rejected"].value == 6
    assert meta["replaced_rows"].value == 2
    assert "google_ads_" + d + "_bad.csv" in meta["warnings"].value
    assert "ana@example.com" not in str(meta) and GOOGLE_HEADER not in str(meta)
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "file_log_reconciles" and check.passed


def test_a_long_range_lists_the_files_needing_attention_first() -> None:
    """A ranged run's metadata is copied onto each of its days: over two years it lists a
    handful of files, those quarantined or with rejected rows first; one day lists all."""
    from datetime import timedelta

    from marketing_ops.defs.signals.assets import files_for_metadata
    from marketing_ops.signals import FileOutcome, IngestReport

    def outcome(i: int, status: str = "loaded", rejected: int = 0) -> FileOutcome:
        return FileOutcome(f"f{i}.csv", f"h{i}", DAY + timedelta(days=i), 3, 3 - rejected,
                           rejected, status)  # fmt: skip

    files = [outcome(i) for i in range(800)]
    files[400] = outcome(400, "quarantined")
    files[700] = outcome(700, rejected=1)
    report = IngestReport("google_ads", DAY, DAY + timedelta(days=799), files)
    listed = files_for_metadata(report, days=730)
    assert [f.file_name for f in listed[:2]] == ["f400.csv", "f700.csv"]
    assert 2 < len(listed) <= 10
    assert len(files_for_metadata(report, days=1)) == 800
