"""The drift sensor: when the off-ramp fired, re-fit the forecasts for that day and say why."""

import dagster as dg

from marketing_ops.defs._shared import daily

DRIFT = dg.AssetKey(["learning", "drift"])
REASON_TAG = "marketing_ops/refit_reason"

refit_forecasts = dg.define_asset_job(
    "refit_forecasts",
    selection=dg.AssetSelection.groups("forecasts"),
    partitions_def=daily,
    description="Re-fit baselines and response curves as of a day (requested by the drift sensor).",
)


def refit_request(partition_key: str | None, metadata: dict, event_ms: int):
    """A run request when the drift materialisation crossed a threshold, else a skip reason."""
    scopes = str(metadata.get("offramp_scopes", "") or "")
    if not scopes:
        return dg.SkipReason(f"drift as of {partition_key}: nothing crossed, forecasts stand")
    return dg.RunRequest(
        run_key=f"refit-{partition_key}-{event_ms}",
        partition_key=partition_key,
        tags={REASON_TAG: f"drift off-ramp for {scopes}"[:250]},
    )


@dg.asset_sensor(
    asset_key=DRIFT,
    job=refit_forecasts,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When drift drops a scope to recommend-only, re-fit the forecasts as of that day.",
)
def drift_offramp_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    event = asset_event.dagster_event
    materialization = event.event_specific_data.materialization
    metadata = {k: getattr(v, "value", v) for k, v in (materialization.metadata or {}).items()}
    return refit_request(event.partition, metadata, int(asset_event.timestamp * 1000))


defs = dg.Definitions(jobs=[refit_forecasts], sensors=[drift_offramp_sensor])
