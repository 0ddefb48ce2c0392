"""The model's input: KPI and spend per period (and geo), controls, and the base features.

``MMMData`` is built from a long frame (one row per period, or per period and geo) by
:func:`mmm_data`; the base features (trend, Fourier seasonality, holidays) follow the
frequency: daily data gets weekly and yearly seasonality and holiday days, weekly data yearly
seasonality and holiday weeks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from marketing_ops.forecasting.mmm.transforms import LAG_WINDOW

__all__ = ["FREQUENCIES", "MMMData", "base_features", "holiday_dates", "mmm_data"]

FREQUENCIES = ("D", "W")
PERIOD_DAYS = {"D": 1, "W": 7}
YEAR_PERIODS = {"D": 365.25, "W": 365.25 / 7}
FOURIER_ORDER = {"D": {"yearly": 4, "weekly": 3}, "W": {"yearly": 3}}


@dataclass(frozen=True)
class MMMData:
    """Arrays the model reads. Shapes: ``kpi (G, T)``, ``spend (G, T, C)``, ``controls (G, T, K)``."""

    dates: pd.DatetimeIndex
    geos: tuple[str, ...]
    channels: tuple[str, ...]
    control_names: tuple[str, ...]
    kpi: np.ndarray
    spend: np.ndarray
    controls: np.ndarray
    freq: str
    kpi_name: str = "kpi"

    @property
    def window(self) -> int:
        return LAG_WINDOW[self.freq]

    @property
    def n_periods(self) -> int:
        return len(self.dates)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def holiday_dates(years: range) -> dict[str, list[date]]:
    """A small built-in calendar of retail peaks (moving ones computed per year)."""
    out: dict[str, list[date]] = {"new_year": [], "black_friday": [], "christmas": []}
    for y in years:
        out["new_year"].append(date(y, 1, 1))
        out["black_friday"].append(_nth_weekday(y, 11, 3, 4) + timedelta(days=1))
        out["christmas"].append(date(y, 12, 24))
    return out


def _holiday_matrix(dates: pd.DatetimeIndex, freq: str, holidays: dict[str, list[date]]):
    span = PERIOD_DAYS[freq]
    starts = dates.normalize().date
    cols = []
    for days in holidays.values():
        hits = np.zeros(len(dates))
        for d in days:
            hits += np.array([s <= d < s + timedelta(days=span) for s in starts], dtype=float)
        cols.append(np.minimum(hits, 1.0))
    matrix = np.column_stack(cols) if cols else np.zeros((len(dates), 0))
    return matrix[:, matrix.sum(axis=0) > 0]  # a holiday outside the history has no coefficient


def _fourier(t_days: np.ndarray, period_days: float, order: int) -> np.ndarray:
    angles = 2 * np.pi * t_days[:, None] * np.arange(1, order + 1)[None, :] / period_days
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def base_features(
    dates: pd.DatetimeIndex, freq: str, holidays: dict[str, list[date]] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(trend (T,), seasonality (T, F), holidays (T, H))`` for the given frequency."""
    t_days = np.asarray((dates - dates[0]).days, dtype=float)
    trend = t_days / max(t_days[-1], 1.0) - 0.5  # centred: the intercept is the mid-history level
    orders = FOURIER_ORDER[freq]
    seasonal = [_fourier(t_days, 365.25, orders["yearly"])]
    if "weekly" in orders:
        seasonal.append(_fourier(t_days, 7.0, orders["weekly"]))
    years = range(dates[0].year, dates[-1].year + 1)
    cal = holiday_dates(years) if holidays is None else holidays
    return trend, np.concatenate(seasonal, axis=1), _holiday_matrix(dates, freq, cal)


def _check_regular(dates: pd.DatetimeIndex, freq: str) -> None:
    steps = np.unique(np.diff(dates.values).astype("timedelta64[D]").astype(int))
    if len(dates) < 2 or list(steps) != [PERIOD_DAYS[freq]]:
        raise ValueError(
            f"dates are not a regular {freq} series: steps between rows of {sorted(int(s) for s in steps)} days, "
            f"expected {PERIOD_DAYS[freq]} (fill missing periods with zero spend)"
        )


def mmm_data(
    frame: pd.DataFrame,
    kpi: str,
    spend: list[str],
    freq: str,
    controls: list[str] | None = None,
    date_col: str = "date",
    geo_col: str | None = None,
) -> MMMData:
    """Arrays from a long frame; every geo must cover the same regular dates."""
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {FREQUENCIES}, got {freq!r}")
    controls = list(controls or [])
    frame = frame.assign(_geo=frame[geo_col].astype(str) if geo_col else "national")
    geos = tuple(sorted(frame["_geo"].unique()))
    dates = pd.DatetimeIndex(sorted(pd.to_datetime(frame[date_col]).unique()))
    _check_regular(dates, freq)
    full = pd.MultiIndex.from_product([geos, dates], names=["_geo", date_col])
    wide = frame.assign(**{date_col: pd.to_datetime(frame[date_col])}).set_index(["_geo", date_col])
    if not wide.index.is_unique:
        raise ValueError(
            f"more than one row per {date_col}" + (f" and {geo_col}" if geo_col else "")
        )
    wide = wide.reindex(full)
    if wide[kpi].isna().any():
        raise ValueError(f"{kpi}: missing for some periods (every geo must cover every date)")
    shape = (len(geos), len(dates))
    return MMMData(
        dates=dates,
        geos=geos,
        channels=tuple(spend),
        control_names=tuple(controls),
        kpi=wide[kpi].to_numpy(float).reshape(shape),
        spend=wide[spend].fillna(0.0).to_numpy(float).reshape(*shape, len(spend)),
        controls=wide[controls].fillna(0.0).to_numpy(float).reshape(*shape, len(controls)),
        freq=freq,
        kpi_name=kpi,
    )
