"""Reporting currency and time zone: what makes amounts and timestamps comparable.

Both live in the data home, beside the data they describe, because they are facts about one
business, not about this code:

- ``reference/reporting.yaml`` (optional): ``currency`` (default EUR), ``time_zone`` (default
  UTC), ``rates_file`` (default ``fx_rates.csv``), ``rates_base`` (the currency the rates are
  quoted against, default EUR) and ``max_rate_age_days`` (default 7: a Friday rate still
  serves the weekend and a holiday, not a month).
- ``reference/fx_rates.csv``: the ECB's own layout, ``Date,USD,JPY,GBP,...``, one row per day,
  each value the units of that currency per one unit of ``rates_base`` (the ECB's
  ``eurofxref-hist.csv`` can be dropped in as it is; ``N/A`` and blanks are gaps).

An amount in currency X on day D becomes ``amount / (rate_X / rate_R)`` in the reporting
currency R, with the latest rates on or before D (at most ``max_rate_age_days`` old). Rows in
the reporting currency (or with no currency: the account's own) are taken as they are. A row
whose currency has no usable rate is rejected with that reason, never loaded half-converted;
adding the rate and re-running the day brings it back from the archive.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "REPORTING_FILE",
    "FxRates",
    "Reporting",
    "ReportingConfigError",
    "ReportingSettings",
    "load_reporting",
]

REPORTING_FILE = "reporting.yaml"
_MISSING = {"", "n/a", "na", "-", "--", "null"}


class ReportingConfigError(ValueError):
    """reporting.yaml or the rates table is wrong; the message names the file, line and field."""


class ReportingSettings(BaseModel):
    """``reference/reporting.yaml``."""

    model_config = ConfigDict(extra="forbid")
    currency: str = "EUR"
    time_zone: str = "UTC"
    rates_file: str = "fx_rates.csv"
    rates_base: str = "EUR"
    max_rate_age_days: int = Field(default=7, ge=0)

    @field_validator("currency", "rates_base")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"expected a three-letter ISO 4217 code, got {value!r}")
        return code

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (expected e.g. Europe/Berlin)") from exc
        return value


@dataclass(frozen=True)
class FxRates:
    """Divisors to the reporting currency per currency and day (``amount / divisor``)."""

    reporting: str
    max_age_days: int = 7
    origin: str = "no rates table"
    divisors: dict[str, tuple[list[date], list[float]]] = field(default_factory=dict)

    def divisor(self, currency: str, day: date) -> float:
        """The divisor for ``currency`` on ``day``; ValueError saying why there is none."""
        series = self.divisors.get(currency)
        if series is None:
            raise ValueError(f"no exchange rate {currency}->{self.reporting} in {self.origin}")
        days, values = series
        i = bisect.bisect_right(days, day) - 1
        if i < 0 or (day - days[i]).days > self.max_age_days:
            raise ValueError(
                f"no exchange rate {currency}->{self.reporting} on or up to "
                f"{self.max_age_days} days before {day.isoformat()} in {self.origin}"
            )
        return values[i]

    def convert(self, amount: float | None, currency: str | None, day: date) -> float | None:
        """``amount`` in the reporting currency (None stays None)."""
        if amount is None or currency is None or currency == self.reporting:
            return amount
        return amount / self.divisor(currency, day)

    def table(self) -> list[tuple[str, date, float]]:
        """``(currency, day, divisor)`` rows, for joins inside DuckDB."""
        return [
            (cur, d, v)
            for cur, (days, values) in self.divisors.items()
            for d, v in zip(days, values, strict=True)
        ]

    @property
    def fingerprint(self) -> str:
        """Changes whenever the rates (or the reporting currency) change."""
        digest = hashlib.sha256(f"{self.reporting}|{self.max_age_days}".encode())
        for row in sorted(self.table()):
            digest.update(repr(row).encode())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Reporting:
    """The reporting currency with its rates, and the reporting time zone."""

    currency: str = "EUR"
    time_zone: str = "UTC"
    rates: FxRates = field(default_factory=lambda: FxRates("EUR"))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def is_utc(self) -> bool:
        return self.time_zone in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu")


def _read_rates(path: Path, settings: ReportingSettings) -> FxRates:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or header[0].strip().lower() != "date":
        raise ReportingConfigError(
            f"{path}: line 1: expected the ECB layout `Date,USD,JPY,...` (first column Date)"
        )
    codes = [h.strip().upper() for h in header[1:]]
    per_base: dict[str, dict[date, float]] = {c: {} for c in codes if c}
    for line, cells in enumerate(reader, start=2):
        if not cells or not "".join(cells).strip():
            continue
        try:
            day = date.fromisoformat(cells[0].strip())
        except ValueError:
            raise ReportingConfigError(
                f"{path}: line {line}: field Date: expected YYYY-MM-DD, got {cells[0]!r}"
            ) from None
        for code, cell in zip(codes, cells[1:], strict=False):  # ECB rows end in a comma
            if not code or cell.strip().lower() in _MISSING:
                continue
            try:
                rate = float(cell)
            except ValueError:
                raise ReportingConfigError(
                    f"{path}: line {line}: field {code}: expected a number, got {cell!r}"
                ) from None
            if not rate > 0:
                raise ReportingConfigError(
                    f"{path}: line {line}: field {code}: a rate must be positive, got {cell!r}"
                )
            per_base[code][day] = rate
    base, reporting = settings.rates_base, settings.currency
    per_base[base] = {}  # the base is 1 on every day any rate is quoted

    def rate(code: str, day: date) -> float | None:
        return 1.0 if code == base else per_base.get(code, {}).get(day)

    quoted_days = sorted({d for rates in per_base.values() for d in rates})
    divisors: dict[str, tuple[list[date], list[float]]] = {}
    for code in per_base:
        if code == reporting:
            continue
        days, values = [], []
        for day in quoted_days:
            r_x, r_r = rate(code, day), rate(reporting, day)
            if r_x is not None and r_r is not None:
                days.append(day)
                values.append(r_x / r_r)
        if days:
            divisors[code] = (days, values)
    return FxRates(reporting, settings.max_rate_age_days, f"reference/{path.name}", divisors)


def load_reporting(reference_dir: Path | None) -> Reporting:
    """Settings and rates from ``reference_dir`` (defaults when it holds neither)."""
    settings = ReportingSettings()
    if reference_dir is not None:
        path = Path(reference_dir) / REPORTING_FILE
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                settings = ReportingSettings.model_validate(data)
            except yaml.YAMLError as exc:
                raise ReportingConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                    for err in exc.errors()
                )
                raise ReportingConfigError(f"{path}: {problems}") from exc
    rates = FxRates(settings.currency, settings.max_rate_age_days)
    if reference_dir is not None:
        rates_path = Path(reference_dir) / settings.rates_file
        if rates_path.is_file():
            rates = _read_rates(rates_path, settings)
        else:
            rates = FxRates(
                settings.currency,
                settings.max_rate_age_days,
                f"reference/{settings.rates_file} (missing)",
            )
    return Reporting(settings.currency, settings.time_zone, rates)
