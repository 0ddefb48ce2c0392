"""The decision test world, one copy for every test folder: three paid channels with known
response curves, last week's spend, a week of seasonal index, and email content candidates
for three audiences, as the warehouse and graph give them to `decide`.

Everything here is built from the constants below, so a test can say what it expects by
hand. Frames are built afresh on every call: a test may change what it gets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning import (
    AutonomyState,
    DecisionInputs,
    PolicySet,
    assemble_batch,
    choose_content,
    decide,
    keep_earlier_batches,
    load_policies,
    plan_budget,
)
from marketing_ops.decisioning.batch.replay import record_batch
from marketing_ops.forecasting.curves import ResponseCurve
from marketing_ops.warehouse import connect, read_table, replace_partition

AS_OF = date(2026, 11, 23)
SIGNALS = [
    {"name": "marts/fct_channel_kpis_daily", "data_version": "kpis-v1", "run_id": "r1"},
    {"name": "graph/knowledge_graph", "data_version": "graph-v1", "run_id": "r2"},
]
CURVES = {
    "paid_search": ResponseCurve("paid_search", 0.3, 400.0, 1.0, 60.0, 80.0),
    "paid_social": ResponseCurve("paid_social", 0.5, 300.0, 0.8, 40.0, 70.0),
    "display": ResponseCurve("display", 0.6, 500.0, 1.0, 20.0, 60.0),
}
DAILY_SPEND = {"paid_search": 400.0, "paid_social": 300.0, "display": 200.0}
WEEK = [1.2, 1.0, 0.9, 0.9, 1.0, 1.1, 0.9]  # seasonal index of the seven days planned
DRAWS = [1.0, *np.linspace(0.85, 1.15, 9)]  # bootstrap draws' max_response factors (0 = point)
SEED = 20261123

# (audience, asset, channel, consented size, sends, clicks): A001 (6% CTR) beats A002 (3%) for
# loyal customers; A004 beats A001 for new visitors; lapsed customers have only A002.
CANDIDATES = [
    ("loyal_customers", "A001", "email", 800, 2000, 120),
    ("loyal_customers", "A002", "email", 800, 2000, 60),
    ("new_visitors", "A001", "email", 9000, 5000, 100),
    ("new_visitors", "A004", "email", 9000, 5000, 150),
    ("lapsed_customers", "A002", "email", 150, 3000, 90),
]
CANDIDATE_COLUMNS = [
    "audience_id", "asset_id", "channel", "consented_size", "sends", "opens", "clicks",
    "conversions", "ctr", "readiness", "path",
]  # fmt: skip
HOUR_COLUMNS = ["audience_id", "hour_of_day", "opens", "clicks"]


def candidates(rows: list[tuple] = CANDIDATES) -> pd.DataFrame:
    """Candidate rows in the shape of the graph's `eligible_candidates` (a third of sends
    opened, a tenth of clicks converted)."""
    return pd.DataFrame(
        [
            (
                audience, asset, channel, size, sends, sends // 3, clicks, clicks // 10,
                clicks / sends if sends else 0.0, 1.0,
                f"Audience({audience})-ELIGIBLE->Asset({asset})",
            )
            for audience, asset, channel, size, sends, clicks in rows
        ],
        columns=CANDIDATE_COLUMNS,
    )  # fmt: skip


def no_hours() -> pd.DataFrame:
    """No send-hour history: every audience gets the default hour."""
    return pd.DataFrame(columns=HOUR_COLUMNS)


def send_hours() -> pd.DataFrame:
    """Loyal customers click best at 09:00."""
    return pd.DataFrame(
        [("loyal_customers", 9, 500, 60), ("loyal_customers", 19, 500, 30)], columns=HOUR_COLUMNS
    )


def curve_draws(curve: ResponseCurve) -> list[ResponseCurve]:
    """The curve's bootstrap draws: its maximum response scaled by each of DRAWS."""
    return [
        ResponseCurve(
            curve.channel, curve.decay, curve.half_saturation, curve.shape,
            curve.max_response * f, curve.value_per_conversion,
        )
        for f in DRAWS
    ]  # fmt: skip


