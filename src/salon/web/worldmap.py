"""The world map of participating countries, drawn offline.

The geometry is Natural Earth's 1:110m countries as packaged by the npm package ``world-atlas``
(vendored in ``static/vendor/world-atlas``, ISC licence). ``build()`` decodes its TopoJSON,
projects it (Natural Earth I projection) and writes one SVG path per ISO 3166-1 alpha-2 code to
``static/world.json``; run ``python -m salon.web.worldmap`` after updating the vendored file. The
page then needs no map library: the server inlines the paths and a few lines of JS colour them.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["HEIGHT", "WIDTH", "build", "country_paths"]

WIDTH, HEIGHT = 960, 420
STATIC = Path(__file__).resolve().parent / "static"
SOURCE = STATIC / "vendor" / "world-atlas" / "countries-110m.json"
OUTPUT = STATIC / "world.json"

# world-atlas names that differ from salon/data/countries.csv, by the names it uses.
_ALIASES = {
    "W. Sahara": "EH",
    "United States of America": "US",
    "Dem. Rep. Congo": "CD",
    "Dominican Rep.": "DO",
    "Falkland Is.": "FK",
    "Fr. S. Antarctic Lands": "TF",
    "Timor-Leste": "TL",
    "Congo": "CG",
    "Eq. Guinea": "GQ",
    "eSwatini": "SZ",
    "Myanmar": "MM",
    "North Korea": "KP",
    "South Korea": "KR",
    "Solomon Is.": "SB",
    "United Kingdom": "GB",
    "Czechia": "CZ",
    "N. Cyprus": "CY",
    "Somaliland": "SO",
    "Bosnia and Herz.": "BA",
    "Macedonia": "MK",
    "Kosovo": "XK",
    "Trinidad and Tobago": "TT",
    "S. Sudan": "SS",
    "Central African Rep.": "CF",
}


def _natural_earth(lon: float, lat: float) -> tuple[float, float]:
    """Natural Earth I projection (Šavrič et al. 2011), radians in, unit coordinates out."""
    phi2 = lat * lat
    phi4 = phi2 * phi2
    x = lon * (0.8707 - 0.131979 * phi2 + phi4 * (-0.013791 + phi4 * (0.003971 * phi2 - 0.001529 * phi4)))
    y = lat * (1.007226 + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2 - 0.005916 * phi4)))
    return x, y


def _project(lon: float, lat: float) -> tuple[float, float]:
    x, y = _natural_earth(math.radians(lon), math.radians(lat))
    # The projection spans x in [-2.7376, 2.7376]; latitudes are clipped to [-57°, 84°] (no
    # Antarctica) so the map spends its height on inhabited land.
    sx = WIDTH / (2 * 2.7376)
    return WIDTH / 2 + x * sx, 246 - y * sx


def _unwrap(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring crossing the antimeridian (Russia, Fiji, the Aleutians) moved to the side where
    most of it lies, the overhang clamped to ±180°, so no polygon streaks across the map."""
    if not any(abs(a[0] - b[0]) > 180 for a, b in itertools.pairwise(ring)):
        return ring
    east = sum(1 for lon, _ in ring if lon > 0) >= len(ring) / 2
    if east:
        return [(min(lon + 360 if lon < 0 else lon, 180.0), lat) for lon, lat in ring]
    return [(max(lon - 360 if lon > 0 else lon, -180.0), lat) for lon, lat in ring]


def _arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    (kx, ky), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * kx + tx, y * ky + ty))
        out.append(pts)
    return out


def _ring(arcs: list[list[tuple[float, float]]], idx: list[int]) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for i in idx:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        pts.extend(a if not pts else a[1:])
    return pts


def _path(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for ring in rings:
        prev = None
        cmds = []
        for lon, lat in _unwrap(ring):
            x, y = _project(lon, min(max(lat, -57.0), 84.0))
            p = (round(x, 1), round(y, 1))
            if p != prev:
                cmds.append(f"{p[0]:g},{p[1]:g}")
                prev = p
        if len(cmds) >= 3:
            parts.append("M" + "L".join(cmds) + "Z")
    return "".join(parts)


def build(source: Path = SOURCE) -> dict[str, str]:
    """alpha-2 code → SVG path (``WIDTH`` × ``HEIGHT`` viewBox) from the world-atlas TopoJSON."""
    topo = json.loads(source.read_text(encoding="utf-8"))
    text = (resources.files("salon") / "data" / "countries.csv").read_text(encoding="utf-8")
    by_name = {r["name"].lower(): r["code"] for r in csv.DictReader(io.StringIO(text))}
    arcs = _arcs(topo)
    out: dict[str, str] = {}
    for g in topo["objects"]["countries"]["geometries"]:
        name = g["properties"]["name"]
        code = _ALIASES.get(name) or by_name.get(name.lower())
        if code is None or name == "Antarctica":
            continue
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]] if g["type"] == "Polygon" else []
        rings = [_ring(arcs, r) for poly in polys for r in poly]
        out[code] = out.get(code, "") + _path(rings)
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def country_paths() -> dict[str, str]:
    """The pre-projected paths shipped in ``static/world.json``."""
    data: dict[str, str] = json.loads(OUTPUT.read_text(encoding="utf-8"))
    return data


if __name__ == "__main__":
    paths = build()
    OUTPUT.write_text(json.dumps(paths, separators=(",", ":")), encoding="utf-8")
    print(f"{len(paths)} countries, {OUTPUT.stat().st_size:,} bytes → {OUTPUT}")
