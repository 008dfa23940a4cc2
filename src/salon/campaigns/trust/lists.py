"""Block and allow lists of a campaign: accounts and words (CSV import), each change logged.

- ``block_accounts``: an account written ``platform:handle`` (``x:spammer``,
  ``mastodon:bot@spam.example``, ``bluesky:deals.example.com``), a bare handle (any platform), or
  an author uid; its campaign posts are held (reason ``blocked_account``).
- ``allow_accounts``: accounts whose posts no spam rule holds and which ``pre`` mode shows without
  approval (registry accounts are allowed already).
- ``block_words``: a word (whole-word match) or a phrase (substring), case-insensitive; posts
  containing one are held (reason ``blocked_word``).

A CSV has one entry a line in its first column (a header ``account``/``handle``/``word``/``value``
is skipped) and an optional ``note`` column.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.trust import log
from salon.store.archive import Archive

__all__ = ["LISTS", "add", "entries", "import_csv", "normalise", "remove"]

LISTS = ("block_accounts", "allow_accounts", "block_words")
_HEADERS = {"account", "accounts", "handle", "word", "words", "value", "entry"}


def normalise(list_name: str, value: str) -> str:
    """The stored form of an entry: trimmed, lower case, a leading @ dropped from handles."""
    if list_name not in LISTS:
        raise ValueError(f"unknown list {list_name!r} (one of {', '.join(LISTS)})")
    v = " ".join(value.strip().split()).lower()
    if list_name != "block_words":
        if ":" in v:
            platform, _, handle = v.partition(":")
            v = f"{platform}:{handle.lstrip('@')}"
        else:
            v = v.lstrip("@")
    if not v:
        raise ValueError("empty entry")
    return v


def add(
    archive: Archive, campaign_id: int, list_name: str, value: str, *, by: str, note: str | None = None
) -> bool:
    """Add an entry (False: already there). Logged."""
    v = normalise(list_name, value)
    con = archive.con
    if con.execute(
        "SELECT 1 FROM moderation_lists WHERE campaign_id = ? AND list = ? AND value = ?",
        [campaign_id, list_name, v],
    ).fetchall():
        return False
    con.execute(
        "INSERT INTO moderation_lists VALUES (?, ?, ?, ?, ?, ?)",
        [campaign_id, list_name, v, note, by, datetime.now(UTC)],
    )
    log.record(
        archive,
        family="list",
        action="list_add",
        target=f"{list_name}:{v}",
        by=by,
        reason=note,
        campaign_id=campaign_id,
    )
    return True


def remove(archive: Archive, campaign_id: int, list_name: str, value: str, *, by: str) -> bool:
    """Remove an entry (False: it was not there). Logged."""
    v = normalise(list_name, value)
    con = archive.con
    n = con.execute(
        "SELECT count(*) FROM moderation_lists WHERE campaign_id = ? AND list = ? AND value = ?",
        [campaign_id, list_name, v],
    ).fetchall()[0][0]
    if not n:
        return False
    con.execute(
        "DELETE FROM moderation_lists WHERE campaign_id = ? AND list = ? AND value = ?",
        [campaign_id, list_name, v],
    )
    log.record(
        archive,
        family="list",
        action="list_remove",
        target=f"{list_name}:{v}",
        by=by,
        campaign_id=campaign_id,
    )
    return True


def import_csv(archive: Archive, campaign_id: int, list_name: str, text: str, *, by: str) -> dict[str, int]:
    """Add every entry of a CSV text; returns {"added", "already", "bad"}."""
    out = {"added": 0, "already": 0, "bad": 0}
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    note_col = None
    if rows and rows[0] and rows[0][0].strip().lower() in _HEADERS:
        header = [h.strip().lower() for h in rows[0]]
        note_col = header.index("note") if "note" in header else None
        rows = rows[1:]
    for row in rows:
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        note = row[note_col].strip() if note_col is not None and note_col < len(row) else None
        try:
            ok = add(archive, campaign_id, list_name, row[0], by=by, note=note or None)
        except ValueError:
            out["bad"] += 1
            continue
        out["added" if ok else "already"] += 1
    return out


def entries(archive: Archive, campaign_id: int, list_name: str | None = None) -> list[dict[str, Any]]:
    """The entries of one list (or all lists) of a campaign."""
    where, params = "campaign_id = ?", [campaign_id]
    if list_name is not None:
        where += " AND list = ?"
        params.append(list_name)  # type: ignore[arg-type]
    return archive.dicts(
        f"SELECT list, value, note, added_by, added_at FROM moderation_lists WHERE {where} ORDER BY list, value",
        params,
    )


def account_match_sql(campaign_id: int, list_name: str, author_alias: str = "a") -> str:
    """An SQL condition: the author (row alias ``author_alias`` of ``authors``) is on the list."""
    a = author_alias
    return (
        f"EXISTS (SELECT 1 FROM moderation_lists l WHERE l.campaign_id = {int(campaign_id)}"
        f" AND l.list = '{list_name}' AND (l.value = lower({a}.uid)"
        f" OR l.value = {a}.platform || ':' || lower({a}.handle) OR l.value = lower({a}.handle)))"
    )


def word_match_sql(campaign_id: int, text_expr: str) -> str:
    """An SQL condition: ``text_expr`` contains a blocked word (whole word) or phrase."""
    return (
        f"EXISTS (SELECT 1 FROM moderation_lists l WHERE l.campaign_id = {int(campaign_id)}"
        " AND l.list = 'block_words' AND CASE WHEN contains(l.value, ' ')"
        f" THEN contains(lower({text_expr}), l.value)"
        f" ELSE list_contains(string_split_regex(lower({text_expr}), '[^[:alnum:]_]+'), l.value) END)"
    )
