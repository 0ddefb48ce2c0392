"""`execution`: deliver approved actions through the channel connectors (sandbox outbox)."""

import dagster as dg

from marketing_ops.decisioning import apply_approvals, autonomy_state, read_approvals
from marketing_ops.defs.partitions import as_of, daily
from marketing_ops.defs.resources import STORE_POOL, StoreResource
from marketing_ops.execution import SandboxConnector, execute_batch
from marketing_ops.warehouse import read_table, replace_partition

BATCH = dg.AssetKey(["decisions", "decision_batch"])


@dg.asset(
    key=["execution", "executed_actions"],
    group_name="execution",
    deps=[BATCH],
    partitions_def=daily,
    pool=STORE_POOL,
    kinds={"python"},
    owners=["team:marketing-ops"],
)
def executed_actions(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Executes the day's approved actions once (the decision id is the idempotency key);
    pending, rejected, blocked and proposed actions never go out; the kill switch wins."""
    day = as_of(context)
    home = store.home()
    with store.warehouse() as con:
        batch = read_table(con, "agent.decisions", date_column="as_of", start=day, end=day)
    if batch.empty:
        return dg.MaterializeResult(metadata={"as_of": str(day), "executed": 0})
    batch = apply_approvals(batch, read_approvals(home))
    state = autonomy_state(home)
    result = execute_batch(
        batch.drop(columns=["as_of"]),
        connectors={"*": SandboxConnector(home.outbox)},
        kill_switch_on=state.kill_switch_on,
    )
    updated = batch.drop(columns=["status"]).merge(
        result[["decision_id", "status"]], on="decision_id", how="left"
    )
    with store.warehouse() as con:
        replace_partition(con, "agent.decisions", updated[batch.columns], day)
        replace_partition(con, "agent.executions", result.assign(as_of=day), day)
    counts = result["status"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            **{f"status_{k}": int(v) for k, v in counts.items()},
            "outbox": dg.MetadataValue.path(str(home.outbox)),
        }
    )


defs = dg.Definitions(assets=[executed_actions])
