"""X's short links (``https://t.co/...``) and what they stand for, from a raw payload (pure).

X rewrites every link of a tweet to a ``t.co`` redirect; the tweet's ``entities.urls`` (v2 and
v1.1, and v1.1's ``extended_tweet``) give each one's ``expanded_url`` and ``display_url``. A
published story shows and links the expanded address: ``t.co`` may not answer in 20 years.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["short_links"]


def _tweet(obj: Any, native_id: str, depth: int = 0) -> dict[str, Any] | None:
    if depth > 8:
        return None
    if isinstance(obj, dict):
        if str(obj.get("id_str") or obj.get("id") or "") == native_id and (
            "entities" in obj or "extended_tweet" in obj
        ):
            return obj
        for v in obj.values():
            if isinstance(v, dict | list):
                hit = _tweet(v, native_id, depth + 1)
                if hit is not None:
                    return hit
    elif isinstance(obj, list):
        for v in obj:
            hit = _tweet(v, native_id, depth + 1)
            if hit is not None:
                return hit
    return None


def short_links(payload: bytes | None, native_id: str) -> dict[str, dict[str, str]]:
    """``{t.co URL: {"expanded": ..., "display": ...}}`` for tweet ``native_id`` in ``payload``."""
    if not payload:
        return {}
    try:
        obj = json.loads(payload)
    except ValueError:
        return {}
    t = _tweet(obj, native_id)
    if t is None:
        return {}
    urls = list((t.get("entities") or {}).get("urls") or [])
    urls += list(((t.get("extended_tweet") or {}).get("entities") or {}).get("urls") or [])
    out: dict[str, dict[str, str]] = {}
    for u in urls:
        if not isinstance(u, dict):
            continue
        short, expanded = u.get("url"), u.get("expanded_url")
        if (
            isinstance(short, str)
            and isinstance(expanded, str)
            and expanded.startswith(("http://", "https://"))
        ):
            display = u.get("display_url")
            out[short] = {"expanded": expanded, "display": display if isinstance(display, str) else expanded}
    return out
