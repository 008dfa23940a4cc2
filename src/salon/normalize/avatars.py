"""Authors' avatar URLs, read from the raw records their posts came in (pure: no I/O).

The normalisers do not keep avatars (``authors`` has no such column), so stories find them where
they are: in a raw payload of one of the author's posts (kept byte for byte), as the platforms
put them: Mastodon ``account.avatar_static``/``avatar``, X v2 ``includes.users[].profile_image_url``,
X v1.1 ``user.profile_image_url_https``, Bluesky views' ``author.avatar``. A Jetstream event has
none. The lookup is by the author's own id in the payload (``id``, ``id_str``, ``did``, ``uri``),
so a quoted or reposted author's picture is never taken for the poster's.

Meant to become an ``avatar_url`` the normalisers store on ``authors``; until then
``salon.store.stories.author_payloads`` gives the rows ``avatars_from`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["avatars_from", "find_avatar"]

_ID_KEYS = ("id", "id_str", "did", "uri")
_AVATAR_KEYS = ("avatar_static", "avatar", "profile_image_url_https", "profile_image_url")


def find_avatar(obj: Any, native_id: str, depth: int = 0) -> str | None:
    """The avatar URL of the account ``native_id`` anywhere in ``obj`` (a parsed payload)."""
    if depth > 8:
        return None
    if isinstance(obj, dict):
        if any(str(obj.get(k)) == native_id for k in _ID_KEYS if obj.get(k) is not None):
            for k in _AVATAR_KEYS:
                v = obj.get(k)
                if isinstance(v, str) and v.startswith(("https://", "http://")):
                    return v
        for v in obj.values():
            if isinstance(v, dict | list):
                hit = find_avatar(v, native_id, depth + 1)
                if hit:
                    return hit
    elif isinstance(obj, list):
        for v in obj:
            hit = find_avatar(v, native_id, depth + 1)
            if hit:
                return hit
    return None


def avatars_from(rows: Iterable[tuple[str, str, bytes | None]], tries: int = 3) -> dict[str, str]:
    """``{author_uid: avatar URL}`` from ``(author_uid, native_id, payload)`` rows, newest
    first per author; at most ``tries`` payloads are read per author."""
    out: dict[str, str] = {}
    tried: dict[str, int] = {}
    for author, native, payload in rows:
        if author in out or tried.get(author, 0) >= tries or not payload:
            continue
        tried[author] = tried.get(author, 0) + 1
        try:
            obj = json.loads(payload)
        except ValueError:
            continue
        url = find_avatar(obj, str(native))
        if url:
            out[author] = url
    return out
