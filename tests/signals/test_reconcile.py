"""A home loaded under the old rules (a later file superseded a whole earlier file of its
day, with no replaced rows recorded) fails `file_log_reconciles`; the message names the
command, and `marketing-ops signals reconcile` rebuilds the day from the archive."""

from __future__ import annotations

import duckdb
import pytest
from signal_samples import DAY, GOOGLE_HEADER, PII_KEY, drop
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.config import DataHome
from marketing_ops.signals import file_log_discrepancies, ingest_source, reconcile_from_archive

D = DAY.isoformat()
FIRST, SECOND = f"google_ads_{D}.csv", f"google_ads_{D}_v2.csv"


def _csv(campaigns: list[int], cost: float) -> str:
    rows = [f"{D},{c},SEARCH | c{c},1000,50,{cost},2,40.0,EUR" for c in campaigns]
    return "\n".join([GOOGLE_HEADER, *rows]) + "\n"


def _old_rules_home(home: DataHome, con: duckdb.DuckDBPyConnection) -> None:
    """Campaigns 1-3, then a file with 2 and 4; then undo row identity the way the old
    rules left it: the first file's rows gone, the file `superseded`, nothing recorded."""
    drop(home, "google_ads", FIRST, _csv([1, 2, 3], 10.0))
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    drop(home, "google_ads", SECOND, _csv([2, 4], 99.0))
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    con.execute("delete from raw.google_ads where _file_name = ?", [FIRST])
    con.execute("delete from raw.replaced_rows")
    con.execute("update raw.file_log set status = 'superseded', replaced = 0")
    con.execute("update raw.file_log set status = 'loaded' where file_name = ?", [SECOND])


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select campaign_id, spend, _file_name from raw.google_ads order by 1"
    ).fetchall()


def test_reconcile_rebuilds_an_old_rules_day_from_the_archive(home: DataHome, con) -> None:
    _old_rules_home(home, con)
    problems = file_log_discrepancies(con, "google_ads")
    assert problems[0].startswith(f"{FIRST}: received 3, loaded 3, rejected 0; 0 rows present")
    assert problems[-1].endswith("marketing-ops signals reconcile --source google_ads")

    done = reconcile_from_archive(home, con, "google_ads", PII_KEY)

    assert (done.days, done.restored, done.remaining) == ([DAY], [FIRST], [])
    assert _rows(con) == [
        ("1", 10.0, FIRST),  # lost under the old rules, back
        ("2", 99.0, SECOND),
        ("3", 10.0, FIRST),
        ("4", 99.0, SECOND),
    ]
    replaced = con.execute("select file_name, line, by_file_name from raw.replaced_rows")
    assert replaced.fetchall() == [(FIRST, 3, SECOND)]
    again = reconcile_from_archive(home, con, "google_ads", PII_KEY)
    assert (again.days, again.restored) == ([], [])  # nothing left to do


def test_reconcile_command(home: DataHome, monkeypatch: pytest.MonkeyPatch) -> None:
    with duckdb.connect(str(home.warehouse)) as con:
        _old_rules_home(home, con)
    monkeypatch.setenv("MARKETING_OPS_DEMO", "1")
    args = ["signals", "reconcile", "--source", "google_ads", "--home", str(home.root)]

    result = CliRunner().invoke(app, args, terminal_width=200)

    assert result.exit_code == 0, result.output
    assert "reconciles" in result.output and D in result.output
    with duckdb.connect(str(home.warehouse)) as con:
        assert file_log_discrepancies(con, "google_ads") == []
        assert len(_rows(con)) == 4
