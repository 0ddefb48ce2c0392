"""The code location: assembles each stage's definitions and adds the project-wide rules.

Nothing is computed here; stage wiring lives in `marketing_ops.defs.<stage>`.
"""

from __future__ import annotations

import dagster as dg

from marketing_ops.defs import _shared, jobs
from marketing_ops.defs.decisions import assets as decisions
from marketing_ops.defs.execution import assets as execution
from marketing_ops.defs.forecasts import assets as forecasts
from marketing_ops.defs.governance import assets as governance
from marketing_ops.defs.governance import checks as freshness
from marketing_ops.defs.governance import sensors as alerts
from marketing_ops.defs.knowledge_graph import assets as knowledge_graph
from marketing_ops.defs.learning import assets as learning
from marketing_ops.defs.measurement import assets as measurement
from marketing_ops.defs.signals import assets as signals
from marketing_ops.defs.warehouse import assets as warehouse
from marketing_ops.defs.warehouse import checks as quality_gates

defs = dg.Definitions.merge(
    signals.defs,
    warehouse.defs,
    quality_gates.defs,
    knowledge_graph.defs,
    forecasts.defs,
    decisions.defs,
    execution.defs,
    measurement.defs,
    learning.defs,
    governance.defs,
    freshness.defs,
    alerts.defs,
    jobs.defs,
    dg.Definitions(
        resources=_shared.resources(),
        # In-process: ~2x faster than a process per step for this graph (STACK_NOTES), and
        # the store pool still keeps concurrent runs from colliding on DuckDB/Kuzu.
        executor=dg.in_process_executor,
    ),
)
