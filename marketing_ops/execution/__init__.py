"""Execution: approved decisions delivered through channel connectors (sandbox outbox by
default, signed HTTP webhooks), and rollback of a batch to the allocations before it."""

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
    "Connector",
    "DeliveryReceipt",
    "RetryPolicy",
    "SandboxConnector",
    "WebhookConnector",
    "action_payload",
    "execute_batch",
    "read_delivery_log",
    "sign_payload",
    "verify_signature",
]
