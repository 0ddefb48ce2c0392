"""Decisions that can be re-run: what a batch's ledger entry records, and replaying it.

:func:`record_batch` stores what :func:`~marketing_ops.decisioning.decide.decide` was given
(every input frame as Parquet, the policy files as written, the autonomy state and the input
signals with their Dagster data versions) as ledger payloads, re-runs the decision from those
stored copies at once, and appends the entry with ``replay_verified`` saying whether the
re-run gave the same bytes. :func:`replay_batch` does the same later, from the ledger alone;
:func:`policy_diff` re-runs the recorded inputs under *today's* policy files and lists what
would have been decided differently.

Bytes compared: the batch as the export contract's JSON (:func:`batch_digest`), with the
recorded creation time, so "the same" means the same actions, ids, numbers, statuses and
rationale, to the last digit.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from marketing_ops.config import DataHome
from marketing_ops.decisioning.batch.assemble import export_batch
from marketing_ops.decisioning.decide import DecisionInputs, decide
from marketing_ops.decisioning.ledger.autonomy import AutonomyState
from marketing_ops.decisioning.ledger.decisions import (
    append_entry,
    batch_entries,
    erasure_map,
    payload_path,
    put_payload,
    read_entries,
    read_payload,
    resolve_payload,
)
from marketing_ops.decisioning.policy import POLICY_FILES, PolicySet, load_policies

__all__ = [
    "PolicyDiff",
    "ReplayResult",
    "batch_digest",
    "frame_from_parquet",
    "frame_to_parquet",
    "policy_diff",
    "record_batch",
    "recorded_batch_frame",
    "replay_batch",
]

INPUT_FIELDS = tuple(f.name for f in dataclasses.fields(DecisionInputs))
SLOT = ["action_type", "channel", "campaign_id", "audience_id"]


def batch_digest(batch: pd.DataFrame) -> tuple[bytes, str]:
    """The batch as export-contract JSON bytes, and their sha256."""
    data = export_batch(batch, "json").encode("utf-8")
    return data, hashlib.sha256(data).hexdigest()


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """A frame as Parquet bytes, written by DuckDB (the warehouse's own types round-trip)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.parquet"
        con = duckdb.connect()
        try:
            con.from_df(frame).write_parquet(str(path))
        finally:
            con.close()
        return path.read_bytes()


def frame_from_parquet(path: Path) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.execute("select * from read_parquet(?)", [str(path)]).df()
    finally:
        con.close()


def _freeze(home: DataHome, inputs: DecisionInputs, policies_dir: Path) -> dict[str, str]:
    refs: dict[str, str] = {}
    for name in INPUT_FIELDS:
        frame = getattr(inputs, name)
        if frame is not None and frame.shape[1] > 0:  # no columns: the default empty frame
            refs[f"inputs/{name}"] = put_payload(home, frame_to_parquet(frame), "parquet")
    for name in POLICY_FILES:
        path = Path(policies_dir) / name
        if path.exists():
            refs[f"policies/{name}"] = put_payload(home, path.read_bytes(), "yaml")
    return refs


def _thaw_inputs(home: DataHome, payloads: dict[str, str], replaced: dict[str, str]):
    frames = {}
    for name in INPUT_FIELDS:
        ref = payloads.get(f"inputs/{name}")
        if ref is None:
            frames[name] = pd.DataFrame()
            continue
        current = resolve_payload(ref, replaced)
        read_payload(home, current)  # refuses an altered or missing payload
        frames[name] = frame_from_parquet(payload_path(home, current))
    return DecisionInputs(**frames)


def _thaw_policies(home: DataHome, payloads: dict[str, str]) -> PolicySet:
    with tempfile.TemporaryDirectory() as tmp:
        for key, ref in payloads.items():
            if key.startswith("policies/"):
                (Path(tmp) / key.split("/", 1)[1]).write_bytes(read_payload(home, ref))
        return load_policies(Path(tmp))


def _policy_texts(home: DataHome, payloads: dict[str, str]) -> dict[str, str]:
    return {
        key.split("/", 1)[1]: read_payload(home, ref).decode("utf-8")
        for key, ref in payloads.items()
        if key.startswith("policies/")
    }


def _autonomy(doc: dict) -> AutonomyState:
    return AutonomyState(
        doc.get("level"), doc.get("set_by", ""), doc.get("set_at", ""), doc.get("reason", "")
    )


def _rerun(
    home: DataHome,
    as_of: date,
    payloads: dict[str, str],
    autonomy: dict,
    signals: list[dict],
    created_at: str,
    replaced: dict[str, str] | None = None,
    policies: PolicySet | None = None,
) -> pd.DataFrame:
    inputs = _thaw_inputs(home, payloads, replaced or {})
    policies = policies if policies is not None else _thaw_policies(home, payloads)
    stamp = pd.Timestamp(created_at) if created_at else None
    batch = decide(as_of, inputs, policies, _autonomy(autonomy), signals, created_at=stamp).batch
    batch = batch.assign(created_at=pd.Series([stamp] * len(batch), index=batch.index))
    carried = payloads.get("carried")
    if carried is None:
        return batch
    current = resolve_payload(carried, replaced or {})
    read_payload(home, current)  # refuses an altered or missing payload
    rows = frame_from_parquet(payload_path(home, current))
    return pd.concat([batch, rows.assign(created_at=stamp)[batch.columns]], ignore_index=True)


def record_batch(
    home: DataHome,
    *,
    as_of: date,
    batch: pd.DataFrame,
    inputs: DecisionInputs,
    policies_dir: Path,
    policy_version: str,
    autonomy: AutonomyState,
    signals: list[dict],
    provenance: dict | None = None,
    carried: pd.DataFrame | None = None,
) -> dict:
    """Store a batch and everything it was decided from, replay it from the stored copies,
    and append its ledger entry. ``provenance`` adds what only the orchestrator knows (code
    version, model versions, the upstream lineage with data versions, the source files).
    ``carried``: the batch's last rows when they were decided upstream of :func:`decide`
    (incrementality tests, priced on the media mix model's posterior); stored as recorded,
    a replay decides the rest again and appends them."""
    payloads = _freeze(home, inputs, policies_dir)
    if carried is not None and len(carried):
        payloads["carried"] = put_payload(home, frame_to_parquet(carried), "parquet")
    data, digest = batch_digest(batch)
    payloads["batch"] = put_payload(home, data, "json")
    created_at = pd.Timestamp(batch["created_at"].iloc[0]).isoformat() if len(batch) else ""
    autonomy_doc = dataclasses.asdict(autonomy)
    replayed = _rerun(home, as_of, payloads, autonomy_doc, signals, created_at)
    body = {
        "batch_id": str(batch["batch_id"].iloc[0]) if len(batch) else "",
        "as_of": as_of.isoformat(),
        "actions": len(batch),
        "decision_ids": sorted(str(d) for d in batch["decision_id"]),
        "batch_sha256": digest,
        "created_at": created_at,
        "policy_version": policy_version,
        "autonomy": autonomy_doc,
        "inputs": signals,
        "payloads": payloads,
        "replay_verified": batch_digest(replayed)[1] == digest,
        **(provenance or {}),
    }
    return append_entry(home, "decision_batch", body)


@dataclass
class ReplayResult:
    """A past batch decided again from its recorded inputs."""

    entry: dict
    batch: pd.DataFrame
    digest: str

    @property
    def identical(self) -> bool:
        return self.digest == self.entry["batch_sha256"]


def _entry_for(home: DataHome, batch_id: str) -> tuple[dict, dict[str, str]]:
    entries = read_entries(home)
    found = batch_entries(entries, batch_id)
    if not found:
        known = [e["batch_id"] for e in batch_entries(entries)][-5:]
        raise KeyError(
            f"no ledger entry for batch {batch_id!r} (latest: {', '.join(known) or 'none'})"
        )
    return found[-1], erasure_map(entries)


def replay_batch(home: DataHome, batch_id: str) -> ReplayResult:
    """Decide a recorded batch again from its ledger entry alone (inputs, policy files,
    autonomy state, signals), under the code installed now."""
    entry, replaced = _entry_for(home, batch_id)
    batch = _rerun(
        home,
        date.fromisoformat(entry["as_of"]),
        entry["payloads"],
        entry["autonomy"],
        entry["inputs"],
        entry["created_at"],
        replaced,
    )
    return ReplayResult(entry, batch, batch_digest(batch)[1])


@dataclass
class PolicyDiff:
    """What today's policy files would have decided from a past batch's inputs."""

    entry: dict
    recorded_version: str
    today_version: str
    file_changes: dict[str, list[str]] = field(default_factory=dict)  # file -> unified diff
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def same(self) -> bool:
        return self.changes.empty


def _num(v: object) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _text(v: object) -> str:
    """A text cell as people read it: missing (None, NaN, 'None', 'nan') is ''."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    text = str(v)
    return "" if text in ("None", "nan", "NaN") else text


def compare_batches(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Action by action (matched on type, channel, campaign and audience): what differs."""

    def keyed(frame: pd.DataFrame) -> dict[tuple, dict]:
        out = {}
        for rec in frame.to_dict("records"):
            key = tuple(_text(rec.get(k)) for k in SLOT)
            out[key] = rec
        return out

    a, b = keyed(before), keyed(after)
    rows = []
    for key in sorted(set(a) | set(b)):
        old, new = a.get(key), b.get(key)
        what = dict(zip(SLOT, key, strict=True))
        if old is None or new is None:
            rows.append(
                {
                    **what,
                    "change": "new action" if old is None else "dropped",
                    "recorded": "" if old is None else _describe(old),
                    "today": "" if new is None else _describe(new),
                    "revenue_difference": (_num((new or {}).get("expected_revenue")) or 0.0)
                    - (_num((old or {}).get("expected_revenue")) or 0.0),
                }
            )
            continue
        changed = [
            f
            for f in ("amount", "asset_id", "scheduled_for", "status", "expected_revenue")
            if _differs(old.get(f), new.get(f))
        ]
        if changed:
            rows.append(
                {
                    **what,
                    "change": ", ".join(changed),
                    "recorded": _describe(old),
                    "today": _describe(new),
                    "revenue_difference": (_num(new.get("expected_revenue")) or 0.0)
                    - (_num(old.get("expected_revenue")) or 0.0),
                }
            )
    return pd.DataFrame(rows, columns=[*SLOT, "change", "recorded", "today", "revenue_difference"])


def _differs(a: object, b: object) -> bool:
    if isinstance(a, int | float) or isinstance(b, int | float):
        na, nb = _num(a), _num(b)
        if na is None or nb is None:
            return (na is None) != (nb is None)
        return abs(na - nb) > 0.005
    return _text(a) != _text(b)


def _describe(rec: dict) -> str:
    parts = []
    amount = _num(rec.get("amount"))
    if amount is not None:
        parts.append(f"{amount:,.0f} EUR")
    if _text(rec.get("asset_id")):
        parts.append(f"asset {rec['asset_id']}")
    if _text(rec.get("scheduled_for")):
        parts.append(f"from {rec['scheduled_for']}")
    revenue = _num(rec.get("expected_revenue"))
    if revenue is not None:
        parts.append(f"exp. {revenue:,.0f} EUR")
    parts.append(str(rec.get("status")))
    return ", ".join(parts)


def policy_diff(home: DataHome, batch_id: str, policies_dir: Path) -> PolicyDiff:
    """Re-decide a past batch's recorded inputs under the policy files in ``policies_dir``."""
    entry, replaced = _entry_for(home, batch_id)
    today = load_policies(policies_dir)
    recorded_texts = _policy_texts(home, entry["payloads"])
    file_changes = {}
    for name in POLICY_FILES:
        old = recorded_texts.get(name, "")
        path = Path(policies_dir) / name
        new = path.read_text() if path.exists() else ""
        if old != new:
            file_changes[name] = list(
                difflib.unified_diff(
                    old.splitlines(),
                    new.splitlines(),
                    f"{name} (batch {batch_id})",
                    f"{name} (today)",
                    lineterm="",
                )
            )
    recorded = recorded_batch_frame(home, entry, replaced)
    todays = _rerun(
        home,
        date.fromisoformat(entry["as_of"]),
        entry["payloads"],
        entry["autonomy"],
        entry["inputs"],
        entry["created_at"],
        replaced,
        policies=today,
    )
    return PolicyDiff(
        entry,
        entry["policy_version"],
        today.version,
        file_changes,
        compare_batches(recorded, todays),
    )


def recorded_batch_frame(
    home: DataHome, entry: dict, replaced: dict[str, str] | None = None
) -> pd.DataFrame:
    """The recorded batch's rows (export-contract records) from its payload; raises
    :class:`LedgerTampered` if the payload was altered."""
    ref = resolve_payload(entry["payloads"]["batch"], replaced or {})
    return pd.DataFrame(json.loads(read_payload(home, ref)))
