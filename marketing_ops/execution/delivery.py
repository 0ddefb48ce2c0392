"""Delivering approved actions through channel connectors.

Only ``approved`` actions go out; the kill switch stops everything. The decision id is the
idempotency key: the sandbox connector writes ``outbox/<channel>/<decision_id>.json`` once
and treats an existing file as already delivered, so re-running a day sends nothing twice.
Payloads name audiences by id only and carry tracking tags (``utm_id`` = decision id) so the
outcomes can be joined back to the decision that caused them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

__all__ = [
    "Connector",
    "DeliveryReceipt",
    "SandboxConnector",
    "action_payload",
    "execute_batch",
]

# How agent traffic is tagged per channel (the contract's GA4 source / medium for the channel).
_UTM = {
    "paid_search": ("google", "cpc"),
    "display": ("google", "display"),
    "paid_social": ("facebook", "paid_social"),
    "email": ("newsletter", "email"),
}
_EMAIL = re.compile(r"[^@\s\"']+@[^@\s\"']+\.[a-z]{2,}", re.IGNORECASE)
# A phone in international form; bare digit runs are not flagged (campaign ids are digits).
_PHONE = re.compile(r"\+\d[\d ()-]{7,}\d")


@dataclass(frozen=True)
class DeliveryReceipt:
    """What a connector did with one action."""

    decision_id: str
    channel: str
    delivered: bool
    already_delivered: bool
    location: str
    payload_sha256: str
    note: str = ""
    attempts: int = 1  # requests made (0: nothing sent because it was already delivered)

    @property
    def done(self) -> bool:
        """The channel has the action: delivered now or before."""
        return self.delivered or self.already_delivered


class Connector(Protocol):
    """A channel connector: delivers one action (a payload dict) and says what happened."""

    def deliver(self, action: dict) -> DeliveryReceipt: ...


class SandboxConnector:
    """Writes each action to ``<outbox>/<channel>/<decision_id>.json``, never twice."""

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = Path(outbox_dir)

    def deliver(self, action: dict) -> DeliveryReceipt:
        decision_id, channel = str(action["decision_id"]), str(action["channel"])
        if not re.fullmatch(r"[A-Za-z0-9_-]+", decision_id) or not re.fullmatch(
            r"[a-z0-9_]+", channel
        ):
            raise ValueError(
                f"unsafe decision id or channel for a file name: {decision_id!r}, {channel!r}"
            )
        folder = self.outbox_dir / channel
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{decision_id}.json"
        text = json.dumps(action, indent=2, sort_keys=True) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()
        if target.exists():
            return DeliveryReceipt(
                decision_id, channel, False, True, str(target), digest, "already in the outbox"
            )
        tmp = folder / f".{decision_id}.{os.getpid()}.tmp"
        tmp.write_text(text)
        try:
            os.link(tmp, target)  # atomic and refuses to replace a file another run just wrote
        except FileExistsError:
            return DeliveryReceipt(
                decision_id, channel, False, True, str(target), digest, "already in the outbox"
            )
        finally:
            tmp.unlink(missing_ok=True)
        return DeliveryReceipt(
            decision_id, channel, True, False, str(target), digest, "written to the outbox"
        )


def _plain(v: object) -> object:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def action_payload(row: dict) -> dict:
    """What a channel receives for one decision: ids, timing, amount, tracking; no PII."""
    rationale = row.get("rationale")
    details = json.loads(rationale) if isinstance(rationale, str) and rationale else {}
    decision_id = str(row["decision_id"])
    source, medium = _UTM.get(str(row["channel"]), (str(row["channel"]), "agent"))
    payload = {
        "decision_id": decision_id,
        "batch_id": _plain(row.get("batch_id")),
        "action_type": _plain(row.get("action_type")),
        "channel": _plain(row.get("channel")),
        "campaign_id": _plain(row.get("campaign_id")),
        "audience_id": _plain(row.get("audience_id")),
        "asset_id": _plain(row.get("asset_id")),
        "scheduled_for": _plain(row.get("scheduled_for")),
        "amount_eur": _plain(row.get("amount")),
        "daily_amounts": details.get("phasing", []),
        # a send_time action names the content action it times (same audience, same day)
        "applies_to": details.get("applies_to"),
        "policy_version": _plain(row.get("policy_version")),
        "tracking": {
            "utm_id": decision_id,
            "utm_campaign": decision_id,
            "utm_content": decision_id,
            "utm_source": source,
            "utm_medium": medium,
        },
    }
    if any(_EMAIL.search(v) or _PHONE.search(v) for v in _strings(payload)):
        raise ValueError(
            f"{decision_id}: payload looks like it holds an email or phone number; refusing to send"
        )
    return payload


def _deliver(connector: Connector, row: dict) -> DeliveryReceipt:
    """One action through its connector. An incrementality test goes out as its own payloads
    (one per treated geo with its budget change, or the holdout list, or the pulse schedule:
    :func:`marketing_ops.experiments.governance.experiment_payloads`); it is done when all
    of them are, so a partial delivery stays approved and is retried (idempotently)."""
    if row.get("action_type") != "incrementality_test":
        return connector.deliver(action_payload(row))
    from marketing_ops.experiments.governance import experiment_payloads

    receipts = [connector.deliver(p) for p in experiment_payloads(row)]
    done = all(r.done for r in receipts)
    return DeliveryReceipt(
        str(row["decision_id"]),
        str(row["channel"]),
        delivered=done and not all(r.already_delivered for r in receipts),
        already_delivered=all(r.already_delivered for r in receipts),
        location="; ".join(r.location for r in receipts),
        payload_sha256=hashlib.sha256(
            "".join(r.payload_sha256 for r in receipts).encode()
        ).hexdigest(),
        note="; ".join(dict.fromkeys(r.note for r in receipts if r.note)),
        attempts=sum(r.attempts for r in receipts),
    )


def execute_batch(
    batch: pd.DataFrame,
    connectors: dict[str, Connector],
    kill_switch_on: bool,
    dry_run: bool = False,
) -> pd.DataFrame:
    """Deliver the batch's approved actions; every row comes back with its (new) status.

    ``connectors`` maps a channel to its connector; ``"*"`` serves any other channel.
    Approved actions that reach a connector become ``executed`` (also when the connector
    already had them: that is the idempotent re-run). An action the connector could not
    deliver (the webhook gave up after its retries) stays ``approved`` with the reason in
    ``note``, so the next run tries again. Everything else keeps its status.
    """
    now = pd.Timestamp(datetime.now(UTC)).tz_localize(None)
    out = []
    for row in batch.to_dict("records"):
        status, note = row["status"], ""
        receipt = None
        if kill_switch_on:
            note = "kill switch on: nothing is executed"
        elif status != "approved":
            note = f"not executed: status {status}"
        else:
            connector = connectors.get(str(row["channel"])) or connectors.get("*")
            if connector is None:
                note = f"no connector for channel {row['channel']}"
            elif dry_run:
                note = "dry run: would deliver"
            else:
                receipt = _deliver(connector, row)
                status = "executed" if receipt.done else status
                note = receipt.note
        r = asdict(receipt) if receipt else {}
        out.append(
            {
                "decision_id": row["decision_id"],
                "batch_id": row.get("batch_id"),
                "action_type": row.get("action_type"),
                "channel": row.get("channel"),
                "status": status,
                "delivered": bool(r.get("delivered", False)),
                "already_delivered": bool(r.get("already_delivered", False)),
                "receipt_location": r.get("location", ""),
                "payload_sha256": r.get("payload_sha256", ""),
                "executed_at": now if receipt is not None and receipt.done else pd.NaT,
                "note": note,
            }
        )
    frame = pd.DataFrame(
        out,
        columns=[
            "decision_id",
            "batch_id",
            "action_type",
            "channel",
            "status",
            "delivered",
            "already_delivered",
            "receipt_location",
            "payload_sha256",
            "executed_at",
            "note",
        ],
    )
    for col in (
        "decision_id",
        "batch_id",
        "action_type",
        "channel",
        "status",
        "receipt_location",
        "payload_sha256",
        "note",
    ):
        frame[col] = pd.Series(frame[col].tolist(), dtype="str", index=frame.index)
    frame["executed_at"] = pd.to_datetime(frame["executed_at"])
    return frame
