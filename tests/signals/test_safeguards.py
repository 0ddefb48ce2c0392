"""The issue's scenarios one by one: a dozen files for one day, a file still being written,
a gzip bomb, a poison file beside good files of another day, and a scan of a hostile inbox."""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from datetime import timedelta

from signal_samples import DAY, GOOGLE_HEADER, PII_KEY, PREV, drop

from marketing_ops.config import DataHome
from marketing_ops.signals import (
    IngestLimits,
    file_log_discrepancies,
    ingest_source,
    plan_loads,
    scan_inbox,
)

D = DAY.isoformat()


def _rows(day, first: int, n: int, cost: float = 10.0) -> list[str]:
    return [f"{day},{c},SEARCH | c{c},1000,50,{cost},2,40.0,EUR" for c in range(first, first + n)]


def _csv(rows: list[str]) -> str:
    return "\n".join([GOOGLE_HEADER, *rows]) + "\n"


def test_a_dozen_files_for_one_day_all_load(home: DataHome, con) -> None:
    """Twelve exports of one day, two different campaigns each, dropped together: all 24
    rows are in raw.google_ads and every file stays loaded (the issue found 1 row of 24)."""
    for i in range(12):
        drop(home, "google_ads", f"google_ads_{D}_{i:02d}.csv", _csv(_rows(DAY, 100 + 2 * i, 2)))

    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)

    assert con.execute("select count(*) from raw.google_ads").fetchone() == (24,)
    statuses = con.execute("select status, count(*) from raw.file_log group by 1").fetchall()
    assert statuses == [("loaded", 12)]
    assert file_log_discrepancies(con, "google_ads") == []


def test_a_re_export_replaces_exactly_its_keys_and_says_which(home: DataHome, con) -> None:
    """A file with campaigns 1-3, then a re-export with campaign 2 corrected and a new 4:
    1 and 3 stay from the first file, 2 and 4 come from the second; the replaced row is
    recorded against the file that replaced it; re-running the day changes nothing."""
    drop(home, "google_ads", f"google_ads_{D}.csv", _csv(_rows(DAY, 1, 3)))
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    drop(
        home,
        "google_ads",
        f"google_ads_{D}_v2.csv",
        _csv(_rows(DAY, 2, 1, 99.0) + _rows(DAY, 4, 1)),
    )
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)

    rows = con.execute(
        "select campaign_id, spend, _file_name from raw.google_ads order by 1"
    ).fetchall()
    first, second = f"google_ads_{D}.csv", f"google_ads_{D}_v2.csv"
    assert rows == [
        ("1", 10.0, first),
        ("2", 99.0, second),
        ("3", 10.0, first),
        ("4", 10.0, second),
    ]
    replaced = con.execute("select file_name, line, by_file_name from raw.replaced_rows").fetchall()
    assert replaced == [(first, 3, second)]
    log = dict(con.execute("select file_name, replaced from raw.file_log").fetchall())
    assert log == {first: 0, second: 1}
    assert file_log_discrepancies(con, "google_ads") == []


def test_a_file_still_being_written_waits_then_loads_whole(home: DataHome, con) -> None:
    """18 of 60 rows written just now: the run leaves the file in the inbox (reported as
    waiting, nothing logged or archived). Once complete and quiet it loads all 60 rows, and
    the archive holds exactly the bytes whose hash the file log records."""
    limits = IngestLimits(settle_seconds=300)
    path = home.source_inbox("google_ads") / f"google_ads_{D}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = _rows(DAY, 1, 60)
    path.write_text(_csv(rows[:18]))  # mtime: now

    first = ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY, limits=limits)

    assert [(f.file_name, f.status) for f in first.files] == [(path.name, "waiting")]
    assert "still being written" in first.warnings[0]
    assert path.exists() and not (home.archive / "google_ads").exists()
    assert con.execute("select count(*) from raw.file_log").fetchone() == (0,)

    with path.open("a") as out:
        out.write("\n".join(rows[18:]) + "\n")
    quiet = time.time() - 600
    os.utime(path, (quiet, quiet))
    content = path.read_bytes()

    ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY, limits=limits)

    assert con.execute("select count(*) from raw.google_ads").fetchone() == (60,)
    file_hash, archived = con.execute(
        "select file_hash, archived_path from raw.file_log"
    ).fetchone()
    assert hashlib.sha256(content).hexdigest() == file_hash
    assert open(archived, "rb").read() == content and not path.exists()


