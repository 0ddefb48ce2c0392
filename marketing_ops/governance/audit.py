"""``marketing-ops audit verify``: is the audit trail as it was written?

Checks, each with a plain verdict:

1. the decision ledger's hash chain, and every payload it names (content = hash, or replaced
   by a recorded erasure with an intact redacted version);
2. the approval ledger's hash chain;
3. the warehouse against the ledger: every batch in ``agent.decisions`` has a ledger entry and
   its rows are, byte for byte, the batch the ledger recorded (so an amount edited in the
   warehouse, or a ledger whose last lines were cut off, is caught here);
4. optionally every archived source file against the content hash in its name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from marketing_ops.config import DataHome
from marketing_ops.decisioning import LedgerTampered, read_approvals
from marketing_ops.decisioning.batch.assemble import export_batch
from marketing_ops.decisioning.ledger.decisions import (
    batch_entries,
    erasure_map,
    payload_path,
    read_entries,
    resolve_payload,
    verify_ledger,
)
from marketing_ops.governance.lineage import file_sha256
from marketing_ops.warehouse import connect, read_table, table_exists

__all__ = ["AuditCheck", "AuditReport", "audit"]


@dataclass
class AuditCheck:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    checks: list[AuditCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _ledger_check(home: DataHome) -> AuditCheck:
    result = verify_ledger(home)
    detail = (
        f"{result.entries} entries ({result.batches} batches, {result.erasures} erasures); "
        f"{result.payloads_checked} payloads intact"
        + (f", {result.payloads_redacted} redacted by erasures" if result.payloads_redacted else "")
    )
    return AuditCheck("decision ledger: chain and payloads", result.ok, detail, result.problems)


def _approvals_check(home: DataHome) -> AuditCheck:
    try:
        entries = read_approvals(home)
    except LedgerTampered as exc:
        return AuditCheck("approval ledger: chain", False, "broken", [str(exc)])
    return AuditCheck("approval ledger: chain", True, f"{len(entries)} entries")


def _warehouse_check(home: DataHome) -> AuditCheck:
    name = "warehouse batches match the ledger"
    if not home.warehouse.exists():
        return AuditCheck(name, True, "no warehouse yet")
    try:
        entries = read_entries(home)
    except LedgerTampered:
        return AuditCheck(name, False, "ledger unreadable (see above)", ["ledger chain broken"])
    replaced = erasure_map(entries)
    latest = {e["batch_id"]: e for e in batch_entries(entries)}
    with connect(home.warehouse, read_only=True) as con:
        if not table_exists(con, "agent.decisions"):
            return AuditCheck(name, True, "no decisions yet")
        decisions = read_table(con, "agent.decisions")
    problems = []
    batches = sorted(decisions["batch_id"].unique()) if len(decisions) else []
    unverified = 0
    for batch_id in batches:
        entry = latest.get(batch_id)
        if entry is None:
            problems.append(f"batch {batch_id}: in agent.decisions but not in the ledger")
            continue
        rows = decisions[decisions["batch_id"] == batch_id]
        ref = resolve_payload(entry["payloads"]["batch"], replaced)
        recorded = payload_path(home, ref)
        if not recorded.exists():
            problems.append(f"batch {batch_id}: its recorded payload is missing")
            continue
        if _records(export_batch(rows, "json")) != _records(recorded.read_text()):
            problems.append(
                f"batch {batch_id}: agent.decisions rows differ from the batch the ledger recorded"
            )
        if not entry.get("replay_verified", True):
            unverified += 1
    detail = f"{len(batches)} batches checked"
    if unverified:
        detail += f"; {unverified} could not be replayed bit for bit when recorded"
    return AuditCheck(name, not problems, detail, problems)


# What may change after a batch is recorded: its status (approved, executed, superseded...)
# and the autonomy block of the rationale that explains that status. Everything else must
# stay exactly as the ledger recorded it.
_LIFECYCLE_FIELDS = ("status",)
_LIFECYCLE_RATIONALE = ("autonomy",)


def _decided_part(record: dict) -> dict:
    out = {k: v for k, v in record.items() if k not in _LIFECYCLE_FIELDS}
    rationale = out.get("rationale")
    parsed = json.loads(rationale) if isinstance(rationale, str) and rationale else rationale
    if isinstance(parsed, dict):
        out["rationale"] = {k: v for k, v in parsed.items() if k not in _LIFECYCLE_RATIONALE}
    return out


def _records(text: str) -> str:
    """Export-contract JSON in one canonical form (rows by decision id, keys sorted), without
    the lifecycle fields that approvals, execution and later batches legitimately change."""
    records = sorted(json.loads(text), key=lambda r: str(r.get("decision_id")))
    return json.dumps([_decided_part(r) for r in records], sort_keys=True)


def _files_check(home: DataHome) -> AuditCheck:
    redacted = set()
    try:
        for e in read_entries(home, verify=False):
            if e.get("kind") == "erasure":
                redacted |= {f["new_sha256"] for f in e.get("files", [])}
    except LedgerTampered:
        pass
    problems, checked = [], 0
    for path in sorted(p for p in home.archive.rglob("*__*") if p.is_file()):
        checked += 1
        sha = file_sha256(path)
        named = path.name.split("__", 1)[0]
        if sha != named and sha not in redacted:
            problems.append(f"{path.relative_to(home.root)}: content does not match its hash")
    return AuditCheck("archived source files", not problems, f"{checked} files", problems)


def audit(home: DataHome, files: bool = False) -> AuditReport:
    """Run every check (the archive re-hash only with ``files``: it reads every byte)."""
    checks = [_ledger_check(home), _approvals_check(home), _warehouse_check(home)]
    if files:
        checks.append(_files_check(home))
    return AuditReport(checks)
