"""`alert_on_run_failure`: every failed run becomes an alert people see.

The alert goes to `<data home>/logs/alerts.jsonl` (the report lists the latest), the sensor's
log, and, when `MARKETING_OPS_ALERT_WEBHOOK` is set in the daemon's environment, a webhook.
"""

import dagster as dg

from marketing_ops.defs._shared import StoreResource
from marketing_ops.governance.alerts import Alert, post_webhook, webhook_url, write_alert


def failure_alert(context: dg.RunFailureSensorContext) -> Alert:
    run = context.dagster_run
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    message = context.failure_event.message or ""
    return Alert(
        kind="run_failure",
        summary=f"run {run.run_id[:8]} of {run.job_name} failed",
        job=run.job_name,
        run_id=run.run_id,
        failed_steps=steps,
        details=message[:1000],
    )


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes an alert for every failed run (logs/alerts.jsonl, optional webhook).",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, store: StoreResource) -> None:
    alert = failure_alert(context)
    write_alert(store.home(), alert)
    context.log.error(alert.text())
    url = webhook_url()
    if url:
        context.log.info(post_webhook(url, alert))


defs = dg.Definitions(sensors=[alert_on_run_failure])
