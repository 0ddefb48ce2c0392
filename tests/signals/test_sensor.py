"""The inbox sensor: files dropped in the inbox become requests for the partitions inside them,
once, with run keys from their content; bad files do not stop a tick."""

from __future__ import annotations

import json
from datetime import date, timedelta

import dagster as dg
import duckdb
import pytest
from signal_samples import DAY, PII_KEY, drop, google_csv

from marketing_ops.config import DataHome
from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.signals.sensors import inbox_sensor
from marketing_ops.signals import InboxFile, ingest_source, plan_loads

FIRST, LAST = date(2024, 1, 1), DAY + timedelta(days=5)
META_HEADER = (
    "date_start,date_stop,account_id,campaign_id,campaign_name,adset_id,ad_id,impressions,"
    "clicks,spend,account_currency,actions,action_values"
)


def _file(source: str, name: str, content: str, day: date | None, *days: date) -> InboxFile:
    return InboxFile(source, name, 1, 1, f"hash-{content}", day, tuple(days), True)


def test_plan_merges_adjacent_days_and_keeps_late_days_apart() -> None:
    """Adjacent and overlapping days become one ranged request; a late day far back is its
    own request; run keys depend on the files' contents only."""
    d = DAY
    files = [
        _file("google_ads", "a.csv", "a", d, d),
        _file("meta_ads", "b.csv", "b", d + timedelta(days=1), d + timedelta(days=1)),
        _file("ga4", "c.jsonl", "c", d - timedelta(days=1), d - timedelta(days=1), d),
        _file("google_ads", "late.csv", "late", d - timedelta(days=40), d - timedelta(days=40)),
    ]
    plan = plan_loads(files, FIRST, LAST)
    spans = [(r.start, r.end, r.sources) for r in plan.requests]
    assert spans == [
        (d - timedelta(days=40), d - timedelta(days=40), ("google_ads",)),
        (d - timedelta(days=1), d + timedelta(days=1), ("ga4", "google_ads", "meta_ads")),
    ]
    again = plan_loads(list(reversed(files)), FIRST, LAST)
    assert [r.run_key for r in again.requests] == [r.run_key for r in plan.requests]
    changed = plan_loads([*files[:3], _file("google_ads", "late.csv", "other", d, d)], FIRST, LAST)
    assert {r.run_key for r in changed.requests}.isdisjoint(r.run_key for r in plan.requests)


@pytest.mark.parametrize(
    ("inbox_file", "expected"),
    [
        (InboxFile("ga4", "x", 1, 1, "h", None, (), False), "last"),  # unreadable, undated
        (InboxFile("ga4", "x", 1, 1, "h", DAY, (), False), "day"),  # unreadable, dated name
        (InboxFile("ga4", "x", 1, 1, "h", None, (), True), "last"),  # every row rejected
        (InboxFile("ga4", "x", 1, 1, "h", date(2019, 5, 1), (date(2019, 5, 1),), True), "wait"),
    ],
)
def test_plan_places_bad_and_undated_files(inbox_file: InboxFile, expected: str) -> None:
    """A file with no day is taken by the last partition's run (which quarantines or logs it);
    one filed under a day without a partition waits, with the reason."""
    plan = plan_loads([inbox_file], FIRST, LAST)
    if expected == "wait":
        assert plan.requests == [] and "outside the partitions" in plan.waiting[0][1]
        return
    day = LAST if expected == "last" else DAY
    assert [(r.start, r.end) for r in plan.requests] == [(day, day)]


def _tick(home: DataHome, cursor: str | None, defs: dg.Definitions):
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"store": StoreResource(home_root=str(home.root))},
        definitions=defs,
    )
    return inbox_sensor(context)


