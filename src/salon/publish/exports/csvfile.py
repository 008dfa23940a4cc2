"""Writing rows as CSV: plain UTF-8 for pandas, R and Spark, or ``excel`` for Excel.

Plain CSV: UTF-8 without BOM, a header row, RFC 4180 quoting (``csv.QUOTE_MINIMAL``), ``\\n``
line ends, empty cells for missing values; ids are text already, so ``pandas.read_csv(f,
dtype=str)`` gives every id back exactly.

``excel=True`` adds what Excel needs and nobody else wants:
- a UTF-8 BOM, without which Excel reads UTF-8 as the ANSI code page;
- id cells written as ``="123"``, the one way to make Excel keep a number-like id as text (it
  would otherwise round an X id of 19 digits to 15 significant digits);
- any other cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which
  Excel skips before them) prefixed with ``'``, so a post's text never runs as a formula
  (CSV injection);
- at most 1,048,576 rows per file (Excel's limit, header included): the rest goes on in
  ``NAME-2.csv``, ``NAME-3.csv``, ... each with its header.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["EXCEL_MAX_ROWS", "excel_cell", "part_path", "write_csv"]

EXCEL_MAX_ROWS = 1_048_576
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_cell(value: Any, *, is_id: bool = False) -> str:
    """One cell as written for Excel (see the module's docstring)."""
    if value is None:
        return ""
    s = value if isinstance(value, str) else _plain(value)
    if is_id and s != "":
        return '="' + s.replace('"', '""') + '"'
    if s.startswith(_FORMULA_START):
        return "'" + s
    return s


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def part_path(path: Path, n: int) -> Path:
    """``path`` for the first part, ``stem-n.suffix`` for the n-th (n >= 2)."""
    return path if n == 1 else path.with_name(f"{path.stem}-{n}{path.suffix}")


def write_csv(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    out: Path | IO[str],
    *,
    id_columns: Iterable[str] = (),
    excel: bool = False,
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, list[Path]]:
    """Write ``rows`` under the header ``columns`` to ``out`` (a path, or an open text stream
    for plain CSV). Returns (rows written, files written). ``progress(n)`` is called every
    1,000 rows with how many were written since the last call."""
    ids = {i for i, c in enumerate(columns) if c in set(id_columns)}
    if excel and not isinstance(out, Path):
        raise ValueError("--excel needs an output file (it may be split into several)")
    files: list[Path] = []
    written = 0
    pending = 0

    def fmt(row: Sequence[Any]) -> list[str]:
        if excel:
            return [excel_cell(v, is_id=i in ids) for i, v in enumerate(row)]
        # The csv module writes None as an empty cell and numbers as they print: only booleans
        # need a spelling of ours.
        return [("true" if v else "false") if type(v) is bool else v for v in row]

    fh: IO[str] | None = None
    w: Any = None
    in_file = 0
    part = 0
    try:
        if not isinstance(out, Path):
            w = csv.writer(out, lineterminator="\n")
            w.writerow(columns)
        for row in rows:
            if isinstance(out, Path) and (w is None or (excel and in_file >= max_rows - 1)):
                if fh is not None:
                    fh.close()
                part += 1
                p = part_path(out, part)
                fh = open(p, "w", encoding="utf-8-sig" if excel else "utf-8", newline="")  # noqa: SIM115 (closed below)
                files.append(p)
                w = csv.writer(fh, lineterminator="\r\n" if excel else "\n")
                w.writerow(columns)
                in_file = 0
            w.writerow(fmt(row))
            in_file += 1
            written += 1
            pending += 1
            if progress is not None and pending >= 1000:
                progress(pending)
                pending = 0
        if isinstance(out, Path) and w is None:  # nothing selected: still a file with its header
            p = part_path(out, 1)
            fh = open(p, "w", encoding="utf-8-sig" if excel else "utf-8", newline="")  # noqa: SIM115
            files.append(p)
            csv.writer(fh, lineterminator="\r\n" if excel else "\n").writerow(columns)
    finally:
        if fh is not None:
            fh.close()
    if progress is not None and pending:
        progress(pending)
    return written, files
