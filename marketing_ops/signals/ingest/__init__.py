"""Inbox to raw tables, in four steps each with its own module:

- :mod:`.read`: a file's hash, the day its name hints at, its records by canonical column;
- :mod:`.validate`: records to raw-table rows or rejects with a reason (in Python or in bulk);
- :mod:`.files`: the inbox listing, archive and quarantine moves;
- :mod:`.load`: one source and window of days into ``raw.*`` with the file log;
- :mod:`.reconcile`: days whose file log does not reconcile, loaded again from the archive.
"""

from marketing_ops.signals.ingest.files import inbox_files
from marketing_ops.signals.ingest.load import FileOutcome, IngestReport, ingest_source
from marketing_ops.signals.ingest.read import name_day
from marketing_ops.signals.ingest.reconcile import ReconcileReport, reconcile_from_archive
from marketing_ops.signals.ingest.validate import BULK_MIN_BYTES, ParsedFile, parse_signal_file

__all__ = [
    "BULK_MIN_BYTES",
    "FileOutcome",
    "IngestReport",
    "ParsedFile",
    "ReconcileReport",
    "inbox_files",
    "ingest_source",
    "name_day",
    "parse_signal_file",
    "reconcile_from_archive",
]
