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
    """One expectation the data broke, in words a marketer can act on: which rows (by the
    suite's ``meta.row_identity`` columns) and, under a ``mostly`` threshold, which days."""

    expectation: str
    column: str | None
    unexpected_count: int | None
    element_count: int | None
    detail: str
    rows: tuple[str, ...] = ()  # the first rows that broke it, named (file and line, or key)
    days: tuple[date, ...] = ()  # days over the suite's threshold (``mostly``), when it has one

    def sentence(self) -> str:
        where = f" on `{self.column}`" if self.column else ""
        counts = ""
        if self.unexpected_count is not None:
            counts = f": {self.unexpected_count} of {self.element_count} rows"
        detail = f" ({self.detail})" if self.detail else ""
        days = f" on {', '.join(d.isoformat() for d in self.days)}" if self.days else ""
        named = ""
        if self.rows:
            more = (self.unexpected_count or 0) - len(self.rows)
            named = f"; rows: {', '.join(self.rows)}" + (f" and {more} more" if more > 0 else "")
        return f"`{self.expectation}`{where}{counts}{days}{detail}{named}"


@dataclass(frozen=True)
class ValidationOutcome:
    """The verdict of one suite on one table: what the blocking quality gate reports."""

    suite: str
    passed: bool
    rows: int
    evaluated: int
    failures: tuple[FailedExpectation, ...]
    # Met under their ``mostly`` threshold on every day, yet some rows broke them: reported,
    # never blocking (the damage is not material).
    flagged: tuple[FailedExpectation, ...] = ()

    @property
    def markdown(self) -> str:
        """A short summary for the Dagster UI and the CLI."""
        verdict = "passed" if self.passed else "FAILED"
        head = (
            f"**{self.suite}** {verdict}: {self.evaluated - len(self.failures)} of "
            f"{self.evaluated} expectations met on {self.rows} rows."
        )
        lines = [head]
        if self.failures:
            lines += ["", *(f"- {f.sentence()}" for f in self.failures)]
        if self.flagged:
            lines += ["", "Below the threshold (not blocking):"]
            lines += [f"- {f.sentence()}" for f in self.flagged]
        return "\n".join(lines)


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


def _failure(
    result: Any, identity: Sequence[str] = (), days: tuple[date, ...] = ()
) -> FailedExpectation:
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
        rows=_named_rows(details, identity, days),
        days=days,
    )


_NAMED_ROWS = 5  # rows named in a message; the count says how many more


def _named_rows(
    details: dict[str, Any], identity: Sequence[str], days: tuple[date, ...]
) -> tuple[str, ...]:
    """The first unexpected rows (of ``days`` when given), named by ``identity``:
    ``file.csv line 12`` for raw rows, ``deal_id=D-7, _line=3`` otherwise."""
    if not identity:
        return ()
    named = []
    for entry in details.get("unexpected_index_list") or ():
        if days and _day_of(entry) not in days:
            continue
        named.append(_row_name(entry, identity))
        if len(named) == _NAMED_ROWS:
            break
    return tuple(named)


def _row_name(entry: dict[str, Any], identity: Sequence[str]) -> str:
    values = {c: _plain(entry.get(c)) for c in identity}
    if set(identity) >= {"_file_name", "_line"}:
        return f"{values['_file_name']} line {values['_line']}"
    return ", ".join(f"{c}={v}" for c, v in values.items())


_DAY = "__day"  # the day column's name inside GX's index entries


def _day_of(entry: dict[str, Any]) -> date | None:
    value = entry.get(_DAY)
    return None if value is None else pd.Timestamp(value).date()


def _material_days(
    result: Any, df: pd.DataFrame, day_column: str, mostly: float
) -> tuple[date, ...]:
    """Days where the share of rows breaking the expectation is over ``1 - mostly``: the
    threshold is held day by day, so a bad day never hides behind a window of good ones."""
    broken: dict[date, int] = {}
    for entry in (result.result or {}).get("unexpected_index_list") or ():
        day = _day_of(entry)
        if day is not None:
            broken[day] = broken.get(day, 0) + 1
    rows = pd.to_datetime(df[day_column]).dt.date.value_counts()
    return tuple(sorted(d for d, n in broken.items() if n > (1 - mostly) * rows.get(d, 0)))


def _verdict(
    result: Any, df: pd.DataFrame, day_column: str | None, identity: Sequence[str]
) -> tuple[FailedExpectation | None, FailedExpectation | None]:
    """(failure, flagged) of one expectation. Without a ``mostly`` threshold (or a day
    column) GX's verdict stands; with one, the expectation fails only on material days."""
    details = result.result or {}
    mostly = dict(result.expectation_config.kwargs).get("mostly")
    has_index = "unexpected_index_list" in details
    failed_to_run = _exception_message(result.exception_info) is not None
    if mostly is None or day_column is None or not has_index or failed_to_run:
        if result.success:
            return None, None
        return _failure(result, identity), None
    days = _material_days(result, df, day_column, float(mostly))
    if days:
        return _failure(result, identity, days), None
    if details.get("unexpected_count"):
        return None, _failure(result, identity)
    return None, None


def validate_table(
    df: pd.DataFrame, suite_path: Path, day_column: str | None = None
) -> ValidationOutcome:
    """Validate ``df`` against the suite in ``suite_path``; never raises on bad data.

    An empty frame without columns (a table that does not exist yet) fails every column
    expectation: a gate must not pass on data it could not see.

    Messages name the rows that broke an expectation by the suite's ``meta.row_identity``
    columns (those present in ``df``). With ``day_column``, an expectation with a ``mostly``
    threshold is judged day by day: it fails only on days where more than ``1 - mostly`` of
    the rows break it (material damage); below that its rows are reported as ``flagged``.
    """
    from great_expectations.core import ExpectationSuite

    spec = json.loads(Path(suite_path).read_text())
    identity = [c for c in spec.get("meta", {}).get("row_identity", []) if c in df.columns]
    suite = ExpectationSuite(**spec)
    frame, day = df, None
    if day_column is not None and day_column in df.columns:
        frame, day = df.assign(**{_DAY: df[day_column]}), day_column
    batch = _whole_frame_batches().get_batch(batch_parameters={"dataframe": frame})
    index_columns = [*identity, *([_DAY] if day else [])]
    result_format: Any = "SUMMARY"
    if index_columns:
        result_format = {
            "result_format": "COMPLETE",
            "unexpected_index_column_names": index_columns,
            "return_unexpected_index_query": False,
        }
    result = batch.validate(suite, result_format=result_format)
    verdicts = [_verdict(r, df, day, identity) for r in result.results]
    failures = tuple(f for f, _ in verdicts if f is not None)
    return ValidationOutcome(
        suite=suite.name,
        passed=not failures,
        rows=len(df),
        evaluated=len(result.results),
        failures=failures,
        flagged=tuple(f for _, f in verdicts if f is not None),
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
