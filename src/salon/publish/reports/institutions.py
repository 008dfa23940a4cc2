"""One report per registered institution (``write_institution_reports``): HTML pages, one per
participant, from ``salon.campaigns.institutions.institution_figures`` (all institutions in one
pass) and an ``index.html`` listing them; PDFs too on request (WeasyPrint, about a second each).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.editions import previous_edition
from salon.campaigns.institutions import institution_figures
from salon.campaigns.tally import resolve_campaign
from salon.publish.reports.campaign import _env, write_pdf
from salon.store.archive import Archive

__all__ = ["institution_html", "slugify", "write_institution_reports"]


def slugify(name: str) -> str:
    """A file name for an institution: ASCII, lower case, dashes."""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "institution"


def institution_html(
    archive: Archive, campaign: Campaign | str, participant_id: int, *, previous: Campaign | str | None = None
) -> str:
    """The report of one registered institution (``participant_id``: its place in the registry,
    from 0) as HTML, the page ``write_institution_reports`` writes for it."""
    c = resolve_campaign(archive, campaign)
    if not 0 <= participant_id < len(c.participants):
        raise LookupError(f"no institution {participant_id + 1} in the registry of {c.slug}")
    prev = previous if previous is not None else previous_edition(archive, c)
    f = institution_figures(archive, c, previous=prev)[participant_id]
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return str(_env().get_template("institution.html").render(inst=f, c=c, generated_at=now))


def write_institution_reports(
    archive: Archive,
    campaign: Campaign | str,
    out_dir: str | Path,
    *,
    names: list[str] | None = None,
    previous: Campaign | str | None = None,
    pdf: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write ``NNNN-name.html`` (and ``.pdf``) for every registered institution, or those in
    ``names`` (case-insensitive), into ``out_dir``, with ``index.html``. Returns the files."""

    c = resolve_campaign(archive, campaign)
    prev = previous if previous is not None else previous_edition(archive, c)
    figures = institution_figures(archive, c, previous=prev)
    if names is not None:
        wanted = {n.casefold() for n in names}
        figures = [f for f in figures if f["name"].casefold() in wanted]
        missing = wanted - {f["name"].casefold() for f in figures}
        if missing:
            raise ValueError(f"not in the registry of {c.slug}: {', '.join(sorted(missing))}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = _env()
    tpl = env.get_template("institution.html")
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    files: list[str] = []
    index = []
    for f in figures:
        name = f"{f['participant_id'] + 1:04d}-{slugify(f['name'])}"
        html = tpl.render(inst=f, c=c, generated_at=now)
        (out / f"{name}.html").write_text(html, encoding="utf-8")
        files.append(str(out / f"{name}.html"))
        if pdf:
            write_pdf(html, out / f"{name}.pdf", out)
            files.append(str(out / f"{name}.pdf"))
        index.append((name, f))
        if progress is not None:
            progress(1)
    rows = "".join(
        f'<tr><td><a href="{n}.html">{_esc(f["name"])}</a></td><td>{_esc(f["country"] or "")}</td>'
        f'<td style="text-align:right">{f["posts"]:,}</td></tr>'
        for n, f in sorted(index, key=lambda x: (-x[1]["posts"], x[1]["name"]))
    )
    (out / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_esc(c.name)}: institutions</title></head>'
        f'<body style="font-family:sans-serif"><h1>{_esc(c.name)}: institutions</h1><table>'
        f"<tr><th>institution</th><th>country</th><th>posts</th></tr>{rows}</table></body></html>",
        encoding="utf-8",
    )
    return {"reports": len(figures), "files": files, "index": str(out / "index.html")}


def _esc(s: str) -> str:
    from markupsafe import escape

    return str(escape(s))
