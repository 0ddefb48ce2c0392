"""The run-failure sensor: a failed run becomes an alert in `logs/alerts.jsonl` naming the job,
run and failed step, and is posted to the webhook set in the environment (a real HTTP server
here); the webhook URL's secret never reaches the alert file or the sensor's log."""

from __future__ import annotations

import http.server
import json
import threading

import dagster as dg

from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.governance.sensors import alert_on_run_failure
from marketing_ops.governance.alerts import WEBHOOK_ENV, read_alerts


@dg.op
def breaks() -> None:
    raise RuntimeError("the warehouse file is locked")


@dg.job
def nightly_load():
    breaks()


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_failed_run_becomes_an_alert_and_a_webhook_post(home, monkeypatch, caplog) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = "T000/B000/s3cr3t-token"
    monkeypatch.setenv(WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/{secret}")
    try:
        instance = dg.DagsterInstance.ephemeral()
        result = nightly_load.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_run_failure_event(),
            resources={"store": StoreResource(home_root=str(home.root))},
        ).for_run_failure()
        alert_on_run_failure(context)
    finally:
        server.shutdown()
        server.server_close()

    (alert,) = read_alerts(home)
    assert alert["kind"] == "run_failure" and alert["job"] == "nightly_load"
    assert alert["run_id"] == result.run_id and alert["failed_steps"] == ["breaks"]
    assert f"run {result.run_id[:8]} of nightly_load failed" == alert["summary"]
    ((path, body),) = _Hook.received
    assert path == f"/{secret}"
    assert body["run_id"] == result.run_id and body["text"].startswith("[marketing-ops]")
    assert secret not in (home.logs / "alerts.jsonl").read_text()
    assert secret not in caplog.text
