"""Which posts of a story may still be shown, and why not (DESIGN.md, "Opted out" and "Deleted").

The rule itself is the trust rules' ONE function, ``salon.campaigns.trust.visibility
.publicly_visible`` (deleted or taken down, author inactive at the source, opted out unless an
editor published them with a logged reason, hidden by an editor). A story is an editor's
selection, not a campaign surface, so the campaign's spam holds and wall moderation do not apply.
``hidden_posts`` only adds the reason a placeholder states.
"""

from __future__ import annotations

from collections.abc import Iterable

from salon.campaigns.trust.consent import opted_out_sql
from salon.campaigns.trust.visibility import publicly_visible
from salon.store.archive import Archive

__all__ = ["DELETED", "OPTED_OUT", "WITHHELD", "hidden_posts"]

DELETED = "deleted"
OPTED_OUT = "opted_out"
WITHHELD = "withheld"  # the account is inactive at the source, or an editor hid its author


def hidden_posts(arc: Archive, uids: Iterable[str]) -> dict[str, str]:
    """``{uid: reason}`` for each of ``uids`` (stored posts) that a public surface may not show:
    ``deleted``, else ``opted_out``, else ``withheld``. Unknown uids are not listed."""
    wanted = sorted(set(uids))
    if not wanted:
        return {}
    visible = publicly_visible(arc, wanted)
    rows = arc.query(
        "SELECT p.uid, p.deleted_at IS NOT NULL OR p.uid IN (SELECT uid FROM tombstones),"
        f" coalesce({opted_out_sql('a')}, false)"
        " FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid WHERE p.uid IN (SELECT unnest(?))",
        [wanted],
    )
    out: dict[str, str] = {}
    for uid, deleted, opted in rows:
        if uid in visible and not deleted:
            continue
        out[uid] = DELETED if deleted else OPTED_OUT if opted else WITHHELD
    return out
