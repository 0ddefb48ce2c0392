"""The HTTP webhook connector: signed JSON posts with retries, never sent twice.

Each action is POSTed as JSON to one URL with three headers:

- ``X-MarketingOps-Timestamp``: seconds since the epoch when the request was signed;
- ``X-MarketingOps-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>`` under
  the shared secret (the receiver recomputes it with :func:`verify_signature` and rejects
  stale timestamps, so a captured request cannot be replayed later);
- ``Idempotency-Key``: the decision id, so a receiver can drop a duplicate on its side too.

Retries: connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff
and full jitter (``Retry-After`` is honoured when the server sends one); any other 4xx is
final (the request itself is wrong, sending it again cannot help). Once a 2xx comes back the
decision id is appended to a delivery log (JSON lines) under a file lock; a decision id
already in the log is never posted again, which is what makes re-running execution safe.
Why a local log and not only the receiver's idempotency key: not every endpoint honours one,
and the log is also the audit record of what went out, when, and after how many attempts.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from marketing_ops.execution.delivery import DeliveryReceipt

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "RetryPolicy",
    "WebhookConnector",
    "read_delivery_log",
    "sign_payload",
    "verify_signature",
]

SIGNATURE_HEADER = "X-MarketingOps-Signature"
TIMESTAMP_HEADER = "X-MarketingOps-Timestamp"
_RETRY_STATUS = {408, 429}


def sign_payload(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``<timestamp>.<body>``)."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: float = 300.0,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        age = abs((time.time() if now is None else now) - float(timestamp))
    except ValueError:
        return False
    if age > tolerance_seconds:
        return False
    return hmac.compare_digest(sign_payload(secret, timestamp, body), signature or "")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: attempt n waits up to base * 2**(n-1), capped."""

    attempts: int = 5
    base_seconds: float = 0.5
    max_seconds: float = 30.0
    timeout_seconds: float = 10.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter (uniform in [0, cap]): many senders retrying do not stampede together."""
        cap = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        return rng.uniform(0.0, cap)


def read_delivery_log(path: Path) -> dict[str, dict]:
    """Decision id -> its delivery record, from the connector's JSON-lines log."""
    if not Path(path).exists():
        return {}
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            out[record["decision_id"]] = record
    return out


class WebhookConnector:
    """Posts each action to ``url``, signed with ``secret``; records deliveries in ``log_path``."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        log_path: Path,
        retry: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url: expected http:// or https://, got {url!r}")
        if not secret:
            raise ValueError("webhook secret: empty; payloads must be signed")
        self.url = url
        self.secret = secret
        self.log_path = Path(log_path)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = random.Random(seed)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One sender at a time per log: two runs cannot both decide "not yet sent"."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with (self.log_path.with_suffix(".lock")).open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _post(self, body: bytes, decision_id: str) -> tuple[int | None, str, float | None]:
        """One attempt: (status or None on a network error, detail, Retry-After seconds)."""
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": decision_id,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign_payload(self.secret, timestamp, body),
                "User-Agent": "marketing-ops-webhook/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.retry.timeout_seconds) as resp:
                return resp.status, resp.reason or "", None
        except urllib.error.HTTPError as exc:
            after = exc.headers.get("Retry-After") if exc.headers else None
            try:
                wait = float(after) if after is not None else None
            except ValueError:
                wait = None
            return exc.code, str(exc.reason), wait
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            return None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}", None

    def deliver(self, action: dict) -> DeliveryReceipt:
        decision_id, channel = str(action["decision_id"]), str(action["channel"])
        body = json.dumps(action, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(body).hexdigest()
        with self._locked():
            done = read_delivery_log(self.log_path).get(decision_id)
            if done is not None:
                return DeliveryReceipt(
                    decision_id,
                    channel,
                    False,
                    True,
                    self.url,
                    done.get("payload_sha256", digest),
                    f"already delivered at {done.get('delivered_at')} (webhook log)",
                    attempts=0,
                )
            history: list[str] = []
            for attempt in range(1, self.retry.attempts + 1):
                status, detail, retry_after = self._post(body, decision_id)
                history.append(f"{status or 'error'} {detail}".strip())
                if status is not None and 200 <= status < 300:
                    record = {
                        "decision_id": decision_id,
                        "channel": channel,
                        "url": self.url,
                        "status": status,
                        "attempts": attempt,
                        "payload_sha256": digest,
                        "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    }
                    with self.log_path.open("a") as f:
                        f.write(json.dumps(record, sort_keys=True) + "\n")
                    return DeliveryReceipt(
                        decision_id,
                        channel,
                        True,
                        False,
                        self.url,
                        digest,
                        f"posted: HTTP {status} after {attempt} attempt(s)",
                        attempts=attempt,
                    )
                final = status is not None and 400 <= status < 500 and status not in _RETRY_STATUS
                if final or attempt == self.retry.attempts:
                    break
                wait = self.retry.backoff(attempt, self._rng)
                if retry_after is not None:
                    wait = max(wait, min(retry_after, self.retry.max_seconds))
                self._sleep(wait)
            return DeliveryReceipt(
                decision_id,
                channel,
                False,
                False,
                self.url,
                digest,
                f"not delivered after {len(history)} attempt(s): {'; '.join(history)}",
                attempts=len(history),
            )
