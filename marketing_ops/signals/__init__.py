"""Signals: exports from ads, analytics, CRM and email tools, validated and loaded to ``raw.*``.

Column variants live in ``sources.yaml``; emails and phones are keyed on the way in
(:mod:`marketing_ops.signals.privacy`); every received row is loaded or rejected with a
reason; unreadable files are quarantined; a re-run of a day rebuilds the same rows.
"""

from marketing_ops.signals.inbox import (
    InboxFile,
    LoadPlan,
    LoadRequest,
    PendingFile,
    pending_files,
    plan_loads,
    scan_inbox,
    unknown_folders,
)
from marketing_ops.signals.ingest import (
    FileOutcome,
    IngestReport,
    ParsedFile,
    ReconcileReport,
    ingest_source,
    parse_signal_file,
    reconcile_from_archive,
)
from marketing_ops.signals.limits import IngestLimits, SignalSettingsError, load_limits
from marketing_ops.signals.privacy import MissingPiiKeyError, pii_key
from marketing_ops.signals.readers import UnreadableFile
from marketing_ops.signals.sources import (
    RAW_TABLES,
    SOURCES,
    SourcesConfig,
    SourcesConfigError,
    load_sources,
)
from marketing_ops.signals.store import (
    RAW_TABLE_NAMES,
    ensure_raw_schema,
    file_log_discrepancies,
)

__all__ = [
    "SOURCES",
    "RAW_TABLES",
    "RAW_TABLE_NAMES",
    "FileOutcome",
    "InboxFile",
    "IngestLimits",
    "LoadPlan",
    "LoadRequest",
    "IngestReport",
    "MissingPiiKeyError",
    "ParsedFile",
    "PendingFile",
    "ReconcileReport",
    "SourcesConfig",
    "SourcesConfigError",
    "SignalSettingsError",
    "UnreadableFile",
    "ensure_raw_schema",
    "file_log_discrepancies",
    "ingest_source",
    "load_limits",
    "load_sources",
    "parse_signal_file",
    "pending_files",
    "pii_key",
    "plan_loads",
    "reconcile_from_archive",
    "scan_inbox",
    "unknown_folders",
]
