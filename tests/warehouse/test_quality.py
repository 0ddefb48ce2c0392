"""Great Expectations suites from expectations/ on the built warehouse: pass on good data,
fail with the reason on planted bad rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from marketing_ops.config import EXPECTATIONS_DIR
from marketing_ops.quality import suite_for, validate_table, write_validation_report

from .world import read_mart

SUITE_TABLES = {
    "raw.google_ads": "date_day, campaign_id",
    "raw.meta_ads": "date_day, ad_id",
    "marts.fct_channel_kpis_daily": "date_day, channel",
    "marts.fct_conversions": "conversion_id",
    "staging.stg_ga4__events": "event_at, session_key, event_name",
    "staging.stg_crm__deals": "deal_id",
    "staging.stg_offline__conversions": "gclid",
    "staging.stg_email__events": "event_id",
    "marts.fct_attribution_daily": "date_day, channel",
}


def test_suite_for_maps_tables_to_suite_files() -> None:
    """`raw.google_ads` -> expectations/raw.google_ads.json; unknown or odd names -> None."""
    assert suite_for("raw.google_ads") == EXPECTATIONS_DIR / "raw.google_ads.json"
    assert (
        suite_for("marts.fct_channel_kpis_daily")
        == EXPECTATIONS_DIR / "marts.fct_channel_kpis_daily.json"
    )
    assert suite_for("raw.no_such_table") is None
    assert suite_for("../raw.google_ads") is None


def test_every_suite_file_is_gx_suite_json() -> None:
    """Each file names its table and lists expectations as GX 1.x `type` + `kwargs`."""
    files = sorted(EXPECTATIONS_DIR.glob("*.json"))
    assert len(files) >= 2
    for path in files:
        spec = json.loads(path.read_text())
        assert spec["name"] == path.stem
        assert spec["expectations"] and all(
            set(e) >= {"type", "kwargs"} for e in spec["expectations"]
        )


@pytest.mark.parametrize("table", sorted(SUITE_TABLES))
def test_suites_pass_on_the_built_warehouse(built_warehouse, table: str) -> None:
    """Good data meets every expectation of its suite."""
    frame = read_mart(built_warehouse.db, table, SUITE_TABLES[table])
    outcome = validate_table(frame, suite_for(table))
    assert outcome.passed, outcome.markdown
    assert outcome.failures == () and outcome.evaluated > 5 and outcome.rows == len(frame)


@pytest.mark.parametrize("table", ["raw.google_ads", "marts.fct_channel_kpis_daily"])
def test_negative_spend_fails_the_gate(built_warehouse, table: str) -> None:
    """One planted negative spend fails the suite and the outcome names column and count."""
    frame = read_mart(built_warehouse.db, table, SUITE_TABLES[table])
    frame.loc[0, "spend"] = -12.5
    outcome = validate_table(frame, suite_for(table))
    assert not outcome.passed
    spend = [f for f in outcome.failures if f.column == "spend"]
    assert [(f.expectation, f.unexpected_count) for f in spend] == [
        ("expect_column_values_to_be_between", 1)
    ]
    assert "spend" in outcome.markdown and "FAILED" in outcome.markdown


def test_more_clicks_than_impressions_fails(built_warehouse) -> None:
    """Google Ads rows with clicks above impressions break the column-pair expectation."""
    frame = read_mart(built_warehouse.db, "raw.google_ads", SUITE_TABLES["raw.google_ads"])
    frame.loc[1, "clicks"] = frame.loc[1, "impressions"] + 1
    outcome = validate_table(frame, suite_for("raw.google_ads"))
    assert [f.expectation for f in outcome.failures] == [
        "expect_column_pair_values_a_to_be_greater_than_b"
    ]


def test_duplicate_day_and_channel_fails(built_warehouse) -> None:
    """A second row for one day and channel breaks the KPI table's grain."""
    frame = read_mart(built_warehouse.db, "marts.fct_channel_kpis_daily", "date_day, channel")
    doubled = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    outcome = validate_table(doubled, suite_for("marts.fct_channel_kpis_daily"))
    assert [f.expectation for f in outcome.failures] == ["expect_compound_columns_to_be_unique"]
    assert outcome.failures[0].unexpected_count == 2


def test_missing_table_fails() -> None:
    """An empty frame without columns (table not built yet) cannot pass a gate."""
    outcome = validate_table(pd.DataFrame(), suite_for("marts.fct_channel_kpis_daily"))
    assert not outcome.passed
    assert any(
        f.expectation == "expect_column_to_exist" and f.column == "channel"
        for f in outcome.failures
    )


def test_validation_report_is_written(built_warehouse, tmp_path) -> None:
    """The HTML page lists each suite with its verdict and the broken expectation."""
    frame = read_mart(built_warehouse.db, "raw.google_ads", SUITE_TABLES["raw.google_ads"])
    good = validate_table(frame, suite_for("raw.google_ads"))
    frame.loc[0, "spend"] = -1.0
    bad = validate_table(frame, suite_for("raw.google_ads"))
    page = write_validation_report([good, bad], tmp_path / "reports" / "quality.html")
    text = page.read_text()
    assert page.exists() and text.count("<section") == 2
    assert "raw.google_ads: passed" in text and "raw.google_ads: failed" in text
    assert "expect_column_values_to_be_between" in text


def test_implausible_purchase_and_purchase_without_transaction_fail_the_ga4_gate(
    built_warehouse,
) -> None:
    """Rows GA4 row validation lets through but the staging gate stops: a 5,000,000 EUR
    purchase, and a purchase without a transaction id (it could not be deduplicated). A page
    view without a transaction id is fine: the expectation only looks at purchases."""
    frame = read_mart(
        built_warehouse.db, "staging.stg_ga4__events", SUITE_TABLES["staging.stg_ga4__events"]
    )
    purchases = frame.index[frame["event_name"] == "purchase"]
    frame.loc[purchases[0], "revenue"] = 5_000_000.0
    frame.loc[purchases[1], "transaction_id"] = None
    outcome = validate_table(frame, suite_for("staging.stg_ga4__events"))
    assert not outcome.passed
    broken = {(f.expectation, f.column, f.unexpected_count) for f in outcome.failures}
    assert broken == {
        ("expect_column_values_to_be_between", "revenue", 1),
        ("expect_column_values_to_not_be_null", "transaction_id", 1),
    }


def test_report_path_is_per_suite_and_window(tmp_path) -> None:
    """One page per suite and partition window: re-running a window replaces its page only."""
    from datetime import date

    from marketing_ops.quality import report_path

    path = report_path(tmp_path, "staging.stg_ga4__events", date(2026, 1, 5), date(2026, 1, 7))
    assert (
        path == tmp_path / "validation" / "staging.stg_ga4__events" / "2026-01-05_2026-01-07.html"
    )
    with pytest.raises(ValueError):
        report_path(tmp_path, "../etc", date(2026, 1, 5), date(2026, 1, 5))
