"""`marketing-ops signals inbox|files|rejects` on a real data home."""

from __future__ import annotations

import duckdb
from signal_samples import DAY, PII_KEY, drop, google_csv
from typer.testing import CliRunner

from marketing_ops.cli import app
from marketing_ops.config import DataHome
from marketing_ops.signals import ingest_source


def test_signals_commands_show_inbox_files_and_rejects(home: DataHome) -> None:
    d = DAY.isoformat()
    drop(home, "google_ads", f"google_ads_{d}.csv", google_csv(DAY, 2) + f"{d},9,x,1,5,1,0,0,EUR\n")
    runner = CliRunner()

    waiting = runner.invoke(app, ["signals", "inbox", "--home", str(home.root)], terminal_width=200)
    assert waiting.exit_code == 0, waiting.output
    assert f"google_ads_{d}.csv" in waiting.output and "inbox-" in waiting.output

    with duckdb.connect(str(home.warehouse)) as con:
        ingest_source(home, con, "google_ads", DAY, DAY, PII_KEY)
    files = runner.invoke(app, ["signals", "files", "--home", str(home.root)], terminal_width=200)
    rejects = runner.invoke(
        app, ["signals", "rejects", "--home", str(home.root)], terminal_width=200
    )

    assert files.exit_code == 0 and "loaded" in files.output
    assert (
        rejects.exit_code == 0 and "clicks >" in rejects.output and "impressions" in rejects.output
    )
