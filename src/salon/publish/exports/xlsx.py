"""Writing rows as an Excel workbook (XlsxWriter, streaming in its constant-memory mode).

Ids and every other text are written as strings (``write_string``): Excel keeps an X id of 19
digits exactly and never runs a post's text as a formula; numbers as numbers, booleans as
booleans. A sheet holds at most 1,048,576 rows, header included: the rest goes on in sheets
``posts-2``, ``posts-3``, ... A cell holds at most 32,767 characters: a longer text is cut
there and the cut is counted (``truncated``), never silent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from salon.publish.exports.csvfile import EXCEL_MAX_ROWS

__all__ = ["XLSX_MAX_CELL", "write_xlsx"]

XLSX_MAX_CELL = 32_767


def write_xlsx(
    rows: Iterable[Sequence[Any]],
    columns: Sequence[str],
    path: Path,
    *,
    sheet: str = "posts",
    max_rows: int = EXCEL_MAX_ROWS,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write ``rows`` under the header ``columns`` into the workbook ``path``. Returns
    ``{"rows": ..., "sheets": ..., "truncated": ...}``."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
    )
    bold = wb.add_format({"bold": True})
    ws: Any = None
    r = 0
    sheets = rows_n = truncated = pending = 0

    def new_sheet() -> Any:
        nonlocal sheets
        sheets += 1
        s = wb.add_worksheet(sheet if sheets == 1 else f"{sheet}-{sheets}")
        for c, name in enumerate(columns):
            s.write_string(0, c, name, bold)
        s.freeze_panes(1, 0)
        return s

    try:
        ws = new_sheet()
        r = 1
        for row in rows:
            if r >= max_rows:
                ws = new_sheet()
                r = 1
            for c, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(r, c, v)
                elif isinstance(v, int | float):
                    ws.write_number(r, c, v)
                else:
                    s = str(v)
                    if len(s) > XLSX_MAX_CELL:
                        s = s[:XLSX_MAX_CELL]
                        truncated += 1
                    ws.write_string(r, c, s)
            r += 1
            rows_n += 1
            pending += 1
            if progress is not None and pending >= 1000:
                progress(pending)
                pending = 0
    finally:
        wb.close()
    if progress is not None and pending:
        progress(pending)
    return {"rows": rows_n, "sheets": sheets, "truncated": truncated}
