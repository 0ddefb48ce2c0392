"""House rules that keep the code honest, checked on the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "marketing_ops"
CORE_PACKAGES = [
    "signals",
    "graph",
    "forecasting",
    "decisioning",
    "execution",
    "measurement",
    "simulator",
    "quality",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_core_packages_do_not_import_dagster(package: str) -> None:
    """The domain core stays free of orchestration: only marketing_ops/defs wires Dagster."""
    files = list((PACKAGE / package).rglob("*.py"))
    assert files, f"core package {package} has no modules"
    offenders = [str(f) for f in files if {"dagster", "dagster_dbt"} & _imports(f)]
    assert offenders == []


def test_no_values_formatted_into_cypher() -> None:
    """Cypher is parameterised: no f-string or %-format builds a query from values."""
    pattern = re.compile(r"""f["'](?:[^"']*)(MATCH|MERGE|CREATE|WHERE)\b[^"']*\{""")
    offenders = []
    for f in (PACKAGE / "graph").rglob("*.py"):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{f}:{n}: {line.strip()}")
    assert offenders == []
