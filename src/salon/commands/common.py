"""What every CLI module shares: the consoles, the ``--archive`` option, opening the archive,
printing ``--json`` output and notes, and the error exits.

Messages are printed literally: only the label (``error:``, ``warning:``) is styled, so text that
comes from the user or the data (``missing [campaign] table``, a path, ``:smile:``) is never read
as Rich markup or emoji codes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from salon.store.archive import Archive

__all__ = [
    "ArchiveOpt",
    "ask_server",
    "console",
    "err",
    "fail",
    "fail_issues",
    "labelled",
    "note",
    "open_archive_or_fail",
    "print_json",
    "printable",
    "served",
]

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


_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: object) -> str:
    """``text`` safe to print on a terminal, on one line: control characters (newlines, escape
    sequences, a file name's ``\\x1b[2J``) and bidirectional overrides are shown escaped
    (``\\n``, ``\\x1b``, ``\\u202e``), never sent to the terminal."""
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch.isprintable() and ch not in _BIDI:
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def labelled(label: str, style: str, message: object) -> Text:
    """``label: message`` with the label (and its colon) in ``style`` and the message as plain
    text: no markup, no emoji codes, no control characters (see ``printable``)."""
    return Text.assemble((f"{label}:", style), " ", printable(message))


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr (no traceback: a user error) and exit with ``code``."""
    err.print(labelled("error", "bold red", message), highlight=False)
    raise typer.Exit(code)


def fail_issues(issues: Iterable[object]) -> NoReturn:
    """Print every issue (a campaign file's problems, each with file, line and field) as
    ``error: issue`` on stderr and exit with code 1."""
    for issue in issues:
        err.print(labelled("error", "bold red", issue), highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


def note(message: object, label: str = "note") -> None:
    """Print ``label: message`` (``note``, ``warning``) on stderr, on one line."""
    err.print(labelled(label, "yellow", message), highlight=False, soft_wrap=True)


def print_json(data: Any, *, ensure_ascii: bool = False) -> None:
    """Print ``--json`` output on stdout: indented, with what JSON has no type for (dates,
    times) as its ``str``."""
    print(json.dumps(data, default=str, indent=2, ensure_ascii=ensure_ascii))


def open_archive_or_fail(path: str | None, *, read_only: bool = False, fallback: bool = False) -> Archive:
    """Open the archive at ``path`` (None: $SALON_ARCHIVE or ./salon.duckdb), or exit with
    ``error: <why>``. With ``fallback``, try read-write first (to refresh a campaign's index)
    and fall back to read-only when another process holds it."""
    from salon.store.archive import ArchiveError, open_archive

    try:
        if fallback:
            try:
                return open_archive(path, read_only=False, create=False)
            except ArchiveError:
                return open_archive(path, read_only=True)
        return open_archive(path, read_only=read_only)
    except ArchiveError as exc:
        fail(str(exc))


def served(path: str | None) -> dict[str, Any] | None:
    """The running ``salon serve`` that holds the archive at ``path`` (its
    ``<archive>.serve.json``, checked to answer), or None: read commands then ask it, since
    DuckDB lets only one process open the archive."""
    from salon.store.archive import default_archive_path
    from salon.web.serverfile import read_server_file

    return read_server_file(path or default_archive_path())


def ask_server(server: dict[str, Any], op: dict[str, Any]) -> Any:
    """``salon.web.remote.remote_read`` or exit with ``error: <why>``."""
    import httpx

    from salon.web.remote import RemoteError, remote_read

    try:
        return remote_read(server, op)
    except (RemoteError, httpx.HTTPError, OSError) as exc:
        fail(str(exc) or type(exc).__name__)