def test_a_gzip_bomb_is_quarantined_without_inflating_it_whole(home: DataHome, con) -> None:
    """A small gzip that inflates to ~200 MB, over a 32 MB limit: quarantined with the limit
    in its reason (the reading stops at the limit); the file beside it loads."""
    line = f"{D},9000000101,SEARCH | brand,1000,50,1.0,0,0,EUR\n".encode()
    bomb = gzip.compress(GOOGLE_HEADER.encode() + b"\n" + line * (200_000_000 // len(line)), 9)
    assert len(bomb) < 2_000_000
    drop(home, "google_ads", f"google_ads_{D}_bomb.csv.gz", bomb)
    drop(home, "google_ads", f"google_ads_{D}.csv", _csv(_rows(DAY, 1, 2)))

    report = ingest_source(
        home, con, "google_ads", DAY, DAY, PII_KEY, limits=IngestLimits(max_file_bytes=32 << 20)
    )

    outcome = {f.file_name: (f.status, f.reason) for f in report.files}
    status, reason = outcome[f"google_ads_{D}_bomb.csv.gz"]
    assert status == "quarantined" and "larger than the limit of 33554432 bytes" in reason
    assert outcome[f"google_ads_{D}.csv"][0] == "loaded"
    assert con.execute("select count(*) from raw.google_ads").fetchone() == (2,)


def test_a_poison_file_never_blocks_good_files_or_other_days(home: DataHome, con) -> None:
    """A 2 MB cell (over the 1 MiB default) and a 231-character name for one day, good files
    for that day and the day before: one run over both days loads both days' good files and
    quarantines the two poisons; a later run for another day succeeds too."""
    long_name = f"google_ads_{D}_" + "n" * 205 + ".csv"  # 231 characters
    huge = _csv(_rows(DAY, 50, 1) + [f"{D},51,{'x' * (2 << 20)},1,1,1.0,0,0,EUR"])
    drop(home, "google_ads", f"google_ads_{D}_huge.csv", huge)
    drop(home, "google_ads", long_name, _csv(_rows(DAY, 60, 1)))
    drop(home, "google_ads", f"google_ads_{D}.csv", _csv(_rows(DAY, 1, 2)))
    drop(home, "google_ads", f"google_ads_{PREV}.csv", _csv(_rows(PREV, 1, 3)))

    report = ingest_source(home, con, "google_ads", PREV, DAY, PII_KEY)

    days = dict(con.execute("select date_day, count(*) from raw.google_ads group by 1").fetchall())
    assert days == {PREV: 3, DAY: 2}
    reasons = {f.file_name: f.reason for f in report.files if f.status == "quarantined"}
    assert "field larger than the limit of 1048576" in reasons[f"google_ads_{D}_huge.csv"]
    assert "file name longer than 150 bytes" in reasons[long_name]
    (error_file,) = (home.quarantine / "google_ads").glob("*nnn.csv.error.json")
    assert long_name in error_file.read_text() and len(error_file.name) < 100

    earlier = DAY - timedelta(days=5)
    drop(home, "google_ads", f"google_ads_{earlier}.csv", _csv(_rows(earlier, 1, 1)))
    ingest_source(home, con, "google_ads", earlier, earlier, PII_KEY)
    assert con.execute("select count(*) from raw.google_ads").fetchone() == (6,)


def test_scanning_a_hostile_inbox_never_fails(home: DataHome) -> None:
    """`signals inbox` and the sensor read the inbox through scan_inbox: poison files come
    back unreadable, a dangling symlink and temporary names are skipped, an unknown folder's
    file is planned as waiting with the reason."""
    drop(
        home,
        "google_ads",
        f"google_ads_{D}_huge.csv",
        _csv([f"{D},1,{'x' * (2 << 20)},1,1,1,0,0,EUR"]),
    )
    drop(home, "google_ads", f"google_ads_{D}.csv.part", "half")
    drop(home, "tiktok", f"tiktok_{D}.csv", _csv(_rows(DAY, 1, 1)))
    (home.source_inbox("google_ads") / "gone.csv").symlink_to(home.root / "nowhere.csv")

    files, complete = scan_inbox(home)

    assert complete
    found = {f.key: f.readable for f in files}
    assert found == {f"google_ads/google_ads_{D}_huge.csv": False, f"tiktok/tiktok_{D}.csv": False}
    plan = plan_loads(files, DAY - timedelta(days=30), DAY)
    assert "unknown source folder 'tiktok'" in dict(plan.waiting)[f"tiktok/tiktok_{D}.csv"]
    assert [r.sources for r in plan.requests] == [("google_ads",)]
