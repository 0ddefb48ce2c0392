"""Governance: the audit trail people rely on to let an agent move money.

:mod:`.lineage` walks a decision back to the archived files it rests on (content hashes) and
says which code and libraries made it; :mod:`.audit` checks every ledger, payload and file
against its hash; :mod:`.erasure` forgets a person everywhere the product stored them and
records that it did; :mod:`.alerts` tells people when a run failed. No Dagster here: the
wiring lives in ``marketing_ops.defs.governance``.
"""

from marketing_ops.governance.alerts import Alert, post_webhook, read_alerts, write_alert
from marketing_ops.governance.audit import AuditReport, audit
from marketing_ops.governance.erasure import ErasureReport, forget
from marketing_ops.governance.lineage import (
    SourceManifest,
    code_version,
    decision_lineage,
    library_versions,
    source_manifest,
    verify_files,
)

__all__ = [
    "Alert",
    "AuditReport",
    "ErasureReport",
    "SourceManifest",
    "audit",
    "code_version",
    "decision_lineage",
    "forget",
    "library_versions",
    "post_webhook",
    "read_alerts",
    "source_manifest",
    "verify_files",
    "write_alert",
]
