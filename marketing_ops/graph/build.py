"""Build the knowledge graph from the marts: pure frame shaping, then one bulk load.

:func:`graph_frames` turns the marts into one frame per node and relationship table (pure,
tested on its own); :func:`build_graph` bulk-loads them into a fresh Kùzu database beside the
current one and swaps it in, so a reader never sees a half-built graph. The graph it
replaces is kept in ``snapshots/`` and can be restored with :func:`restore_snapshot`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import kuzu
import numpy as np
import pandas as pd

from marketing_ops.graph.schema import DDL, NODE_TABLES, REL_TABLES

__all__ = [
    "POLICIES",
    "BuildReport",
    "GraphInputs",
    "build_graph",
    "graph_frames",
    "list_snapshots",
    "readiness",
    "restore_snapshot",
]

# Rules every content asset is checked against; the edge says whether it passes and why.
POLICIES: dict[str, tuple[str, str]] = {
    "compliance_approval": ("compliance", "Content is sent only once compliance approved it."),
    "brand_safety": ("brand_safety", "Content must be marked brand safe."),
    "regulated_claims": (
        "regulatory",
        "A regulated claim (pricing, savings) needs compliance approval of this version.",
    ),
}
KEEP_SNAPSHOTS = 7
_CONSENT_COLUMN = {"email": "email_consented"}  # every other channel: ads consent


@dataclass(frozen=True)
class GraphInputs:
    """The marts the graph is built from (frames as read from the warehouse)."""

    dim_audience: pd.DataFrame
    dim_content_asset: pd.DataFrame
    dim_channel: pd.DataFrame
    dim_campaign: pd.DataFrame
    fct_email_engagement: pd.DataFrame
    # Email sends per audience over the 7 days up to the as-of day (frequency caps).
    email_sends_7d: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["audience_id", "sends"])
    )


@dataclass
class BuildReport:
    counts: dict[str, int]
    path: Path
    snapshot: Path | None


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None)


def readiness(assets: pd.DataFrame) -> pd.Series:
    """Share of the readiness checks an asset passes: title, body, topic, a channel it fits,
    compliance approval and brand safety. 1.0 = ready to send."""
    filled = [
        assets[c].fillna("").astype(str).str.strip() != "" for c in ("title", "body", "topic")
    ]
    checks = [
        *filled,
        assets["channel_fit"].fillna("").astype(str).str.strip() != "",
        assets["compliance_status"].fillna("").astype(str) == "approved",
        assets["brand_safe"].fillna(False).astype(bool),
    ]
    return pd.concat(checks, axis=1).mean(axis=1).astype(float)


def _governed_by(assets: pd.DataFrame, version: str) -> pd.DataFrame:
    rows = []
    for a in assets.itertuples(index=False):
        approved = a.compliance_status == "approved"
        verdicts = {
            "compliance_approval": (approved, f"compliance status is {a.compliance_status}"),
            "brand_safety": (
                bool(a.brand_safe),
                "marked brand safe" if a.brand_safe else "not marked brand safe",
            ),
        }
        if bool(a.regulated_claim):
            verdicts["regulated_claims"] = (
                approved,
                "regulated claim, approved" if approved else "regulated claim without approval",
            )
        for policy, (passes, reason) in verdicts.items():
            rows.append((a.asset_id, policy, bool(passes), reason, version))
    return pd.DataFrame(rows, columns=["from", "to", "passes", "reason", "data_version"])


def graph_frames(inputs: GraphInputs, data_version: str) -> dict[str, pd.DataFrame]:
    """One frame per node and relationship table, columns in the schema's load order.

    Relationships whose ends are missing are dropped here, so the graph has no dangling edge.
    """
    v = data_version
    aud = inputs.dim_audience.copy()
    assets = inputs.dim_content_asset.copy()
    channels = inputs.dim_channel.copy()
    campaigns = inputs.dim_campaign.copy()
    eng = inputs.fct_email_engagement.copy()

    frames: dict[str, pd.DataFrame] = {}
    frames["Audience"] = aud.assign(data_version=v)
    assets["readiness"] = readiness(assets) if len(assets) else pd.Series(dtype=float)
    assets["brand_safe"] = assets["brand_safe"].fillna(False).astype(bool)
    assets["regulated_claim"] = assets["regulated_claim"].fillna(False).astype(bool)
    frames["ContentAsset"] = assets.assign(data_version=v)
    frames["Channel"] = channels.assign(data_version=v)
    frames["Campaign"] = campaigns.assign(data_version=v)
    frames["Policy"] = pd.DataFrame(
        [(pid, kind, text, v) for pid, (kind, text) in POLICIES.items()],
        columns=["policy_id", "kind", "description", "data_version"],
    )

    known_aud = set(aud["audience_id"])
    known_assets = set(assets["asset_id"])
    known_channels = set(channels["channel"])

    eng = eng[eng["audience_id"].isin(known_aud) & eng["asset_id"].isin(known_assets)]
    sends = eng["sends"].astype(float)
    frames["RESPONDS_TO"] = pd.DataFrame(
        {
            "from": eng["audience_id"],
            "to": eng["asset_id"],
            "sends": eng["sends"],
            "opens": eng["opens"],
            "clicks": eng["clicks"],
            "conversions": eng["conversions"],
            "ctr": np.where(sends > 0, eng["clicks"] / sends.where(sends > 0, 1.0), 0.0),
            "cvr": np.where(sends > 0, eng["conversions"] / sends.where(sends > 0, 1.0), 0.0),
            "last_seen_at": pd.to_datetime(eng["last_seen_at"], utc=True).dt.tz_localize(None),
            "data_version": v,
        }
    )

    fit_rows = []
    for a in assets.itertuples(index=False):
        for ch in str(a.channel_fit or "").split("|"):
            ch = ch.strip()
            if ch in known_channels:
                fit_rows.append((a.asset_id, ch, a.format, v))
    frames["AVAILABLE_ON"] = pd.DataFrame(
        fit_rows, columns=["from", "to", "format_fit", "data_version"]
    )

    recent = inputs.email_sends_7d
    recent_sends = recent.groupby("audience_id")["sends"].sum().to_dict() if len(recent) else {}
    reach_rows = []
    for a in aud.itertuples(index=False):
        for ch in sorted(known_channels):
            size = int(getattr(a, _CONSENT_COLUMN.get(ch, "ads_consented")) or 0)
            per_contact = 0.0
            if ch == "email" and size > 0:
                per_contact = float(recent_sends.get(a.audience_id, 0.0)) / size
            reach_rows.append((a.audience_id, ch, size, per_contact, v))
    frames["REACHABLE_VIA"] = pd.DataFrame(
        reach_rows,
        columns=["from", "to", "consented_size", "sends_per_contact_7d", "data_version"],
    )

    runs = campaigns[campaigns["channel"].isin(known_channels)]
    frames["RUNS_ON"] = pd.DataFrame(
        {"from": runs["campaign_id"], "to": runs["channel"], "data_version": v}
    )
    frames["GOVERNED_BY"] = _governed_by(assets, v)

    return {name: frames[name].reset_index(drop=True) for name in (*NODE_TABLES, *REL_TABLES)}


def _kuzu_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame Kùzu 0.11 scans correctly: one contiguous object array per column.

    pandas 3's string dtype crashes Kùzu's scan (STACK_NOTES), and ``astype(object)`` on a
    whole frame yields strided column views, which Kùzu reads as if contiguous, mixing up
    columns (measured: a relationship load looked up a channel name as an asset id).
    """
    columns = {}
    for name in frame.columns:
        values = frame[name].astype(object)
        columns[name] = np.ascontiguousarray(values.where(values.notna(), None).to_numpy())
    return pd.DataFrame(columns, dtype=object)


