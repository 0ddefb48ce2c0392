"""The report folder: each forecast asset writes a Markdown page with its pictures and tables
under ``<data home>/reports/forecasts/<as-of day>/``, readable without Dagster."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["write_report_page"]


def write_report_page(
    folder: Path,
    page: str,
    title: str,
    images: dict[str, bytes],
    tables: dict[str, pd.DataFrame] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Path]:
    """Write ``<page>.md`` and one ``<page>_<name>.png`` per image; return the paths by name
    (``"page"`` for the Markdown file). Re-running a day overwrites that day's page."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    lines = [f"# {title}", ""]
    for note in notes or []:
        lines += [note, ""]
    for name, png in images.items():
        path = folder / f"{page}_{name}.png"
        path.write_bytes(png)
        paths[name] = path
        lines += [f"## {name.replace('_', ' ')}", "", f"![{name}]({path.name})", ""]
    for name, table in (tables or {}).items():
        tidy = table.copy()
        for col in ("channel", "audience_id"):  # a series is a channel's or an audience's
            if col in tidy:
                tidy[col] = tidy[col].astype(object).where(tidy[col].notna(), "")
        body = tidy.to_markdown(index=False, floatfmt=".3f") if len(tidy) else "(none)"
        lines += [f"## {name.replace('_', ' ')}", "", body, ""]
    page_path = folder / f"{page}.md"
    page_path.write_text("\n".join(lines), encoding="utf-8")
    paths["page"] = page_path
    return paths
