"""Editions year over year: two campaigns (usually of one series) side by side.

Institutions are the same across editions when they share a registered account (platform
account id, or platform + handle, case-insensitive) or, failing that, their name (casefolded,
spaces collapsed). "New" institutions posted in B but not in A; "returning" posted in both;
"lost" posted in A only. Themes are matched by name, case-insensitive.
"""

from __future__ import annotations

from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.registry import participant_activity
from salon.campaigns.tally import resolve_campaign, tally
from salon.store.archive import Archive

__all__ = ["compare", "compare_figures"]

FIGURES = ("posts", "reposts", "participants", "institutions", "countries")


def _ids(p: dict[str, Any]) -> set[str]:
    out = {"name:" + " ".join(p["name"].casefold().split())}
    for a in p["accounts"]:
        out.add(f"acct:{a['platform']}:{a['handle'].lower()}")
        if a["account_uid"]:
            out.add("uid:" + a["account_uid"])
    return out


def _delta(a: int, b: int) -> dict[str, Any]:
    return {"a": a, "b": b, "change": b - a, "pct": round(100.0 * (b - a) / a, 1) if a else None}


def compare(archive: Archive, a: Campaign | str, b: Campaign | str) -> dict[str, Any]:
    """Figures of editions ``a`` and ``b``, their changes, institutions new/returning/lost, and
    themes with the same name."""
    ca, cb = resolve_campaign(archive, a), resolve_campaign(archive, b)
    ta, tb = tally(archive, ca), tally(archive, cb)
    return compare_figures(ta, tb, participant_activity(archive, ca), participant_activity(archive, cb))


def compare_figures(
    ta: dict[str, Any], tb: dict[str, Any], activity_a: list[dict[str, Any]], activity_b: list[dict[str, Any]]
) -> dict[str, Any]:
    """The comparison from each edition's tally and participant activity (whichever engine
    computed them: ``compare`` on DuckDB, ``salon.campaigns.spark.compare_spark``)."""
    act_a = [p for p in activity_a if p["posts"] > 0]
    act_b = [p for p in activity_b if p["posts"] > 0]
    ids_a: dict[str, int] = {}
    for i, p in enumerate(act_a):
        for k in _ids(p):
            ids_a.setdefault(k, i)
    matched_a: set[int] = set()
    new, returning = [], []
    for p in act_b:
        hit = next((ids_a[k] for k in sorted(_ids(p)) if k in ids_a), None)
        entry = {"name": p["name"], "country": p["country"], "posts_b": p["posts"]}
        if hit is None:
            new.append(entry)
        else:
            matched_a.add(hit)
            returning.append({**entry, "posts_a": act_a[hit]["posts"], "name_a": act_a[hit]["name"]})
    lost = [
        {"name": p["name"], "country": p["country"], "posts_a": p["posts"]}
        for i, p in enumerate(act_a)
        if i not in matched_a
    ]
    themes_a = {k.casefold(): (k, v) for k, v in ta["themes"].items()}
    themes = []
    for k, v in tb["themes"].items():
        if k.casefold() in themes_a:
            _ka, va = themes_a[k.casefold()]
            themes.append(
                {
                    "theme": k,
                    "posts": _delta(va["posts"], v["posts"]),
                    "on_the_day": _delta(va["on_the_day"], v["on_the_day"]),
                }
            )
    return {
        "a": ta["campaign"],
        "b": tb["campaign"],
        "figures": {f: _delta(ta[f], tb[f]) for f in FIGURES},
        "engagement": {k: _delta(ta["engagement"][k], tb["engagement"][k]) for k in ta["engagement"]},
        "institutions": {
            "new": sorted(new, key=lambda e: -e["posts_b"]),
            "returning": sorted(returning, key=lambda e: -e["posts_b"]),
            "lost": sorted(lost, key=lambda e: -e["posts_a"]),
        },
        "countries_new": sorted(set(tb["by_country"]) - set(ta["by_country"])),
        "themes": themes,
        "by_platform": {
            pl: _delta(
                ta["by_platform"].get(pl, {}).get("posts", 0), tb["by_platform"].get(pl, {}).get("posts", 0)
            )
            for pl in sorted(set(ta["by_platform"]) | set(tb["by_platform"]))
        },
    }
