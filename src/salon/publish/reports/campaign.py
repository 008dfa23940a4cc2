"""The campaign report: ``report.html`` and ``report.pdf`` (WeasyPrint, from the same HTML).

Every figure comes from its function in ``salon.campaigns`` (the tally, tops, languages,
potential reach, networks, compare, editions) and ``salon.collect.coverage``; this module only
arranges them (the hour-by-day heatmap is the tally's ``hourly`` series laid out by local day).

>>> from salon.store.archive import open_archive
>>> from salon.publish.reports import write_report
>>> with open_archive("salon.duckdb", read_only=True) as arc:             # doctest: +SKIP
...     write_report(arc, "museumweek-2025", "out/")
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from salon.campaigns.compare import compare
from salon.campaigns.config import Campaign
from salon.campaigns.editions import previous_edition
from salon.campaigns.networks import network_summary
from salon.campaigns.tally import resolve_campaign, tally
from salon.campaigns.tops import languages, potential_reach, top_entities
from salon.publish.reports import charts
from salon.store.archive import Archive

__all__ = ["render", "report_data", "write_pdf", "write_report"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def report_data(
    archive: Archive,
    campaign: Campaign | str,
    *,
    previous: Campaign | str | None = None,
    coverage: dict[str, Any] | None = None,
    top: int = 10,
) -> dict[str, Any]:
    """Everything the campaign report shows, JSON-ready. ``coverage``: what
    ``salon.collect.coverage.coverage`` says of the campaign (the caller asks the collection
    layer, which lies above publish); without it the methods box says coverage was not given."""
    c = resolve_campaign(archive, campaign)
    t = tally(archive, c, top=top)
    prev = previous if previous is not None else previous_edition(archive, c)
    cov = coverage if coverage is not None else {"sources": [], "gaps": [], "missing": True}
    imports = archive.query(
        "SELECT count(*), coalesce(sum(records_in), 0) FROM imports WHERE kind IS DISTINCT FROM 'collect'"
    )[0]
    # Public figures headline the campaign with spam excluded and say what is held beside them
    # (DESIGN.md, Spam): the tally's own ``spam.shown``, when trust rules hold anything.
    spam = t.get("spam") or {}
    shown = spam.get("shown")
    headline = {
        "posts": shown["posts"] if shown else t["posts"],
        "reposts": shown["reposts"] if shown else t["reposts"],
        "participants": shown["participants"] if shown else t["participants"],
        "spam_excluded": bool(shown),
    }
    return {
        "campaign": c,
        "tally": t,
        "headline": headline,
        "spam": spam,
        "tops": top_entities(archive, c, top=top),
        "languages": languages(archive, c),
        "reach": potential_reach(archive, c),
        "network": network_summary(archive, c, top=5),
        "compare": compare(archive, prev, c) if prev else None,
        "coverage": cov,
        "imports": {"runs": int(imports[0]), "records": int(imports[1])},
        "heatmap": _heatmap(c, t),
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _heatmap(c: Campaign, t: dict[str, Any]) -> dict[str, Any]:
    days = [d.isoformat() for d in c.local_dates()]
    grid = {d: [0] * 24 for d in days}
    for h in t["hourly"]:
        local = datetime.fromisoformat(h["local"])
        d = local.date().isoformat()
        if d in grid:
            grid[d][local.hour] += h["posts"]
    return {"days": days, "matrix": [grid[d] for d in days]}


def _charts(data: dict[str, Any]) -> dict[str, str]:
    t = data["tally"]
    days = list(t["by_day"])
    out = {
        "per_day": charts.bars(
            [date.fromisoformat(d).strftime("%a %d") for d in days],
            list(t["by_day"].values()),
            second=[t["reposts_by_day"][d] for d in days],
            legend=("posts", "reposts"),
        ),
        "heatmap": charts.heatmap(
            [date.fromisoformat(d).strftime("%a %d") for d in data["heatmap"]["days"]],
            data["heatmap"]["matrix"],
        ),
        "world": charts.world_map({k: v["institutions"] for k, v in t["by_country"].items()}),
    }
    if t["themes"]:
        out["themes"] = charts.bars(
            list(t["themes"]),
            [v["on_the_day"] for v in t["themes"].values()],
            second=[v["posts"] - v["on_the_day"] for v in t["themes"].values()],
            legend=("on the day", "other days"),
            horizontal=True,
            height=0.3 * len(t["themes"]) + 0.6,
        )
    if t["by_platform"]:
        out["platforms"] = charts.bars(
            list(t["by_platform"]),
            [v["posts"] for v in t["by_platform"].values()],
            second=[v["reposts"] for v in t["by_platform"].values()],
            legend=("posts", "reposts"),
            horizontal=True,
            height=0.35 * len(t["by_platform"]) + 0.6,
        )
    return out


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters["n"] = lambda v: f"{int(v):,}" if v is not None else "–"
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:+.1f}%"
    return env


def render(data: dict[str, Any]) -> str:
    """The report's HTML (self-contained: inline SVG and CSS, no script, no external request)."""
    charts = {k: svg_img(v, k) for k, v in _charts(data).items()}
    return str(_env().get_template("report.html").render(d=data, charts=charts))


def svg_img(svg: str, alt: str) -> Any:
    """An ``<img>`` holding ``svg`` as a data URI: WeasyPrint draws SVG images faithfully (inline
    SVG it lays out as HTML, and matplotlib's came out blank), and browsers show both alike."""
    import base64

    from markupsafe import Markup, escape

    b64 = base64.b64encode(svg.encode()).decode()
    return Markup(f'<img class="chart" alt="{escape(alt)}" src="data:image/svg+xml;base64,{b64}">')


def write_pdf(html: str, path: Path, base: Path) -> None:
    """``html`` as a PDF with WeasyPrint (fonts from the system; no network access)."""
    from weasyprint import HTML

    # A report never reaches out: only its own charts (data: URIs) are fetched.
    try:
        from weasyprint.urls import URLFetcher

        fetcher: Any = URLFetcher(allowed_protocols=["data"])
    except ImportError:  # WeasyPrint before 67: a function
        from weasyprint import default_url_fetcher  # type: ignore[attr-defined]

        def fetcher(url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith("data:"):
                return default_url_fetcher(url, *args, **kwargs)
            raise ValueError(f"report.pdf does not fetch {url}")

    HTML(string=html, base_url=str(base), url_fetcher=fetcher).write_pdf(str(path))


def write_report(
    archive: Archive,
    campaign: Campaign | str,
    out_dir: str | Path,
    *,
    previous: Campaign | str | None = None,
    coverage: dict[str, Any] | None = None,
    pdf: bool = True,
) -> dict[str, Any]:
    """Write ``report.html`` (and ``report.pdf``) into ``out_dir``; returns the paths and data
    (``coverage``: see ``report_data``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = report_data(archive, campaign, previous=previous, coverage=coverage)
    html = render(data)
    (out / "report.html").write_text(html, encoding="utf-8")
    files = [out / "report.html"]
    if pdf:
        write_pdf(html, out / "report.pdf", out)
        files.append(out / "report.pdf")
    return {"files": [str(f) for f in files], "data": data}
