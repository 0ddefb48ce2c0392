"""Erasing a person from the graph: every node or relationship holding one of their keys.

The graph is built from marts of audiences, content, channels and campaigns, so today it holds
no per-person record; this still looks everywhere (every STRING property of every table, as the
catalog lists them) so a later schema that adds one cannot silently keep a forgotten person.
Labels and property names come from Kùzu's own catalog; the values are parameters.
"""

from __future__ import annotations

from pathlib import Path

import kuzu

from marketing_ops.graph.engine import execute, open_database, run

__all__ = ["erase_values", "find_values"]


def _string_properties(conn: kuzu.Connection) -> list[tuple[str, str, str]]:
    """(table, kind NODE|REL, property) for every STRING property in the catalog."""
    tables = run(conn, "CALL show_tables() RETURN name, type")
    out = []
    for name, kind in tables.itertuples(index=False):
        # table_info takes a literal only; the name is the catalog's own, quoted.
        quoted = "'" + str(name).replace("'", "") + "'"
        info = run(conn, "CALL table_info(" + quoted + ") RETURN name, type")
        out += [
            (str(name), str(kind), str(p)) for p, t in info.itertuples(index=False) if t == "STRING"
        ]
    return out


def _match(table: str, kind: str, prop: str) -> str:
    # Identifiers from the catalog (never from input); the values travel as $values.
    if kind == "NODE":
        return "MATCH (x:" + table + ") WHERE x." + prop + " IN $values "
    return "MATCH ()-[x:" + table + "]->() WHERE x." + prop + " IN $values "


def _apply(path: Path, values: list[str], delete: bool) -> dict[str, int]:
    if not Path(path).exists() or not values:
        return {}
    counts: dict[str, int] = {}
    with open_database(Path(path), read_only=not delete) as conn:
        for table, kind, prop in _string_properties(conn):
            found = run(
                conn, _match(table, kind, prop) + "RETURN count(*) AS n", {"values": values}
            )
            n = int(found["n"].iloc[0])
            if n:
                counts[f"{table}.{prop}"] = n
                if delete:
                    verb = "DETACH DELETE x" if kind == "NODE" else "DELETE x"
                    execute(conn, _match(table, kind, prop) + verb, {"values": values})
    return counts


def find_values(path: Path, values: list[str]) -> dict[str, int]:
    """Where in the graph at ``path`` any of ``values`` appears: ``{table.property: n}``."""
    return _apply(path, values, delete=False)


def erase_values(path: Path, values: list[str]) -> dict[str, int]:
    """Delete every node (with its relationships) and relationship holding any of ``values``;
    returns what was deleted per ``table.property``."""
    return _apply(path, values, delete=True)
