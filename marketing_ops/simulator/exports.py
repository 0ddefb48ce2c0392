"""The other shapes real tools export the same data in, for worlds with ``export_variants``.

The simulator writes each day's signals in the contract's canonical shape; with variants on,
this module re-renders some days the way the other exports of the same tools look: the data
is the same, only the file differs. Loading a variant world must therefore give exactly the
raw rows of the canonical one (``tests/simulator/test_export_variants.py``).

| source | variants (rotating by day) |
|---|---|
| ga4 | gzipped JSON lines |
| google_ads | Excel download from the UI (UTF-16, tabs, title and date-range lines, `Impr.`, thousands separators, `--`, `Total` rows); API report (`segments.date`, `metrics.cost_micros`, ...) |
| meta_ads | Insights API page as JSON (`{"data": [...]}`, actions as lists) |
| crm_deals | Salesforce-like opportunity export (`Opportunity ID`, `StageName` = `Closed Won`, ...) |
| email_events | `;`-separated with a UTF-8 BOM |
| offline_conversions | no `Parameters:TimeZone=` line; times carry their UTC offset |
| crm_contacts | tab-separated |
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["variant_file"]

_BERLIN = ZoneInfo("Europe/Berlin")


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    body = text
    if body.startswith("Parameters:"):
        body = body.split("\n", 1)[1]
    reader = csv.reader(io.StringIO(body))
    header = next(reader)
    return header, [r for r in reader if r]


def _write(header: list[str], rows: list[list], delimiter: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _thousands(value: str) -> str:
    return f"{int(value):,}"


def _google_ui(text: str, day: date) -> bytes:
    header, rows = _rows(text)
    header = ["Impr." if h == "Impressions" else h for h in header]
    out = []
    for r in rows:
        r = list(r)
        r[3] = _thousands(r[3])
        if float(r[6]) == 0:
            r[6] = "--"
        if float(r[7]) == 0:
            r[7] = "--"
        out.append(r)
    impressions = sum(int(r[3]) for r in rows)
    clicks = sum(int(r[4]) for r in rows)
    cost = sum(float(r[5]) for r in rows)
    totals = [
        [f"Total: {kind}", "--", "--", _thousands(str(impressions)), str(clicks), f"{cost:.2f}",
         "--", "--", "EUR"]
        for kind in ("Account", "Search", "Display")
    ]  # fmt: skip
    if len(header) > 9:  # a geographic report: the totals span every region
        totals = [[*t, "--"] for t in totals]
    span = f"{day:%B} {day.day}, {day.year} - {day:%B} {day.day}, {day.year}"
    body = "Campaign report\n" + span + "\n" + _write(header, out + totals, delimiter="\t")
    return body.encode("utf-16")  # Excel's "CSV": UTF-16 with a BOM, tab-separated


def _google_api(text: str) -> bytes:
    _, rows = _rows(text)
    header = ["segments.date", "campaign.id", "campaign.name", "metrics.impressions",
              "metrics.clicks", "metrics.cost_micros", "metrics.conversions",
              "metrics.conversions_value", "customer.currency_code"]  # fmt: skip
    out = [
        [
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            str(round(float(r[5]) * 1_000_000)),
            r[6],
            r[7],
            r[8],
            *r[9:],
        ]
        for r in rows
    ]
    if rows and len(rows[0]) > 9:  # a geographic report
        header.append("segments.geo_target_region")
    return _write(header, out).encode()


def _meta_api(text: str) -> bytes:
    header, rows = _rows(text)
    records = []
    for r in rows:
        record = dict(zip(header, r, strict=True))
        for key in ("actions", "action_values"):
            record[key] = json.loads(record[key]) if record[key] else []
        records.append(record)
    return json.dumps({"data": records, "paging": {"cursors": {"before": "MAZDZD"}}}).encode()


def _salesforce(text: str) -> bytes:
    _, rows = _rows(text)
    header = ["Opportunity ID", "Email", "CreatedDate", "StageName", "Amount", "CurrencyIsoCode",
              "CloseDate", "utm_source", "utm_medium", "utm_campaign", "utm_content", "gclid"]  # fmt: skip
    stages = {"closedwon": "Closed Won", "closedlost": "Closed Lost"}
    out = [[r[0], r[1], r[2], stages.get(r[3], r[3]), *r[4:]] for r in rows]
    return _write(header, out).encode()


def _offline_with_offsets(text: str) -> bytes:
    header, rows = _rows(text)
    out = []
    for r in rows:
        local = datetime.fromisoformat(r[2]).replace(tzinfo=_BERLIN)
        out.append([r[0], r[1], local.isoformat(sep=" "), r[3], r[4]])
    return _write(header, out).encode()


def _delimited(text: str, delimiter: str, bom: bool = False) -> bytes:
    header, rows = _rows(text)
    return (("\ufeff" if bom else "") + _write(header, rows, delimiter)).encode()


def variant_file(source: str, day: date, day_index: int, text: str, ext: str) -> tuple[str, bytes]:
    """``(file extension, bytes)`` of the day's file: a variant shape on some days, else the
    canonical text as UTF-8."""
    turn = day_index % 3
    if source == "ga4" and day_index % 2:
        return ext + ".gz", gzip.compress(text.encode(), mtime=0)
    if source == "google_ads" and turn == 1:
        return ext, _google_ui(text, day)
    if source == "google_ads" and turn == 2:
        return ext, _google_api(text)
    if source == "meta_ads" and day_index % 2:
        return "json", _meta_api(text)
    if source == "crm_deals" and day_index % 2:
        return ext, _salesforce(text)
    if source == "email_events" and day_index % 2:
        return ext, _delimited(text, ";", bom=True)
    if source == "offline_conversions" and day_index % 2:
        return ext, _offline_with_offsets(text)
    if source == "crm_contacts" and day_index % 2:
        return ext, _delimited(text, "\t")
    return ext, text.encode()
