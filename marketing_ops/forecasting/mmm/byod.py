"""Bring your own data: a user's CSV in, a fitted media mix model and its page out.

``mmm_fit_command`` is the body of ``marketing-ops mmm fit data.csv --kpi revenue
--spend tv_S,search_S --freq W``: it fits, prints the tables and writes the HTML page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from marketing_ops.forecasting.mmm.budget import budget_plan
from marketing_ops.forecasting.mmm.calibration import (
    ExperimentVerdict,
    calibrated_fit,
    read_experiments,
)
from marketing_ops.forecasting.mmm.data import FREQUENCIES, MMMData, mmm_data
from marketing_ops.forecasting.mmm.fit import MMMFit, SamplerSettings, fit_mmm
from marketing_ops.forecasting.mmm.model import Priors
from marketing_ops.forecasting.mmm.posterior import (
    channel_summary,
    counterfactuals,
    response_curves,
)

__all__ = [
    "GivenBreak",
    "MMMResult",
    "fit_csv",
    "load_csv",
    "mmm_fit_command",
    "parse_breaks",
    "summarise",
]

DATE_NAMES = ("date", "time", "week", "day", "ds")


@dataclass(frozen=True)
class GivenBreak:
    """A known change in one channel's response (a new creative, a bidding change, a
    platform's tracking change), given by the user: from the first period on or after
    ``day`` the model fits the channel's effect afresh (a new effect segment), so a lift test
    read before ``day`` calibrates the effect that was, not today's. The CSV path cannot find
    breaks itself (it has no per-channel conversions); the warehouse path finds them
    (:func:`marketing_ops.measurement.drift.response_breaks`) and treats them the same way."""

    channel: str
    day: date
    detail: str = "given with --breaks"


def parse_breaks(text: str, data: MMMData) -> dict[str, GivenBreak]:
    """``"tv=2024-06-03,search=2024-09-02"`` -> channel -> :class:`GivenBreak`. Each error
    names ``--breaks`` and the item: an unknown channel, a day that is not a date or lies
    outside the data's dates, a channel given twice."""
    out: dict[str, GivenBreak] = {}
    first, last = pd.Timestamp(data.dates[0]), pd.Timestamp(data.dates[-1])
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        channel, sep, day = (p.strip() for p in item.partition("="))
        if not sep or not channel or not day:
            raise ValueError(f"--breaks: {item!r} is not channel=YYYY-MM-DD")
        if channel not in data.channels:
            raise ValueError(
                f"--breaks: {item!r}: {channel!r} is not a spend column "
                f"(channels are {list(data.channels)})"
            )
        if channel in out:
            raise ValueError(f"--breaks: {item!r}: {channel!r} is given twice (one break each)")
        when = pd.to_datetime(day, errors="coerce", format="ISO8601")
        if pd.isna(when):
            raise ValueError(f"--breaks: {item!r}: {day!r} is not a date (YYYY-MM-DD)")
        if not first < when <= last:
            raise ValueError(
                f"--breaks: {item!r}: {when.date()} is not after the data's first date "
                f"{first.date()} and on or before its last {last.date()}"
            )
        out[channel] = GivenBreak(channel, when.date())
    return out


@dataclass
class MMMResult:
    fit: MMMFit
    summary: pd.DataFrame  # per channel: contribution, ROAS, marginal ROAS with intervals
    counterfactual: pd.DataFrame
    curves: pd.DataFrame
    verdicts: list[ExperimentVerdict] = field(default_factory=list)
    plan: pd.DataFrame | None = None
    breaks: dict[str, GivenBreak] = field(default_factory=dict)

    @property
    def converged(self) -> bool:
        return self.fit.diagnostics.ok


def _date_column(frame: pd.DataFrame, path, date_col: str | None) -> str:
    if date_col:
        if date_col not in frame.columns:
            raise ValueError(
                f"{path}: date column {date_col!r} not found; columns are {list(frame.columns)}"
            )
        return date_col
    for c in frame.columns:
        if str(c).strip().lower() in DATE_NAMES:
            return c
    raise ValueError(f"{path}: no date column (looked for {DATE_NAMES}); name it with date_col")


def _numeric(frame: pd.DataFrame, path, col: str, allow_negative: bool) -> pd.Series:
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.astype(str).str.strip().ne("")
    empty = raw.astype(str).str.strip().eq("") | raw.isna()
    for mask, what in ((bad, "is not a number"), (empty, "is empty")):
        if mask.any():
            i = int(np.flatnonzero(mask.to_numpy())[0])
            raise ValueError(f"{path}: line {i + 2}: field {col!r} = {raw.iloc[i]!r} {what}")
    if not allow_negative and (values < 0).any():
        i = int(np.flatnonzero((values < 0).to_numpy())[0])
        raise ValueError(
            f"{path}: line {i + 2}: field {col!r} = {raw.iloc[i]!r} is negative (spend must be >= 0)"
        )
    return values


