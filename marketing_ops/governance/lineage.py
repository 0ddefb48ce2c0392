"""Lineage: from a decision back to the archived source files it rests on.

A decision's ledger entry (:mod:`marketing_ops.decisioning.ledger.decisions`) records, at decision
time, the Dagster data version and run of every asset upstream of the batch, and a *source
manifest*: the files of ``raw.file_log`` that were current for each source and day up to the
as-of day, summarised by one hash over their content hashes. :func:`decision_lineage` reads it
back, recomputes the manifest from the file log (same rule, same watermark) and re-hashes each
archived file, so a changed file log, a swapped or edited archive file, or an edited ledger all
show up; files an erasure redacted are reported as such, with their new hash.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from marketing_ops.config import DBT_PROJECT_DIR, EXPECTATIONS_DIR, PROJECT_ROOT, DataHome
from marketing_ops.decisioning import LedgerTampered
from marketing_ops.decisioning.ledger.decisions import batch_entries, read_entries
from marketing_ops.warehouse import connect, table_exists

__all__ = [
    "DecisionLineage",
    "SourceManifest",
    "code_version",
    "decision_lineage",
    "file_sha256",
    "library_versions",
    "source_manifest",
    "verify_files",
]

LIBRARIES = (
    "dagster",
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "kuzu",
    "pandas",
    "numpy",
    "scipy",
    "prophet",
    "cmdstanpy",
)
_MANIFEST_COLUMNS = ["source", "partition_date", "file_hash", "file_name", "archived_path"]


@dataclass
class SourceManifest:
    """The files current for each source and day up to a day, as the file log said at a
    watermark (the newest ``loaded_at`` it held then)."""

    files: pd.DataFrame
    watermark: str | None
    root: str

    def summary(self) -> dict:
        sources = {}
        for source, rows in self.files.groupby("source"):
            days = pd.to_datetime(rows["partition_date"]).dropna()
            sources[str(source)] = {
                "files": len(rows),
                "first_day": days.min().date().isoformat() if len(days) else None,
                "last_day": days.max().date().isoformat() if len(days) else None,
            }
        return {
            "count": len(self.files),
            "sha256": self.root,
            "watermark": self.watermark,
            "sources": sources,
        }


def _manifest_root(files: pd.DataFrame) -> str:
    lines = [
        f"{r.source}\t{'' if pd.isna(r.partition_date) else pd.Timestamp(r.partition_date).date()}"
        f"\t{r.file_hash}\n"
        for r in files.itertuples()
    ]
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def source_manifest(
    con: duckdb.DuckDBPyConnection, as_of: date, watermark: str | None = None
) -> SourceManifest:
    """Per source and day, the latest file loaded at or before the watermark (a file that
    was superseded *later* still counts: it was current when the decision was made)."""
    empty = pd.DataFrame(columns=_MANIFEST_COLUMNS)
    if not table_exists(con, "raw.file_log"):
        return SourceManifest(empty, None, _manifest_root(empty))
    if watermark is None:
        newest = con.execute("select max(loaded_at) from raw.file_log").fetchone()[0]
        watermark = None if newest is None else pd.Timestamp(newest).isoformat()
    if watermark is None:
        return SourceManifest(empty, None, _manifest_root(empty))
    files = con.execute(
        """
        select source, partition_date, file_hash, file_name, archived_path from (
            select *, row_number() over (
                partition by source, coalesce(cast(partition_date as varchar), file_hash)
                order by loaded_at desc, file_hash
            ) as newest
            from raw.file_log
            where status in ('loaded', 'superseded')
              and loaded_at <= ?
              and (partition_date is null or partition_date <= ?)
        ) where newest = 1
        order by source, partition_date, file_hash
        """,
        [pd.Timestamp(watermark).to_pydatetime(), as_of],
    ).df()
    return SourceManifest(files, watermark, _manifest_root(files))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archived_file(home: DataHome, source: str, archived_path: str) -> Path:
    """Where an archived file is now: its name under this home's ``archive/<source>/``
    (so a data home moved or copied elsewhere still resolves)."""
    return home.archive / source / Path(str(archived_path)).name


def verify_files(
    home: DataHome, files: pd.DataFrame, redacted: dict[str, str] | None = None
) -> pd.DataFrame:
    """``files`` with ``status``: ok (content matches its hash), redacted (an erasure
    rewrote it; content matches the recorded new hash), altered, or missing."""
    redacted = redacted or {}
    statuses, actual = [], []
    for r in files.itertuples():
        path = archived_file(home, r.source, r.archived_path)
        if not path.exists():
            statuses.append("missing")
            actual.append(None)
            continue
        sha = file_sha256(path)
        actual.append(sha)
        if sha == r.file_hash:
            statuses.append("ok")
        elif redacted.get(r.file_hash) == sha:
            statuses.append("redacted")
        else:
            statuses.append("altered")
    return files.assign(status=statuses, actual_sha256=actual)


def _source_digest() -> str:
    roots = [
        (PROJECT_ROOT / "marketing_ops", ("*.py", "*.yaml", "*.yml", "*.json")),
        (DBT_PROJECT_DIR / "models", ("*.sql", "*.yml")),
        (DBT_PROJECT_DIR / "macros", ("*.sql",)),
        (DBT_PROJECT_DIR / "seeds", ("*.csv", "*.yml")),
        (EXPECTATIONS_DIR, ("*.json",)),
    ]
    digest = hashlib.sha256()
    for root, patterns in roots:
        files = sorted({p for pattern in patterns for p in root.rglob(pattern)})
        for p in files:
            digest.update(str(p.relative_to(PROJECT_ROOT)).encode() + b"\0")
            digest.update(p.read_bytes() + b"\0")
    project = DBT_PROJECT_DIR / "dbt_project.yml"
    if project.exists():
        digest.update(project.read_bytes())
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@lru_cache(maxsize=1)
def code_version() -> dict:
    """The code that decides: package version, git commit (and whether the working tree
    differed from it) and a hash over the package, dbt project and expectation suites, which
    identifies the code even outside git."""
    try:
        package = importlib.metadata.version("marketing_ops")
    except importlib.metadata.PackageNotFoundError:
        package = "unknown"
    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit is not None:
        status = _git("status", "--porcelain", "--", "marketing_ops", "dbt_project", "expectations")
        dirty = bool(status)
    return {
        "package": package,
        "git_commit": commit,
        "git_dirty": dirty,
        "source_sha256": _source_digest(),
    }


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose arithmetic a decision depends on."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


@dataclass
class DecisionLineage:
    """Everything ``marketing-ops explain --lineage`` shows for one decision."""

    decision_id: str
    entry: dict | None
    chain_problem: str | None
    decision: dict = field(default_factory=dict)
    manifest: SourceManifest | None = None
    files: pd.DataFrame = field(default_factory=pd.DataFrame)
    erasures: list[dict] = field(default_factory=list)

    @property
    def manifest_matches(self) -> bool | None:
        if self.entry is None or self.manifest is None:
            return None
        recorded = (self.entry.get("source_files") or {}).get("sha256")
        return None if recorded is None else recorded == self.manifest.root

    @property
    def file_counts(self) -> dict[str, int]:
        if self.files.empty:
            return {}
        return {str(k): int(v) for k, v in self.files["status"].value_counts().items()}

    @property
    def intact(self) -> bool:
        """Chain verified, manifest reproduced, every file ok or redacted by an erasure."""
        counts = self.file_counts
        return (
            self.entry is not None
            and self.chain_problem is None
            and self.manifest_matches is not False
            and not counts.get("altered")
            and not counts.get("missing")
        )


def _entry_for_decision(entries: list[dict], decision_id: str) -> dict | None:
    for e in reversed(batch_entries(entries)):
        if decision_id in (e.get("decision_ids") or []):
            return e
    return None


def _redacted_files(entries: list[dict]) -> dict[str, str]:
    out = {}
    for e in entries:
        if e.get("kind") == "erasure":
            for f in e.get("files", []):
                if f.get("area") == "archive":
                    out[f["file_hash"]] = f["new_sha256"]
    return out


def decision_lineage(home: DataHome, decision_id: str, verify: bool = True) -> DecisionLineage:
    """Walk one decision back: its ledger entry (chain checked), the recorded upstream
    assets with data versions, and the archived files with their content hashes re-checked.

    Works from the ledger alone when the warehouse no longer holds the decision (a day
    re-decided replaces its rows); the file log is read only to re-derive the manifest."""
    chain_problem = None
    try:
        entries = read_entries(home)
    except LedgerTampered as exc:
        chain_problem = str(exc)
        entries = read_entries(home, verify=False)
    entry = _entry_for_decision(entries, decision_id)
    out = DecisionLineage(decision_id, entry, chain_problem)
    out.erasures = [
        {k: e.get(k) for k in ("seq", "at", "subject", "requested_by")}
        for e in entries
        if e.get("kind") == "erasure"
    ]
    if entry is None or not home.warehouse.exists():
        return out
    with connect(home.warehouse, read_only=True) as con:
        if table_exists(con, "agent.decisions"):
            row = con.execute(
                "select * from agent.decisions where decision_id = ? limit 1", [decision_id]
            ).df()
            if len(row):
                out.decision = row.iloc[0].to_dict()
        recorded = entry.get("source_files") or {}
        out.manifest = source_manifest(
            con, date.fromisoformat(entry["as_of"]), recorded.get("watermark")
        )
    if verify:
        out.files = verify_files(home, out.manifest.files, _redacted_files(entries))
    else:
        out.files = out.manifest.files.assign(status="not checked", actual_sha256=None)
    return out


def as_text_day(value: object) -> str:
    """A date-ish value as YYYY-MM-DD ('' when missing)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat()
    return str(value)[:10]
