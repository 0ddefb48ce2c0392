"""Reporting currency end to end: amounts in another currency reach the marts converted (the
`_reporting` columns ingest computes), never added up as they were in the file.

The world gets a second currency: a Meta account billed in USD, a USD purchase, a USD deal
and a USD offline conversion, at the world's rate of 0.8 EUR per USD. Each mart is compared
with the shared EUR-only build: the difference is the hand-computed converted amount."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from marketing_ops.config import data_home

from .world import DAY1, DAY2, DAY3, K2, RAW_ROWS, _ga4, _ts, dbt_build, load_raw

META_USD = "2385000000202"
USD_ROWS: list[tuple[str, date, tuple]] = [
    # A Meta account billed in USD: 50 USD of spend (40 EUR), 30 USD claimed value (24 EUR).
    ("meta_ads", DAY1, (DAY1, "act_2", META_USD, "Retargeting", "as2", "ad3", 400, 8, 50.0, 1.0, 30.0, "USD")),
    # A purchase paid in USD: 100 USD (80 EUR), organic search.
    ("ga4_events", DAY3, _ga4(DAY3, 16, 0, "session_start", "u7", None, 7, "google", "organic", None, None)),
    ("ga4_events", DAY3, _ga4(DAY3, 16, 5, "purchase", "u7", None, 7, "google", "organic", None, None,
                              100.0, "T7", currency="USD")),
    # A deal won in USD by email: 1,000 USD (800 EUR), contact K2 (engaged_prospects).
    ("crm_deals", DAY3, ("DEAL4", K2, _ts(DAY2, 10), "closedwon", 1000.0, "USD", _ts(DAY3, 12),
                         "newsletter", "email", None, None, None)),
    # An offline conversion in USD without a deal: 500 USD (400 EUR), paid search.
    ("offline_conversions", DAY3, ("G7", "closed_deal", _ts(DAY3, 15), 500.0, "USD")),
]  # fmt: skip


@pytest.fixture(scope="module")
def two_currencies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("two_currencies")
    db = work / "warehouse.duckdb"
    load_raw(db, rows=[*RAW_ROWS, *USD_ROWS])
    dbt_build(db, work)
    return db


def _frame(db: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).df()


def _kpis(db: Path) -> pd.DataFrame:
    return _frame(
        db,
        "select date_day, channel, spend, platform_conversions_value, revenue "
        "from marts.fct_channel_kpis_daily",
    ).set_index(["date_day", "channel"])


def test_ad_spend_is_in_the_reporting_currency(two_currencies) -> None:
    """The USD account's row carries 40 EUR of spend and 24 EUR of claimed value, in EUR."""
    row = _frame(
        two_currencies,
        "select spend, conversions_value, currency from marts.fct_ad_spend_daily "
        "where campaign_id = ?",
        [META_USD],
    )
    assert row.to_dict("records") == [{"spend": 40.0, "conversions_value": 24.0, "currency": "EUR"}]
    currencies = _frame(two_currencies, "select distinct currency from marts.fct_ad_spend_daily")
    assert currencies["currency"].tolist() == ["EUR"]


def test_channel_kpis_add_converted_amounts(built_warehouse, two_currencies) -> None:
    """Per day and channel, the two-currency marts exceed the EUR-only ones by exactly the
    converted USD amounts: spend and claimed value on day 1 (paid social), revenue on day 3."""
    difference = (_kpis(two_currencies) - _kpis(built_warehouse.db)).fillna(0.0)
    changed = difference[(difference.abs() > 1e-9).any(axis=1)]
    day1, day3 = pd.Timestamp(DAY1), pd.Timestamp(DAY3)
    expected = pd.DataFrame(
        {
            "date_day": [day1, day3, day3, day3],
            "channel": ["paid_social", "email", "organic_search", "paid_search"],
            "spend": [40.0, 0.0, 0.0, 0.0],
            "platform_conversions_value": [24.0, 0.0, 0.0, 0.0],
            "revenue": [0.0, 800.0, 80.0, 400.0],
        }
    ).set_index(["date_day", "channel"])
    pd.testing.assert_frame_equal(
        changed.sort_index(), expected, check_index_type=False, check_dtype=False
    )


def test_conversions_and_audiences_carry_converted_revenue(built_warehouse, two_currencies) -> None:
    """Each USD conversion is in fct_conversions at 0.8 of its amount, and the USD deal's
    800 EUR reaches its contact's audience on day 3."""
    revenue = _frame(
        two_currencies,
        "select conversion_id, revenue from marts.fct_conversions "
        "where conversion_id in ('purchase:T7', 'deal:DEAL4') or conversion_id like 'offline:G7:%' "
        "order by conversion_id",
    )
    assert revenue["revenue"].tolist() == [800.0, 400.0, 80.0]
    audience = (
        "select revenue from marts.fct_audience_kpis_daily "
        "where date_day = ? and audience_id = 'engaged_prospects'"
    )
    after = _frame(two_currencies, audience, [DAY3])["revenue"].tolist()
    before = _frame(built_warehouse.db, audience, [DAY3])["revenue"].tolist()
    assert [a - b for a, b in zip(after, before, strict=True)] == [800.0]


def test_reporting_currency_var_comes_from_reporting_yaml(tmp_path, dbt_manifest) -> None:
    """The warehouse assets pass reference/reporting.yaml's currency to dbt as a var."""
    # Imported here: the assets module reads the dbt manifest, which the fixture prepares.
    from marketing_ops.defs.warehouse.assets import dbt_build_args, warehouse_vars

    home = data_home(tmp_path / "home").ensure()
    assert warehouse_vars(home)["reporting_currency"] == "EUR"
    (home.reference / "reporting.yaml").write_text("currency: usd\n")
    dbt_vars = warehouse_vars(home)
    assert dbt_vars["reporting_currency"] == "USD"
    assert '"reporting_currency": "USD"' in dbt_build_args(dbt_vars)[2]
