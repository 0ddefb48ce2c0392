"""Forecast settings people edit: ``forecasting.yaml``.

The packaged file beside this module holds the defaults; a data home may carry its own
``settings/forecasting.yaml`` (the holiday country, the forecast horizon, how many bootstrap
draws...). It loads into pydantic models so a typo fails loudly, and errors name the file,
the dotted field and the form that was expected. The settings' ``version`` is a short hash of
their effective content: it goes into every model version, so a backtest is always stored
next to the exact configuration that produced it.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# in <data home>/settings: the lift tests the media mix model calibrates on (docs/contracts.md)
EXPERIMENTS_FILE = "experiments.csv"

__all__ = [
    "EXPERIMENTS_FILE",
    "AudienceSettings",
    "BacktestSettings",
    "ForecastSettings",
    "ForecastSettingsError",
    "MMMSettings",
    "ResponseSettings",
    "SETTINGS_FILE",
    "load_forecast_settings",
]

SETTINGS_FILE = Path(__file__).with_name("forecasting.yaml")


class ForecastSettingsError(ValueError):
    """forecasting.yaml says something we cannot act on; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BacktestSettings(_Strict):
    """Rolling-origin backtest: ``origins`` cut-offs, one horizon apart, at the end of history."""

    origins: int = Field(4, ge=1, le=52, description="a whole number of cut-offs, 1 to 52")
    horizon_days: int = Field(7, ge=1, le=90, description="a whole number of days, 1 to 90")
    # A model whose MASE exceeds the seasonal-naive MASE on the same held-out days times this
    # ratio is flagged by the asset check.
    max_mase_ratio_vs_naive: float = Field(1.0, gt=0, description="a number > 0, 1.0 = no worse")
    # Backtests cost a fit per origin and series: one per model version every this many days
    # is enough (a closed loop decides daily); a new model version is backtested at once.
    every_days: int = Field(7, ge=1, le=365, description="a whole number of days, 1 to 365")


class AudienceSettings(_Strict):
    """Baselines per audience segment, for segments with enough history to learn from."""

    enabled: bool = True
    min_history_days: int = Field(56, ge=14, description="a whole number of days >= 14")
    min_daily_conversions: float = Field(1.0, ge=0, description="a number of conversions >= 0")


class ResponseSettings(_Strict):
    """Adstock + Hill response curves per paid channel."""

    channels: list[str] = Field(
        default_factory=lambda: ["paid_search", "display", "paid_social", "email"],
        description="a list of channel names",
    )
    bootstrap_draws: int = Field(30, ge=0, le=500, description="a whole number of draws, 0-500")
    block_days: int = Field(14, ge=1, le=90, description="a whole number of days, 1 to 90")
    min_history_days: int = Field(56, ge=14, description="a whole number of days >= 14")
    seed: int = 0


class MMMSettings(_Strict):
    """The media mix model behind the response curves when ``response_model: mmm``."""

    warmup: int = Field(300, ge=10, le=5000, description="a whole number of steps, 10-5000")
    draws: int = Field(300, ge=10, le=5000, description="a whole number of draws, 10-5000")
    chains: int = Field(2, ge=1, le=8, description="a whole number of chains, 1-8")
    seed: int = 0
    # Posterior draws stored as response-curve rows (draw 1..N) for the decision layer.
    curve_draws: int = Field(100, ge=1, le=1000, description="a whole number of draws, 1-1000")
    # A fit is reused for this many days (same model version) before the model is refitted.
    refit_days: int = Field(7, ge=1, le=90, description="a whole number of days, 1 to 90")
    # ``response_model: auto`` decides on the media mix model once the KPI history has this
    # many days (a year: the base's yearly season must be told from the media), else on the
    # attributed curves.
    min_history_days: int = Field(365, ge=56, description="a whole number of days >= 56")


class ForecastSettings(_Strict):
    """Everything the forecasts stage can be told without touching code."""

    country: str = Field("US", description="a country code the holidays package knows (US, DE...)")
    horizon_days: int = Field(7, ge=1, le=90, description="a whole number of days, 1 to 90")
    history_days: int = Field(730, ge=28, description="a whole number of days >= 28")
    interval_width: float = Field(0.8, gt=0, lt=1, description="a share between 0 and 1")
    uncertainty_samples: int = Field(200, ge=20, description="a whole number of samples >= 20")
    seasonality_mode: Literal["additive", "multiplicative"] = "multiplicative"
    metrics: list[Literal["conversions", "revenue"]] = Field(
        default_factory=lambda: ["conversions", "revenue"]
    )
    workers: int = Field(2, ge=1, le=64, description="a whole number of processes, 1 to 64")
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    audiences: AudienceSettings = Field(default_factory=AudienceSettings)
    response: ResponseSettings = Field(default_factory=ResponseSettings)
    # Curves behind decisions: per channel on attributed conversions, or the media mix model
    # of the total KPI (every channel's conversions summed; spend per paid channel); ``auto``:
    # the media mix model once the history has ``mmm.min_history_days`` days (curves_model).
    response_model: Literal["auto", "attributed", "mmm"] = "auto"
    mmm: MMMSettings = Field(default_factory=MMMSettings)

    def curves_model(self, history_days: int) -> Literal["attributed", "mmm"]:
        """The model behind the response curves for a KPI history of ``history_days`` days:
        ``response_model`` as written, ``auto`` resolved (the media mix model from
        ``mmm.min_history_days`` days on). Attributed conversions over-credit the channels that
        claim most (ad platforms, last click), so a history long enough for the model of the
        total KPI decides on that model."""
        if self.response_model != "auto":
            return self.response_model
        return "mmm" if history_days >= self.mmm.min_history_days else "attributed"

    @field_validator("country")
    @classmethod
    def _known_country(cls, v: str) -> str:
        import holidays

        code = v.strip().upper()
        if code not in holidays.list_supported_countries():
            raise ValueError(f"unknown holiday country {v!r}")
        return code

    @property
    def version(self) -> str:
        """Short hash of the effective settings (defaults filled in, comments ignored)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def _describe(path: Path, err: dict[str, Any]) -> str:
    dotted = ".".join(["forecasting", *(str(p) for p in err["loc"])])
    where = f"{path.name}: {dotted}"
    if err["type"] == "extra_forbidden":
        return f"{where}: no such setting"
    model: Any = ForecastSettings
    info = None
    for part in err["loc"]:
        fields = getattr(model, "model_fields", {})
        if isinstance(part, str) and part in fields:
            info = fields[part]
            model = info.annotation
    expected = getattr(info, "description", None) or err["msg"]
    if err["type"] == "value_error":
        expected = err["msg"].removeprefix("Value error, ")
    return f"{where}: expected {expected}, got {err.get('input')!r}"


def _parse(path: Path) -> ForecastSettings:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ForecastSettingsError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) != {"forecasting"}:
        found = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise ForecastSettingsError(
            f"{path.name}: expected exactly one top-level key `forecasting:`, got {found}"
        )
    try:
        return ForecastSettings.model_validate(doc["forecasting"] or {})
    except ValidationError as exc:
        messages = dict.fromkeys(_describe(path, e) for e in exc.errors())
        raise ForecastSettingsError("\n".join(messages)) from exc


@cache
def _packaged() -> ForecastSettings:
    return _parse(SETTINGS_FILE)


def load_forecast_settings(path: Path | None = None) -> ForecastSettings:
    """The settings in ``path`` when it exists, else the packaged defaults."""
    if path is None or not Path(path).exists():
        return _packaged()
    return _parse(Path(path))
