"""What each source's raw table looks like, and how its exports map onto it.

The raw tables' columns are fixed here, in code, because they are SQL identifiers and
identifiers may only come from internal constants. Which header (or JSON path) feeds which
column is configuration people edit: ``sources.yaml`` beside this module, loaded into pydantic
models so a mistake is reported with the file and the field.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "SOURCES",
    "RAW_TABLES",
    "LINEAGE_COLUMNS",
    "SOURCES_FILE",
    "REPORTING_AMOUNTS",
    "ColumnRule",
    "HeaderVariant",
    "SourceSpec",
    "SourcesConfig",
    "SourcesConfigError",
    "load_sources",
    "scale_divisor",
]

SOURCES: tuple[str, ...] = (
    "ga4",
    "google_ads",
    "meta_ads",
    "crm_deals",
    "crm_contacts",
    "email_events",
    "offline_conversions",
    "content_assets",
)

# docs/contracts.md "Raw tables": source -> (column, DuckDB type), in contract order.
RAW_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "ga4": (
        ("event_date", "DATE"),
        ("event_ts", "TIMESTAMP"),
        ("event_name", "VARCHAR"),
        ("user_pseudo_id", "VARCHAR"),
        ("user_id", "VARCHAR"),
        ("session_id", "BIGINT"),
        ("page_location", "VARCHAR"),
        ("source", "VARCHAR"),
        ("medium", "VARCHAR"),
        ("campaign_name", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("content", "VARCHAR"),
        ("gclid", "VARCHAR"),
        ("revenue", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("transaction_id", "VARCHAR"),
        ("device_category", "VARCHAR"),
        ("country", "VARCHAR"),
        ("revenue_reporting", "DOUBLE"),
        ("region", "VARCHAR"),
    ),
    "google_ads": (
        ("date_day", "DATE"),
        ("campaign_id", "VARCHAR"),
        ("campaign_name", "VARCHAR"),
        ("impressions", "BIGINT"),
        ("clicks", "BIGINT"),
        ("spend", "DOUBLE"),
        ("conversions", "DOUBLE"),
        ("conversions_value", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("spend_reporting", "DOUBLE"),
        ("conversions_value_reporting", "DOUBLE"),
        ("geo", "VARCHAR"),
    ),
    "meta_ads": (
        ("date_day", "DATE"),
        ("account_id", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("campaign_name", "VARCHAR"),
        ("adset_id", "VARCHAR"),
        ("ad_id", "VARCHAR"),
        ("impressions", "BIGINT"),
        ("clicks", "BIGINT"),
        ("spend", "DOUBLE"),
        ("conversions", "DOUBLE"),
        ("conversions_value", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("spend_reporting", "DOUBLE"),
        ("conversions_value_reporting", "DOUBLE"),
        ("geo", "VARCHAR"),
    ),
    "crm_deals": (
        ("deal_id", "VARCHAR"),
        ("contact_key", "VARCHAR"),
        ("created_at", "TIMESTAMP"),
        ("stage", "VARCHAR"),
        ("amount", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("closed_at", "TIMESTAMP"),
        ("utm_source", "VARCHAR"),
        ("utm_medium", "VARCHAR"),
        ("utm_campaign", "VARCHAR"),
        ("utm_content", "VARCHAR"),
        ("gclid", "VARCHAR"),
        ("amount_reporting", "DOUBLE"),
    ),
    "crm_contacts": (
        ("contact_id", "VARCHAR"),
        ("contact_key", "VARCHAR"),
        ("phone_key", "VARCHAR"),
        ("segment", "VARCHAR"),
        ("email_consent", "BOOLEAN"),
        ("ads_consent", "BOOLEAN"),
        ("unsubscribed", "BOOLEAN"),
        ("created_at", "TIMESTAMP"),
    ),
    "email_events": (
        ("event_id", "VARCHAR"),
        ("event_ts", "TIMESTAMP"),
        ("event_type", "VARCHAR"),
        ("contact_key", "VARCHAR"),
        ("message_id", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("content_id", "VARCHAR"),
    ),
    "offline_conversions": (
        ("gclid", "VARCHAR"),
        ("conversion_name", "VARCHAR"),
        ("conversion_ts", "TIMESTAMP"),
        ("conversion_value", "DOUBLE"),
        ("currency", "VARCHAR"),
        ("conversion_value_reporting", "DOUBLE"),
    ),
    "content_assets": (
        ("asset_id", "VARCHAR"),
        ("version", "INTEGER"),
        ("title", "VARCHAR"),
        ("body", "VARCHAR"),
        ("topic", "VARCHAR"),
        ("format", "VARCHAR"),
        ("channel_fit", "VARCHAR"),
        ("compliance_status", "VARCHAR"),
        ("brand_safe", "BOOLEAN"),
        ("regulated_claim", "BOOLEAN"),
        ("created_at", "TIMESTAMP"),
    ),
}

# Money columns converted to the reporting currency on load (docs/contracts.md): the amount as
# the file gave it stays in its column, in the row's `currency`; the converted amount sits
# beside it. The `_reporting` columns are computed, never mapped from a file.
REPORTING_AMOUNTS: dict[str, dict[str, str]] = {
    "ga4": {"revenue": "revenue_reporting"},
    "google_ads": {
        "spend": "spend_reporting",
        "conversions_value": "conversions_value_reporting",
    },
    "meta_ads": {
        "spend": "spend_reporting",
        "conversions_value": "conversions_value_reporting",
    },
    "crm_deals": {"amount": "amount_reporting"},
    "offline_conversions": {"conversion_value": "conversion_value_reporting"},
}

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_file_hash", "VARCHAR"),
    ("_file_name", "VARCHAR"),
    ("_line", "INTEGER"),
    ("_loaded_at", "TIMESTAMP"),
    ("partition_date", "DATE"),
)

SOURCES_FILE = Path(__file__).with_name("sources.yaml")

ColumnType = Literal[
    "text",
    "int",
    "float",
    "date",
    "timestamp",
    "timestamp_micros",
    "local_timestamp",
    "bool",
    "currency",
    "email_key",
    "phone_key",
    "json_actions",
]


class SourcesConfigError(ValueError):
    """sources.yaml is wrong; the message names the file, the field and what was expected."""


class HeaderVariant(BaseModel):
    """One accepted header name, with the factor that brings its unit to the raw column's."""

    model_config = ConfigDict(extra="forbid")
    name: str
    scale: float = 1.0

    @property
    def divisor(self) -> int | None:
        return scale_divisor(self.scale)


