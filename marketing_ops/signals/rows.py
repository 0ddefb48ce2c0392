"""Row validation: raw cells to typed raw-table rows, or a reject that says why.

Every received row ends up either loaded or rejected (never dropped): a reject names the
line, the field, the reason and the offending value (masked when it is an email or phone).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marketing_ops.signals.currency import Reporting
from marketing_ops.signals.privacy import email_key, mask, phone_key
from marketing_ops.signals.sources import (
    RAW_TABLES,
    REPORTING_AMOUNTS,
    ColumnRule,
    SourcesConfig,
    SourceSpec,
)

__all__ = [
    "MAX_AGE_DAYS",
    "FUTURE_GRACE_DAYS",
    "Reject",
    "RowProblem",
    "RowBuilder",
    "scrub",
    "parse_number",
]

MAX_AGE_DAYS = 5 * 366  # "more than 5 years back" is a sense check, not a hard business rule
FUTURE_GRACE_DAYS = 1  # a day ahead of UTC is still today somewhere (time zones)
_EMAIL = re.compile(r"[^\s@,;\"'<>]+@[^\s@,;\"'<>]+\.[A-Za-z]{2,}")
_NULLS = {"", "--", "null", "none", "nan", "n/a"}
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}
_EPOCH = datetime(1970, 1, 1)
_GA4_DATE = re.compile(r"\d{8}")  # GA4 event_date "YYYYMMDD"
_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+")  # "1,234,567": commas group thousands
# Column types whose converter returns a date or datetime (the future-date check applies).
_DATED_TYPES = frozenset({"date", "timestamp", "local_timestamp", "timestamp_micros"})
_RAW_VALUE_LIMIT = 200


@dataclass(frozen=True)
class Reject:
    """One rejected row: what ``raw.rejects`` stores."""

    line: int
    field: str
    reason: str
    raw_value: str | None
    partition_date: date | None = None


class RowProblem(ValueError):
    """A value failed its type or sense check."""

    def __init__(self, field: str, reason: str, raw_value: Any = None, pii: bool = False) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        text = None if raw_value is None else str(raw_value)
        if text is not None:
            text = mask(text) if pii else scrub(text)[:_RAW_VALUE_LIMIT]
        self.raw_value = text


def scrub(text: str) -> str:
    """Mask anything email-shaped: rejects and error files must never carry raw emails."""
    return _EMAIL.sub(lambda m: mask(m.group(0)), text)


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _NULLS)


def parse_number(value: Any) -> float:
    """Numbers as exports write them: ``1,234.5``, ``1.234,5`` (decimal comma), ``12,5``."""
    if isinstance(value, bool):
        raise ValueError("boolean where a number was expected")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        if _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    result = float(text)
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return result


def _date(value: Any) -> date:
    text = str(value).strip()
    if _GA4_DATE.fullmatch(text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    if len(text) == 10:
        return date.fromisoformat(text)
    return _timestamp(text, None).date()


def _timestamp(value: Any, zone: ZoneInfo | None, out: ZoneInfo | None = None) -> datetime:
    """ISO-8601 (``Z``, offsets, space or ``T``) to a naive time in ``out`` (UTC when None);
    naive input is in ``zone`` (UTC when None). A trailing zone name (``... Europe/Berlin``)
    is honoured."""
    text = str(value).strip()
    head, _, tail = text.rpartition(" ")
    if head and "/" in tail:
        try:
            zone = ZoneInfo(tail)
            text = head
        except (ZoneInfoNotFoundError, ValueError):
            pass
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None and zone is not None:
        parsed = parsed.replace(tzinfo=zone)
    if parsed.tzinfo is None and out is not None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(out or UTC).replace(tzinfo=None)
    return parsed


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected true/false")


def _actions(value: Any, purchase_types: frozenset[str]) -> float:
    """Sum of Meta ``actions``/``action_values`` entries whose type counts as a purchase.

    A plain number is already that sum (the column's default when the cell is empty)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    items = json.loads(value) if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("expected a JSON list of {action_type, value}")
    total = 0.0
    for item in items:
        if not isinstance(item, dict) or "action_type" not in item:
            raise ValueError("expected a JSON list of {action_type, value}")
        if item["action_type"] in purchase_types:
            total += parse_number(item.get("value", 0))
    return total


_DATE_ONLY = re.compile(r"\s*\d{4}-?\d{2}-?\d{2}\s*")


def _check_order(out: dict[str, Any], values: dict[str, Any], smaller: str, larger: str) -> None:
    """``smaller <= larger`` or RowProblem. A date-only ``larger`` on ``smaller``'s day (a CRM
    close date without a time, on the deal's creation day) means "that day": it is read as the
    ``smaller`` time rather than rejected, so one such deal never fails the day's checks."""
    a, b = out.get(smaller), out.get(larger)
    if a is None or b is None or a <= b:
        return
    raw = values.get(larger)
    same_day = isinstance(a, datetime) and isinstance(b, datetime) and a - b < timedelta(days=1)
    if same_day and isinstance(raw, str) and _DATE_ONLY.fullmatch(raw):
        out[larger] = a
        return
    raise RowProblem(smaller, f"{smaller} > {larger}", f"{a} > {b}")


# What build() needs of one column, taken from its rule once per builder rather than per row:
# (column, converter, type, pii, reject_empty, default, required, min, dated).
_ColumnPlan = tuple[str, Callable[[Any], Any], str, bool, bool, Any, bool, float | None, bool]


def _column_plan(column: str, convert: Callable[[Any], Any], rule: ColumnRule) -> _ColumnPlan:
    """The column's rule as build() reads it. ``dated``: the converter returns a date or a
    datetime (date and timestamp types; no other converter does), so the future-date check
    applies to every value it converts."""
    return (
        column,
        convert,
        rule.type,
        rule.type in ("email_key", "phone_key"),
        rule.empty_cell == "reject",
        rule.default,
        rule.required,
        rule.min,
        rule.type in _DATED_TYPES,
    )


def _row_getter(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function from a dict holding every column to the tuple of its values in ``columns``
    order (itemgetter; of a single key it would return the bare value, not a 1-tuple)."""
    if len(columns) < 2:
        return lambda out: tuple(out[c] for c in columns)
    return itemgetter(*columns)


@dataclass
class RowBuilder:
    """Turns one source's raw values into rows in raw-table column order.

    Built once per file: the time zone (offline conversions) and today's date (sense checks)
    are per file, the rules per source. Timestamps come out naive in the reporting time zone
    and amounts gain their reporting-currency twins (:mod:`marketing_ops.signals.currency`)."""

    source: str
    spec: SourceSpec
    config: SourcesConfig
    pii_key: bytes
    today: date
    time_zone: ZoneInfo | None = None  # of naive timestamps: the file's, else the source's
    file_day: date | None = None  # catalogue snapshots: the day comes from the file name
    reporting: Reporting = field(default_factory=Reporting)
    columns: tuple[str, ...] = field(init=False)
    _converters: list[tuple[str, Callable[[Any], Any]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.time_zone is None and self.spec.time_zone is not None:
            self.time_zone = ZoneInfo(self.spec.time_zone)
        self._out = None if self.reporting.is_utc else self.reporting.zone
        self._amounts = tuple(REPORTING_AMOUNTS.get(self.source, {}).items())
        self.columns = tuple(c for c, _ in RAW_TABLES[self.source])
        self._purchase_types = frozenset(self.config.meta_purchase_actions)
        self._oldest = self.today - timedelta(days=MAX_AGE_DAYS)
        self._latest = self.today + timedelta(days=FUTURE_GRACE_DAYS)
        self._converters = [
            (c, self._converter(c, self.spec.columns[c]))
            for c in self.columns
            if c in self.spec.columns
        ]
        self._plan = tuple(
            _column_plan(c, convert, self.spec.columns[c]) for c, convert in self._converters
        )
        self._blank = dict.fromkeys(self.columns)  # every raw-table column, None until set
        self._row = _row_getter(self.columns)
        self._checks = list(self.spec.checks)

    @property
    def oldest(self) -> date:
        """Rows describing a day before this are rejected (more than 5 years back)."""
        return self._oldest

    @property
    def latest(self) -> date:
        """Dates after this are rejected (in the future)."""
        return self._latest

    def default_value(self, column: str) -> tuple[bool, Any]:
        """``(usable, value)`` of the column's default, converted and checked like a cell."""
        rule = self.spec.columns[column]
        if rule.default is None:
            return False, None
        try:
            value = dict(self._converters)[column](rule.default)
        except (ValueError, TypeError, OverflowError):
            return False, None
        if rule.min is not None and isinstance(value, int | float) and value < rule.min:
            return False, None
        return True, value

    def _keyed_email_text(self, value: str) -> str:
        key = email_key(self.pii_key, value)
        return f"email_key:{key}" if key else mask(value)

    def _converter(self, column: str, rule: ColumnRule) -> Callable[[Any], Any]:
        kind = rule.type
        if kind == "text":
            lookup = {k.strip().lower(): v for k, v in rule.values.items()}
            compact = rule.compact

            def text(v: Any) -> Any:
                s = str(v).strip()
                if "@" in s:
                    # An email typed into a free-text field (a UTM tag, a campaign name) is
                    # still an email: it is keyed like the email columns, never stored raw.
                    s = _EMAIL.sub(lambda m: self._keyed_email_text(m.group(0)), s)
                if not lookup and not compact:
                    return s  # no synonyms to map, nothing to compact (most text columns)
                lowered = s.lower()
                mapped = lookup.get(lowered)
                if mapped is not None:
                    return mapped
                return lowered.replace(" ", "") if compact else s

            return text
        if kind == "int":

            def whole(v: Any) -> int:
                number = parse_number(v)
                if number != int(number):
                    raise ValueError("expected a whole number")
                if abs(number) >= 2**63:
                    raise ValueError("whole number out of range")
                return int(number)

            return whole
        if kind == "float":
            return parse_number
        if kind == "date":
            return _date
        if kind in ("timestamp", "local_timestamp"):
            return lambda v: _timestamp(v, self.time_zone, self._out)
        if kind == "timestamp_micros":

            def micros(v: Any) -> datetime:
                utc = _EPOCH + timedelta(microseconds=int(parse_number(v)))
                if self._out is None:
                    return utc
                return utc.replace(tzinfo=UTC).astimezone(self._out).replace(tzinfo=None)

            return micros
        if kind == "bool":
            return _bool
        if kind == "currency":

            def currency(v: Any) -> str:
                code = str(v).strip().upper()
                if code not in self.config.currencies:
                    raise ValueError("unknown currency (not in the ISO list of sources.yaml)")
                return code

            return currency
        if kind == "email_key":

            def keyed_email(v: Any) -> str:
                key = email_key(self.pii_key, str(v))
                if key is None:
                    raise ValueError("not an email address")
                return key

            return keyed_email
        if kind == "phone_key":

            def keyed_phone(v: Any) -> str:
                key = phone_key(self.pii_key, str(v))
                if key is None:
                    raise ValueError("not a phone number")
                return key

            return keyed_phone
        if kind == "json_actions":
            return lambda v: _actions(v, self._purchase_types)
        raise AssertionError(f"unhandled column type {kind}")  # pydantic limits the types

    def build(self, values: dict[str, Any]) -> tuple[tuple[Any, ...], date]:
        """Typed row in raw-table order and its partition date, or RowProblem."""
        out = self._blank.copy()  # a column left as None is a NULL in the row
        latest = self._latest
        for column, convert, kind, pii, reject_empty, default, required, least, dated in self._plan:
            raw = values.get(column)
            if _is_null(raw):
                if reject_empty and column in values:
                    raise RowProblem(column, f"{column} missing (empty cell, no default for it)")
                if default is not None:
                    raw = default
                elif required:
                    raise RowProblem(column, "required value missing", raw)
                else:
                    continue
            try:
                value = convert(raw)
            except (ValueError, TypeError, OverflowError, json.JSONDecodeError) as exc:
                raise RowProblem(column, scrub(f"{kind}: {exc}"), raw, pii=pii) from None
            if least is not None and isinstance(value, int | float) and value < least:
                word = "negative" if least == 0 else f"below {least:g}"
                raise RowProblem(column, f"{word} value", raw)
            if dated:
                day = value.date() if isinstance(value, datetime) else value
                if day > latest:
                    raise RowProblem(column, "date in the future", raw)
            out[column] = value
        for smaller, larger in self._checks:
            _check_order(out, values, smaller, larger)
        day = self._partition_day(out, values)
        for amount, reporting in self._amounts:
            try:
                out[reporting] = self.reporting.rates.convert(
                    out.get(amount), out.get("currency"), day
                )
            except ValueError as exc:
                raise RowProblem("currency", str(exc), out.get("currency")) from None
        return self._row(out), day

    def _partition_day(self, out: dict[str, Any], values: dict[str, Any]) -> date:
        column = self.spec.partition
        if column is None:
            if self.file_day is None:
                raise RowProblem("(file name)", "no date in the file name to partition by")
            return self.file_day
        value = out.get(column)
        if value is None:
            raise RowProblem(column, "no date to partition by", values.get(column))
        day = value.date() if isinstance(value, datetime) else value
        if day < self._oldest:
            raise RowProblem(column, "date more than 5 years back", values.get(column))
        return day
