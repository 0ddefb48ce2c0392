"""Pictures are real PNGs, embeddable in Markdown metadata, and the report page links them."""

from __future__ import annotations

import base64

from marketing_ops.forecasting import (
    markdown_image,
    plot_backtest,
    plot_response_curves,
    plot_response_fit,
)
from marketing_ops.forecasting.report import write_report_page

PNG = b"\x89PNG"


def test_response_pictures_are_pngs_and_embed_in_markdown(fitted_worlds, tmp_path) -> None:
    w = fitted_worlds[0]
    curves = plot_response_curves(w.responses)
    fit = plot_response_fit(w.kpis, w.responses, w.index)
    assert curves[:4] == PNG and fit[:4] == PNG
    md = markdown_image(curves, "curves")
    assert md.startswith("![curves](data:image/png;base64,")
    assert base64.b64decode(md.split(",", 1)[1].rstrip(")"))[:4] == PNG
    paths = write_report_page(tmp_path, "response_curves", "Curves", {"curves": curves, "fit": fit})
    page = paths["page"].read_text()
    assert "![curves](response_curves_curves.png)" in page
    assert paths["curves"].read_bytes() == curves


def test_backtest_picture(fitted_worlds) -> None:
    import pandas as pd

    bt = pd.DataFrame(
        {
            "channel": ["display", "display", None],
            "audience_id": [None, None, "b2b_leads"],
            "metric": ["conversions"] * 3,
            "model": ["prophet", "seasonal_naive", "prophet"],
            "mase": [0.7, 1.1, 0.9],
        }
    )
    assert plot_backtest(bt)[:4] == PNG
