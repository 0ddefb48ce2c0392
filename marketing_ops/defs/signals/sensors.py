"""`inbox_sensor`: files dropped in the inbox become runs of `ingest_and_model` for the days
inside them (:mod:`marketing_ops.signals.inbox` decides which; this is the thin shell)."""

import json

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

from marketing_ops.defs._shared import StoreResource, daily
from marketing_ops.doctor import preflight
from marketing_ops.signals import LoadRequest, plan_loads, scan_inbox

INGEST_JOB = "ingest_and_model"
# Reading new files stops after this, so a tick ends well within the daemon's time limit;
# the next tick continues from the cursor.
SCAN_BUDGET_SECONDS = 40.0
LOADED_GROUPS = ("signals", "warehouse")


def _cursor(text: str | None) -> dict:
    try:
        cursor = json.loads(text) if text else {}
    except ValueError:
        cursor = {}
    return {"files": cursor.get("files", {}), "requested": cursor.get("requested", [])}


def _assets(context: dg.SensorEvaluationContext, sources: tuple[str, ...]) -> list[dg.AssetKey]:
    """The sources' raw assets and what depends on them in the ingest job (the warehouse)."""
    keys = [dg.AssetKey(["raw", s]) for s in sources]
    repository = context.repository_def
    if repository is None:
        return keys
    loaded = dg.AssetSelection.groups(*LOADED_GROUPS)
    downstream = dg.AssetSelection.assets(*keys).downstream() & loaded
    # Seeds and the models built from them alone (channel grouping, ad tagging) descend from
    # no raw source, yet the models above read them: a fresh warehouse needs them built too.
    static = loaded - dg.AssetSelection.groups("signals").downstream()
    selection = downstream | (downstream.upstream() & static)
    return sorted(selection.resolve(repository.asset_graph), key=lambda k: k.to_user_string())


def run_request(context: dg.SensorEvaluationContext, load: LoadRequest) -> dg.RunRequest:
    tags = {"marketing_ops/inbox_files": str(len(load.files))}
    partition_key = None
    if load.start == load.end:
        partition_key = load.start.isoformat()
    else:
        tags[ASSET_PARTITION_RANGE_START_TAG] = load.start.isoformat()
        tags[ASSET_PARTITION_RANGE_END_TAG] = load.end.isoformat()
    return dg.RunRequest(
        run_key=load.run_key,
        partition_key=partition_key,
        tags=tags,
        asset_selection=_assets(context, load.sources),
    )


@dg.sensor(
    job_name=INGEST_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches inbox/<source>/: maps each new file to the days inside it and requests "
        "ingest_and_model for those partitions (adjacent days in one ranged run), run keys "
        "from the files' content hashes. Bad files are requested too: their run quarantines "
        "them."
    ),
)
def inbox_sensor(
    context: dg.SensorEvaluationContext, store: StoreResource
) -> dg.SensorResult | dg.SkipReason:
    cursor = _cursor(context.cursor)
    home = store.home()
    problems = preflight(home)
    if problems:  # the one line `marketing-ops doctor` prints first; runs would only fail
        reason = f"home fails the doctor: {problems[0].line()}"
        return dg.SensorResult(skip_reason=reason, cursor=context.cursor)
    files, complete = scan_inbox(home, cursor["files"], budget_seconds=SCAN_BUDGET_SECONDS)
    cache = {f.key: f.to_cache() for f in files}  # files gone from the inbox drop out
    if not complete:
        return dg.SensorResult(
            skip_reason=f"still reading the inbox ({len(files)} files so far)",
            cursor=json.dumps({"files": cache, "requested": cursor["requested"]}),
        )
    partitions = daily.get_partition_keys()
    first = daily.time_window_for_partition_key(partitions[0]).start.date()
    last = daily.time_window_for_partition_key(partitions[-1]).start.date()
    plan = plan_loads(files, first, last)
    for key, why in plan.waiting:
        context.log.warning(f"inbox/{key} waits: {why}")
    asked = set(cursor["requested"])
    new = [load for load in plan.requests if load.run_key not in asked]
    # Run keys stay in the cursor while their files are still in the inbox (a run not yet
    # started, or failed); a key whose files are gone is forgotten.
    requested = sorted(load.run_key for load in plan.requests)
    next_cursor = json.dumps({"files": cache, "requested": requested})
    if not new:
        reason = "inbox empty" if not files else f"{len(files)} files already requested"
        return dg.SensorResult(skip_reason=reason, cursor=next_cursor)
    for load in new:
        context.log.info(
            f"requesting {load.start}..{load.end} for {', '.join(load.sources)} "
            f"({len(load.files)} files)"
        )
    return dg.SensorResult(
        run_requests=[run_request(context, load) for load in new], cursor=next_cursor
    )
