"""`execution`: deliver approved actions through the channel connectors (sandbox outbox by
default, signed webhooks when configured), under the kill switch and the drift off-ramp."""

import dagster as dg

from marketing_ops.decisioning import (
    apply_approvals,
    apply_scoped_autonomy,
    autonomy_state,
    read_approvals,
    scoped_autonomy,
)
from marketing_ops.defs._shared import STORE_POOL, ConnectorsResource, StoreResource, as_of, daily
from marketing_ops.execution import execute_batch
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
    context: dg.AssetExecutionContext, store: StoreResource, connectors: ConnectorsResource
) -> dg.MaterializeResult:
    """Executes the day's approved actions once (the decision id is the idempotency key);
    pending, rejected, blocked and proposed actions never go out; in a scope the drift
    off-ramp lowered, only actions a person approved go out; the kill switch wins."""
    day = as_of(context)
    home = store.home()
    with store.warehouse() as con:
        batch = read_table(con, "agent.decisions", date_column="as_of", start=day, end=day)
    if batch.empty:
        return dg.MaterializeResult(metadata={"as_of": str(day), "executed": 0})
    ledger = read_approvals(home)
    scopes = scoped_autonomy(home)
    batch = apply_scoped_autonomy(apply_approvals(batch, ledger), scopes, ledger)
    state = autonomy_state(home)
    result = execute_batch(
        batch.drop(columns=["as_of"]),
        connectors=connectors.connectors(home),
        kill_switch_on=state.kill_switch_on,
        dry_run=connectors.dry_run,
    )
    updated = batch.drop(columns=["status"]).merge(
        result[["decision_id", "status"]], on="decision_id", how="left"
    )
    if not connectors.dry_run:
        with store.warehouse() as con:
            replace_partition(con, "agent.decisions", updated[batch.columns], day)
            replace_partition(con, "agent.executions", result.assign(as_of=day), day)
    counts = result["status"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "as_of": str(day),
            "dry_run": connectors.dry_run,
            **{f"status_{k}": int(v) for k, v in counts.items()},
            "lowered_scopes": ", ".join(f"{k} ({v.level})" for k, v in scopes.items()) or "none",
            "outbox": dg.MetadataValue.path(str(home.outbox)),
        }
    )


defs = dg.Definitions(assets=[executed_actions])
