"""`marketing-ops mmm fit`: a user's CSV in, tables and a page out; bad CSVs refused in one line.

Runs Robyn's public weekly simulated file with a short sampler: the point is the command's
wiring (arguments, tables, page, exit codes), not the model's accuracy (tests/forecasting/test_mmm.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from marketing_ops.cli import app

ROBYN = Path("/work/shared/fixtures/public/robyn/dt_simulated_weekly.csv")
SHORT = ["--draws", "30", "--warmup", "30", "--chains", "1"]


def _fit(*args: str):
    return CliRunner().invoke(app, ["mmm", "fit", *args])


def _text(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.mark.skipif(not ROBYN.exists(), reason="public Robyn fixture not on this machine")
def test_fit_prints_tables_and_writes_the_page(tmp_path) -> None:
    out = tmp_path / "page"
    result = _fit(
        str(ROBYN),
        "--kpi", "revenue",
        "--spend", "tv_S,search_S,facebook_S",
        "--controls", "competitor_sales_B",
        "--freq", "W",
        "--breaks", "tv_S=2018-08-20",
        "--out", str(out),
        *SHORT,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output  # 1 = ran but did not converge (short chain)
    for title in ("Media mix model of revenue", "Diagnostics", "Breaks", "given with --breaks"):
        assert title in _text(result)
    assert "tree depth" in _text(result)  # one chain: never sampled again (no R-hat to mend)
    for channel in ("tv_S", "search_S", "facebook_S"):
        assert channel in result.output
    assert {"index.html", "contributions.png", "curves.png", "waterfall.png"} <= {
        p.name for p in out.iterdir()
    }
    assert all((out / n).stat().st_size > 1000 for n in ("contributions.png", "curves.png"))
    # the page shows the tables the terminal printed, numbers as people read them
    page = (out / "index.html").read_text()
    for title in (
        "Media mix model of revenue (80 % intervals)",
        "Incremental KPI over the history at 0.5x / 1.5x",
        "Breaks (a channel effect fitted afresh from the day on)",
    ):
        assert title in page and title in _text(result)
    assert "e+0" not in page and "roas_lo" not in page
    # the break mid-way through a half-year segment starts tv_S's effect segment on its day
    assert "<td>tv_S</td><td>2018-08-20</td><td>2018-08-20</td>" in page


MERIDIAN = Path("/work/shared/fixtures/public/meridian")
MERIDIAN_SPEND = ",".join(f"Channel{i}_spend" for i in range(5))


@pytest.mark.skipif(not MERIDIAN.exists(), reason="public Meridian fixtures not on this machine")
@pytest.mark.parametrize(
    ("file", "geo"), [("national_all_channels.csv", []), ("geo_all_channels.csv", ["--geo", "geo"])]
)
def test_fit_reads_meridian_files(tmp_path, file, geo) -> None:
    """Meridian's national and geo files as published: a `time` column, revenue as
    conversions x revenue per conversion, three controls, and (geo) an unnamed index column
    and a geo per row."""
    result = _fit(
        str(MERIDIAN / file),
        "--kpi", "conversions*revenue_per_conversion",
        "--spend", MERIDIAN_SPEND,
        "--controls", "competitor_sales_control,sentiment_score_control,Promo",
        "--freq", "W",
        "--out", str(tmp_path / "page"),
        "--draws", "10", "--warmup", "10", "--chains", "1",
        *geo,
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # ran; 10 draws of one chain cannot converge
    text = _text(result)
    assert "Media mix model of conversions*revenue_per_conversion" in text
    for i in range(5):
        assert f"Channel{i}_spend" in text.replace(" ", "")
    assert (tmp_path / "page" / "index.html").exists()


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        ("date,revenue,tv_S\n2020-01-06,1,2\n", ["--spend", "radio_S"], "radio_S"),
        ("date,revenue,tv_S\n2020-01-06,1,2\n2020-01-13,x,2\n", [], "line 3"),
        ("date,revenue,tv_S\n2020-01-06,1,2\n2020-01-13,1,-5\n", [], "negative"),
        ("date,revenue,tv_S\nnot-a-day,1,2\n", [], "is not a date"),
        ("date,revenue,tv_S\n2020-01-06,1,2\n2020-01-27,1,2\n", [], "not a regular W series"),
    ],
)
def test_bad_csv_is_refused_in_one_line(tmp_path, content, args, expected) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(content)
    result = _fit(str(csv), "--kpi", "revenue", "--spend", "tv_S", *args, "--freq", "W")
    assert result.exit_code == 2, result.output
    assert expected in _text(result)
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert _text(result).startswith(str(csv))  # the message itself, naming the file


def test_missing_file_is_refused(tmp_path) -> None:
    result = _fit(str(tmp_path / "nope.csv"), "--kpi", "revenue", "--spend", "tv_S")
    assert result.exit_code == 2 and "file not found" in _text(result)


def test_demo_summary_prints_the_mmm_table() -> None:
    """`make demo`'s summary: contributions, ROAS and marginal ROAS with intervals, and says
    when the fit did not converge."""
    import pandas as pd

    from marketing_ops.cli._render import console
    from marketing_ops.cli.main import _print_mmm
    from marketing_ops.forecasting.mmm.kpis import SUMMARY_COLUMNS

    row = dict.fromkeys(SUMMARY_COLUMNS, 1.0)
    row.update(channel="display", fitted_on="2026-01-01", converged=False)
    row.update(roas=1.25, roas_lo=0.75, roas_hi=1.5, contribution=12_345.0)
    with console.capture() as captured:
        _print_mmm(pd.DataFrame([row]))
    text = " ".join(captured.get().split())
    assert "NOT converged" in text and "display" in text
    assert "1.25 [0.75, 1.50]" in text and "12,345" in text


@pytest.mark.skipif(not ROBYN.exists(), reason="public Robyn fixture not on this machine")
@pytest.mark.parametrize(
    ("breaks", "expected"),
    [
        ("radio_S=2018-06-04", "'radio_S' is not a spend column"),
        ("tv_S=2018-13-01", "'2018-13-01' is not a date"),
        ("tv_S=2021-01-04", "2021-01-04 is not after the data's first date 2015-11-23"),
        ("tv_S=2015-11-23", "is not after the data's first date"),
        ("tv_S=2018-06-04,tv_S=2019-01-07", "'tv_S' is given twice"),
        ("tv_S:2018-06-04", "is not channel=YYYY-MM-DD"),
    ],
)
def test_bad_breaks_are_refused_before_fitting(breaks, expected) -> None:
    result = _fit(str(ROBYN), "--kpi", "revenue", "--spend", "tv_S,search_S", "--breaks", breaks)
    assert result.exit_code == 2, result.output
    assert _text(result).startswith("--breaks:") and expected in _text(result)
    assert "Traceback" not in result.output


@pytest.mark.skipif(not ROBYN.exists(), reason="public Robyn fixture not on this machine")
def test_given_breaks_split_the_channels_effect_segment() -> None:
    """`--breaks tv_S=2018-08-15` (a Wednesday: the week from 2018-08-20 is the first after it,
    mid-way through a half-year segment) starts a new tv effect segment there, as a detected
    break does on the warehouse path; without it the weeks either side share one."""
    from marketing_ops.forecasting.mmm.byod import load_csv, parse_breaks
    from marketing_ops.forecasting.mmm.model import Priors, model_inputs

    data = load_csv(ROBYN, "revenue", ["tv_S", "search_S"], "W")
    given = parse_breaks(" tv_S = 2018-08-15 ,", data)
    assert list(given) == ["tv_S"] and str(given["tv_S"].day) == "2018-08-15"
    k = int(np.searchsorted(data.dates, np.datetime64("2018-08-20")))
    plain = model_inputs(data, Priors()).segment
    split = model_inputs(data, Priors().split_at(given)).segment
    assert plain[k - 1] == plain[k] and split[k - 1] != split[k]
    assert Priors().split_at({}) == Priors()
