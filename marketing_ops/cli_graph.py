"""`marketing-ops graph ...`: open the knowledge graph and ask it questions from a terminal.

Every command opens the graph read-only (Kùzu refuses writes through such a handle), except
``restore``, which swaps a snapshot in under the graph's writer lock. Query values travel as
parameters (``-p name=value``), never pasted into the Cypher text.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from marketing_ops.config import data_home
from marketing_ops.spreadsheets import spreadsheet_safe

graph_app = typer.Typer(
    help="Explore the knowledge graph: Cypher queries, candidates, paths, content search, "
    "integrity, snapshots.",
    no_args_is_help=True,
)
console = Console()

HomeOption = typer.Option(
    None, "--home", help="Data home (default: $MARKETING_OPS_HOME or ./data_home)."
)


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _home(root: Path | None):
    return data_home(root)


def _reader(home):
    from marketing_ops.graph import GraphReader

    try:
        return GraphReader(home.graph)
    except FileNotFoundError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


def parse_params(pairs: list[str]) -> dict[str, object]:
    """``name=value`` pairs into query parameters. A value that reads as JSON (a number,
    true/false, null, a list or a quoted string) is taken as such, anything else as text."""
    params: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lstrip("$")
        if not sep or not name.isidentifier():
            raise typer.BadParameter(f"--param: expected name=value, got {pair!r}")
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def _cell(value: object) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _show(frame, fmt: Output, title: str = "", limit: int | None = None) -> None:
    if fmt is Output.json:
        sys.stdout.write(frame.to_json(orient="records", date_format="iso", default_handler=str))
        sys.stdout.write("\n")
        return
    if fmt is Output.csv:
        sys.stdout.write(spreadsheet_safe(frame).to_csv(index=False))
        return
    shown = frame if limit is None else frame.head(limit)
    table = Table(title=title or None, show_lines=False)
    for column in frame.columns:
        table.add_column(str(column))
    for row in shown.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    if limit is not None and len(frame) > limit:
        console.print(f"({len(frame) - limit} more rows: --limit or --format csv)")


def _fail(exc: Exception) -> None:
    console.print(f"[red]{exc}[/red]")
    raise typer.Exit(2) from None


@graph_app.command()
def query(
    cypher: str = typer.Argument(..., help="A Cypher query; refer to values as $name."),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="A parameter, name=value (repeatable; JSON values allowed)."
    ),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or csv."),
    limit: int = typer.Option(50, help="Rows shown in a table."),
    home: Path | None = HomeOption,
) -> None:
    """Run a read-only, parameterised Cypher query against the graph."""
    params = parse_params(param)
    with _reader(_home(home)) as reader:
        try:
            frame = reader.frame(cypher, params)
        except RuntimeError as exc:
            _fail(exc)
    _show(frame, fmt, limit=limit)


@graph_app.command()
def schema(home: Path | None = HomeOption) -> None:
    """Node and relationship tables with their columns and row counts, indexes, and what
    the current graph was built from."""
    from marketing_ops.graph import (
        NODE_TABLES,
        REL_TABLES,
        read_manifest,
        table_columns,
        table_counts,
    )

    h = _home(home)
    with _reader(h) as reader:
        counts = table_counts(reader)
        columns = table_columns(reader)
        table = Table(title=f"Knowledge graph {h.graph}")
        for column in ("table", "kind", "rows", "columns"):
            table.add_column(column)
        for name in (*NODE_TABLES, *REL_TABLES):
            kind = "node" if name in NODE_TABLES else "relationship"
            table.add_row(name, kind, f"{counts[name]:,}", ", ".join(columns[name]))
        indexes = sorted(reader.indexes())
    console.print(table)
    manifest = read_manifest(h.graph)
    console.print(
        f"indexes: {', '.join(indexes) or 'none'}; as of {manifest.get('as_of')}, "
        f"{manifest.get('mode')} build, data version {manifest.get('data_version')}, "
        f"embeddings: {manifest.get('embedding_model') or 'none'}"
    )


@graph_app.command()
def candidates(
    channel: str = typer.Option("email", help="Channel."),
    audience: list[str] = typer.Option([], "--audience", "-a", help="Only these audiences."),
    cap: float | None = typer.Option(None, help="Frequency cap: sends per contact per week."),
    min_readiness: float = typer.Option(1.0, help="Lowest readiness admitted (0..1)."),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or csv."),
    limit: int = typer.Option(30, help="Rows shown in a table."),
    home: Path | None = HomeOption,
) -> None:
    """Eligible (audience, asset, channel) candidates, as the decision layer sees them."""
    from marketing_ops.graph import eligible_candidates

    with _reader(_home(home)) as reader:
        rows = eligible_candidates(
            reader,
            channel,
            frequency_cap_per_week=cap,
            min_readiness=min_readiness,
            audiences=tuple(audience) or None,
        )
    if fmt is Output.table:
        rows = rows[["audience_id", "asset_id", "asset_version", "consented_size", "sends",
                     "clicks", "ctr", "readiness", "sends_per_contact_7d"]]  # fmt: skip
    _show(rows, fmt, title=f"{len(rows)} eligible candidates on {channel}", limit=limit)


@graph_app.command()
def path(
    audience: str = typer.Argument(..., help="Audience id."),
    asset: str = typer.Argument(..., help="Asset id."),
    channel: str = typer.Option("email", help="Channel."),
    home: Path | None = HomeOption,
) -> None:
    """The graph facts and policy verdicts linking an audience to an asset on a channel."""
    import pandas as pd

    from marketing_ops.graph import candidate_path

    with _reader(_home(home)) as reader:
        found = candidate_path(reader, audience, asset, channel)
    if not found["hops"]:
        console.print(f"No path: {asset} does not reach {audience} on {channel}.")
    else:
        _show(pd.DataFrame(found["hops"]), Output.table, title="path")
    _show(pd.DataFrame(found["policies"]), Output.table, title="policy verdicts")
    _show(pd.DataFrame(found["versions"]), Output.table, title=f"versions of {asset}")


@graph_app.command()
def similar(
    asset: str = typer.Argument(..., help="Asset id."),
    k: int = typer.Option(5, help="How many."),
    home: Path | None = HomeOption,
) -> None:
    """Usable assets like one that performs (same topic or format on a shared channel)."""
    from marketing_ops.graph import similar_assets

    with _reader(_home(home)) as reader:
        _show(similar_assets(reader, asset, k=k), Output.table, title=f"assets like {asset}")


@graph_app.command()
def search(
    text: str | None = typer.Argument(
        None, help="What to look for (default: the audience's intent)."
    ),
    audience: str | None = typer.Option(None, "--audience", "-a", help="Only what it may receive."),
    channel: str = typer.Option("email", help="Channel (with --audience)."),
    semantic: bool = typer.Option(False, help="Sentence embeddings instead of BM25 (extra)."),
    k: int = typer.Option(10, help="How many."),
    exclude_seen: bool = typer.Option(False, help="With --audience: only assets not sent yet."),
    fmt: Output = typer.Option(Output.table, "--format", help="table, json or csv."),
    home: Path | None = HomeOption,
) -> None:
    """Content retrieval: assets for a text or an audience's intent, full-text by default."""
    from marketing_ops.graph import (
        SemanticUnavailable,
        assets_for_audience,
        audience_intent,
        search_assets,
    )

    method = "semantic" if semantic else "fts"
    with _reader(_home(home)) as reader:
        try:
            if audience:
                intent = text if text else audience_intent(reader, audience)
                console.print(f"intent of {audience}: {intent!r}", style="dim")
                found = assets_for_audience(
                    reader, audience, intent=intent, channel=channel, method=method, k=k,
                    exclude_seen=exclude_seen,
                )  # fmt: skip
            elif text:
                found = search_assets(reader, text, method=method, k=k)
            else:
                raise typer.BadParameter("give a TEXT, an --audience, or both")
        except (SemanticUnavailable, ValueError) as exc:
            _fail(exc)
    _show(found, fmt, title=f"{method} results")


