"""Quality gates at the right grain: a suite's ``mostly`` threshold is held day by day, so a
few bad rows on a large day are reported (not blocking) while the same rows on a small day
block it; every message names the rows that broke the expectation."""

from __future__ import annotations

from datetime import date

import pandas as pd

from marketing_ops.quality import suite_for, validate_table

BIG_DAY, SMALL_DAY = date(2026, 3, 2), date(2026, 3, 3)


def _google_ads_day(day: date, rows: int) -> pd.DataFrame:
    """``rows`` plain campaign rows of one day as raw.google_ads holds them."""
    n = range(rows)
    return pd.DataFrame(
        {
            "date_day": [day] * rows,
            "campaign_id": [str(9_000 + i) for i in n],
            "campaign_name": [f"SEARCH | {i}" for i in n],
            "impressions": [1_000] * rows,
            "clicks": [40] * rows,
            "spend": [25.0] * rows,
            "conversions": [2.0] * rows,
            "conversions_value": [120.0] * rows,
            "currency": ["EUR"] * rows,
            "spend_reporting": [25.0] * rows,
            "_file_name": [f"google_ads_{day}.csv"] * rows,
            "_line": [i + 2 for i in n],
        }
    )


def _with_clicks_over_impressions(frame: pd.DataFrame, position: int) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[position, "clicks"] = frame.loc[position, "impressions"] + 1
    return frame


def _validate(frame: pd.DataFrame):
    return validate_table(frame, suite_for("raw.google_ads"), day_column="date_day")


def test_immaterial_damage_is_reported_not_blocking() -> None:
    """One row of 200 (0.5%, under the suite's 1%) breaks clicks <= impressions: the gate
    passes and names the row as flagged."""
    outcome = _validate(_with_clicks_over_impressions(_google_ads_day(BIG_DAY, 200), 5))
    assert outcome.passed and outcome.failures == ()
    [flagged] = outcome.flagged
    assert flagged.expectation == "expect_column_pair_values_a_to_be_greater_than_b"
    assert flagged.rows == (f"google_ads_{BIG_DAY}.csv line 7",)
    assert "not blocking" in outcome.markdown and "line 7" in outcome.markdown


def test_material_damage_blocks_its_day_even_in_a_good_window() -> None:
    """The same single row on a 50-row day (2%) blocks that day, although over the whole
    window (1 of 250 rows) it would be under the threshold; the message names day and row."""
    window = pd.concat(
        [
            _google_ads_day(BIG_DAY, 200),
            _with_clicks_over_impressions(_google_ads_day(SMALL_DAY, 50), 10),
        ],
        ignore_index=True,
    )
    outcome = _validate(window)
    assert not outcome.passed
    [failure] = outcome.failures
    assert failure.days == (SMALL_DAY,)
    assert failure.rows == (f"google_ads_{SMALL_DAY}.csv line 12",)
    assert f"on {SMALL_DAY}" in outcome.markdown and "line 12" in outcome.markdown


def test_strict_expectation_blocks_on_one_row_and_names_it() -> None:
    """Money has no threshold: one negative spend among 200 rows fails the gate, by name."""
    frame = _google_ads_day(BIG_DAY, 200)
    frame.loc[3, ["spend", "spend_reporting"]] = -1.0
    outcome = _validate(frame)
    assert not outcome.passed
    spend = [f for f in outcome.failures if f.column == "spend"]
    assert [(f.unexpected_count, f.rows) for f in spend] == [
        (1, (f"google_ads_{BIG_DAY}.csv line 5",))
    ]
