"""Incremental per day: a re-run of a window changes nothing, and building day by day gives
the same marts as one full build."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from .world import DAY1, DAY2, DAY3, dbt_build, dbt_run, load_raw, snapshot


def _assert_same_marts(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for table in left:
        pd.testing.assert_frame_equal(
            left[table].reset_index(drop=True), right[table].reset_index(drop=True), obj=table
        )


def test_rerunning_a_day_window_is_idempotent(built_warehouse, tmp_path) -> None:
    """`dbt build --vars {start_date, end_date}` over day 2 again leaves every mart row as it was."""
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


def test_window_vars_must_be_dates(built_warehouse, tmp_path) -> None:
    """A var that is not an ISO date stops the build before any SQL runs (nothing injected)."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse.db, db)
    with pytest.raises(AssertionError, match="must be an ISO date"):
        dbt_build(db, tmp_path, {"start_date": "2026-01-06' or 1=1 --", "end_date": "2026-01-06"},
                  "--select", "fct_channel_kpis_daily")  # fmt: skip


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
