"""Bounds on what one inbox file may cost: ``settings/signals.yaml`` in the data home.

A file over any bound is quarantined with the bound it broke, so one poisoned export (a gzip
bomb, a 10 MB cell, a 300-character name) never takes the memory of a run or stops the other
files. A missing file means these defaults, which sit well above real daily exports (a day of
GA4 events at 1 million rows is about 0.7 GB of JSON lines)::

    limits:
      max_file_bytes: 2147483648   # decompressed size
      max_rows: 10000000           # records (lines) per file
      max_field_bytes: 1048576     # one CSV cell
      max_columns: 500             # header width
      max_name_length: 150         # file name, in characters
      settle_seconds: 1.0          # a file modified more recently than this is still being written
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["IngestLimits", "SignalSettingsError", "load_limits"]

SETTINGS_NAME = "signals.yaml"


class SignalSettingsError(ValueError):
    """signals.yaml says something we cannot act on; the message names file and field."""


class IngestLimits(BaseModel):
    """Per-file bounds; a file over one is quarantined with the bound in its error file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    max_file_bytes: int = Field(2 << 30, ge=1, description="bytes after decompression")
    max_rows: int = Field(10_000_000, ge=1, description="a whole number of rows")
    max_field_bytes: int = Field(1 << 20, ge=1024, description="bytes, at least 1024")
    max_columns: int = Field(500, ge=1, description="a whole number of columns")
    max_name_length: int = Field(150, ge=20, le=200, description="characters, 20 to 200")
    settle_seconds: float = Field(1.0, ge=0, le=600, description="seconds, 0 to 600")


class _SettingsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limits: IngestLimits = Field(default_factory=IngestLimits)


def load_limits(settings: Path) -> IngestLimits:
    """The limits of ``<settings>/signals.yaml``, the defaults when there is no such file."""
    path = settings / SETTINGS_NAME
    if not path.is_file():
        return IngestLimits()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return _SettingsFile.model_validate(data).limits
    except (OSError, yaml.YAMLError) as exc:
        raise SignalSettingsError(f"{path}: cannot be read as YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SignalSettingsError(f"{path}: {problems}") from exc
