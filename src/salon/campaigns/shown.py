"""Which posts may appear on a public surface (DESIGN.md, "Opted out" and "Deleted").

``hidden_posts`` is the one function stories (``salon.publish.stories``) ask. It applies the two
definitions with what the archive holds today:

- **deleted**: ``posts.deleted_at`` is set, or a tombstone names the post (delete events,
  compliance files, takedown requests recorded as tombstones);
- **opted out**: the author's latest snapshot says ``indexable = false`` (Mastodon's
  ``indexable``/``noindex``/``discoverable: false`` as the normaliser stores them), or the
  author's profile text carries ``#nobot``, ``#nosearch`` or ``#noindex``.

The trust rules (branch ``trust``: takedown requests, editors' logged overrides, Bluesky's
``!no-unauthenticated`` label) are meant to replace the body of this function by theirs; the
signature (uids in, ``{uid: reason}`` out) is what callers rely on.
"""

from __future__ import annotations

from collections.abc import Iterable

from salon.store.archive import Archive

__all__ = ["DELETED", "OPTED_OUT", "hidden_posts"]

DELETED = "deleted"
OPTED_OUT = "opted_out"

_OPT_OUT_TAGS = ("#nobot", "#nosearch", "#noindex")


def hidden_posts(arc: Archive, uids: Iterable[str]) -> dict[str, str]:
    """``{uid: reason}`` for each of ``uids`` that must not be shown publicly (reason
    ``deleted`` or ``opted_out``; deleted wins). Unknown uids are not listed."""
    wanted = sorted(set(uids))
    if not wanted:
        return {}
    tag_test = " OR ".join("lower(coalesce(a.bio, '')) LIKE ?" for _ in _OPT_OUT_TAGS)
    rows = arc.query(
        "SELECT p.uid,"
        " (p.deleted_at IS NOT NULL OR p.uid IN (SELECT uid FROM tombstones)) AS deleted,"
        f" coalesce(a.indexable = false, false) OR ({tag_test}) AS opted_out"
        " FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid WHERE p.uid IN (SELECT unnest(?))",
        [*[f"%{t}%" for t in _OPT_OUT_TAGS], wanted],
    )
    out: dict[str, str] = {}
    for uid, deleted, opted_out in rows:
        if deleted:
            out[uid] = DELETED
        elif opted_out:
            out[uid] = OPTED_OUT
    return out
