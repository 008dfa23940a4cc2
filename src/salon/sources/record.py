"""A raw record: one record's exact bytes as found in a file, where it was, and its parse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["RawRecord"]


@dataclass(slots=True)
class RawRecord:
    """One record as found in a file: its exact bytes, where it was, and its parse."""

    payload: bytes
    line: int  # 1-based line where the record starts (0: the file as a whole)
    obj: Any = None
    hint: str | None = None  # format known from the container (x-archive, tags-csv)
    error: str | None = None  # why it could not be parsed: quarantined
    # False for a JSON line read with ``lazy=True``: not parsed yet (see ``parse``).
    parsed: bool = True
    eol: bool = True  # the line ended with a newline (a last line without one may be truncated)

    def parse(self) -> None:
        """Parse a lazily read JSON line, as ``read_records`` would have."""
        if self.parsed:
            return
        self.parsed = True
        try:
            self.obj = orjson.loads(self.payload)
        except orjson.JSONDecodeError as exc:
            reason = "truncated line" if not self.eol else "malformed JSON"
            self.error = f"{reason}: {exc}"
