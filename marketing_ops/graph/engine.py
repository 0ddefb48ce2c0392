"""The one place that opens Kùzu databases and runs statements on them.

Kùzu 0.11 frees a statement's or result's native memory when its Python object dies. If that
happens after the database was closed (a result kept alive by an exception's traceback, then
collected later by the garbage collector), the process crashes. So every statement here
closes its result before returning, and a failed statement is re-raised as a fresh
:class:`GraphQueryError` that holds no reference to Kùzu's objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import kuzu
import pandas as pd

__all__ = ["GraphQueryError", "execute", "open_database", "run"]


class GraphQueryError(RuntimeError):
    """Kùzu refused or failed a statement (the message is Kùzu's)."""


def run(conn: kuzu.Connection, query: str, parameters: dict | None = None) -> pd.DataFrame:
    """Run a statement and return its rows as a frame; the result is closed either way."""
    message = None
    try:
        result = conn.execute(query, parameters or {})
        try:
            return result.get_as_df()
        finally:
            result.close()
    except RuntimeError as exc:
        message = str(exc)
    # Raised outside the except block: the new error carries no traceback into Kùzu's frames.
    raise GraphQueryError(message)


def execute(conn: kuzu.Connection, query: str, parameters: dict | None = None) -> None:
    """Run a statement whose rows are not needed (DDL, COPY, SET, index calls)."""
    message = None
    try:
        conn.execute(query, parameters or {}).close()
        return
    except RuntimeError as exc:
        message = str(exc)
    raise GraphQueryError(message)


@contextmanager
def open_database(path: Path, read_only: bool = False) -> Iterator[kuzu.Connection]:
    """A connection to the database at ``path``, closed (connection, then database) on exit."""
    db = kuzu.Database(str(path), read_only=read_only)
    conn = kuzu.Connection(db)
    try:
        yield conn
    finally:
        conn.close()
        db.close()