def _kpi(frame: pd.DataFrame, path, kpi: str) -> pd.Series:
    """The KPI column, or the product of two columns written ``a*b`` (conversions*value)."""
    parts = [p.strip() for p in kpi.split("*")]
    missing = [p for p in parts if p not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: KPI column(s) {missing} not found; columns are {list(frame.columns)}"
        )
    out = _numeric(frame, path, parts[0], allow_negative=True)
    for p in parts[1:]:
        out = out * _numeric(frame, path, p, allow_negative=True)
    return out


def load_csv(
    path,
    kpi: str,
    spend: list[str],
    freq: str,
    controls: list[str] | None = None,
    geo: str | None = None,
    date_col: str | None = None,
) -> MMMData:
    """Read and validate a user's CSV; every error names the file, the line and the field."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {FREQUENCIES} (daily or weekly), got {freq!r}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    date_col = _date_column(frame, path, date_col)
    wanted = [*spend, *(controls or []), *([geo] if geo else [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}: column(s) {missing} not found; columns are {list(frame.columns)}"
        )
    dates = pd.to_datetime(frame[date_col], errors="coerce", format="mixed")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise ValueError(
            f"{path}: line {i + 2}: field {date_col!r} = {frame[date_col].iloc[i]!r} is not a date"
        )
    out = pd.DataFrame({"date": dates, "kpi": _kpi(frame, path, kpi)})
    for c in spend:
        out[c] = _numeric(frame, path, c, allow_negative=False)
    for c in controls or []:
        out[c] = _numeric(frame, path, c, allow_negative=True)
    if geo:
        out["geo"] = frame[geo]
    dup = out.duplicated(["date", "geo"] if geo else ["date"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"{path}: line {i + 2}: field {date_col!r} = {frame[date_col].iloc[i]!r} repeats an earlier row"
        )
    try:
        data = mmm_data(out, "kpi", spend, freq, controls, geo_col="geo" if geo else None)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return MMMData(**{**data.__dict__, "kpi_name": kpi})


def summarise(
    fit: MMMFit,
    verdicts=(),
    budget: float | None = None,
    periods: int | None = None,
    breaks: dict[str, GivenBreak] | None = None,
) -> MMMResult:
    plan = None
    if budget is not None:
        plan = budget_plan(fit, budget, periods or (4 if fit.data.freq == "W" else 28))
    return MMMResult(
        fit,
        channel_summary(fit),
        counterfactuals(fit),
        response_curves(fit),
        list(verdicts),
        plan,
        dict(breaks or {}),
    )


def fit_csv(
    path,
    kpi: str,
    spend: list[str],
    freq: str,
    controls: list[str] | None = None,
    geo: str | None = None,
    experiments: str | Path | None = None,
    sampler: SamplerSettings | None = None,
    priors: Priors | None = None,
    budget: float | None = None,
    breaks: str = "",
) -> MMMResult:
    """Fit the model on a CSV (with the experiments file's accepted tests) and summarise it.
    ``breaks`` (``"tv=2024-06-03,..."``, see :func:`parse_breaks`): known changes in a
    channel's response; each starts an effect segment of the model, as a detected break
    does on the warehouse path (the experiments are checked against the breaks too)."""
    data = load_csv(path, kpi, spend, freq, controls, geo)
    given = parse_breaks(breaks, data)
    priors = (priors or Priors()).split_at(given)
    if experiments:
        fit, verdicts = calibrated_fit(
            data, read_experiments(experiments), priors, sampler, breaks=given
        )
    else:
        fit, verdicts = fit_mmm(data, priors, sampler), []
    return summarise(fit, verdicts, budget, breaks=given)


def _money(v: float) -> str:
    return f"{v:,.0f}"


def _compact(v: float) -> str:
    """3 significant digits with k / M / B: an interval of KPI totals that fits a terminal."""
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.3g}{unit}"
    return f"{v:.3g}"


@dataclass(frozen=True)
class DisplayTable:
    """One table of the fit as people read it: rounded, intervals as ``x [lo, hi]``. The
    terminal (rich) and the HTML page show the same rows."""

    title: str
    columns: list[str]
    rows: list[list[str]]


def display_tables(result: MMMResult) -> list[DisplayTable]:
    """Summary, diagnostics, counterfactuals, experiments and (with a budget) the plan."""
    summary = DisplayTable(
        f"Media mix model of {result.fit.data.kpi_name} (80 % intervals)",
        ["channel", "spend", "contribution", "ROAS", "marginal ROAS", "P(mROAS<1)"],
        [
            [
                r.channel,
                _money(r.spend),
                f"{_compact(r.contribution)} [{_compact(r.contribution_lo)}, "
                f"{_compact(r.contribution_hi)}]",
                f"{r.roas:.2f} [{r.roas_lo:.2f}, {r.roas_hi:.2f}]",
                f"{r.mroas:.2f} [{r.mroas_lo:.2f}, {r.mroas_hi:.2f}]",
                f"{r.p_mroas_below_1:.0%}",
            ]
            for r in result.summary.itertuples()
        ],
    )
    d = result.fit.diagnostics
    diagnostics = DisplayTable(
        "Diagnostics",
        ["converged", "max R-hat", "min ESS", "divergences", "reasons", "tree depth"],
        [
            [
                "yes" if d.ok else "NO",
                f"{d.max_rhat:.3f}",
                f"{d.min_ess:.0f}",
                f"{d.divergences}/{d.draws}",
                "; ".join(d.reasons) or "-",
                # a fit that failed the gate was sampled again deeper (and from new seeds):
                # how many samplings, and why the first failed
                f"{d.tree_depth}"
                + (
                    f" (attempt {d.attempts}; the first: {'; '.join(d.first_attempt)})"
                    if d.first_attempt
                    else ""
                ),
            ]
        ],
    )
    counterfactual = DisplayTable(
        "Incremental KPI over the history at 0.5x / 1.5x the channel's spend (80 % interval)",
        ["channel", "spend x", "incremental KPI", "interval"],
        [
            [
                r.channel,
                f"{r.multiplier:g}",
                _money(r.incremental),
                f"[{_money(r.lo)}, {_money(r.hi)}]",
            ]
            for r in result.counterfactual.itertuples()
        ],
    )
    out = [summary, diagnostics, counterfactual]
    if result.breaks:
        data, segment = result.fit.data, result.fit.inputs.segment
        rows = []
        for b in result.breaks.values():
            # the segment holding the break's first period starts at the break, or at the
            # boundary next to it when the break is too near one to split its segment
            k = int(np.searchsorted(data.dates, pd.Timestamp(b.day)))
            first = int(np.flatnonzero(segment == segment[k])[0])
            rows.append(
                [b.channel, str(b.day), str(pd.Timestamp(data.dates[first]).date()), b.detail]
            )
        out.append(
            DisplayTable(
                "Breaks (a channel effect fitted afresh from the day on)",
                ["channel", "break", "effect segment from", "source"],
                rows,
            )
        )
    if result.verdicts:
        out.append(
            DisplayTable(
                "Experiments",
                ["test", "channel", "verdict", "reason"],
                [
                    [
                        x.experiment.name,
                        x.experiment.channel,
                        "accepted" if x.accepted else "rejected",
                        x.reason,
                    ]
                    for x in result.verdicts
                ],
            )
        )
    if result.plan is not None:
        out.append(
            DisplayTable(
                "Budget plan (posterior mean response, 80 % interval)",
                ["channel", "spend", "KPI", "interval"],
                [
                    [
                        r.channel,
                        _money(r.spend),
                        _money(r.kpi),
                        f"[{_money(r.kpi_lo)}, {_money(r.kpi_hi)}]",
                    ]
                    for r in result.plan.itertuples()
                ],
            )
        )
    return out


def _rich(table: DisplayTable) -> Table:
    t = Table(title=table.title)
    for i, col in enumerate(table.columns):
        # fold, never cut: an interval cut to "[51,298,8…" says nothing
        t.add_column(
            col,
            justify="left" if i == 0 or col == "reasons" else "right",
            overflow="fold",
        )
    for row in table.rows:
        t.add_row(*row)
    return t


def mmm_fit_command(
    path: str,
    kpi: str,
    spend: str,
    freq: str = "W",
    controls: str = "",
    geo: str = "",
    experiments: str = "",
    budget: float | None = None,
    html: str = "mmm_report",
    breaks: str = "",
    draws: int = 500,
    warmup: int = 500,
    chains: int = 2,
    seed: int = 0,
    console: Console | None = None,
) -> MMMResult:
    """What ``marketing-ops mmm fit`` does: fit, print the tables, write the HTML page."""
    from marketing_ops.forecasting.mmm.report import (
        write_report,  # matplotlib only when a page is written
    )

    console = console or Console()
    split = lambda s: [p.strip() for p in s.split(",") if p.strip()]  # noqa: E731
    result = fit_csv(
        path,
        kpi,
        split(spend),
        freq,
        split(controls),
        geo or None,
        experiments or None,
        SamplerSettings(warmup=warmup, draws=draws, chains=chains, seed=seed),
        budget=budget,
        breaks=breaks,
    )
    for table in display_tables(result):
        console.print(_rich(table))
    if not result.converged:
        console.print("[bold red]The fit did not converge: do not base decisions on it.[/]")
    page = write_report(result, Path(html))
    console.print(f"page: {page}")
    return result
