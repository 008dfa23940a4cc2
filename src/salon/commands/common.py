"""What every CLI module shares: the consoles, the ``--archive`` option and the error exit."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

__all__ = ["ArchiveOpt", "console", "err", "fail"]

console = Console()
err = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line in logs

ArchiveOpt = Annotated[
    str | None,
    typer.Option(
        "--archive",
        "-a",
        help="Archive file (DuckDB). Default: $SALON_ARCHIVE or ./salon.duckdb.",
        show_default=False,
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr (no traceback: a user error) and exit with ``code``."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
