"""`marketing-ops`: the command line for people (rich tables, plain words).

One module per command group, each with its own ``app``; a group with a name (``graph``,
``forecasts``, ``mmm``, ``warehouse``, ``signals``) is a sub-command, an unnamed one adds its
commands at the top level. This module only assembles them.
"""

from __future__ import annotations

import typer

from marketing_ops.cli import (
    decisions,
    forecasts,
    governance,
    graph,
    loop,
    main,
    mmm,
    signals,
    warehouse,
)
from marketing_ops.cli._render import console

__all__ = ["app", "console"]

app = typer.Typer(
    help="Agentic marketing operations: signals -> warehouse -> graph -> forecasts -> decisions.",
    no_args_is_help=True,
    add_completion=False,
)
for group in (main, decisions, governance, loop, signals, graph, forecasts, mmm, warehouse):
    app.add_typer(group.app)
