"""Charts for reports as SVG, drawn offline with matplotlib's SVG backend (no display, no network,
text kept as paths so the PDF looks the same everywhere), and the world map from the web app's
pre-projected country paths: the file ``salon/web/static/world.json`` that ``salon.web.worldmap``
builds, read as package data (publish lies below the web app and imports none of its modules)."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["MAP_HEIGHT", "MAP_WIDTH", "bars", "country_paths", "heatmap", "world_map"]

# The viewBox the paths of world.json were projected to (salon.web.worldmap.WIDTH, HEIGHT; a test
# checks they agree).
MAP_WIDTH, MAP_HEIGHT = 960, 420

INK = "#1f2a44"
ACCENT = "#c2410c"


def _figure(width: float, height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot(1, 1, 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK, labelsize=8)
    return fig, ax


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]  # inline: drop the XML declaration and doctype


def bars(
    labels: Sequence[str],
    values: Sequence[int],
    *,
    title: str = "",
    horizontal: bool = False,
    width: float = 7.0,
    height: float = 2.6,
    second: Sequence[int] | None = None,
    legend: tuple[str, str] | None = None,
) -> str:
    """A bar chart (optionally a second, stacked series) as inline SVG."""
    fig, ax = _figure(width, height)
    pos = list(range(len(labels)))
    if horizontal:
        ax.barh(pos, values, color=INK)
        if second is not None:
            ax.barh(pos, second, left=values, color=ACCENT)
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
    else:
        ax.bar(pos, values, color=INK)
        if second is not None:
            ax.bar(pos, second, bottom=values, color=ACCENT)
        ax.set_xticks(
            pos, labels, rotation=30 if len(labels) > 6 else 0, ha="right" if len(labels) > 6 else "center"
        )
    if legend and second is not None:
        ax.legend(legend, fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=9, color=INK, loc="left")
    return _svg(fig)


def heatmap(rows: Sequence[str], matrix: Sequence[Sequence[int]], *, title: str = "") -> str:
    """Posts by day (rows) and hour of the day (24 columns) as inline SVG."""
    fig, ax = _figure(7.0, 0.35 * max(len(rows), 3) + 0.8)
    im = ax.imshow(matrix, aspect="auto", cmap="Oranges", interpolation="nearest")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("hour (campaign time zone)", fontsize=8, color=INK)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    if title:
        ax.set_title(title, fontsize=9, color=INK, loc="left")
    return _svg(fig)


@lru_cache(maxsize=1)
def country_paths() -> dict[str, str]:
    """ISO alpha-2 code -> SVG path of the country on the ``MAP_WIDTH`` x ``MAP_HEIGHT`` map."""
    text = (resources.files("salon") / "web" / "static" / "world.json").read_text(encoding="utf-8")
    paths: dict[str, str] = json.loads(text)
    return paths


def world_map(values: dict[str, int]) -> str:
    """Countries shaded by ``values`` (ISO alpha-2 → count) on the web app's world map."""
    from xml.sax.saxutils import quoteattr

    top = max(values.values(), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" class="map">']
    for code, d in country_paths().items():
        n = values.get(code, 0)
        if n:
            share = 0.25 + 0.75 * (n / top) ** 0.5
            fill = f"rgba(194,65,12,{share:.2f})"
        else:
            fill = "#e5e7eb"
        parts.append(
            f'<path d="{d}" fill="{fill}" stroke="#fff" stroke-width="0.4"><title>{code}: {n}</title></path>'
            if n
            else f'<path d="{d}" fill={quoteattr(fill)} stroke="#fff" stroke-width="0.4"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
