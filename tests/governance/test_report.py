"""The report asset: on a loaded world with a decision batch, materialising
`reports/performance_report` writes an HTML page in the data home with its charts as PNG
images beside it (spend/revenue/ROAS, forecast against actuals, allocation), the sections
people read (pending approvals, drift and freshness), and Markdown tables plus the page's path
in the asset's metadata; `marketing-ops report --open` opens that page."""

from __future__ import annotations

import re
import webbrowser

import dagster as dg
from typer.testing import CliRunner
from worlds.decisions import inputs, record_day

from marketing_ops.cli import app
from marketing_ops.defs._shared import StoreResource
from marketing_ops.defs.governance.assets import UPSTREAM, performance_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_asset_writes_html_with_chart_images(world_copy, monkeypatch) -> None:
    home, day = world_copy.home, world_copy.end
    batch, _ = record_day(home, inputs(), day)
    pending = batch[batch["status"] == "pending_approval"]

    result = dg.materialize(
        [*(dg.AssetSpec(k) for k in UPSTREAM), performance_report],
        partition_key=day.isoformat(),
        resources={"store": StoreResource(home_root=str(home.root))},
        selection=[performance_report],
    )
    assert result.success
    (mat,) = result.asset_materializations_for_node("reports__performance_report")
    meta = mat.metadata
    page = home.reports / "performance" / day.isoformat() / "report.html"
    assert meta["report"].value == str(page) and page.exists()
    html = page.read_text()

    images = re.findall(r"<img src='([^']+)'", html)
    assert set(images) == {"spend_revenue_roas.png", "forecast_vs_actual.png", "allocation.png"}
    for name in images:
        data = (page.parent / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000, name
        assert meta[f"chart_{name.removesuffix('.png')}"].value == str(page.parent / name)
    for heading in (
        "Spend, revenue and ROAS per channel",
        "Forecast against actuals",
        "Allocation changes",
        f"Pending approvals <span class='badge'>{len(pending)}</span>",
        "Drift status",
        "Signal freshness",
    ):
        assert heading in html
    assert batch["batch_id"].iloc[0] in html
    for decision in pending["decision_id"]:
        assert decision in html
    # Key tables as Markdown in the UI: every paid channel in the KPI and allocation tables.
    for channel in ("paid_search", "paid_social", "display"):
        assert channel in meta["kpis_last_28_days"].value
        assert channel in meta["allocation_changes"].value
    assert meta["pending_count"].value == len(pending)
    assert "| source" in meta["drift_status"].value
    latest = (home.reports / "performance" / "latest.html").read_text()
    assert f"{day.isoformat()}/report.html" in latest

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    out = CliRunner().invoke(
        app, ["report", "--open", "--home", str(home.root)], env={"COLUMNS": "300"}
    )
    assert out.exit_code == 0, out.output
    assert opened == [page.resolve().as_uri()]
