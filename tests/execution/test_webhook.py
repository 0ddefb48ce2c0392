"""The webhook connector against a real HTTP server on 127.0.0.1, started by the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketing_ops.defs._shared import ConnectorsResource
from marketing_ops.execution import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RetryPolicy,
    WebhookConnector,
    execute_batch,
    read_delivery_log,
    sign_payload,
    verify_signature,
)

SECRET = "test-webhook-secret"


class Receiver:
    """A webhook endpoint that answers from a script of status codes (then 200 for ever)."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.requests.append(
                    {
                        "body": body,
                        "status": status,
                        "signature_ok": verify_signature(
                            SECRET.encode(),
                            self.headers[TIMESTAMP_HEADER],
                            body,
                            self.headers[SIGNATURE_HEADER],
                        ),
                        "idempotency_key": self.headers["Idempotency-Key"],
                    }
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator:
    started: list[Receiver] = []

    def start(script: list[int]) -> Receiver:
        r = Receiver(script).__enter__()
        started.append(r)
        return r

    yield start
    for r in started:
        r.__exit__()


def test_fails_first_then_succeeds_and_is_recorded_once(
    full_batch, home, receiver_factory, monkeypatch
) -> None:
    """The server fails the first post (503); the connector retries, the second post lands,
    both carry a valid HMAC signature, exactly one delivery is recorded, and re-running the
    batch posts nothing more. The secret comes from the environment via the resource."""
    receiver = receiver_factory([503])
    monkeypatch.setenv("MARKETING_OPS_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("MARKETING_OPS_WEBHOOK_SECRET", SECRET)
    connectors = ConnectorsResource().connectors(home)
    hook = connectors["*"]
    assert isinstance(hook, WebhookConnector)
    hook.retry = RetryPolicy(attempts=4, base_seconds=0.05)  # keep the test fast

    one = full_batch[full_batch["action_type"] == "budget_allocation"].head(1)
    first = execute_batch(one, connectors, kill_switch_on=False)
    decision_id = one["decision_id"].item()
    assert [r["status"] for r in receiver.requests] == [503, 200]
    assert all(r["signature_ok"] for r in receiver.requests)
    assert {r["idempotency_key"] for r in receiver.requests} == {decision_id}
    assert json.loads(receiver.requests[-1]["body"])["decision_id"] == decision_id
    assert first["status"].tolist() == ["executed"] and first["delivered"].all()
    assert "2 attempt" in first["note"].item()
    log = home.ledger / "webhook_deliveries.jsonl"
    assert len(log.read_text().splitlines()) == 1
    assert read_delivery_log(log)[decision_id]["attempts"] == 2

    again = execute_batch(one, ConnectorsResource().connectors(home), kill_switch_on=False)
    assert len(receiver.requests) == 2, "a re-run must not post again"
    assert again["already_delivered"].all() and again["status"].tolist() == ["executed"]
    assert len(log.read_text().splitlines()) == 1


def test_gives_up_after_retries_and_leaves_the_action_approved(
    full_batch, tmp_path, receiver_factory
) -> None:
    """A server that keeps failing gets `attempts` posts with growing (jittered) waits; the
    action stays approved with the reason, nothing is recorded, and a later run delivers it."""
    receiver = receiver_factory([500, 502, 503])
    waits: list[float] = []
    hook = WebhookConnector(
        receiver.url,
        SECRET.encode(),
        tmp_path / "log.jsonl",
        RetryPolicy(attempts=3, base_seconds=1.0, max_seconds=8.0),
        sleep=waits.append,
        seed=3,
    )
    one = full_batch.head(1)
    out = execute_batch(one, {"*": hook}, kill_switch_on=False)
    assert len(receiver.requests) == 3 and len(waits) == 2
    assert 0 <= waits[0] <= 1.0 and 0 <= waits[1] <= 2.0
    assert out["status"].tolist() == ["approved"] and not out["delivered"].any()
    assert "not delivered after 3 attempt(s)" in out["note"].item()
    assert read_delivery_log(tmp_path / "log.jsonl") == {}
    later = execute_batch(one, {"*": hook}, kill_switch_on=False)
    assert later["status"].tolist() == ["executed"] and len(receiver.requests) == 4


def test_client_error_is_not_retried(full_batch, tmp_path, receiver_factory) -> None:
    """A 400 means the request is wrong: one post, no retry, the action is not executed."""
    receiver = receiver_factory([400])
    hook = WebhookConnector(
        receiver.url, SECRET.encode(), tmp_path / "log.jsonl", sleep=lambda s: None
    )
    out = execute_batch(full_batch.head(1), {"*": hook}, kill_switch_on=False)
    assert len(receiver.requests) == 1 and out["status"].tolist() == ["approved"]


def test_dry_run_posts_nothing(full_batch, tmp_path, receiver_factory) -> None:
    """Dry run through the webhook: the server sees no request."""
    receiver = receiver_factory([])
    hook = WebhookConnector(receiver.url, SECRET.encode(), tmp_path / "log.jsonl")
    out = execute_batch(full_batch, {"*": hook}, kill_switch_on=False, dry_run=True)
    assert receiver.requests == [] and out["note"].str.startswith("dry run").all()


@pytest.mark.parametrize(
    ("secret", "timestamp_shift", "tamper", "ok"),
    [
        (SECRET, 0, False, True),
        ("other-secret", 0, False, False),
        (SECRET, 0, True, False),
        (SECRET, -3600, False, False),
    ],
)
def test_signature_verification(secret, timestamp_shift, tamper, ok) -> None:
    """The receiver's check fails for a wrong secret, a changed body or a stale timestamp."""
    body = b'{"decision_id":"D-1"}'
    now = 1_800_000_000.0
    ts = str(int(now + timestamp_shift))
    signature = sign_payload(secret.encode(), ts, body)
    sent = body.replace(b"D-1", b"D-2") if tamper else body
    assert verify_signature(SECRET.encode(), ts, sent, signature, now=now) is ok


def test_webhook_without_secret_is_refused(home, monkeypatch) -> None:
    """A configured URL without the secret is an error naming the variable, not unsigned posts."""
    monkeypatch.setenv("MARKETING_OPS_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.delenv("MARKETING_OPS_WEBHOOK_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="MARKETING_OPS_WEBHOOK_SECRET"):
        ConnectorsResource().connectors(home)
