"""Execution: approved decisions delivered through channel connectors (sandbox outbox by
default, signed HTTP webhooks), and rollback of a batch to the allocations before it."""

from marketing_ops.execution.connectors import (
    WEBHOOK_SECRET_ENV,
    WEBHOOK_URL_ENV,
    channel_connectors,
    connectors_from_env,
)
from marketing_ops.execution.delivery import (
    Connector,
    DeliveryReceipt,
    SandboxConnector,
    action_payload,
    execute_batch,
)
from marketing_ops.execution.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RetryPolicy,
    WebhookConnector,
    read_delivery_log,
    sign_payload,
    verify_signature,
)

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WEBHOOK_SECRET_ENV",
    "WEBHOOK_URL_ENV",
    "Connector",
    "DeliveryReceipt",
    "RetryPolicy",
    "SandboxConnector",
    "WebhookConnector",
    "action_payload",
    "channel_connectors",
    "connectors_from_env",
    "execute_batch",
    "read_delivery_log",
    "sign_payload",
    "verify_signature",
]
