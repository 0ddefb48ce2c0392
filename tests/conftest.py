"""Project-wide test set-up: quiet Dagster, a parsed dbt manifest, a real PostgreSQL server,
and a fresh data home with the default policies."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from processes import free_port

os.environ.setdefault("MARKETING_OPS_DEMO", "1")  # tests use the documented demo PII key
# pytest-xdist workers start with COLUMNS=80 / LINES=24 in their environment; rich fixes a
# console's width when one is set at its creation, so the CLI tests' own COLUMNS would be
# ignored. Without them the width follows each invocation's environment, as in one process.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's `postgresql` "
            "(`make test` and .ci/run do this)"
        )
    return found[-1].parent


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A throwaway PostgreSQL server on 127.0.0.1, started for this test session.

    Runs as the `postgres` user when the tests run as root (initdb refuses root)."""
    bindir = _pg_bin()
    # Not under pytest's tmp dir: that is private to root, and the server runs as `postgres`.
    base = Path(tempfile.mkdtemp(prefix="marketing-ops-pg-"))
    data = base / "data"
    port = free_port()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        base.chmod(0o777)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "--auth=trust",
            "-U",
            "dagster",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    log = data.parent / "pg.log"
    if as_root:
        log.touch()
        shutil.chown(log, "postgres")
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "start",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {data}",
        ],
        check=True,
        capture_output=True,
    )
    try:
        deadline = time.time() + 30
        while True:
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            )
            if ready.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        subprocess.run(
            [
                str(bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "dagster",
                "dagster",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://dagster@127.0.0.1:{port}/dagster"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


# The worlds several test files share (session fixtures). Under pytest-xdist (`make test`
# runs two workers) a session fixture is built once per worker that uses it, so every test file
# that names one of these runs on one worker with the others that name it; every other file is
# a unit of its own, which keeps module-scoped fixtures built once too. (xdist's `loadgroup`
# marks do not group on pytest 9: it renames `item._nodeid`, which pytest 9 no longer reads.)
SHARED_WORLDS = (
    "flow_world",
    "loaded_world",
    "built_warehouse",
    "built_once",
    "fitted_worlds",
    "geo_test",
    "definitions",
)
TESTS_ROOT = Path(__file__).resolve().parent.parent


def _world_of(path: str, _seen: dict[str, str] = {}) -> str:  # noqa: B006 (a cache)
    if path not in _seen:
        try:
            text = (TESTS_ROOT / path).read_text()
        except OSError:
            text = ""
        _seen[path] = next((w for w in SHARED_WORLDS if w in text), path)
    return _seen[path]


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """xdist's scope scheduler with a test file's shared world as its scope."""
    from xdist.scheduler import LoadScopeScheduling

    class WorldScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _world_of(nodeid.split("::", 1)[0])

    return WorldScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project once, before any worker starts (workers would race to parse)."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller parsed already
        return
    from marketing_ops.runner import ensure_dbt_manifest

    ensure_dbt_manifest()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    from marketing_ops.runner import ensure_dbt_manifest, quiet_dagster

    quiet_dagster()
    return ensure_dbt_manifest()


@pytest.fixture
def home(tmp_path):
    """A fresh data home with the default policies."""
    from marketing_ops.config import data_home
    from marketing_ops.decisioning import ensure_default_policies

    h = data_home(tmp_path / "home").ensure()
    ensure_default_policies(h.policies)
    return h


@pytest.fixture
def policies(home):
    """The home's default policies."""
    from marketing_ops.decisioning import load_policies

    return load_policies(home.policies)
