"""The shortcuts of per-row validation give the answers of the plain definitions they replace."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from signal_samples import PII_KEY

from marketing_ops.signals.ingest.read import _event_params
from marketing_ops.signals.readers import _TOTAL_ROW, CsvLayout, csv_record
from marketing_ops.signals.rows import _DATED_TYPES, _EMAIL, RowBuilder, _row_getter
from marketing_ops.signals.sources import SOURCES, ColumnRule, load_sources

TEXTS: list[Any] = [
    "",
    " ",
    "Closed Won",
    " closed  WON ",
    "closedwon",
    "Won",
    "SENT",
    " Sent ",
    "A b C",
    "İ",
    "\xa0x\xa0",
    "ana@example.com",
    "x Ana@Example.com y",
    7,
    1.5,
    True,
]


def _builder(source: str = "crm_deals") -> RowBuilder:
    config = load_sources()
    return RowBuilder(source, config.sources[source], config, PII_KEY, date(2026, 12, 6))


def _plain_text(builder: RowBuilder, rule: ColumnRule, v: Any) -> Any:
    """The text converter as first written: look up, then compact."""
    s = str(v).strip()
    if "@" in s:
        s = _EMAIL.sub(lambda m: builder._keyed_email_text(m.group(0)), s)
    lookup = {k.strip().lower(): x for k, x in rule.values.items()}
    mapped = lookup.get(s.lower())
    if mapped is not None:
        return mapped
    return s.lower().replace(" ", "") if rule.compact else s


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("values", [{}, {"Closed Won": "closedwon", " WON ": "closedwon"}])
def test_text_converter_matches_the_plain_definition(values, compact) -> None:
    builder = _builder()
    rule = ColumnRule(type="text", values=values, compact=compact)
    convert = builder._converter("stage", rule)
    for v in TEXTS:
        assert convert(v) == _plain_text(builder, rule, v), v


def test_csv_blank_rows_are_found_whatever_cell_is_filled() -> None:
    layout = CsvLayout(1, ",", ["a", "b", "c"], {"x": (0, 1.0), "y": (2, 1.0)}, None)
    pool = ["", " ", "\t", "\xa0", "\u2003", "x", "Total", " total 3"]
    for width in range(4):
        for cells in itertools.product(pool, repeat=width):
            cells = list(cells)
            skipped = (
                not cells or all(not c.strip() for c in cells) or bool(_TOTAL_ROW.match(cells[0]))
            )
            assert (csv_record(cells, 5, layout) is None) == skipped, cells


def test_event_params_take_the_first_non_null_typed_value() -> None:
    event = {
        "event_params": [
            {"key": "a", "value": {"string_value": None, "int_value": 0, "double_value": 1.5}},
            {"key": "b", "value": {"float_value": 2.5, "string_value": ""}},
            {"key": "c", "value": {"other": 1}},
            {"key": "d", "value": "not a dict"},
            {"key": "e"},
            {"value": {"int_value": 3}},
            "not a dict",
        ]
    }
    assert _event_params(event) == {"a": 0, "b": "", "c": None, "d": None, "e": None}
    assert _event_params({"event_params": {"key": "a"}}) == {}
    assert _event_params({}) == {}


def test_rows_come_out_in_column_order() -> None:
    assert _row_getter(("a",))({"a": 1, "b": 2}) == (1,)
    assert _row_getter(("b", "a"))({"a": 1, "b": 2}) == (2, 1)
    assert _row_getter(())({"a": 1}) == ()


@pytest.mark.parametrize("source", SOURCES)
def test_only_date_and_timestamp_columns_convert_to_dates(source) -> None:
    """build() applies the future-date check by column type: exactly the types whose
    converter returns a date or a datetime."""
    builder = _builder(source)
    samples = {
        "date": "2026-12-01",
        "timestamp": "2026-12-01T10:00:00Z",
        "local_timestamp": "2026-12-01 10:00:00",
        "timestamp_micros": 1764583200000000,
        "text": "2026-12-01",
        "int": "3",
        "float": "1.5",
        "bool": "true",
        "currency": "EUR",
        "email_key": "ana@example.com",
        "phone_key": "+49 151 1234567",
        "json_actions": "[]",
    }
    for column, convert in builder._converters:
        kind = builder.spec.columns[column].type
        assert isinstance(convert(samples[kind]), date) == (kind in _DATED_TYPES), column