def test_sensor_requests_each_partition_once_and_survives_bad_files(
    home: DataHome, definitions: dg.Definitions
) -> None:
    """Hundreds of daily files become one ranged run; a second tick asks for nothing; a late
    file for an old day then asks for that day alone; a binary file and an unreadable undated
    file are requested (their runs quarantine them) without breaking the tick; each request
    selects the sources' raw assets and the warehouse models downstream. Loading exactly the
    requested windows empties the inbox."""
    start = DAY - timedelta(days=249)
    for i in range(250):
        day = start + timedelta(days=i)
        drop(home, "google_ads", f"google_ads_{day}.csv", google_csv(day, 1))
    drop(home, "meta_ads", f"meta_ads_{DAY}.csv", META_HEADER + "\n")  # header only: no rows
    drop(home, "ga4", f"ga4_{DAY}.jsonl", bytes(range(256)) * 4)  # binary junk
    drop(home, "crm_deals", "export.csv", "no,header,here\n1,2,3\n")  # unreadable, undated

    first = _tick(home, None, definitions)
    assert [_window(r) for r in first.run_requests] == [
        (start, DAY),  # 250 daily files, the header-only file and the binary one: one run
        (LAST_PARTITION(), LAST_PARTITION()),  # the undated unreadable file: any run takes it
    ]
    daily_run, undated_run = first.run_requests
    selected = {k.to_user_string() for k in daily_run.asset_selection}
    assert {"raw/google_ads", "raw/meta_ads", "raw/ga4", "marts/fct_ad_spend_daily"} <= selected
    assert "raw/crm_deals" not in selected and "decisions/decision_batch" not in selected
    assert "raw/crm_deals" in {k.to_user_string() for k in undated_run.asset_selection}

    second = _tick(home, first.cursor, definitions)
    assert second.run_requests == [] or second.run_requests is None

    late = DAY - timedelta(days=400)
    drop(home, "google_ads", f"google_ads_{late}_late.csv", google_csv(late, 2))
    third = _tick(home, second.cursor, definitions)
    assert [(r.partition_key, r.tags.get("dagster/asset_partition_range_start")) for r in
            third.run_requests] == [(late.isoformat(), None)]  # fmt: skip
    assert json.loads(third.cursor)["requested"] == sorted(
        r.run_key for r in [*first.run_requests, *third.run_requests]
    )

    # The plan covers every file: loading the requested windows leaves the inbox empty.
    with duckdb.connect(str(home.warehouse)) as con:
        for request in [*first.run_requests, *third.run_requests]:
            lo, hi = _window(request)
            for key in request.asset_selection:
                if key.path[0] == "raw":
                    ingest_source(home, con, key.path[1], lo, hi, PII_KEY)
        statuses = dict(con.execute("select file_name, status from raw.file_log").fetchall())
    assert not [p for p in home.inbox.rglob("*") if p.is_file()]
    assert statuses[f"ga4_{DAY}.jsonl"] == "quarantined"
    assert statuses["export.csv"] == "quarantined"
    assert statuses[f"meta_ads_{DAY}.csv"] == "loaded"
    assert len(statuses) == 254


def _window(request: dg.RunRequest) -> tuple[date, date]:
    if request.partition_key:
        day = date.fromisoformat(request.partition_key)
        return day, day
    return (
        date.fromisoformat(request.tags["dagster/asset_partition_range_start"]),
        date.fromisoformat(request.tags["dagster/asset_partition_range_end"]),
    )


def LAST_PARTITION() -> date:  # noqa: N802 - reads like the constant it stands for
    from marketing_ops.defs._shared import daily

    return daily.time_window_for_partition_key(daily.get_last_partition_key()).start.date()


def test_sensor_refuses_a_home_that_fails_the_doctor(
    home: DataHome, definitions: dg.Definitions, monkeypatch
) -> None:
    """Without the PII key the sensor asks for no run (each would fail on its first file) and
    says why in the doctor's one line; with the key back it requests the day."""
    drop(home, "google_ads", f"google_ads_{DAY}.csv", google_csv(DAY, 1))
    monkeypatch.delenv("MARKETING_OPS_DEMO", raising=False)
    monkeypatch.delenv("MARKETING_OPS_PII_KEY", raising=False)
    refused = _tick(home, None, definitions)
    assert not refused.run_requests
    assert "home fails the doctor: PII key: MARKETING_OPS_PII_KEY is not set" in str(
        refused.skip_reason
    )
    monkeypatch.setenv("MARKETING_OPS_PII_KEY", "a-secret")
    assert [_window(r) for r in _tick(home, None, definitions).run_requests] == [(DAY, DAY)]
