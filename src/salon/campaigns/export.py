"""Writing a campaign back out as a campaign file (TOML) and its participants CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from salon.campaigns.config import PARTICIPANT_COLUMNS, Campaign

__all__ = ["participants_csv", "to_toml", "toml_value"]


def _s(v: str) -> str:
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, str):
        return _s(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def toml_value(v: Any) -> str:
    """``v`` written as a TOML value (strings, numbers, booleans, dates, lists, inline tables)."""
    return _value(v)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else _s(k)


def _table(out: list[str], name: str, d: dict[str, Any]) -> None:
    """Write table ``name`` (scalars first, then sub-tables and arrays of tables)."""
    scalars = {k: v for k, v in d.items() if not isinstance(v, dict) and not _is_aot(v)}
    if scalars or not d:
        out.append(f"[{name}]")
        out.extend(f"{_key(k)} = {_value(v)}" for k, v in scalars.items())
        out.append("")
    for k, v in d.items():
        if isinstance(v, dict):
            _table(out, f"{name}.{_key(k)}", v)
        elif _is_aot(v):
            for item in v:
                out.append(f"[[{name}.{_key(k)}]]")
                out.extend(f"{_key(kk)} = {_value(vv)}" for kk, vv in item.items())
                out.append("")


def _is_aot(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def to_toml(c: Campaign, participants_file: str | None = None) -> str:
    """The campaign file for ``c``; ``participants_file`` names the CSV written beside it."""
    out = ["[campaign]", f"name = {_s(c.name)}", f"slug = {_s(c.slug)}"]
    if c.series:
        out.append(f"series = {_s(c.series)}")
    if c.edition:
        out.append(f"edition = {_s(c.edition)}")
    if c.description:
        out.append(f"description = {_s(c.description)}")
    out.append(f"timezone = {_s(c.timezone)}")
    out.append(f"start = {_value(c.start)}")
    out.append(f"end = {_value(c.end)}          # exclusive")
    out.append(f"hashtags = {_value(c.hashtags)}")
    if c.accent_sensitive:
        out.append("accent_sensitive = true")
    out.append("")
    for d in c.days:
        out.append("[[days]]")
        out.append(f"date = {d.date.isoformat()}")
        if d.theme is not None:
            out.append(f"theme = {_s(d.theme)}")
        out.append(f"hashtags = {_value(d.hashtags)}")
        out.append("")
    pf = participants_file or c.participants_file
    if pf and c.participants:
        out += ["[participants]", f"file = {_s(pf)}", ""]
    for k, v in c.extra.items():
        if _is_aot(v):
            for item in v:
                out.append(f"[[{_key(k)}]]")
                out.extend(
                    f"{_key(kk)} = {_value(vv)}" for kk, vv in item.items() if not isinstance(vv, dict)
                )
                out.append("")
        elif isinstance(v, dict):
            _table(out, _key(k), v)
    return "\n".join(out).rstrip() + "\n"


def participants_csv(c: Campaign) -> str:
    """The registry as CSV (``name,country,city,kind,x,mastodon,bluesky``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PARTICIPANT_COLUMNS)
    for p in c.participants:
        acc = {
            pl: " ".join(a.handle for a in p.accounts if a.platform == pl)
            for pl in ("x", "mastodon", "bluesky")
        }
        w.writerow(
            [p.name, p.country or "", p.city or "", p.kind or "", acc["x"], acc["mastodon"], acc["bluesky"]]
        )
    return buf.getvalue()
