"""A data home set up for your own data, and checked before a run: one line per problem with
its fix.

`marketing-ops doctor` prints them; `run`, `ui` and `demo` refuse to start on a home with a
problem, so a missing secret or a locked warehouse is one line before the run, not hundreds
of stack-trace lines from inside it. Every check only reads (the lock probes open and close
at once); nothing here imports Dagster.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from marketing_ops.config import DataHome
from marketing_ops.signals.currency import REPORTING_FILE, ReportingConfigError, load_reporting
from marketing_ops.signals.privacy import PII_KEY_ENV

__all__ = ["DEMO_ENV", "MIN_FREE_BYTES", "Problem", "diagnose", "init_home", "preflight"]

DEMO_ENV = "MARKETING_OPS_DEMO"
MIN_FREE_BYTES = 1_000_000_000  # a two-year simulated home holds well under this


REPORTING_TEMPLATE = """\
# Reporting currency and time zone of this business (see marketing_ops/signals/currency.py).
# Amounts in other currencies are converted with reference/fx_rates.csv, in the ECB's layout
# (Date,USD,GBP,...: units of each currency per one unit of rates_base); the ECB's
# eurofxref-hist.csv can be dropped in as it is.
currency: EUR
time_zone: UTC
rates_file: fx_rates.csv
rates_base: EUR
max_rate_age_days: 7
"""


def init_home(home: DataHome) -> list[Path]:
    """Folders, one inbox folder per known source, the default policies and
    ``reference/reporting.yaml``; never overwrites a file. Returns the files written. No
    ``ground_truth/`` (simulated worlds only) and no secret: the PII key stays in the
    environment."""
    from marketing_ops.decisioning import ensure_default_policies
    from marketing_ops.signals import SOURCES

    home.ensure()
    for source in SOURCES:
        home.source_inbox(source).mkdir(exist_ok=True)
    written = ensure_default_policies(home.policies)
    reporting = home.reference / REPORTING_FILE
    if not reporting.exists():
        reporting.write_text(REPORTING_TEMPLATE)
        written.append(reporting)
    return written


@dataclass(frozen=True)
class Problem:
    """One thing that stops a run, and what to do about it."""

    check: str
    message: str
    fix: str

    def line(self) -> str:
        return f"{self.check}: {self.message}. Fix: {self.fix}"


def diagnose(
    home: DataHome,
    environ: Mapping[str, str] | None = None,
    min_free_bytes: int = MIN_FREE_BYTES,
) -> list[Problem]:
    """Every problem found in ``home``, in the order a run would meet them."""
    if not home.root.is_dir():
        return [
            Problem("data home", f"{home.root} does not exist", f"`marketing-ops init {home.root}`")
        ]
    env = os.environ if environ is None else environ
    checks: list[Callable[[], list[Problem]]] = [
        lambda: _pii_key(env),
        lambda: _inbox_sources(home),
        lambda: _policies(home),
        lambda: _fx_rates(home),
        lambda: _disk_space(home, min_free_bytes),
        lambda: _warehouse_writable(home),
        lambda: _graph_writable(home),
        lambda: _dagster_instance(home, env),
    ]
    return [problem for check in checks for problem in check()]


def preflight(home: DataHome, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """The checks that open no store (the key, the policies): cheap and lock-free, for the
    inbox sensor, which must never take the warehouse's lock (even read-only: DuckDB then
    refuses the writer) while a run may want it."""
    env = os.environ if environ is None else environ
    return [*_pii_key(env), *_policies(home)]


def _pii_key(env: Mapping[str, str]) -> list[Problem]:
    if env.get(PII_KEY_ENV) or env.get(DEMO_ENV) == "1":
        return []
    return [
        Problem(
            "PII key",
            f"{PII_KEY_ENV} is not set; emails and phones are keyed with it on the way in",
            f"export {PII_KEY_ENV}=<the secret from your secret store> "
            "(`marketing-ops init --generate-key` prints a new one; keep it, keys made "
            "with another secret do not join)",
        )
    ]


def _inbox_sources(home: DataHome) -> list[Problem]:
    from marketing_ops.signals import SOURCES

    if not home.inbox.is_dir():
        return []
    problems = []
    for entry in sorted(home.inbox.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            problems.append(
                Problem(
                    "inbox",
                    f"{entry.name} lies in inbox/ itself and is never read",
                    f"move it into inbox/<source>/, one of {', '.join(SOURCES)}",
                )
            )
        elif entry.name not in SOURCES:
            problems.append(
                Problem(
                    "inbox",
                    f"inbox/{entry.name}/ is not a known source; its files are never read",
                    f"move them into inbox/<source>/, one of {', '.join(SOURCES)}",
                )
            )
    return problems


def _policies(home: DataHome) -> list[Problem]:
    """The policy files as a run will read them: missing ones are copied from the defaults
    at the first run, so they are checked as the defaults."""
    from marketing_ops.decisioning import PolicyError, ensure_default_policies, load_policies

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "policies"
        folder.mkdir()
        if home.policies.is_dir():
            for path in home.policies.glob("*.y*ml"):
                shutil.copyfile(path, folder / path.name)
        ensure_default_policies(folder)
        try:
            load_policies(folder)
        except PolicyError as exc:
            first = str(exc).splitlines()[0]
            return [
                Problem(
                    "policies",
                    first,
                    f"correct the file in {home.policies} (docs/policies.md has every field), "
                    "or delete it to get the default back",
                )
            ]
    return []


def _fx_rates(home: DataHome) -> list[Problem]:
    try:
        reporting = load_reporting(home.reference)
    except ReportingConfigError as exc:
        return [Problem("reporting currency", str(exc), "correct the file named above")]
    needed = _currencies_in_use(home) - {reporting.currency}
    missing = sorted(c for c in needed if c not in reporting.rates.divisors)
    if not missing:
        return []
    return [
        Problem(
            "fx rates",
            f"amounts in {', '.join(missing)} need a rate to {reporting.currency} and "
            f"{reporting.rates.origin} has none",
            f"add a column per currency to {home.reference / 'fx_rates.csv'} (the ECB's "
            "eurofxref-hist.csv can be dropped in as it is)",
        )
    ]


def _currencies_in_use(home: DataHome) -> set[str]:
    """Currencies the sources default to (an export without a currency column), the ones
    already loaded, and the ones rejected for want of a rate."""
    from marketing_ops.signals import RAW_TABLES, load_sources

    used = {
        str(rule.default)
        for spec in load_sources().sources.values()
        for name, rule in spec.columns.items()
        if rule.type == "currency" and rule.default is not None
    }
    if not home.warehouse.exists():
        return used
    try:
        con = duckdb.connect(str(home.warehouse), read_only=True)
    except duckdb.Error:
        return used  # a locked warehouse is the warehouse check's line
    try:
        tables = {r[0] for r in con.execute(_RAW_TABLES_SQL).fetchall()}
        for source, columns in RAW_TABLES.items():
            if source in tables and any(c == "currency" for c, _ in columns):
                # source comes from the contract's constants, never from input
                rows = con.execute(f"select distinct currency from raw.{source}").fetchall()
                used |= {r[0] for r in rows if r[0]}
        if "rejects" in tables:
            rows = con.execute(
                "select distinct raw_value from raw.rejects where field = ? and reason like ?",
                ["currency", "no exchange rate%"],
            ).fetchall()
            used |= {r[0] for r in rows if r[0]}
    finally:
        con.close()
    return used


_RAW_TABLES_SQL = "select table_name from information_schema.tables where table_schema = 'raw'"


def _disk_space(home: DataHome, min_free_bytes: int) -> list[Problem]:
    free = shutil.disk_usage(_existing(home.root)).free
    if free >= min_free_bytes:
        return []
    return [
        Problem(
            "disk space",
            f"{free / 1e9:.1f} GB free where {home.root} lives, below "
            f"{min_free_bytes / 1e9:.1f} GB",
            "free some space or put the data home on a larger disk (--home)",
        )
    ]


def _warehouse_writable(home: DataHome) -> list[Problem]:
    path = home.warehouse
    if not path.exists():
        return _not_writable("warehouse", path.parent)
    try:
        duckdb.connect(str(path)).close()
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        return [
            Problem(
                "warehouse",
                f"{path} cannot be opened for writing ({reason})",
                "stop the other process holding it (a run, `marketing-ops ui`, a DuckDB "
                "shell), or check the file's permissions",
            )
        ]
    return []


def _graph_writable(home: DataHome) -> list[Problem]:
    from marketing_ops.graph import writer_lock

    problems = _not_writable("knowledge graph", home.graph.parent)
    if problems or not home.graph.parent.exists():
        return problems
    try:
        with writer_lock(home.graph, timeout=0):
            pass
    except TimeoutError as exc:
        return [Problem("knowledge graph", str(exc), "wait for that build to end, or stop it")]
    return []


def _dagster_instance(home: DataHome, env: Mapping[str, str]) -> list[Problem]:
    problems = _not_writable("Dagster instance", home.dagster_home)
    config = home.dagster_home / "dagster.yaml"
    if problems or not config.exists():
        return problems  # the CLI writes dagster.yaml before each run
    try:
        settings = yaml.safe_load(config.read_text()) or {}
    except yaml.YAMLError as exc:
        settings = f"not YAML ({str(exc).splitlines()[0]})"
    if not isinstance(settings, dict):
        return [
            Problem(
                "Dagster instance",
                f"{config} is {settings if isinstance(settings, str) else 'not a mapping'}",
                "delete it: `marketing-ops run` and `ui` write a fresh one",
            )
        ]
    unset = sorted(v for v in _env_references(settings) if not env.get(v))
    if unset:
        return [
            Problem(
                "Dagster instance",
                f"{config} reads {', '.join(unset)} from the environment, which is not set",
                f"export {unset[0]}=... (e.g. postgresql+psycopg2://user@host:5432/dagster)",
            )
        ]
    return []


def _env_references(node: object) -> set[str]:
    """Names in ``{env: NAME}`` entries anywhere in a dagster.yaml."""
    if isinstance(node, dict):
        found = {str(node["env"])} if set(node) == {"env"} else set()
        return found.union(*(_env_references(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_env_references(v) for v in node))
    return set()


def _not_writable(check: str, folder: Path) -> list[Problem]:
    where = _existing(folder)
    if os.access(where, os.W_OK):
        return []
    return [
        Problem(
            check,
            f"{where} is not writable by this user",
            "fix its permissions (chown/chmod) or choose another data home (--home)",
        )
    ]


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
