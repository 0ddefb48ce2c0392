"""The embedded Dagster instance's storage: Dagster's SQLite storage, writing a ranged run's
materialisations in batches.

A run over a range of days (the demo's 730, a backfill) records one materialisation per asset
and day. Dagster hands them to the storage as one batch per step when ``DAGSTER_EVENT_BATCH_SIZE``
is set (``runner.prepare_instance`` sets it), but its SQLite event log writes a batch one event
at a time: two connections and a transaction per event, about 7 ms each on this machine, 50 s
of the demo's 7,300. PostgreSQL's event log writes a batch in one insert; this does the same for
SQLite: one insert into the run's shard and one transaction on the index shard (the event rows,
their tags, and the asset's latest record), as ``dagster_postgres`` does. Anything else (and a
batch of mixed events) is stored the way Dagster stores it.

Used through ``dagster.yaml`` (``storage: custom``), with the same directories as Dagster's
default SQLite storage, so an existing data home keeps its history.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory

__all__ = ["BatchedSqliteEventLogStorage", "SqliteStorage"]

_BATCHED = ({DagsterEventType.ASSET_MATERIALIZATION}, {DagsterEventType.ASSET_OBSERVATION})


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log; a batch of one run's materialisations (or observations) is
    written in two transactions instead of two per event."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        types = {e.dagster_event_type for e in events}
        run_ids = {e.run_id for e in events}
        if len(events) < 2 or len(run_ids) != 1 or types not in _BATCHED:
            return super().store_event_batch(events)
        statement = self.prepare_insert_event_batch(events)
        with self.run_connection(run_ids.pop()) as conn:
            conn.execute(statement)
        try:
            with self.index_transaction() as conn:
                rows = conn.execute(statement.returning(SqlEventLogStorageTable.c.id)).fetchall()
                # One multi-row insert inside a write transaction takes consecutive row ids in
                # the order of its rows; RETURNING's order is not promised, so pair by sorted id.
                event_ids = sorted(int(row[0]) for row in rows)
                if len(event_ids) != len(events):
                    raise RuntimeError(f"{len(event_ids)} ids for a batch of {len(events)} events")
                self._store_asset_event_tags(conn, events, event_ids)
                # The asset's record keeps its latest event (dagster_postgres does the same).
                self._store_asset_event(conn, events[-1], event_ids[-1])
        except Exception:
            # The run's shard has the batch (Dagster's own fallback would store it again):
            # mirror the events into the index one at a time, as store_event does.
            for event in events:
                with self.index_transaction() as conn:
                    event_id = conn.execute(self.prepare_insert_event(event)).inserted_primary_key[
                        0
                    ]
                    self._store_asset_event_tags(conn, [event], [event_id])
                    self._store_asset_event(conn, event, event_id)


class SqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage (same directories under ``base_dir``) with the batched
    event log."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchedSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        # Dagster's builds DagsterSqliteStorage by name, whatever the subclass
        return cls.from_local(inst_data=inst_data, **config_value)
