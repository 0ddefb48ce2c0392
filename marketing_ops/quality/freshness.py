"""Signal freshness: has each source's data arrived as recently as it should have?

A source is fresh when its newest loaded day (``raw.file_log``) is at least the *expected
day*: by ``deadline_hour_utc`` each day, the data of ``max_lag_days`` ago must be in; before
the deadline, one day less is enough. The defaults suit daily exports (yesterday's data by
09:00 UTC); ``<data home>/reference/freshness.yaml`` changes them, per source if needed:

.. code-block:: yaml

    deadline_hour_utc: 9
    max_lag_days: 1
    sources:
      offline_conversions: {max_lag_days: 3}   # uploaded twice a week
      content_assets: {max_lag_days: null}     # a catalogue: no daily expectation

Data freshness, not run freshness: a run that loaded nothing new does not make a source fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = [
    "FreshnessPolicy",
    "FreshnessVerdict",
    "SourceFreshness",
    "check_freshness",
    "expected_day",
    "load_freshness_policy",
]


class SourceFreshness(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_lag_days: int | None = Field(default=1, ge=0, le=366)
    deadline_hour_utc: int | None = Field(default=None, ge=0, le=23)


# A catalogue changes when people edit it, not daily: no expectation unless the file sets one.
DEFAULT_SOURCES = {"content_assets": SourceFreshness(max_lag_days=None)}


class FreshnessPolicy(BaseModel):
    """When each source's data must have arrived."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_hour_utc: int = Field(default=9, ge=0, le=23)
    max_lag_days: int = Field(default=1, ge=0, le=366)
    sources: dict[str, SourceFreshness] = Field(default_factory=dict, validate_default=True)

    @field_validator("sources", mode="after")
    @classmethod
    def _keep_defaults(cls, sources: dict[str, SourceFreshness]) -> dict[str, SourceFreshness]:
        """A file naming some sources keeps the defaults of the others (the catalogue)."""
        return {**DEFAULT_SOURCES, **sources}

    def for_source(self, source: str) -> tuple[int | None, int]:
        """(max lag in days or None for no expectation, deadline hour) for one source."""
        own = self.sources.get(source)
        if own is None:
            return self.max_lag_days, self.deadline_hour_utc
        hour = (
            own.deadline_hour_utc if own.deadline_hour_utc is not None else self.deadline_hour_utc
        )
        return own.max_lag_days, hour


def load_freshness_policy(path: Path) -> FreshnessPolicy:
    """The policy in ``path`` (defaults when it does not exist); errors name file and field."""
    if not path.exists():
        return FreshnessPolicy()
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML ({exc})") from None
    try:
        return FreshnessPolicy.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{path.name}: {where}: {first['msg']}") from None


def expected_day(now: datetime, max_lag_days: int, deadline_hour_utc: int) -> date:
    """The newest day whose data must be in at ``now`` (UTC)."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    lag = max_lag_days if now.hour >= deadline_hour_utc else max_lag_days + 1
    return now.date() - timedelta(days=lag)


@dataclass(frozen=True)
class FreshnessVerdict:
    source: str
    last_day: date | None
    expected_day: date | None
    passed: bool
    description: str

    @property
    def days_late(self) -> int:
        if self.expected_day is None or self.passed:
            return 0
        if self.last_day is None:
            return -1
        return (self.expected_day - self.last_day).days


def check_freshness(
    last_days: dict[str, date | None],
    now: datetime,
    policy: FreshnessPolicy,
    sources: list[str],
) -> list[FreshnessVerdict]:
    """One verdict per source: fresh when its newest day reaches the expected day."""
    out = []
    for source in sources:
        last = last_days.get(source)
        lag, hour = policy.for_source(source)
        if lag is None:
            out.append(
                FreshnessVerdict(source, last, None, True, "no freshness expectation (policy)")
            )
            continue
        expected = expected_day(now, lag, hour)
        if last is None:
            out.append(
                FreshnessVerdict(source, None, expected, False, f"no data yet; expected {expected}")
            )
        elif last >= expected:
            out.append(FreshnessVerdict(source, last, expected, True, f"fresh: data up to {last}"))
        else:
            late = (expected - last).days
            out.append(
                FreshnessVerdict(
                    source,
                    last,
                    expected,
                    False,
                    f"stale: newest day {last}, expected {expected} by {hour:02d}:00 UTC "
                    f"({late} day{'s' if late != 1 else ''} late)",
                )
            )
    return out