def _load(conn: kuzu.Connection, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load a frame, its columns put in the order the table declares them."""
    if table not in (*NODE_TABLES, *REL_TABLES):
        raise ValueError(f"not a graph table: {table!r}")
    if frame.empty:
        return
    # Kùzu takes table names only as literals; `table` is one of the schema's constants.
    info = conn.execute(f"CALL table_info('{table}') RETURN name").get_as_df()
    columns = list(info["name"])
    if table in REL_TABLES:
        columns = ["from", "to", *columns]
    missing = sorted(set(columns) - set(frame.columns))
    if missing:
        raise ValueError(f"graph table {table}: frame lacks columns {missing}")
    df = _kuzu_frame(frame[columns])  # noqa: F841 - Kùzu's COPY reads the local `df`
    conn.execute(f"COPY {table} FROM df")  # table is a schema constant, never input


# Kùzu keeps a database as one file (or a folder in older versions) plus a write-ahead log.
_SUFFIXES = ("", ".wal", ".shadow", ".tmp")


def _siblings(path: Path) -> list[Path]:
    """The database and the files Kùzu keeps beside it."""
    return [q for q in (path.with_name(path.name + s) for s in _SUFFIXES) if q.exists()]


def _move(src: Path, dst: Path) -> None:
    for p in _siblings(src):
        p.rename(dst.parent / (dst.name + p.name[len(src.name) :]))


def _remove(path: Path) -> None:
    for p in _siblings(path):
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def build_graph(
    path: Path,
    inputs: GraphInputs,
    data_version: str,
    snapshots: Path | None = None,
) -> BuildReport:
    """Build the graph into a new database and swap it in; keep the old one as a snapshot.

    One writer at a time is the caller's job (the store pool); readers of the old graph are
    never disturbed by a half-built one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = graph_frames(inputs, data_version)
    staging = path.with_name(".building-" + path.name)
    _remove(staging)
    db = kuzu.Database(str(staging))
    conn = kuzu.Connection(db)
    try:
        for name in (*NODE_TABLES, *REL_TABLES):
            conn.execute(DDL[name])
        for name in (*NODE_TABLES, *REL_TABLES):
            _load(conn, name, frames[name])
    finally:
        conn.close()
        db.close()
    snapshot = None
    if path.exists():
        if snapshots is not None:
            snapshots.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            snapshot = snapshots / f"{stamp}__{data_version}.kuzu"
            _move(path, snapshot)
            _prune(snapshots)
        else:
            _remove(path)
    _move(staging, path)
    counts = {name: len(f) for name, f in frames.items()}
    return BuildReport(counts=counts, path=path, snapshot=snapshot)


def list_snapshots(snapshots: Path) -> list[Path]:
    """Snapshots, oldest first."""
    if not snapshots.exists():
        return []
    return sorted(p for p in snapshots.iterdir() if p.name.endswith(".kuzu"))


def _prune(snapshots: Path) -> None:
    for old in list_snapshots(snapshots)[:-KEEP_SNAPSHOTS]:
        _remove(old)


def restore_snapshot(path: Path, snapshot: Path) -> None:
    """Put a snapshot back as the current graph (the current one is discarded)."""
    if not snapshot.exists():
        raise FileNotFoundError(f"no graph snapshot at {snapshot}")
    _remove(path)
    for p in _siblings(snapshot):
        target = path.parent / (path.name + p.name[len(snapshot.name) :])
        shutil.copytree(p, target) if p.is_dir() else shutil.copy2(p, target)
