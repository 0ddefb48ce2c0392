"""Every batch kept: deciding a day again adds a batch, the earlier ones stay.

``agent.decisions`` holds every batch of every day, keyed by ``batch_id``. The latest batch of
a day (by ``created_at``) is the day's current one; when a new one is stored, the earlier
batches' actions that had not gone out become ``superseded`` (saying by which batch), so only
the current batch executes. An action of the new batch identical to one already executed that
day is ``blocked`` with the id it went out under, so deciding again never sends twice.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from marketing_ops.decisioning.batch.status import set_status
from marketing_ops.warehouse import read_table

__all__ = ["keep_earlier_batches", "list_batches", "load_batch"]

_OPEN = ("approved", "pending_approval", "proposed")
# What makes two actions the same action, whichever batch they are in.
_ACTION_KEY = ["action_type", "channel", "campaign_id", "audience_id", "asset_id", "scheduled_for"]


def _decisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return read_table(con, "agent.decisions")


def _summaries(decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per batch: day, moment, policy version, actions, statuses, current or not."""
    columns = ["batch_id", "as_of", "created_at", "policy_version", "actions", "statuses"]
    if decisions.empty:
        return pd.DataFrame(columns=[*columns, "current"])
    rows = []
    for batch_id, rows_of in decisions.groupby("batch_id", sort=False):
        counts = rows_of["status"].value_counts().sort_index()
        rows.append(
            {
                "batch_id": batch_id,
                "as_of": pd.Timestamp(rows_of["as_of"].iloc[0]).date(),
                "created_at": pd.Timestamp(rows_of["created_at"].max()),
                "policy_version": str(rows_of["policy_version"].iloc[0]),
                "actions": len(rows_of),
                "statuses": ", ".join(f"{s} {n}" for s, n in counts.items()),
            }
        )
    out = pd.DataFrame(rows, columns=columns).sort_values(["as_of", "created_at", "batch_id"])
    latest = out.groupby("as_of")["created_at"].transform("max")
    out["current"] = out["created_at"] == latest
    return out.reset_index(drop=True)


def list_batches(con: duckdb.DuckDBPyConnection, as_of=None) -> pd.DataFrame:
    """Every stored batch, oldest first (only ``as_of``'s when given): ``batch_id``, ``as_of``,
    ``created_at``, ``policy_version``, ``actions``, ``statuses`` (e.g. "approved 5,
    pending_approval 2") and ``current`` (the latest batch of its day)."""
    out = _summaries(_decisions(con))
    if as_of is not None:
        out = out[out["as_of"] == pd.Timestamp(as_of).date()].reset_index(drop=True)
    return out


def load_batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> pd.DataFrame:
    """The stored rows of one batch (current or earlier); :func:`export_batch` exports them.
    Raises ``KeyError`` naming the latest batches when there is no such batch."""
    decisions = _decisions(con)
    rows = decisions[decisions["batch_id"] == batch_id] if len(decisions) else decisions
    if rows.empty:
        known = list(_summaries(decisions)["batch_id"])[-5:]
        raise KeyError(
            f"no batch {batch_id!r} in agent.decisions (latest: {', '.join(known) or 'none'})"
        )
    return rows.reset_index(drop=True)


def keep_earlier_batches(earlier: pd.DataFrame, batch: pd.DataFrame) -> pd.DataFrame:
    """The day's rows to store with a new ``batch`` (pure): every earlier batch kept, its open
    actions superseded by the new one; the new batch's actions that repeat one already
    executed that day blocked. A re-stored batch (same ``batch_id``) replaces its own rows."""
    if earlier is None or earlier.empty:
        return batch
    new_id = str(batch["batch_id"].iloc[0]) if len(batch) else ""
    kept = earlier[earlier["batch_id"] != new_id].copy()
    stamp = pd.Timestamp(batch["created_at"].max()).isoformat() if len(batch) else ""
    for i in kept.index[kept["status"].isin(_OPEN)]:
        set_status(
            kept,
            i,
            "superseded",
            f"superseded by batch {new_id} (decided again at {stamp}): only the day's latest "
            "batch executes",
        )
    fresh = _block_repeats(batch.copy(), kept)
    return pd.concat([kept, fresh], ignore_index=True)[batch.columns]


def _key(frame: pd.DataFrame) -> pd.Series:
    parts = frame[_ACTION_KEY].astype(object).where(frame[_ACTION_KEY].notna(), "").astype(str)
    amount = frame["amount"].astype(float).round(2).astype(str)
    return parts.agg("|".join, axis=1) + "|" + amount


def _block_repeats(batch: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    done = earlier[earlier["status"] == "executed"]
    if done.empty or batch.empty:
        return batch
    ids = zip(done["decision_id"], done["batch_id"], strict=True)
    executed = dict(zip(_key(done), ids, strict=True))
    for i, key in _key(batch).items():
        if key in executed and batch.at[i, "status"] in _OPEN:
            decision_id, batch_id = executed[key]
            set_status(
                batch,
                i,
                "blocked",
                f"already executed today as {decision_id} (batch {batch_id}): not sent again",
            )
    return batch
