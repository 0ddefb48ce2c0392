"""Fixtures of the graph tests: a built graph of the typed-out world, and a dump of a graph
that two builds can be compared by."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from marketing_ops.graph import NODE_TABLES, REL_TABLES, GraphReader, build_graph
from marketing_ops.graph.schema import NODE_KEYS

from .world import make_inputs


@pytest.fixture(scope="session")
def built_once(tmp_path_factory) -> Path:
    """The typed-out world built once (a build costs seconds; a copy milliseconds)."""
    path = tmp_path_factory.mktemp("graph-template") / "g.kuzu"
    build_graph(path, make_inputs(), as_of="2026-11-20")
    return path


@pytest.fixture
def graph(tmp_path, built_once) -> Path:
    """A private copy of that graph (database file and build manifest) to change at will."""
    path = tmp_path / "graph" / "g.kuzu"
    path.parent.mkdir(parents=True)
    for suffix in ("", ".manifest.json"):
        shutil.copy2(f"{built_once}{suffix}", f"{path}{suffix}")
    return path


def _key(node: dict) -> str:
    return f"{node['_label']}:{node[NODE_KEYS[node['_label']]]}"


def _props(item: dict, drop: set[str]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in item.items() if k not in drop and v is not None))


def dump_graph(path: Path, provenance: bool = False) -> dict[str, list]:
    """Every node and edge with its properties, sorted: equal dumps, equal graphs.

    ``data_version`` is left out unless ``provenance``: an incremental build keeps the stamp
    of rows it did not have to touch.
    """
    drop = {"_id", "_src", "_dst", "_label"} | (set() if provenance else {"data_version"})
    out: dict[str, list] = {}
    with GraphReader(path) as reader:
        for table in NODE_TABLES:
            result = reader._conn.execute(f"MATCH (n:{table}) RETURN n")
            rows = []
            while result.has_next():
                rows.append(_props(result.get_next()[0], drop))
            result.close()  # before the database closes (Kùzu frees it natively)
            out[table] = sorted(rows)
        for table in REL_TABLES:
            result = reader._conn.execute(f"MATCH (a)-[r:{table}]->(b) RETURN a, r, b")
            rows = []
            while result.has_next():
                a, r, b = result.get_next()
                rows.append((_key(a), _key(b), _props(r, drop)))
            result.close()
            out[table] = sorted(rows)
    return out


def frame_of(path: Path, query: str, params: dict | None = None) -> pd.DataFrame:
    with GraphReader(path) as reader:
        return reader.frame(query, params)
