"""Great Expectations suites (``expectations/<schema>.<table>.json``) run on a data frame.

The suites are plain GX 1.x JSON files, so people can read and edit them without a GX
project directory; this module loads one, validates a frame in an ephemeral GX context and
turns GX's result into a small outcome the quality gates report: passed or not, which
expectation failed on which column and how many rows broke it.

GX is imported inside the functions: importing it costs seconds, and most callers of the
package never validate anything.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from marketing_ops.config import EXPECTATIONS_DIR

__all__ = [
    "FailedExpectation",
    "ValidationOutcome",
    "report_path",
    "suite_for",
    "validate_table",
    "write_validation_report",
]

# `<schema>.<table>`: the only shape a suite name may have, so a table name never walks
# out of the expectations folder.
_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation the data broke, in words a marketer can act on."""

    expectation: str
    column: str | None
    unexpected_count: int | None
    element_count: int | None
    detail: str

    def sentence(self) -> str:
        where = f" on `{self.column}`" if self.column else ""
        counts = ""
        if self.unexpected_count is not None:
            counts = f": {self.unexpected_count} of {self.element_count} rows"
        detail = f" ({self.detail})" if self.detail else ""
        return f"`{self.expectation}`{where}{counts}{detail}"


@dataclass(frozen=True)
class ValidationOutcome:
    """The verdict of one suite on one table: what the blocking quality gate reports."""

    suite: str
    passed: bool
    rows: int
    evaluated: int
    failures: tuple[FailedExpectation, ...]

    @property
    def markdown(self) -> str:
        """A short summary for the Dagster UI and the CLI."""
        verdict = "passed" if self.passed else "FAILED"
        head = (
            f"**{self.suite}** {verdict}: {self.evaluated - len(self.failures)} of "
            f"{self.evaluated} expectations met on {self.rows} rows."
        )
        if not self.failures:
            return head
        return "\n".join([head, "", *(f"- {f.sentence()}" for f in self.failures)])


def suite_for(table: str) -> Path | None:
    """The suite file of a warehouse table (``raw.google_ads`` -> ``expectations/raw.google_ads.json``).

    None when the table has no suite, or its name is not ``<schema>.<table>``.
    """
    if not _TABLE_NAME.fullmatch(table):
        return None
    path = EXPECTATIONS_DIR / f"{table}.json"
    return path if path.is_file() else None


@cache
def _whole_frame_batches() -> Any:
    """One ephemeral GX context per process, progress bars off (they print on every run)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("marketing_ops_frames")
    asset = source.add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_table")


def _exception_message(info: Any) -> str | None:
    """GX reports an error that stopped an expectation (a missing column, say) either flat or
    keyed by metric; either way the first message is what a person needs."""
    if not isinstance(info, dict):
        return None
    if info.get("exception_message"):
        return str(info["exception_message"])
    for value in info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])
    return None


def _plain(value: Any) -> Any:
    """numpy scalars print as `np.int64(5)`; people want `5`."""
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    return value.item() if hasattr(value, "item") else value


def _failure(result: Any) -> FailedExpectation:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    column = kwargs.get("column")
    if column is None:
        pair = [kwargs.get(k) for k in ("column_A", "column_B") if kwargs.get(k)]
        columns = kwargs.get("column_list") or pair
        column = ", ".join(columns) if columns else None
    details = result.result or {}
    exception = _exception_message(result.exception_info)
    if exception:
        detail = exception.splitlines()[0][:200]
    elif details.get("partial_unexpected_list"):
        examples = details["partial_unexpected_list"][:3]
        detail = "e.g. " + ", ".join(str(_plain(v)) for v in examples)
    elif "observed_value" in details:
        detail = f"observed {details['observed_value']}"
    else:
        detail = ""
    return FailedExpectation(
        expectation=config.type,
        column=column,
        unexpected_count=details.get("unexpected_count"),
        element_count=details.get("element_count"),
        detail=detail,
    )


def validate_table(df: pd.DataFrame, suite_path: Path) -> ValidationOutcome:
    """Validate ``df`` against the suite in ``suite_path``; never raises on bad data.

    An empty frame without columns (a table that does not exist yet) fails every column
    expectation: a gate must not pass on data it could not see.
    """
    from great_expectations.core import ExpectationSuite

    spec = json.loads(Path(suite_path).read_text())
    suite = ExpectationSuite(**spec)
    batch = _whole_frame_batches().get_batch(batch_parameters={"dataframe": df})
    result = batch.validate(suite, result_format="SUMMARY")
    failures = tuple(_failure(r) for r in result.results if not r.success)
    return ValidationOutcome(
        suite=suite.name,
        passed=bool(result.success),
        rows=len(df),
        evaluated=len(result.results),
        failures=failures,
    )


def report_path(reports: Path, suite: str, start: date, end: date) -> Path:
    """Where the HTML report of one suite on one window goes: ``<reports>/validation/<suite>/
    <start>_<end>.html`` (a re-run of the window replaces it; other windows keep theirs)."""
    if not _TABLE_NAME.fullmatch(suite):
        raise ValueError(f"not a suite name: {suite!r}")
    return Path(reports) / "validation" / suite / f"{start.isoformat()}_{end.isoformat()}.html"


def write_validation_report(
    outcomes: Sequence[ValidationOutcome] | Iterable[ValidationOutcome], path: Path
) -> Path:
    """A small self-contained HTML page of the outcomes, for people, beside the run's metadata."""
    outcomes = list(outcomes)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sections = []
    for outcome in outcomes:
        verdict = "passed" if outcome.passed else "failed"
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(f.expectation),
                html.escape(f.column or ""),
                "" if f.unexpected_count is None else f"{f.unexpected_count} of {f.element_count}",
                html.escape(f.detail),
            )
            for f in outcome.failures
        )
        table = (
            "<table><tr><th>expectation</th><th>column</th><th>rows broken</th><th>detail</th></tr>"
            f"{rows}</table>"
            if outcome.failures
            else ""
        )
        sections.append(
            f'<section class="{verdict}"><h2>{html.escape(outcome.suite)}: {verdict}</h2>'
            f"<p>{outcome.evaluated - len(outcome.failures)} of {outcome.evaluated} expectations met "
            f"on {outcome.rows} rows.</p>{table}</section>"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Data quality</title><style>"
        "body{font-family:sans-serif;margin:2em}.passed h2{color:#1a7f37}.failed h2{color:#cf222e}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        f"</style></head><body><h1>Data quality</h1><p>Written {stamp}.</p>{''.join(sections)}"
        "</body></html>"
    )
    path.write_text(page)
    return path
