"""Posts as a table: ``export_csv`` (plain or for Excel) and ``export_xlsx``, in the default
layout (``salon.publish.exports.table``) or twarc-csv's (``salon.publish.exports.twarc``).

>>> from salon.store.archive import open_archive
>>> from salon.publish.exports import Filters, export_csv
>>> with open_archive("salon.duckdb", read_only=True) as arc:             # doctest: +SKIP
...     export_csv(arc, "posts.csv", filters=Filters(campaign="museumweek-2015"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from salon.publish.exports.csvfile import write_csv
from salon.publish.exports.pseudo import Pseudonymiser
from salon.publish.exports.select import Filters, Selection, selection
from salon.publish.exports.table import COLUMNS, ID_COLUMNS, iter_rows
from salon.publish.exports.twarc import TWARC_COLUMNS, TWARC_ID_COLUMNS, iter_twarc_rows, x_posts_sql
from salon.publish.exports.xlsx import write_xlsx
from salon.store.archive import Archive

__all__ = ["LAYOUTS", "ExportResult", "export_csv", "export_xlsx", "layout_rows"]

LAYOUTS = ("posts", "twarc")


@dataclass
class ExportResult:
    """What an export wrote: rows, files, posts selected and left out (by reason)."""

    rows: int = 0
    files: list[Path] = field(default_factory=list)
    selected: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def layout_rows(
    sel: Selection, layout: str, pseudonymiser: Pseudonymiser | None
) -> tuple[tuple[str, ...], frozenset[str], Iterator[list[Any]]]:
    """(columns, id columns, rows) of ``layout`` over the selection."""
    if layout == "posts":
        return COLUMNS, ID_COLUMNS, iter_rows(sel, pseudonymiser=pseudonymiser)
    if layout == "twarc":
        return TWARC_COLUMNS, TWARC_ID_COLUMNS, iter_twarc_rows(sel, pseudonymiser=pseudonymiser)
    raise ValueError(f"unknown layout {layout!r}; one of {', '.join(LAYOUTS)}")


def _pseudo(pseudonymise: bool, salt: str | None) -> Pseudonymiser | None:
    return Pseudonymiser(salt) if pseudonymise else None


def export_csv(
    archive: Archive,
    out: str | Path | IO[str],
    *,
    layout: str = "posts",
    excel: bool = False,
    filters: Filters | None = None,
    pseudonymise: bool = False,
    salt: str | None = None,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the selected posts as CSV to ``out`` (a path or an open text stream). ``on_start``
    is called with the number of posts selected (the twarc layout writes the X ones only)."""
    target: Path | IO[str] = Path(out) if isinstance(out, str | Path) else out
    with selection(archive, filters) as sel:
        if on_start is not None:
            on_start(_rows_expected(sel, layout))
        cols, ids, rows = layout_rows(sel, layout, _pseudo(pseudonymise, salt))
        n, files = write_csv(rows, cols, target, id_columns=ids, excel=excel, progress=progress)
        return ExportResult(n, files, sel.count, sel.left_out, _notes(layout, sel, n))


def export_xlsx(
    archive: Archive,
    out: str | Path,
    *,
    layout: str = "posts",
    filters: Filters | None = None,
    pseudonymise: bool = False,
    salt: str | None = None,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the selected posts as an Excel workbook (ids as text)."""
    with selection(archive, filters) as sel:
        if on_start is not None:
            on_start(_rows_expected(sel, layout))
        cols, _ids, rows = layout_rows(sel, layout, _pseudo(pseudonymise, salt))
        r = write_xlsx(rows, cols, Path(out), progress=progress)
        res = ExportResult(r["rows"], [Path(out)], sel.count, sel.left_out, _notes(layout, sel, r["rows"]))
        if r["truncated"]:
            res.notes.append(f"{r['truncated']} cells longer than Excel's 32,767 characters were cut")
        return res


def _rows_expected(sel: Selection, layout: str) -> int:
    """How many rows the layout will write (the progress bar's total)."""
    if layout != "twarc":
        return sel.count
    return int(sel.con.execute(f"SELECT count(*) FROM ({x_posts_sql(sel.uids)})").fetchall()[0][0])


def _notes(layout: str, sel: Selection, n: int) -> list[str]:
    if layout == "twarc" and n < sel.count:
        return [
            f"the twarc layout holds top-level X posts only: {sel.count - n:,} selected posts left out"
            " (other platforms, and X posts seen only inside another post)"
        ]
    return []
