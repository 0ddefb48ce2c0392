"""Which connector serves which channel: the sandbox outbox for every channel by default;
with a webhook URL, the named channels (``*`` = all) post to it, signed with its secret."""

from __future__ import annotations

import os
from collections.abc import Sequence

from marketing_ops.config import DataHome
from marketing_ops.execution.delivery import Connector, SandboxConnector
from marketing_ops.execution.webhook import WebhookConnector

__all__ = ["WEBHOOK_SECRET_ENV", "WEBHOOK_URL_ENV", "channel_connectors", "connectors_from_env"]

WEBHOOK_URL_ENV = "MARKETING_OPS_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "MARKETING_OPS_WEBHOOK_SECRET"


def channel_connectors(
    home: DataHome,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    webhook_channels: Sequence[str] = ("*",),
    secret_env: str = WEBHOOK_SECRET_ENV,
) -> dict[str, Connector]:
    """``{channel: connector}`` with ``"*"`` for every channel not named."""
    sandbox = SandboxConnector(home.outbox)
    if not webhook_url:
        return {"*": sandbox}
    if not webhook_secret:
        raise RuntimeError(
            f"webhook url is set but {secret_env} is not: payloads must be "
            "signed; set it to the secret shared with the receiver"
        )
    hook = WebhookConnector(
        webhook_url, webhook_secret.encode(), home.ledger / "webhook_deliveries.jsonl"
    )
    if "*" in webhook_channels:
        return {"*": hook}
    return {"*": sandbox, **{c: hook for c in webhook_channels}}


def connectors_from_env(home: DataHome) -> dict[str, Connector]:
    """The connectors a run outside Dagster uses (the CLI's rollback): the webhook URL and
    secret from the environment, read now."""
    return channel_connectors(
        home, os.environ.get(WEBHOOK_URL_ENV), os.environ.get(WEBHOOK_SECRET_ENV)
    )
