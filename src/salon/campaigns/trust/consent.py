"""Opted-out authors (DESIGN.md, Opted out): counted in every figure, never shown on a public
page, the wall, search results, a story or an export, unless an editor overrides it with a
logged reason.

An author is opted out when the latest snapshot says so:

- Mastodon ``indexable: false``, ``discoverable: false`` or ``noindex: true`` (the normaliser
  stores ``authors.indexable = false``);
- ``#nobot``, ``#nosearch`` or ``#noindex`` in the profile (bio or display name), on any
  platform (read here from ``authors.bio`` / ``display_name``, so older archives too);
- Bluesky's ``!no-unauthenticated`` self-label on the profile (``authors.indexable = false``).

An editor's ``show`` (with a reason) makes an opted-out author public again; ``hide`` hides any
author from public surfaces; both are in the moderation log (family ``consent``).
"""

from __future__ import annotations

from typing import Any

from salon.campaigns.trust import log
from salon.store.archive import Archive

__all__ = ["OPT_OUT_TAGS", "author_visible_sql", "opted_out", "opted_out_sql", "override", "overrides"]

OPT_OUT_TAGS = ("nobot", "nosearch", "noindex")
_TAG_RE = r"(^|[^[:alnum:]_])#(" + "|".join(OPT_OUT_TAGS) + r")([^[:alnum:]_]|$)"


def opted_out_sql(a: str = "a") -> str:
    """SQL condition: the author (row alias ``a`` of ``authors``) asked not to be indexed."""
    return (
        f"({a}.indexable = false OR regexp_matches(lower(coalesce({a}.bio, '') || ' ' ||"
        f" coalesce({a}.display_name, '')), '{_TAG_RE}'))"
    )


def opted_out(archive: Archive, author_uid: str) -> bool:
    """Whether this author opted out (whatever an editor decided)."""
    return bool(archive.scalar(f"SELECT {opted_out_sql('a')} FROM authors a WHERE a.uid = ?", [author_uid]))


def override(archive: Archive, author_uid: str, action: str, *, reason: str, by: str) -> int:
    """An editor's ``show`` (publish an opted-out author anyway) or ``hide`` (keep an author off
    public surfaces). A reason is required; logged with who and when."""
    if action not in ("show", "hide"):
        raise ValueError("a consent override is 'show' or 'hide'")
    if not reason or not reason.strip():
        raise ValueError("a consent override needs a reason")
    if not archive.scalar("SELECT count(*) FROM authors WHERE uid = ?", [author_uid]):
        raise LookupError(f"no author {author_uid}")
    return log.record(
        archive, family="consent", action=action, target=author_uid, by=by, reason=reason.strip()
    )


def overrides(archive: Archive) -> list[dict[str, Any]]:
    """The consent overrides in force, with the author's opt-out status."""
    return archive.dicts(
        f"SELECT d.target AS author_uid, d.action, d.reason, d.by_user, d.at, a.handle, {opted_out_sql('a')} AS opted_out"
        f" FROM {log.current_sql('consent', None)} d LEFT JOIN authors a ON a.uid = d.target ORDER BY d.at DESC"
    )


def author_visible_sql(author_uid: str) -> str:
    """SQL condition: the author with uid expression ``author_uid`` may be shown publicly: not
    inactive at the source (``account_status``), not hidden by an editor, and not opted out
    unless an editor published them with a reason. An unknown author (no snapshot) is visible."""
    c = log.current_sql("consent", None)
    return (
        f"NOT EXISTS (SELECT 1 FROM account_status s WHERE s.author_uid = {author_uid} AND NOT s.active)"
        f" AND NOT EXISTS (SELECT 1 FROM {c} d WHERE d.target = {author_uid} AND d.action = 'hide')"
        f" AND NOT EXISTS (SELECT 1 FROM authors a_v WHERE a_v.uid = {author_uid} AND {opted_out_sql('a_v')}"
        # a_v.uid, not the outer expression: Spark resolves outer references one level up only
        f"   AND NOT EXISTS (SELECT 1 FROM {c} d WHERE d.target = a_v.uid AND d.action = 'show'))"
    )
