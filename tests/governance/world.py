"""A small decision world for the governance tests: warehouse-shaped input frames for one
as-of day (three paid channels with known response curves, email content candidates), the
batch `decide` makes from them, and that batch recorded on the ledger and stored in a real
DuckDB warehouse, as the decision asset does."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning import AutonomyState, DecisionInputs, decide, load_policies
from marketing_ops.decisioning.replay import record_batch
from marketing_ops.forecasting.curves import ResponseCurve
from marketing_ops.warehouse import connect, replace_partition

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
DAILY = {"paid_search": 400.0, "paid_social": 300.0, "display": 200.0}
WEEK = [1.2, 1.0, 0.9, 0.9, 1.0, 1.1, 0.9]
CANDIDATE_COLUMNS = [
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
]


def candidates() -> pd.DataFrame:
    rows = [
        ("loyal_customers", "A001", 800, 2000, 120),
        ("loyal_customers", "A002", 800, 2000, 60),
        ("new_visitors", "A001", 9000, 5000, 100),
        ("new_visitors", "A004", 9000, 5000, 150),
        ("lapsed_customers", "A002", 150, 3000, 90),
    ]
    return pd.DataFrame(
        [
            (a, s, "email", n, sends, sends // 3, clicks, clicks // 10, clicks / sends, 1.0, a)
            for a, s, n, sends, clicks in rows
        ],
        columns=CANDIDATE_COLUMNS,
    )


def inputs(extra_kpi_columns: dict[str, object] | None = None) -> DecisionInputs:
    """Sixty days of channel KPIs, the day's curves with bootstrap draws, a week of seasonal
    index, send-hour history for one audience, and the graph's candidates."""
    days = [AS_OF - timedelta(days=d) for d in range(59, -1, -1)]
    kpis = pd.DataFrame(
        [
            (pd.Timestamp(d), c, DAILY.get(c, 0.0), 10.0, 10.0 * (80 if c == "email" else 70))
            for d in days
            for c in (*DAILY, "email")
        ],
        columns=["date_day", "channel", "spend", "conversions", "revenue"],
    )
    for column, value in (extra_kpi_columns or {}).items():
        kpis[column] = value
    curve_rows = pd.DataFrame(
        [
            {"as_of": AS_OF, "channel": c, "draw": k, **cv.to_dict()}
            | {"max_response": cv.max_response * f}
            for c, cv in CURVES.items()
            for k, f in enumerate([1.0, *np.linspace(0.85, 1.15, 9)])
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
    hours = pd.DataFrame(
        [("loyal_customers", 9, 500, 60), ("loyal_customers", 19, 500, 30)],
        columns=["audience_id", "hour_of_day", "opens", "clicks"],
    )
    return DecisionInputs(kpis, curve_rows, forecasts, hours, candidates())


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
    with connect(home.warehouse) as con:
        replace_partition(con, "agent.decisions", batch.assign(as_of=as_of), as_of)
    return batch, entry


def simulate_and_load(root: Path, days: int = 14, contacts: int = 60, seed: int = 3):
    """A small simulated market in a data home: its signal files loaded through the real
    ingest path (archive, file log, keyed PII), the warehouse built by a real `dbt build`
    (models and seeds), and the knowledge graph built from its marts. Returns (home, end)."""
    import os
    import subprocess
    import sys

    from marketing_ops.config import DBT_PROJECT_DIR, data_home
    from marketing_ops.decisioning import ensure_default_policies
    from marketing_ops.defs.knowledge_graph.assets import policy_rules, read_graph_inputs
    from marketing_ops.graph import build_graph
    from marketing_ops.signals import SOURCES, ingest_source
    from marketing_ops.signals.privacy import pii_key
    from marketing_ops.simulator import WorldConfig, generate_history

    home = data_home(root).ensure()
    ensure_default_policies(home.policies)
    end = date.today() - timedelta(days=2)
    start = end - timedelta(days=days - 1)
    generate_history(home, WorldConfig(seed=seed, start=start, days=days, contacts=contacts))
    with connect(home.warehouse) as con:
        for source in SOURCES:
            ingest_source(home, con, source, start, end, pii_key(demo=True))
    work = root.parent / f"{root.name}-dbt"
    dbt = Path(sys.executable).parent / "dbt"
    done = subprocess.run(
        [str(dbt), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(work / "target"), "--log-path",
         str(work / "logs"), "--resource-type", "model", "--resource-type", "seed",
         "--exclude", "fct_attribution_daily"],
        env={**os.environ, "MARKETING_OPS_WAREHOUSE": str(home.warehouse),
             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True, text=True, cwd=root.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    with connect(home.warehouse, read_only=True) as con:
        graph_inputs = read_graph_inputs(con, end, policy_rules(home))
    build_graph(home.graph, graph_inputs, as_of=end, snapshots=home.graph_snapshots)
    return home, end