def scale_divisor(scale: float) -> int | None:
    """``1/scale`` when that is a whole number (micros: 1,000,000): dividing by it is exact to
    the last bit, where multiplying by 0.000001 is not."""
    if scale <= 0 or scale >= 1:
        return None
    inverse = round(1 / scale)
    return inverse if abs(inverse * scale - 1) < 1e-12 else None


class ColumnRule(BaseModel):
    """How one raw column is found in an export and what a sensible value is."""

    model_config = ConfigDict(extra="forbid")
    headers: list[HeaderVariant] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    type: ColumnType
    required: bool = False
    required_header: bool | None = None
    default: str | float | int | bool | None = None
    # "reject": an empty cell in a file that has the column is a rejected row; the default
    # then only stands in for a column the file lacks (an account's currency, say).
    empty_cell: Literal["default", "reject"] = "default"
    min: float | None = None
    values: dict[str, str] = Field(default_factory=dict)
    compact: bool = False

    @model_validator(mode="before")
    @classmethod
    def _plain_header_names(cls, data: object) -> object:
        # A bare string is the common case in YAML; a mapping carries a scale.
        if isinstance(data, dict) and isinstance(data.get("headers"), list):
            data = dict(data)
            data["headers"] = [{"name": h} if isinstance(h, str) else h for h in data["headers"]]
        return data

    @property
    def header_required(self) -> bool:
        """A file without this column cannot be loaded (it is quarantined)."""
        if self.required_header is not None:
            return self.required_header
        return self.required and self.default is None