@graph_app.command()
def check(
    max_age_days: int = typer.Option(7, help="Allowed age of the newest engagement edge."),
    home: Path | None = HomeOption,
) -> None:
    """The graph's integrity verdicts (the blocking asset checks), for its as-of day."""
    from datetime import date

    from marketing_ops.graph import check_integrity, read_manifest

    h = _home(home)
    manifest = read_manifest(h.graph)
    if not manifest.get("as_of"):
        console.print("[red]the graph has no build manifest: materialise it first[/red]")
        raise typer.Exit(1)
    with _reader(h) as reader:
        outcomes = check_integrity(
            reader,
            as_of=date.fromisoformat(manifest["as_of"]),
            expected=manifest.get("expected", {}),
            dangling=manifest.get("dangling", {}),
            max_age_days=max_age_days,
        )
    table = Table(title=f"Integrity of the graph as of {manifest['as_of']}")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.name, "[green]pass[/green]" if o.passed else "[red]FAIL[/red]", o.description
        )
    console.print(table)
    if not all(o.passed for o in outcomes):
        raise typer.Exit(1)


@graph_app.command()
def snapshots(home: Path | None = HomeOption) -> None:
    """Graphs kept from earlier materialisations, oldest first, and the current one."""
    from marketing_ops.graph import list_snapshots, read_manifest

    h = _home(home)
    table = Table(title=f"Graph snapshots in {h.graph_snapshots}")
    for column in ("snapshot", "as of", "data version", "built", "mode", "MB"):
        table.add_column(column)
    rows = [(p.name, p) for p in list_snapshots(h.graph_snapshots)]
    if h.graph.exists():
        rows.append(("(current)", h.graph))
    for name, p in rows:
        m = read_manifest(p)
        size = p.stat().st_size / 1e6 if p.is_file() else 0.0
        table.add_row(name, str(m.get("as_of")), str(m.get("data_version")),
                      str(m.get("built_at")), str(m.get("mode")), f"{size:.1f}")  # fmt: skip
    console.print(table)


@graph_app.command()
def restore(
    snapshot: str = typer.Argument(..., help="Snapshot file name, name prefix or as-of day."),
    home: Path | None = HomeOption,
) -> None:
    """Put a snapshot back as the current graph; the current one is kept as a snapshot."""
    from marketing_ops.graph import find_snapshot, read_manifest, restore_snapshot

    h = _home(home)
    try:
        chosen = find_snapshot(h.graph_snapshots, snapshot)
        kept = restore_snapshot(h.graph, chosen, h.graph_snapshots)
    except (FileNotFoundError, TimeoutError) as exc:
        _fail(exc)
    m = read_manifest(h.graph)
    console.print(f"restored {chosen.name}: graph as of {m.get('as_of')} ({m.get('data_version')})")
    if kept is not None:
        console.print(f"the graph it replaced is kept as {kept.name}")
    console.print(
        "Dagster still lists the later materialisation; the next graph build (a run, or the "
        "UI) starts from this restored graph."
    )
