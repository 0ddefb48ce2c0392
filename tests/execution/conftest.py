"""A real decision batch to execute: default policies at full autonomy, two paid channels
and two audiences, built through the public decisioning API."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from marketing_ops.config import DataHome, data_home
from marketing_ops.decisioning import (
    AutonomyState,
    PolicySet,
    assemble_batch,
    choose_content,
    ensure_default_policies,
    load_policies,
    plan_budget,
)
from marketing_ops.forecasting.curves import ResponseCurve


@pytest.fixture
def home(tmp_path) -> DataHome:
    h = data_home(tmp_path / "home").ensure()
    ensure_default_policies(h.policies)
    return h


@pytest.fixture
def policies(home: DataHome) -> PolicySet:
    p = load_policies(home.policies)
    return p.model_copy(update={"autonomy": p.autonomy.model_copy(update={"level": "full"})})


@pytest.fixture
def full_batch(policies: PolicySet) -> pd.DataFrame:
    """Every action approved (full autonomy): budget for two channels, content for two audiences."""
    curves = {
        "paid_search": ResponseCurve("paid_search", 0.3, 400.0, 1.0, 60.0, 80.0),
        "display": ResponseCurve("display", 0.6, 500.0, 1.0, 20.0, 60.0),
    }
    plan = plan_budget(curves, {"paid_search": 2800.0, "display": 1400.0}, {}, {}, policies.budget)
    candidates = pd.DataFrame(
        [
            ("loyal_customers", "A001", "email", 800, 2000, 600, 120, 12, 0.06, 1.0, "p"),
            ("new_visitors", "A004", "email", 300, 500, 150, 30, 3, 0.06, 1.0, "p"),
        ],
        columns=[
            "audience_id",
            "asset_id",
            "channel",
            "consented_size",
            "sends",
            "opens",
            "clicks",
            "conversions",
            "ctr",
            "readiness",
            "path",
        ],
    )
    hours = pd.DataFrame(columns=["audience_id", "hour_of_day", "opens", "clicks"])
    choices = choose_content(candidates, hours, policies.content, date(2026, 11, 23), seed=1)
    signals = [{"name": "marts/fct_channel_kpis_daily", "data_version": "v1"}]
    return assemble_batch(date(2026, 11, 23), plan, choices, policies, signals, AutonomyState())
