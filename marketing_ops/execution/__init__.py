"""Execution: approved decisions delivered through channel connectors (sandbox outbox by default)."""

from marketing_ops.execution.delivery import (
    Connector,
    DeliveryReceipt,
    SandboxConnector,
    action_payload,
    execute_batch,
)

__all__ = ["Connector", "DeliveryReceipt", "SandboxConnector", "action_payload", "execute_batch"]
