"""Incremental per day: a re-run of a window changes nothing, and building day by day gives
the same marts as one full build."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from .world import (
    DAY1,
    DAY2,
    DAY3,
    DAYS,
    K1,
    RAW_ROWS,
    SEARCH,
    _ga4,
    _ts,
    dbt_build,
    dbt_run,
    load_raw,
    snapshot,
)

# A purchase's hits on later days (a reloaded confirmation page, in a new direct session
# without login): T1 of day 1 again on day 2, T2 of day 2 again on day 3.
REPEATED_PURCHASE_HITS = [
    ("ga4_events", DAY2, _ga4(DAY2, 9, 0, "purchase", "u1", None, 12, None, None, None, None, 100.0, "T1")),
    ("ga4_events", DAY3, _ga4(DAY3, 8, 0, "purchase", "u2", None, 22, None, None, None, None, 50.0, "T2")),
]  # fmt: skip


# DEAL1, reported closed won on day 2, is re-delivered on day 3 closed again that day (a deal
# reopened and closed later): the latest row wins, so it is a conversion of day 3.
RECLOSED_DEAL = [
    ("crm_deals", DAY3, ("DEAL1", K1, _ts(DAY1, 11), "closedwon", 1000.0, "EUR", _ts(DAY3, 15), "google", "cpc", SEARCH, None, "G1")),
]  # fmt: skip


def _assert_same_marts(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for table in left:
        pd.testing.assert_frame_equal(
            left[table].reset_index(drop=True), right[table].reset_index(drop=True), obj=table
        )


def _full_and_day_by_day(
    tmp_path: Path, rows, after_day: Callable[[date, Path], None] | None = None
) -> tuple[Path, Path]:
    """The warehouse of ``rows`` built twice: in one full build, and one day at a time (each
    day loaded, then built as its own window; ``after_day(day, db)`` after each)."""
    (tmp_path / "full").mkdir()
    (tmp_path / "daily").mkdir()
    full_db, daily_db = (
        tmp_path / "full" / "warehouse.duckdb",
        tmp_path / "daily" / "warehouse.duckdb",
    )
    load_raw(full_db, rows=rows)
    dbt_build(full_db, tmp_path / "full")
    for day in DAYS:
        load_raw(daily_db, days=[day], rows=rows)
        dbt_build(
            daily_db,
            tmp_path / "daily",
            {"start_date": day.isoformat(), "end_date": day.isoformat()},
        )
        if after_day is not None:
            after_day(day, daily_db)
    return full_db, daily_db


def test_rerunning_a_day_window_is_idempotent(built_warehouse, tmp_path) -> None:
    """A build over day 2 again leaves every mart row as it was."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db, db)
    before = snapshot(db)
    done = dbt_build(db, tmp_path, {"start_date": DAY2.isoformat(), "end_date": DAY2.isoformat()})
    assert "incremental model marts.fct_conversions" in done.stdout
    after = snapshot(db)
    assert {t: len(f) for t, f in after.items()} == {t: len(f) for t, f in before.items()}
    _assert_same_marts(before, after)


def test_day_by_day_build_equals_full_build(built_warehouse, tmp_path) -> None:
    """Day 1 loaded and built, then days 2-3 loaded and built as an incremental window:
    the marts equal those of one build over all three days."""
    db = tmp_path / "warehouse.duckdb"
    load_raw(db, days=[DAY1])
    dbt_build(db, tmp_path, {"start_date": DAY1.isoformat(), "end_date": DAY1.isoformat()})
    day1_kpis = snapshot(db)["marts.fct_channel_kpis_daily"]
    assert len(day1_kpis) == 7  # one day, every channel
    load_raw(db, days=[DAY2, DAY3])
    dbt_build(db, tmp_path, {"start_date": DAY2.isoformat(), "end_date": DAY3.isoformat()})
    _assert_same_marts(snapshot(built_warehouse.db), snapshot(db))


@pytest.fixture(scope="module")
def restated(tmp_path_factory):
    """One world holding both restatements (a purchase's hits repeated on later days, DEAL1
    closed again on day 3), built in one full build and one day at a time: the marts after
    day 3's build (``by_day``), and after day 2 is built once more, as a person heals the
    daily aggregates a later restatement left stale (``healed``). One build serves both tests
    below (they had a build each: 70 s apiece). Together the restatements also found a
    difference the separate worlds could not: u1's day-2 visit was linked to its person by
    DEAL1's GCLID on day 2, and a full build dated that link by DEAL1's re-delivery on day 3."""
    tmp_path = tmp_path_factory.mktemp("restated")
    seen: dict[str, list[date]] = {}

    def deal_on_day2(day: date, db: Path) -> None:
        if day == DAY2:  # before the re-delivery: DEAL1's journey is on day 2
            journeys = snapshot(db)["marts.fct_journeys"]
            deal = journeys[journeys["journey_id"] == "deal:DEAL1"]
            seen["day2"] = [pd.Timestamp(d).date() for d in deal["date_day"]]

    rows = [*RAW_ROWS, *REPEATED_PURCHASE_HITS, *RECLOSED_DEAL]
    full_db, daily_db = _full_and_day_by_day(tmp_path, rows, after_day=deal_on_day2)
    by_day = snapshot(daily_db)
    dbt_build(
        daily_db, tmp_path / "daily", {"start_date": DAY2.isoformat(), "end_date": DAY2.isoformat()}
    )
    return snapshot(full_db), by_day, snapshot(daily_db), seen


