"""Bulk validation in DuckDB gives exactly what the Python validator gives.

Each input is ingested twice into separate data homes: once with every file validated in
Python, once with bulk validation forced (``bulk_min_bytes=0``). Raw rows, rejects and the
file log must be identical, and bulk must really have been used where DuckDB can read the file.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from signal_samples import DAY, PII_KEY, PREV, drop, google_csv
from test_broken_inputs import CASES

from marketing_ops.config import data_home
from marketing_ops.signals import ingest_source
from marketing_ops.signals.currency import FxRates, Reporting
from marketing_ops.signals.store import RAW_TABLE_NAMES

D = DAY.isoformat()
NEVER = 10**15  # bulk_min_bytes that keeps every file in Python


def _ingest_both(tmp_path: Path, source: str, files: list[tuple[str, bytes]], **kwargs) -> dict:
    """Ingest the same files with Python only and with bulk forced; return both states."""
    states = {}
    for label, threshold in (("python", NEVER), ("bulk", 0)):
        home = data_home(tmp_path / label).ensure()
        for name, content in files:
            drop(home, source, name, content)
        con = duckdb.connect(":memory:")  # a real DuckDB; no file needed for the comparison
        try:
            report = ingest_source(
                home,
                con,
                source,
                PREV - timedelta(days=1),
                DAY,
                PII_KEY,
                bulk_min_bytes=threshold,
                **kwargs,
            )
            table = RAW_TABLE_NAMES[source]
            states[label] = {
                "rows": con.execute(
                    f"select * exclude (_loaded_at) from {table} order by _file_name, _line"
                ).fetchall(),
                "rejects": con.execute(
                    "select * exclude (rejected_at) from raw.rejects "
                    "order by file_name, line, field"
                ).fetchall(),
                "log": con.execute(
                    "select file_hash, file_name, partition_date, received, loaded, rejected, "
                    "status from raw.file_log order by file_name"
                ).fetchall(),
                "validated": {f.file_name: f.validated for f in report.files},
            }
        finally:
            con.close()
    return states


def _assert_same(states: dict) -> None:
    python, bulk = states["python"], states["bulk"]
    assert bulk["rows"] == python["rows"]
    assert bulk["rejects"] == python["rejects"]
    assert bulk["log"] == python["log"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_google_ads_corpus_same_either_way(case, tmp_path: Path) -> None:
    """Every case of the broken-input corpus ends the same with bulk validation."""
    states = _ingest_both(
        tmp_path,
        "google_ads",
        [
            (f"google_ads_{PREV.isoformat()}.csv", google_csv(PREV, 3).encode()),
            (case.name, case.content),
        ],
    )
    _assert_same(states)
    assert states["bulk"]["validated"][f"google_ads_{PREV.isoformat()}.csv"] == "bulk"


def _event(name: str = "page_view", seconds: int = 3600, **extra) -> dict:
    ts = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() + seconds)
    event = {
        "event_date": DAY.strftime("%Y%m%d"),
        "event_timestamp": ts * 1_000_000 + 123,
        "event_name": name,
        "user_pseudo_id": "123.456",
        "user_id": None,
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": ts}},
            {"key": "page_location", "value": {"string_value": "https://shop.example/p?x=1"}},
        ],
        "traffic_source": {"name": "(organic)", "medium": "organic", "source": "google"},
        "collected_traffic_source": {
            "manual_source": "google",
            "manual_medium": "cpc",
            "manual_campaign_name": "SEARCH | brand",
            "manual_campaign_id": "9000000101",
            "manual_content": None,
            "gclid": "Cj0KCQ",
        },
        "ecommerce": None,
        "items": [],
        "device": {"category": "mobile"},
        "geo": {"country": "Germany"},
    }
    event.update(extra)
    return event


def _lines(*events: dict | str) -> bytes:
    return ("\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n").encode()


GA4_CASES = {
    "plain": _lines(_event(), _event("session_start", 10)),
    "gzip": gzip.compress(_lines(_event(), _event(seconds=99))),
    "purchase_with_revenue_and_currency": _lines(
        _event(
            "purchase",
            ecommerce={"purchase_revenue": 89.5, "transaction_id": "T-1"},
            event_params=[
                {"key": "ga_session_id", "value": {"int_value": "1700000000"}},
                {"key": "currency", "value": {"string_value": "EUR"}},
            ],
        )
    ),
    "bigquery_strings_for_numbers": _lines(
        _event(event_timestamp=str(_event()["event_timestamp"] + 5))
    ),
    "no_collected_source_falls_back": _lines(_event(collected_traffic_source=None)),
    "empty_collected_source_object": _lines(_event(collected_traffic_source={})),
    "duplicate_param_keys_last_wins": _lines(
        _event(
            event_params=[
                {"key": "page_location", "value": {"string_value": "first"}},
                {"key": "page_location", "value": {"string_value": "second"}},
            ]
        )
    ),
    "email_in_user_id_is_keyed": _lines(_event(user_id="Ana@Example.com")),
    "padded_and_unicode_text": _lines(
        _event(user_pseudo_id=" 77.88 "), _event(geo={"country": "Österreich"})
    ),
    "null_words": _lines(_event(user_id="null"), _event(user_id="N/A")),
    "negative_revenue": _lines(
        _event("purchase", ecommerce={"purchase_revenue": -5, "transaction_id": "T-2"})
    ),
    "future_event": _lines(_event(event_date=(DAY + timedelta(days=900)).strftime("%Y%m%d"))),
    "iso_event_date": _lines(_event(event_date=D)),
    "bad_event_date": _lines(_event(event_date="20261399"), _event()),
    "micros_as_float_text": _lines(_event(event_timestamp="1.7e15")),
    "unknown_currency": _lines(
        _event(event_params=[{"key": "currency", "value": {"string_value": "XBT"}}])
    ),
    "blank_line_in_the_middle": _lines(_event(), "", _event(seconds=7)),
    "broken_line": _lines(_event(), '{"event_name": "page_vi', _event(seconds=8)),
    "not_an_object_line": _lines(_event(), "[1, 2]"),
    "wrong_type_for_object": _lines(_event(geo="Germany")),
    "param_value_not_an_object": _lines(
        _event(event_params=[{"key": "page_location", "value": "x"}])
    ),
}


@pytest.mark.parametrize("case", sorted(GA4_CASES))
def test_ga4_same_either_way(case: str, tmp_path: Path) -> None:
    """GA4 events in odd shapes end the same with bulk validation."""
    name = f"ga4_{D}.jsonl" + (".gz" if case == "gzip" else "")
    states = _ingest_both(tmp_path, "ga4", [(name, GA4_CASES[case])])
    _assert_same(states)
    if case in ("plain", "gzip", "purchase_with_revenue_and_currency", "email_in_user_id_is_keyed"):
        assert states["bulk"]["validated"][name] == "bulk"
        assert states["bulk"]["rows"], "rows expected"


META_HEADER = (
    "date_start,date_stop,account_id,campaign_id,campaign_name,adset_id,ad_id,impressions,"
    "clicks,spend,account_currency,actions,action_values"
)


def _meta_row(spend: str = "75.2", currency: str = "EUR", actions: str | None = None) -> str:
    actions = actions or json.dumps(
        [
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "3"},
            {"action_type": "link_click", "value": "40"},
        ]
    )
    values = json.dumps([{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "210.5"}])
    cells = [D, D, "act_1", "2385000000101", "PROSPECTING", "2385", "2386", "5000", "60", spend,
             currency, actions, values]  # fmt: skip
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def _actions(*entries: tuple[str | None, object]) -> str:
    """An actions list; ``purchase`` is the pixel purchase type, ``None`` leaves a key out."""
    out = []
    for kind, value in entries:
        item: dict = {}
        if kind is not None:
            item["action_type"] = (
                "offsite_conversion.fb_pixel_purchase" if kind == "purchase" else kind
            )
        if value is not None:
            item["value"] = value
        out.append(item)
    return json.dumps(out)


META_CASES = {
    "plain": [_meta_row(), _meta_row("12.5")],
    "empty_actions": [_meta_row(actions="")],
    "actions_without_purchases": [_meta_row(actions="[]")],
    "non_object_action": [_meta_row(actions="[1]")],
    "cut_json": [_meta_row(actions='[{"action_type": "offsite_conversion.fb_pixel_purchase"')],
    "purchase_value_not_a_number": [_meta_row(actions=_actions(("purchase", "lots")))],
    "purchase_value_infinite": [_meta_row(actions=_actions(("purchase", "inf")))],
    "purchase_value_missing": [_meta_row(actions=_actions(("purchase", None)))],
    "purchase_value_a_json_number": [_meta_row(actions=_actions(("purchase", 4)))],
    "purchase_values_summed": [_meta_row(actions=_actions(("purchase", "0.1"), ("purchase", 0.2)))],
    "action_without_type": [_meta_row(actions=_actions((None, "3")))],
    "other_action_with_junk_value": [
        _meta_row(actions=_actions(("link_click", "x"), ("purchase", "2")))
    ],
    "foreign_currency_with_rate": [_meta_row(currency="USD"), _meta_row()],
    "foreign_currency_without_rate": [_meta_row(currency="GBP"), _meta_row()],
}


@pytest.mark.parametrize("case", sorted(META_CASES))
def test_meta_same_either_way(case: str, tmp_path: Path) -> None:
    """Meta rows with actions lists and currencies end the same with bulk validation,
    including the conversion to the reporting currency and the rejects for missing rates."""
    rates = FxRates("EUR", 7, "test rates", {"USD": ([PREV], [1.25])})
    content = ("\n".join([META_HEADER, *META_CASES[case]]) + "\n").encode()
    states = _ingest_both(
        tmp_path,
        "meta_ads",
        [(f"meta_ads_{D}.csv", content)],
        reporting=Reporting("EUR", "UTC", rates),
    )
    _assert_same(states)
    assert states["bulk"]["validated"][f"meta_ads_{D}.csv"] == "bulk"
    if case == "foreign_currency_with_rate":
        # columns: ... spend (8), ..., currency (11), spend_reporting (12)
        reporting = {r[11]: (r[8], r[12]) for r in states["bulk"]["rows"]}
        assert reporting["USD"] == (75.2, 75.2 / 1.25)
        assert reporting["EUR"] == (75.2, 75.2)


def test_offline_conversions_time_zones_same_either_way(tmp_path: Path) -> None:
    """Local times of the offline-import layout (and a reporting zone other than UTC) give
    the same timestamps in bulk; odd times go to Python and agree."""
    text = (
        "Parameters:TimeZone=Europe/Berlin\n"
        "Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\n"
        f"Cj0KCQ,deal_won,{D} 10:15:00,1200,EUR\n"
        f"Cj0KCR,deal_won,{D}T10:15:00+05:00,1200,EUR\n"
        f"Cj0KCS,deal_won,{D} 10:15:00 Europe/London,900,EUR\n"
        f"Cj0KCT,deal_won,{D} 25:61:00,1200,EUR\n"
    ).encode()
    for zone in ("UTC", "America/New_York"):
        states = _ingest_both(
            tmp_path / zone.replace("/", "_"),
            "offline_conversions",
            [(f"offline_conversions_{D}.csv", text)],
            reporting=Reporting("EUR", zone),
        )
        _assert_same(states)
        assert len(states["bulk"]["rows"]) == 3


def test_simulated_world_same_either_way(tmp_path: Path) -> None:
    """Every source of a simulated fortnight loads identically either way."""
    from marketing_ops.simulator import WorldConfig, generate_history

    world = data_home(tmp_path / "world").ensure()
    generate_history(
        world, WorldConfig(seed=5, start=PREV - timedelta(days=1), days=2, contacts=60)
    )
    for source in RAW_TABLE_NAMES:
        files = [(p.name, p.read_bytes()) for p in sorted(world.source_inbox(source).glob("*"))]
        if not files:
            continue
        states = _ingest_both(tmp_path / source, source, files)
        _assert_same(states)
        assert states["bulk"]["rows"], source
