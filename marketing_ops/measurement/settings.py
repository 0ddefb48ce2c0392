"""How the warehouse measures: attribution settings and channel grouping overrides.

People edit ``<data home>/measurement.yaml`` (optional; the defaults below apply without
it)::

    measurement:
      attribution:
        lookback_days: 30            # a touch counts for conversions up to 30 days later
        half_life_days: 7            # time decay: a touch a week earlier weighs half
        first_touch_share: 0.4       # position-based: first and last touch shares
        last_touch_share: 0.4
        training_days: 90            # Markov and Shapley learn from the last 90 days
      channel_grouping:              # tried before the default GA4-like rules, in order
        - source: "partner-blog\\.example"
          medium: referral
          channel: referral
          description: Our partner's blog

The file is validated by pydantic; every error names the file, the field and the form
expected. The numbers reach dbt as vars (numbers only); the grouping rules reach it as rows
of ``config.channel_grouping_overrides`` (parameterised inserts), never as SQL text.
Changing the grouping or the lookback changes past journeys and channels: rebuild history
(a full refresh) for old days to follow.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from marketing_ops.config import DBT_PROJECT_DIR

__all__ = [
    "SETTINGS_FILE",
    "AttributionSettings",
    "ChannelRule",
    "MeasurementSettings",
    "MeasurementSettingsError",
    "known_channels",
    "load_measurement_settings",
]

SETTINGS_FILE = "measurement.yaml"
_SECTION = "measurement"


class MeasurementSettingsError(ValueError):
    """measurement.yaml is not what it should be; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def known_channels() -> tuple[str, ...]:
    """The channels of ``dbt_project/seeds/channels.csv``: the only ones a rule may name."""
    with (DBT_PROJECT_DIR / "seeds" / "channels.csv").open(newline="") as f:
        return tuple(row["channel"] for row in csv.DictReader(f))


class AttributionSettings(_Strict):
    """Multi-touch attribution (dbt vars of the same names, prefixed ``attribution_``)."""

    lookback_days: int = Field(30, ge=1, le=365, json_schema_extra={"expected": "days, 1 to 365"})
    half_life_days: float = Field(
        7.0, ge=0.01, le=365, json_schema_extra={"expected": "days, 0.01 to 365"}
    )
    first_touch_share: float = Field(0.4, ge=0, le=1, json_schema_extra={"expected": "0 to 1"})
    last_touch_share: float = Field(0.4, ge=0, le=1, json_schema_extra={"expected": "0 to 1"})
    training_days: int = Field(90, ge=1, le=730, json_schema_extra={"expected": "days, 1 to 730"})

    @model_validator(mode="after")
    def _shares_fit(self) -> AttributionSettings:
        if self.first_touch_share + self.last_touch_share > 1:
            raise ValueError("first_touch_share + last_touch_share must not exceed 1")
        return self

    def dbt_vars(self) -> dict[str, float | int]:
        return {
            "attribution_lookback_days": self.lookback_days,
            "attribution_half_life_days": self.half_life_days,
            "attribution_first_touch_share": self.first_touch_share,
            "attribution_last_touch_share": self.last_touch_share,
        }


class ChannelRule(_Strict):
    """A channel grouping rule: regular expressions fully matched against the lower-cased
    source and medium of a visit or deal."""

    source: str = Field(json_schema_extra={"expected": "a regular expression"})
    medium: str = Field(json_schema_extra={"expected": "a regular expression"})
    channel: str = Field(json_schema_extra={"expected": "a channel of seeds/channels.csv"})
    description: str = ""

    @field_validator("source", "medium")
    @classmethod
    def _regex(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty (use .* to match anything)")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a regular expression ({exc})") from exc
        return value

    @field_validator("channel")
    @classmethod
    def _known(cls, value: str) -> str:
        channels = known_channels()
        if value not in channels:
            raise ValueError(f"unknown channel {value!r}; expected one of {', '.join(channels)}")
        return value


class MeasurementSettings(_Strict):
    attribution: AttributionSettings = Field(default_factory=AttributionSettings)
    channel_grouping: list[ChannelRule] = Field(default_factory=list)


def _describe(path: Path, error: Any) -> str:
    """`measurement.yaml: measurement.attribution.lookback_days: <what is wrong>, got 0`."""
    where = ".".join(str(part) for part in (_SECTION, *error["loc"]))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{path.name}: {where}: no such setting"
    if error["type"] == "missing":
        return f"{path.name}: {where}: missing"
    return f"{path.name}: {where}: {message}, got {error.get('input')!r}"


def load_measurement_settings(home_root: Path) -> MeasurementSettings:
    """``<home_root>/measurement.yaml`` validated; the defaults when the file is absent."""
    path = Path(home_root) / SETTINGS_FILE
    if not path.exists():
        return MeasurementSettings()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise MeasurementSettingsError(f"{path.name}: not valid YAML ({exc})") from exc
    if doc is None:
        return MeasurementSettings()
    if not isinstance(doc, dict) or set(doc) != {_SECTION}:
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise MeasurementSettingsError(
            f"{path.name}: expected exactly one top-level key `{_SECTION}:`, got {found}"
        )
    try:
        return MeasurementSettings.model_validate(doc[_SECTION] or {})
    except ValidationError as exc:
        raise MeasurementSettingsError(
            "\n".join(dict.fromkeys(_describe(path, e) for e in exc.errors()))
        ) from exc
