"""`dagster dev` / the webserver load the code location the way the UI does: through
workspace.yaml, in a separate process, with every asset group of DESIGN.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from marketing_ops.config import PROJECT_ROOT

GROUPS = {
    "signals",
    "warehouse",
    "knowledge_graph",
    "forecasts",
    "decisions",
    "execution",
    "measurement",
    "learning",
}


def test_workspace_loads_with_every_group(tmp_path, dbt_manifest) -> None:
    """`dagster definitions validate -w workspace.yaml` succeeds in a fresh process, and the
    loaded repository has an asset in each stage's group."""
    dagster = Path(sys.executable).parent / "dagster"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "MARKETING_OPS_HOME": str(tmp_path)}
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", str(PROJECT_ROOT / "workspace.yaml")],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "marketing_ops" in done.stdout + done.stderr

    from marketing_ops.runner import load_definitions

    graph = load_definitions().resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.materializable_asset_keys}
    assert GROUPS <= groups
