"""A small decision world for the batch and approval tests: three paid channels with known
curves and five content candidates."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from marketing_ops.decisioning import (
    AutonomyState,
    PolicySet,
    assemble_batch,
    choose_content,
    plan_budget,
)
from marketing_ops.forecasting.curves import ResponseCurve

AS_OF = date(2026, 11, 23)
SIGNALS = [
    {"name": "marts/fct_channel_kpis_daily", "data_version": "kpis-v1", "run_id": "r1"},
    {"name": "graph/knowledge_graph", "data_version": "graph-v1", "run_id": "r2"},
]


def make_plan(policies: PolicySet):
    curves = {
        "paid_search": ResponseCurve("paid_search", 0.3, 400.0, 1.0, 60.0, 80.0),
        "paid_social": ResponseCurve("paid_social", 0.5, 300.0, 0.8, 40.0, 70.0),
        "display": ResponseCurve("display", 0.6, 500.0, 1.0, 20.0, 60.0),
    }
    samples = {
        c: [
            ResponseCurve(
                c,
                cv.decay,
                cv.half_saturation,
                cv.shape,
                cv.max_response * f,
                cv.value_per_conversion,
            )
            for f in np.linspace(0.9, 1.1, 11)
        ]
        for c, cv in curves.items()
    }
    last = {"paid_search": 2800.0, "paid_social": 2100.0, "display": 1400.0}
    index = {c: np.array([1.1, 1.0, 0.9, 0.95, 1.05, 1.2, 0.8]) for c in curves}
    return plan_budget(curves, last, index, {c: 100.0 for c in curves}, policies.budget, samples)


def make_candidates() -> pd.DataFrame:
    rows = [
        ("loyal_customers", "A001", 800, 2000, 120),
        ("loyal_customers", "A002", 800, 2000, 60),
        ("new_visitors", "A001", 9000, 5000, 100),
        ("new_visitors", "A004", 9000, 5000, 150),
        ("lapsed_customers", "A002", 150, 3000, 90),
    ]
    return pd.DataFrame(
        [
            (
                a,
                s,
                "email",
                n,
                sends,
                sends // 3,
                clicks,
                clicks // 10,
                clicks / sends,
                1.0,
                f"{a}->{s}",
            )
            for a, s, n, sends, clicks in rows
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


def with_autonomy(policies: PolicySet, level: str, **overrides) -> PolicySet:
    autonomy = policies.autonomy.model_copy(update={"level": level, "overrides": overrides})
    return policies.model_copy(update={"autonomy": autonomy})


def build_batch(policies: PolicySet, state: AutonomyState | None = None) -> pd.DataFrame:
    plan = make_plan(policies)
    empty_hours = pd.DataFrame(columns=["audience_id", "hour_of_day", "opens", "clicks"])
    choices = choose_content(make_candidates(), empty_hours, policies.content, AS_OF, seed=20261123)
    return assemble_batch(AS_OF, plan, choices, policies, SIGNALS, state or AutonomyState())
