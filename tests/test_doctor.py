"""`marketing-ops init` and `doctor`: a home set up for your own data, and the checks that stop
`run` before it starts, one line per problem with its fix, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.config import DataHome, data_home
from marketing_ops.doctor import diagnose, init_home
from marketing_ops.graph import writer_lock
from marketing_ops.signals.privacy import PII_KEY_ENV

runner = CliRunner()
KEYED = {PII_KEY_ENV: "a-test-secret"}


@pytest.fixture
def own_home(tmp_path, monkeypatch) -> DataHome:
    """A fresh home for your own data: not in demo mode, no PII key in the environment."""
    monkeypatch.delenv("MARKETING_OPS_DEMO", raising=False)
    monkeypatch.delenv(PII_KEY_ENV, raising=False)
    result = runner.invoke(app, ["init", str(tmp_path / "home")])
    assert result.exit_code == 0, result.output
    return data_home(tmp_path / "home")


def _problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_init_writes_policies_and_reference_but_no_ground_truth_or_key(own_home) -> None:
    assert sorted(p.name for p in own_home.policies.glob("*.yaml")) == [
        "approvals.yaml", "autonomy.yaml", "budget.yaml", "compliance.yaml", "content.yaml",
        "roles.yaml", "testing.yaml",
    ]  # fmt: skip
    assert (own_home.reference / "reporting.yaml").is_file()
    assert (own_home.inbox / "google_ads").is_dir()
    assert not own_home.ground_truth.exists()
    everything = "".join(p.read_text() for p in own_home.root.rglob("*") if p.is_file())
    assert "a-test-secret" not in everything and PII_KEY_ENV not in everything


def test_generated_key_is_printed_and_not_written(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(PII_KEY_ENV, raising=False)
    result = runner.invoke(app, ["init", str(tmp_path / "home"), "--generate-key"])
    assert result.exit_code == 0, result.output
    keys = [w for w in result.output.split() if len(w) == 64 and set(w) <= set("0123456789abcdef")]
    assert len(keys) == 1
    files = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert files and all(keys[0] not in p.read_text() for p in files)


@pytest.mark.parametrize(
    "command",
    [["doctor"], ["run", "--start", "2026-01-01", "--end", "2026-01-02"], ["ui"]],
    ids=["doctor", "run", "ui"],
)
def test_home_without_key_fails_with_one_line(own_home, command) -> None:
    result = runner.invoke(app, [*command, "--home", str(own_home.root)])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not an error
    assert "Traceback" not in result.output
    (line,) = _problem_lines(result.output)
    assert line.startswith("PII key:") and PII_KEY_ENV in line and "Fix: export" in line
    assert not (own_home.dagster_home / "dagster.yaml").exists()  # Dagster never started


def test_home_with_key_passes(own_home, monkeypatch) -> None:
    monkeypatch.setenv(PII_KEY_ENV, "a-test-secret")
    result = runner.invoke(app, ["doctor", "--home", str(own_home.root)])
    assert result.exit_code == 0, result.output
    assert "ready for a run" in result.output


def test_missing_home_is_one_line(tmp_path) -> None:
    result = runner.invoke(app, ["doctor", "--home", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    (line,) = _problem_lines(result.output)
    assert "does not exist" in line and "marketing-ops init" in line


def _checks(home: DataHome, **env: str) -> list[str]:
    return [p.check for p in diagnose(home, environ={**KEYED, **env})]


def test_unknown_inbox_folder_and_loose_file(own_home) -> None:
    (own_home.inbox / "shopify").mkdir()
    (own_home.inbox / "orders.csv").write_text("a,b\n")
    lines = [p.line() for p in diagnose(own_home, environ=KEYED)]
    assert len(lines) == 2
    assert any("inbox/shopify/ is not a known source" in line for line in lines)
    assert any("orders.csv lies in inbox/" in line for line in lines)


def test_invalid_policy_names_file_and_field(own_home) -> None:
    (own_home.policies / "budget.yaml").write_text("budget:\n  max_shift_pct: lots\n")
    (problem,) = diagnose(own_home, environ=KEYED)
    assert problem.check == "policies"
    assert "budget.yaml" in problem.message and "max_shift_pct" in problem.message


def test_missing_policy_files_are_the_defaults(own_home) -> None:
    for path in own_home.policies.glob("*.yaml"):
        path.unlink()
    assert diagnose(own_home, environ=KEYED) == []


def test_fx_rates_needed_for_a_reporting_currency_the_sources_do_not_use(own_home) -> None:
    (own_home.reference / "reporting.yaml").write_text("currency: USD\n")
    assert _checks(own_home) == ["fx rates"]
    (own_home.reference / "fx_rates.csv").write_text("Date,USD\n2026-01-02,1.1\n")
    assert _checks(own_home) == []


def test_dagster_yaml_reading_an_unset_variable(own_home) -> None:
    (own_home.dagster_home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url:\n      env: DAGSTER_PG_URL\n"
    )
    assert _checks(own_home) == ["Dagster instance"]
    assert _checks(own_home, DAGSTER_PG_URL="postgresql+psycopg2://u@h/d") == []


def test_graph_being_written_by_another_process(own_home) -> None:
    with writer_lock(own_home.graph):
        assert _checks(own_home) == ["knowledge graph"]
    assert _checks(own_home) == []


def test_warehouse_held_by_another_process(own_home) -> None:
    import duckdb

    duckdb.connect(str(own_home.warehouse)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys; c=duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.read()", str(own_home.warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        assert _checks(own_home) == ["warehouse"]
    finally:
        holder.communicate("")
    assert _checks(own_home) == []


def test_too_little_disk_space(own_home) -> None:
    (problem,) = diagnose(own_home, environ=KEYED, min_free_bytes=10**18)
    assert problem.check == "disk space" and "GB free" in problem.message


def test_init_keeps_what_people_wrote(own_home) -> None:
    (own_home.policies / "budget.yaml").write_text("budget:\n  max_shift_pct: 10\n")
    assert init_home(own_home) == []
    assert "max_shift_pct: 10" in (own_home.policies / "budget.yaml").read_text()


def test_demo_refuses_a_home_holding_data_it_did_not_simulate(own_home) -> None:
    (own_home.archive / "google_ads").mkdir()
    (own_home.archive / "google_ads" / "abc__export.csv").write_text("Day,Cost\n")
    result = runner.invoke(app, ["demo", "--days", "30", "--home", str(own_home.root)])
    assert result.exit_code == 2, result.output
    (line,) = _problem_lines(result.output)
    assert "not simulated" in line and "Fix:" in line
    assert not own_home.ground_truth.exists()
    assert not any(p.is_file() for p in own_home.inbox.rglob("*"))


def test_demo_decides_on_the_mmm_when_its_history_allows_and_never_overrides_settings(
    own_home,
) -> None:
    """With the default `response_model: auto`, a demo of a year or more decides on the media
    mix model and a shorter one on the attributed curves, writing no settings; a person's own
    settings file decides and is kept as written."""
    from marketing_ops.cli.main import _demo_response_model
    from marketing_ops.forecasting import load_forecast_settings

    path = own_home.settings / "forecasting.yaml"
    year = load_forecast_settings().mmm.min_history_days
    assert year == 365
    assert _demo_response_model(own_home, year - 1) == "attributed"
    assert _demo_response_model(own_home, year) == "mmm"
    assert not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("forecasting:\n  response_model: attributed\n")
    assert _demo_response_model(own_home, 730) == "attributed"
    assert path.read_text() == "forecasting:\n  response_model: attributed\n"
    path.write_text("forecasting:\n  mmm:\n    min_history_days: 120\n")
    assert _demo_response_model(own_home, 120) == "mmm"


def test_the_demo_never_replaces_experiments_a_person_wrote(own_home) -> None:
    """The demo writes the simulated market's past lift studies only into a home without
    `settings/experiments.csv`."""
    from marketing_ops.cli.main import _demo_lift_studies

    path = own_home.settings / "experiments.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("channel,start,end,kind,lift,standard_error\n")
    assert _demo_lift_studies(own_home, date(2026, 12, 6), 7) is None
    assert path.read_text() == "channel,start,end,kind,lift,standard_error\n"
