"""Formula-looking text never leaves the product unescaped in a CSV (CSV injection)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from marketing_ops.decisioning import DECISION_COLUMNS, export_batch
from marketing_ops.spreadsheets import escape_formula, spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("SEARCH | brand", "SEARCH | brand"),
        ("", ""),
        (-4.5, -4.5),
        (None, None),
    ],
)
def test_escape_formula(value, written) -> None:
    assert escape_formula(value) == written


def test_a_frame_keeps_numbers_and_escapes_text() -> None:
    frame = pd.DataFrame({"campaign": ["=1+1", "ok"], "amount": [-3.0, 2.0]})
    safe = spreadsheet_safe(frame)
    assert safe["campaign"].tolist() == ["'=1+1", "ok"]
    assert safe["amount"].tolist() == [-3.0, 2.0] and frame["campaign"][0] == "=1+1"


def test_decision_batch_csv_export_escapes_a_hostile_campaign_id() -> None:
    """A campaign id carried in from an ads export reaches the batch CSV as text only."""
    row = {c: None for c in DECISION_COLUMNS} | {
        "campaign_id": '=HYPERLINK("http://evil")',
        "created_at": "2026-01-01T00:00:00",
        "amount": -5.0,
    }
    text = export_batch(pd.DataFrame([row], columns=DECISION_COLUMNS), "csv")
    (record,) = list(csv.DictReader(io.StringIO(text)))
    assert record["campaign_id"] == '\'=HYPERLINK("http://evil")'
    assert record["amount"] == "-5.0"