def test_a_purchase_repeated_on_later_days_counts_once_day_by_day(restated) -> None:
    """With T1 and T2 sent again on the following days, building one day at a time (each
    day loaded, then built as its own window) gives the marts of one full build, where each
    purchase is one conversion on the day of its first hit. A run that deduplicated only
    the window's hits would count T1 on day 2 and T2 on day 3 instead. (The world also
    restates DEAL1 on day 3, whose day-2 aggregates heal when day 2 is built again: every
    mart is compared after that.)"""
    full, by_day, healed, _ = restated
    for marts in (full, by_day):
        conversions = marts["marts.fct_conversions"]
        purchases = conversions[conversions["conversion_id"].isin(["purchase:T1", "purchase:T2"])]
        found = purchases[["conversion_id", "date_day", "revenue"]].itertuples(index=False)
        assert [(c, pd.Timestamp(d).date(), r) for c, d, r in found] == [
            ("purchase:T1", DAY1, 100.0),
            ("purchase:T2", DAY2, 50.0),
        ]
    _assert_same_marts(full, healed)


def test_a_deal_closed_again_later_moves_with_its_journey_day_by_day(restated) -> None:
    """DEAL1 is built as a conversion of day 2, then re-delivered closed on day 3 and day 3
    is built alone: the conversion and its journey (every touch of it) leave day 2 for day 3,
    and the row-level marts equal one full build's. The journey models append after clearing
    the window and the restated conversions' journeys (`restated_from`), without looking every
    journey up by key: this is the case that look-up was for. (The daily aggregates of day 2,
    fct_channel_kpis_daily and fct_attribution_daily, keep counting DEAL1 until day 2 is built
    again: a window run rebuilds its own days only, as before.) u1's lapsed journey of day 3
    keeps the person DEAL1's first version linked its browser to on day 2, in both builds."""
    full, by_day, _, seen = restated
    assert seen["day2"] == [DAY2]
    lapsed = full["marts.fct_journeys"]
    lapsed = lapsed[lapsed["journey_id"].str.startswith("lapsed:u1:")]
    assert len(lapsed) and not lapsed["person_id"].str.startswith("anon:").any()
    rows_marts = ("marts.fct_journeys", "marts.fct_touchpoints", "marts.fct_conversions")
    full, by_day = ({t: f for t, f in m.items() if t in rows_marts} for m in (full, by_day))
    for table in rows_marts:
        frame = by_day[table]
        key = "journey_id" if "journey_id" in frame else "conversion_id"
        deal = frame[frame[key] == "deal:DEAL1"]
        assert len(deal) > 0, table
        assert {pd.Timestamp(d).date() for d in deal["date_day"]} == {DAY3}, table
    _assert_same_marts(full, by_day)


def test_window_vars_must_be_dates(built_warehouse, tmp_path) -> None:
    """A window that is not an ISO date stops the build before any SQL runs (nothing
    injected), given as vars (a person's `dbt build --vars`) or in the environment (what
    the runs pass)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db, db)
    bad = {"start_date": "2026-01-06' or 1=1 --", "end_date": "2026-01-06"}
    for in_vars in (True, False):
        with pytest.raises(AssertionError, match="must be an ISO date"):
            dbt_run(db, tmp_path, "build", bad, "--select", "fct_channel_kpis_daily",
                    window_in_vars=in_vars)  # fmt: skip


def test_tests_of_a_windowed_run_read_the_window(built_warehouse, tmp_path) -> None:
    """macros/test_window.sql: a session key duplicated on day 1 fails `unique` in a run over
    day 1 and in a run without a window, and is not read by a run over day 3 (whose build
    leaves day 1 untouched)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db, db)
    with duckdb.connect(str(db)) as con:
        planted = con.execute(
            "insert into intermediate.int_sessions__tagged select * from "
            "intermediate.int_sessions__tagged where date_day = ? limit 1",
            [DAY1],
        ).fetchone()
    assert planted == (1,)
    test = ("--select", "unique_int_sessions__tagged_session_key")

    def run_test(dbt_vars: dict[str, str]):
        return dbt_run(db, tmp_path, "test", dbt_vars, *test)

    passed = run_test({"start_date": DAY3.isoformat(), "end_date": DAY3.isoformat()})
    assert "PASS unique_int_sessions__tagged_session_key" in passed.stdout
    assert "ERROR=0" in passed.stdout
    for window in ({"start_date": DAY1.isoformat(), "end_date": DAY1.isoformat()}, {}):
        with pytest.raises(AssertionError, match="unique_int_sessions__tagged_session_key"):
            run_test(window)


def test_staging_tests_of_a_windowed_run_read_the_window_and_rows_without_a_day(
    built_warehouse, tmp_path
) -> None:
    """The daily sources' staging views opt in to windowed tests (their yml's meta): a GA4
    row without a browser on day 1 fails `not_null` on the session key in a run over day 1
    and is not read by a run over day 3; a row without a day belongs to no window, so every
    windowed run reads it and `not_null` on the day itself still fails."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db, db)
    day1, day3 = ({"start_date": d.isoformat(), "end_date": d.isoformat()} for d in (DAY1, DAY3))

    def run_test(name: str, dbt_vars: dict[str, str]):
        return dbt_run(db, tmp_path, "test", dbt_vars, "--select", name)

    session_key = "not_null_stg_ga4__events_session_key"
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into raw.ga4_events select * replace (null as user_pseudo_id) "
            "from raw.ga4_events where event_date = ? limit 1",
            [DAY1],
        )
    assert "PASS " + session_key in run_test(session_key, day3).stdout
    with pytest.raises(AssertionError, match=session_key):
        run_test(session_key, day1)

    date_day = "not_null_stg_ga4__events_date_day"
    assert "PASS " + date_day in run_test(date_day, day3).stdout
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into raw.ga4_events select * replace (null as event_date) "
            "from raw.ga4_events where event_date = ? limit 1",
            [DAY1],
        )
    with pytest.raises(AssertionError, match=date_day):
        run_test(date_day, day3)
