"""Freshness of every signal source: the rule (newest loaded day against the day the policy
expects by now), the policy file's validation, and the Dagster checks on a loaded world, where
a source that stopped sending is flagged and one within its allowance passes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.governance.checks import CHECK_NAME, last_loaded_days, signal_freshness
from marketing_ops.quality.freshness import (
    FreshnessPolicy,
    check_freshness,
    expected_day,
    load_freshness_policy,
)
from marketing_ops.signals import SOURCES
from marketing_ops.warehouse import connect

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # after the default 09:00 deadline
EARLY = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "lag", "hour", "expected"),
    [
        (NOW, 1, 9, date(2026, 11, 24)),
        (EARLY, 1, 9, date(2026, 11, 23)),  # before the deadline, one day more is allowed
        (NOW, 3, 9, date(2026, 11, 22)),
        (NOW, 0, 12, date(2026, 11, 24)),
    ],
)
def test_expected_day(now, lag, hour, expected) -> None:
    assert expected_day(now, lag, hour) == expected


@pytest.mark.parametrize(
    ("last", "passed", "late", "words"),
    [
        (date(2026, 11, 24), True, 0, "fresh"),
        (date(2026, 11, 25), True, 0, "fresh"),
        (date(2026, 11, 21), False, 3, "3 days late"),
        (date(2026, 11, 23), False, 1, "1 day late"),
        (None, False, -1, "no data yet"),
    ],
)
def test_stale_source_is_flagged(last, passed, late, words) -> None:
    (verdict,) = check_freshness({"ga4": last}, NOW, FreshnessPolicy(), ["ga4"])
    assert (verdict.passed, verdict.days_late) == (passed, late)
    assert words in verdict.description


def test_per_source_allowance_and_no_expectation() -> None:
    policy = FreshnessPolicy.model_validate(
        {"sources": {"offline_conversions": {"max_lag_days": 3}, "content_assets": {}}}
    )
    last = {"offline_conversions": date(2026, 11, 22), "content_assets": date(2026, 1, 1)}
    off, content = check_freshness(last, NOW, policy, ["offline_conversions", "content_assets"])
    assert off.passed and off.expected_day == date(2026, 11, 22)
    assert not content.passed  # the policy named it without lifting the default expectation
    default = check_freshness(last, NOW, FreshnessPolicy(), ["content_assets"])[0]
    assert default.passed and "no freshness expectation" in default.description


def test_policy_errors_name_file_and_field(tmp_path) -> None:
    path = tmp_path / "freshness.yaml"
    path.write_text("sources:\n  ga4: {max_lag_days: -2}\n")
    with pytest.raises(ValueError, match=r"freshness.yaml: sources.ga4.max_lag_days"):
        load_freshness_policy(path)
    path.write_text("deadline_hour: 9\n")
    with pytest.raises(ValueError, match=r"freshness.yaml: deadline_hour: Extra inputs"):
        load_freshness_policy(path)


def test_dagster_checks_flag_the_stale_source(world_copy) -> None:
    """On a loaded world whose data ends two days ago: ga4 allowed no lag is flagged (a WARN
    check, with the days late), google_ads allowed five passes; one result per source."""
    home = world_copy.home
    (home.reference / "freshness.yaml").write_text(
        "sources:\n  ga4: {max_lag_days: 0}\n  google_ads: {max_lag_days: 5}\n"
    )
    with connect(home.warehouse, read_only=True) as con:
        last = last_loaded_days(con)
    assert last["ga4"] == world_copy.end

    raw_assets = [dg.AssetSpec(["raw", s]) for s in SOURCES]
    result = dg.materialize(
        [*raw_assets, signal_freshness],
        resources={"store": StoreResource(home_root=str(home.root))},
        selection=dg.AssetSelection.checks(signal_freshness),
        raise_on_error=False,
    )
    evaluations = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == set(SOURCES)
    assert all(e.check_name == CHECK_NAME for e in evaluations.values())
    ga4 = evaluations["ga4"]
    assert not ga4.passed and ga4.severity == dg.AssetCheckSeverity.WARN
    assert "stale" in ga4.description
    assert ga4.metadata["days_late"].value >= 1
    assert evaluations["google_ads"].passed
    assert evaluations["content_assets"].passed  # no daily expectation by default
