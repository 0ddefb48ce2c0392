"""House rules that keep the code honest, checked on the source itself.

The layering: the core (every package of marketing_ops except the Dagster wiring in `defs`
and the command line in `cli`, plus the top-level `config` and `warehouse` modules) knows
nothing of Dagster; `defs` never reaches up into the CLI (or the runner that drives it), the
CLI never reaches into `defs`; and no two modules import each other at module level, directly
or around a circle. The packages are found by walking the tree, so a new one is covered.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "marketing_ops"
ROOT = PACKAGE.name
WIRING = {"defs", "cli"}
CORE_MODULES = ["config.py", "warehouse.py"]
ORCHESTRATION = {"dagster", "dagster_dbt", "dagster_postgres", "dagster_webserver"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.is_dir() and (path / "__init__.py").is_file()


CORE_PACKAGES = sorted(p.name for p in PACKAGE.iterdir() if _is_package(p) and p.name not in WIRING)


def _files(area: str) -> list[Path]:
    """The modules of a package or of a top-level module (``cli`` may be either)."""
    path = PACKAGE / area
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    module = path.with_suffix(".py") if path.suffix != ".py" else path
    return [module] if module.is_file() else []


def _cli_files() -> list[Path]:
    """The command line: the `cli` package, or while it is being gathered, the top-level
    `cli*.py` and `*_cli.py` modules it is made of."""
    loose = [p for p in PACKAGE.glob("*.py") if p.stem.startswith("cli") or p.stem.endswith("_cli")]
    return sorted(set(_files("cli")) | set(loose))


def _imported(path: Path, module_level_only: bool) -> Iterator[tuple[str, list[str]]]:
    """(absolute module, names imported from it) for each import in the file; relative
    imports are resolved against the file's package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    nodes = _module_level(tree.body) if module_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, [a.name for a in node.names]


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module is imported: the top level and the branches of
    module-level if/try blocks, except `if TYPE_CHECKING:` (never run)."""
    for node in body:
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _module_level(block)
        else:
            yield node


def _imports_top(path: Path) -> set[str]:
    """Top-level names of every import in the file, at any depth (lazy imports count)."""
    return {module.split(".")[0] for module, _ in _imported(path, module_level_only=False)}


def _imports_project(path: Path) -> set[str]:
    """Every marketing_ops module the file imports, at any depth, with `from package import
    module` resolved to the module."""
    found = set()
    for module, names in _imported(path, module_level_only=False):
        if module == ROOT or module.startswith(ROOT + "."):
            found.add(module)
            found.update(f"{module}.{n}" for n in names)
    return found


@pytest.mark.parametrize("area", CORE_PACKAGES + CORE_MODULES)
def test_core_does_not_import_dagster(area: str) -> None:
    """The domain core stays free of orchestration: only marketing_ops/defs (and the runner
    that drives it) wire Dagster; lazy imports inside functions count too."""
    files = _files(area)
    assert files, f"core area {area} has no modules"
    offenders = {
        str(f.relative_to(PACKAGE)): sorted(ORCHESTRATION & _imports_top(f)) for f in files
    }
    assert {f: names for f, names in offenders.items() if names} == {}


def test_core_areas_found_by_walking_the_tree() -> None:
    """The walk finds the packages (so the parametrisation above is not silently empty)."""
    assert {"signals", "decisioning", "measurement"} <= set(CORE_PACKAGES)
    assert not WIRING & set(CORE_PACKAGES)


def _offenders(files: list[Path], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    found = {}
    for f in files:
        bad = sorted(
            m
            for m in _imports_project(f)
            if any(m == x or m.startswith(x + ".") for x in forbidden)
        )
        if bad:
            found[str(f.relative_to(PACKAGE))] = bad
    return found


def test_defs_imports_no_cli_and_no_runner() -> None:
    """The Dagster wiring never reaches up into the command line or the runner that drives
    it: the code location loads the same under `dagster dev`, the CLI and tests."""
    cli_modules = tuple(_module_name(f) for f in _cli_files())
    forbidden = (f"{ROOT}.cli", f"{ROOT}.runner", *cli_modules)
    assert _offenders(_files("defs"), forbidden) == {}


def test_cli_imports_no_defs() -> None:
    """The command line runs jobs through the runner and reads results through the core;
    it never imports an asset module."""
    files = _cli_files()
    assert files, "no command-line modules found"
    assert _offenders(files, (f"{ROOT}.defs",)) == {}


def _module_graph() -> dict[str, set[str]]:
    """marketing_ops module -> the marketing_ops modules it imports at module level."""
    modules = {_module_name(f): f for f in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for module, names in _imported(path, module_level_only=True):
            if module not in modules:
                continue
            submodules = {f"{module}.{n}" for n in names} & modules.keys()
            edges |= submodules or {module}
            if len(submodules) < len(names):  # some names are attributes of the package
                edges.add(module)
        graph[name] = edges - {name}
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle as [a, b, ..., a], or [] when the graph has none (iterative DFS)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(graph):
        if root in state:
            continue
        path = [root]
        stack = [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return []


def test_find_cycle_reports_the_circle() -> None:
    """The cycle finder itself: a circle is reported as its path, a tree is not a circle."""
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circle() -> None:
    """No module of marketing_ops imports itself around a circle at module level (lazy
    imports inside functions are the deliberate way to break one, e.g. the runner loading
    the definitions)."""
    graph = _module_graph()
    assert f"{ROOT}.definitions" in graph
    assert _find_cycle(graph) == []


def test_no_values_formatted_into_cypher() -> None:
    """Cypher is parameterised: no f-string or %-format builds a query from values."""
    pattern = re.compile(r"""f["'](?:[^"']*)(MATCH|MERGE|CREATE|WHERE)\b[^"']*\{""")
    offenders = []
    for f in (PACKAGE / "graph").rglob("*.py"):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{f}:{n}: {line.strip()}")
    assert offenders == []
