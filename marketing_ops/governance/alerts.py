"""Alerts people see when something needs them: a failed run, written where they look.

Every alert is appended to ``logs/alerts.jsonl`` in the data home (the UI's run-failure sensor
and the CLI both write here) and, when ``MARKETING_OPS_ALERT_WEBHOOK`` is set, posted as JSON
to that URL (a Slack or Teams incoming webhook, say). The URL is a secret: it is read from the
environment when an alert is sent and never written to a file or a log; only its host is named.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from marketing_ops.config import DataHome

__all__ = [
    "WEBHOOK_ENV",
    "Alert",
    "post_webhook",
    "read_alerts",
    "webhook_url",
    "write_alert",
]

WEBHOOK_ENV = "MARKETING_OPS_ALERT_WEBHOOK"
ALERTS_FILE = "alerts.jsonl"


@dataclass(frozen=True)
class Alert:
    """What went wrong, where to look, and when."""

    kind: str  # run_failure, ...
    summary: str
    job: str = ""
    run_id: str = ""
    failed_steps: list[str] = field(default_factory=list)
    details: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def text(self) -> str:
        """One line for a chat channel."""
        steps = f" (steps: {', '.join(self.failed_steps)})" if self.failed_steps else ""
        return f"[marketing-ops] {self.summary}{steps}"


def write_alert(home: DataHome, alert: Alert) -> None:
    home.logs.mkdir(parents=True, exist_ok=True)
    with (home.logs / ALERTS_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(asdict(alert), sort_keys=True) + "\n")


def read_alerts(home: DataHome) -> list[dict]:
    path = home.logs / ALERTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def webhook_url() -> str | None:
    """The webhook from the environment (read at send time, never stored)."""
    return os.environ.get(WEBHOOK_ENV) or None


def post_webhook(url: str, alert: Alert, timeout: float = 10.0) -> str:
    """POST the alert as JSON (``text`` for chat tools, the rest for machines). Returns a
    short outcome naming only the host, so the URL's secret token never reaches a log."""
    host = urlsplit(url).hostname or "?"
    body = json.dumps({"text": alert.text(), **asdict(alert)}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL set by the operator
            return f"webhook {host}: HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"webhook {host}: HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"webhook {host}: not delivered ({type(reason).__name__})"
