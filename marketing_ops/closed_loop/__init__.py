"""The closed loop, day by day, on a simulated market: decide -> execute -> simulator outcome
-> measure -> learn. What `marketing-ops simulate-loop` and `benchmarks/bench_loop.py` run.

Each simulated day ``d`` (decisions are made as of ``d - 1``):

- **measure** (every ``measure_every`` days, and once at the end): the new days' signal files
  go through the product's own ``ingest_and_model`` Dagster job (adapters, dbt, quality
  gates) into the warehouse; the knowledge graph is rebuilt from the marts (:mod:`.world`);
- **learn** (on measure days): drift report on the marts (a crossed threshold drops the
  scope to recommend-only and the response curves are re-fitted), OPE gate on the logged
  content decisions;
- **decide**: the agent's own turn, :func:`marketing_ops.decisioning.decide` (the function the
  ``decision_batch`` asset calls), once per arm of a content experiment (:mod:`.turn`): a
  budget plan per paid channel at the start of every 7-day period and a content choice per
  audience every day, with statuses from the policies, the approval ledger, the off-ramp and
  the kill switch;
- **execute** through the sandbox connector;
- **simulator outcome**: the market simulates day ``d`` from the executed actions.

Why not one Dagster run per day: a dbt build takes 40-100 s here and the forecasts stage
(Prophet, bootstrap curves) about as much again, so 60 days would take hours; the loop runs
the same core functions the assets call, and the product's Dagster job for ingestion.

Scoring (:mod:`.scoring`) reads the simulator's ground truth, which the product never does.
"""

from marketing_ops.closed_loop.config import (
    EXPERIMENT_SHARES,
    PAID,
    PERIOD_DAYS,
    LoopConfig,
    LoopResult,
)
from marketing_ops.closed_loop.run import run_loop, world_config
from marketing_ops.closed_loop.scoring import oracle_path, path_revenue, score_policies

__all__ = [
    "EXPERIMENT_SHARES",
    "PAID",
    "PERIOD_DAYS",
    "LoopConfig",
    "LoopResult",
    "oracle_path",
    "path_revenue",
    "run_loop",
    "score_policies",
    "world_config",
]