_PATH_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SourceSpec(BaseModel):
    """One source: its export format, the column that dates a row, and the column rules."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "jsonl"]
    # A csv source whose tool also exports JSON records (an array, one object per line, or
    # an API page {"data": [...]}); record keys are matched like headers.
    json_records: bool = False
    # The zone of timestamps written without an offset (a CRM exporting portal-local times).
    # None: UTC. The offline-import `Parameters:TimeZone=` line overrides it per file.
    time_zone: str | None = None
    partition: str | None = None
    # The natural key of a row: a newer file's row replaces older rows with the same key.
    key: list[str] = Field(min_length=1)
    columns: dict[str, ColumnRule]
    checks: list[tuple[str, str]] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(
                    f"unknown time zone {value!r} (expected e.g. Europe/Berlin)"
                ) from exc
        return value


class SourcesConfig(BaseModel):
    """The whole of sources.yaml."""

    model_config = ConfigDict(extra="forbid")
    currencies: frozenset[str]
    meta_purchase_actions: tuple[str, ...]
    sources: dict[str, SourceSpec]

    @model_validator(mode="after")
    def _matches_raw_tables(self) -> SourcesConfig:
        # Column names become SQL identifiers: only the contract's columns are allowed.
        for source, spec in self.sources.items():
            if source not in RAW_TABLES:
                raise ValueError(f"sources.{source}: unknown source, expected one of {SOURCES}")
            table_columns = {c for c, _ in RAW_TABLES[source]}
            unknown = set(spec.columns) - table_columns
            if unknown:
                raise ValueError(
                    f"sources.{source}.columns: {sorted(unknown)} are not columns of raw.{source}; "
                    f"expected some of {sorted(table_columns)}"
                )
            if spec.partition is not None and spec.partition not in spec.columns:
                raise ValueError(
                    f"sources.{source}.partition: {spec.partition!r} must be one of its columns"
                )
            unknown_key = set(spec.key) - table_columns
            if unknown_key:
                raise ValueError(
                    f"sources.{source}.key: {sorted(unknown_key)} are not columns of "
                    f"raw.{source}; expected some of {sorted(table_columns)}"
                )
            for pair in spec.checks:
                for col in pair:
                    if col not in spec.columns:
                        raise ValueError(f"sources.{source}.checks: {col!r} is not a column")
            for name, rule in spec.columns.items():
                if spec.format == "csv" and not rule.headers:
                    raise ValueError(f"sources.{source}.columns.{name}.headers: expected a list")
                if spec.format == "jsonl" and not rule.paths:
                    raise ValueError(f"sources.{source}.columns.{name}.paths: expected a list")
                for path in rule.paths:
                    # Path segments name JSON fields inside SQL (bulk loads): identifiers only.
                    if not all(_PATH_SEGMENT.fullmatch(p) for p in path.split(".")) or (
                        path.count(".") > 1
                    ):
                        raise ValueError(
                            f"sources.{source}.columns.{name}.paths: {path!r} must be `field` or "
                            "`object.field` (letters, digits, underscores)"
                        )
        missing = set(SOURCES) - set(self.sources)
        if missing:
            raise ValueError(f"sources: missing {sorted(missing)}")
        return self


def load_sources(path: Path | None = None) -> SourcesConfig:
    """Read and check sources.yaml (the packaged one unless ``path`` is given).

    Errors name the file and the dotted field, e.g.
    ``sources.yaml: sources.google_ads.columns.spend.type: Input should be 'text', ...``."""
    path = Path(path) if path is not None else SOURCES_FILE
    if path == SOURCES_FILE:
        return _packaged_sources()
    return _parse(path)


@cache
def _packaged_sources() -> SourcesConfig:
    return _parse(SOURCES_FILE)


def _parse(path: Path) -> SourcesConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourcesConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    try:
        return SourcesConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SourcesConfigError(f"{path}: {problems}") from exc
