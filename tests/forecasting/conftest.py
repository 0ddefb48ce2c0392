"""Three seeded two-year simulator worlds, drawn once per session (daily outcomes without
export files: :mod:`marketing_ops.simulator.daily`), and the response curves fitted on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest

from marketing_ops.forecasting import (
    FittedResponse,
    demand_index,
    fit_response_curves,
    load_forecast_settings,
    quiet_logs,
)
from marketing_ops.simulator import WorldConfig
from marketing_ops.simulator.daily import DailyWorld, simulate_daily

SEEDS = (1, 2, 3)
START = date(2024, 1, 1)
DAYS = 730
BOOTSTRAP = 20


@dataclass
class FittedWorld:
    seed: int
    truth: DailyWorld
    as_of: date
    index: pd.DataFrame
    responses: dict[str, FittedResponse]

    @property
    def kpis(self) -> pd.DataFrame:
        return self.truth.kpis


@pytest.fixture(scope="session")
def settings():
    return load_forecast_settings()


@pytest.fixture(scope="session")
def fitted_worlds(settings) -> list[FittedWorld]:
    quiet_logs()
    out = []
    for seed in SEEDS:
        truth = simulate_daily(WorldConfig(seed=seed, start=START, days=DAYS))
        as_of = truth.kpis["date_day"].max()
        index = demand_index(truth.kpis, as_of, settings.horizon_days, settings)
        responses = fit_response_curves(truth.kpis, index, settings, bootstrap=BOOTSTRAP)
        out.append(FittedWorld(seed, truth, as_of, index, responses))
    return out
