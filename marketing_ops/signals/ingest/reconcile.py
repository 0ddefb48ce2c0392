"""Rebuilding days whose file log does not reconcile, from the archive.

A data home loaded before rows had an identity (issue 15) marked a whole earlier file
``superseded`` when a later file of the same day arrived: its rows were deleted, and neither
the rows nor which file replaced them were recorded, so ``file_log_reconciles`` fails there
for ever. :func:`reconcile_from_archive` puts such files back among the day's loaded files and
loads those days again from the archived bytes (:func:`ingest_source` re-parses every loaded
file of a window): rows with keys no later file carries come back, the others are recorded
in ``raw.replaced_rows`` against the file that replaced them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from marketing_ops.config import DataHome
from marketing_ops.signals.ingest.load import IngestReport, ingest_source
from marketing_ops.signals.store import (
    FILE_LOG_TABLE,
    ensure_raw_schema,
    file_log_discrepancies,
    unreconciled_files,
)

__all__ = ["ReconcileReport", "reconcile_from_archive"]


@dataclass
class ReconcileReport:
    """What a reconcile did for one source: the days loaded again, the files put back among
    the loaded ones, the files whose archive copy is gone, and what still does not reconcile."""

    source: str
    days: list[date] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    missing_archive: list[str] = field(default_factory=list)
    runs: list[IngestReport] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)


def reconcile_from_archive(
    home: DataHome,
    con: duckdb.DuckDBPyConnection,
    source: str,
    pii_key: bytes,
    *,
    today: date | None = None,
) -> ReconcileReport:
    """Load again, from the archive, every day holding a file whose log does not reconcile."""
    ensure_raw_schema(con)
    report = ReconcileReport(source)
    days: set[date] = set()
    for file_hash, name, status, day, archived in _unreconciled(con, source):
        if day is None:
            continue
        if not archived or not Path(archived).is_file():
            report.missing_archive.append(name)
            continue
        days.add(day)
        if status == "superseded":
            con.execute(
                f"UPDATE {FILE_LOG_TABLE} SET status = 'loaded' "
                "WHERE source = ? AND file_hash = ? AND status = 'superseded'",
                [source, file_hash],
            )
            report.restored.append(name)
    report.days = sorted(days)
    for start, end in _runs_of_days(report.days):
        report.runs.append(ingest_source(home, con, source, start, end, pii_key, today=today))
    report.remaining = file_log_discrepancies(con, source)
    return report


def _unreconciled(
    con: duckdb.DuckDBPyConnection, source: str
) -> list[tuple[str, str, str, date | None, str | None]]:
    archived = dict(
        con.execute(
            f"SELECT file_hash, archived_path FROM {FILE_LOG_TABLE} "
            "WHERE source = ? AND status IN ('loaded', 'superseded')",
            [source],
        ).fetchall()
    )
    return [(h, n, s, d, archived.get(h)) for h, n, s, d in unreconciled_files(con, source)]


def _runs_of_days(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days as (start, end) windows: one load per run of days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