def budget_plan(
    policies: PolicySet,
    channels: tuple[str, ...] = tuple(CURVES),
    daily_spend: dict[str, float] = DAILY_SPEND,
):
    """Next week's plan for `channels` from last week's spend (7 x `daily_spend`)."""
    curves = {c: CURVES[c] for c in channels}
    return plan_budget(
        curves,
        {c: 7 * daily_spend[c] for c in channels},
        {c: np.array(WEEK) for c in channels},
        {c: 100.0 for c in channels},
        policies.budget,
        {c: curve_draws(cv) for c, cv in curves.items()},
    )


def with_autonomy(policies: PolicySet, level: str, **overrides) -> PolicySet:
    autonomy = policies.autonomy.model_copy(update={"level": level, "overrides": overrides})
    return policies.model_copy(update={"autonomy": autonomy})


def build_batch(policies: PolicySet, state: AutonomyState | None = None) -> pd.DataFrame:
    """The day's batch from the plan and the content choice, without `decide`'s reading."""
    choices = choose_content(candidates(), no_hours(), policies.content, AS_OF, seed=SEED)
    return assemble_batch(
        AS_OF, budget_plan(policies), choices, policies, SIGNALS, state or AutonomyState()
    )


def inputs(
    extra_kpi_columns: dict[str, object] | None = None, campaigns: bool = False
) -> DecisionInputs:
    """What `decide` reads: sixty days of channel KPIs at DAILY_SPEND (plus email), the day's
    curves with their draws, the seasonal index, send hours and the candidates. `campaigns`
    adds paid search's two campaigns (S1, S2 share spend; S1 earns 3 of 10 conversions)."""
    days = [AS_OF - timedelta(days=d) for d in range(59, -1, -1)]
    kpis = pd.DataFrame(
        [
            (pd.Timestamp(d), c, DAILY_SPEND.get(c, 0.0), 10.0, 10.0 * (80 if c == "email" else 70))
            for d in days
            for c in (*DAILY_SPEND, "email")
        ],
        columns=["date_day", "channel", "spend", "conversions", "revenue"],
    )
    for column, value in (extra_kpi_columns or {}).items():
        kpis[column] = value
    curve_rows = pd.DataFrame(
        [
            {"as_of": AS_OF, "channel": c, "draw": k, **draw.to_dict()}
            for c, cv in CURVES.items()
            for k, draw in enumerate(curve_draws(cv))
        ]
    )
    forecasts = pd.DataFrame(
        [
            (AS_OF, c, "seasonal_index", AS_OF + timedelta(days=1 + i), w)
            for c in CURVES
            for i, w in enumerate(WEEK)
        ],
        columns=["as_of", "channel", "metric", "date_day", "yhat"],
    )
    frames = DecisionInputs(kpis, curve_rows, forecasts, send_hours(), candidates())
    return _with_campaigns(frames, days) if campaigns else frames


def _with_campaigns(frames: DecisionInputs, days: list[date]) -> DecisionInputs:
    ad_spend = pd.DataFrame(
        [
            (d, "paid_search", cid, DAILY_SPEND["paid_search"] * share)
            for d in days
            for cid, share in (("S1", 0.5), ("S2", 0.5))
        ],
        columns=["date_day", "channel", "campaign_id", "spend"],
    )
    conversions = pd.DataFrame(
        [(d, "paid_search", "S1" if k < 3 else "S2", 80.0) for d in days for k in range(10)],
        columns=["date_day", "channel", "campaign_id", "revenue"],
    )
    return replace(frames, ad_spend=ad_spend, conversions=conversions)


def record_day(
    home: DataHome, frames: DecisionInputs | None = None, as_of: date = AS_OF
) -> tuple[pd.DataFrame, dict]:
    """What the decision asset does for one day, without Dagster: decide, put the batch on
    the ledger (with its inputs), then store it in `agent.decisions`. Returns (batch, entry)."""
    frames = frames or inputs()
    policies = load_policies(home.policies)
    autonomy = AutonomyState()
    batch = decide(as_of, frames, policies, autonomy, SIGNALS).batch
    entry = record_batch(
        home,
        as_of=as_of,
        batch=batch,
        inputs=frames,
        policies_dir=Path(home.policies),
        policy_version=policies.version,
        autonomy=autonomy,
        signals=SIGNALS,
    )
    with connect(home.warehouse) as con:  # as the asset stores it: earlier batches kept
        earlier = read_table(con, "agent.decisions", date_column="as_of", start=as_of, end=as_of)
        rows = keep_earlier_batches(earlier, batch.assign(as_of=as_of))
        replace_partition(con, "agent.decisions", rows, as_of)
    return batch, entry
