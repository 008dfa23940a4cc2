"""Storing campaigns and their participants registry in the archive (tables of migration
0002_campaigns). Adding a campaign whose slug is stored updates it in place (same id), keeping
the account ids already learned for handles still listed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from salon.campaigns.chats import sync_chats
from salon.campaigns.config import Account, Campaign, Day, Participant
from salon.store.archive import Archive

__all__ = ["get_campaign", "learn_account_ids", "list_campaigns", "remove_campaign", "save_campaign"]


def _local(v: date | datetime) -> str:
    return v.isoformat()


def _parse_local(s: str) -> date | datetime:
    return datetime.fromisoformat(s) if "T" in s else date.fromisoformat(s)


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return {"$dt": v.isoformat()}
    raise TypeError(type(v))


def _json_hook(d: dict[str, Any]) -> Any:
    if set(d) == {"$dt"}:
        s = d["$dt"]
        return datetime.fromisoformat(s) if "T" in s else date.fromisoformat(s)
    return d


def save_campaign(archive: Archive, c: Campaign, source_toml: str | None = None) -> tuple[int, bool]:
    """Store ``c`` (insert, or update the campaign of the same slug); returns (id, created)."""
    now = datetime.now(UTC)
    with archive.transaction() as con:
        found = con.execute("SELECT campaign_id, added_at FROM campaigns WHERE slug = ?", [c.slug]).fetchall()
        row = found[0] if found else None
        learned: dict[tuple[str, str], tuple[str, Any]] = {}
        if row is not None:
            cid, added = int(row[0]), row[1]
            for platform, hn, uid, at in con.execute(
                "SELECT platform, handle_norm, account_uid, learned_at FROM participant_accounts"
                " WHERE campaign_id = ? AND account_uid IS NOT NULL",
                [cid],
            ).fetchall():
                learned[(platform, hn)] = (uid, at)
            for t in (
                "campaigns",
                "campaign_days",
                "campaign_hashtags",
                "participants",
                "participant_accounts",
            ):
                con.execute(f"DELETE FROM {t} WHERE campaign_id = ?", [cid])
        else:
            cid = int(con.execute("SELECT nextval('campaign_id_seq')").fetchall()[0][0])
            added = now
        if c.series:
            con.execute(
                "INSERT INTO series SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM series WHERE series = ?)",
                [c.series, now, c.series],
            )
        con.execute(
            "INSERT INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                cid,
                c.slug,
                c.name,
                c.series,
                c.edition,
                c.timezone,
                _local(c.start),
                _local(c.end),
                c.start_utc,
                c.end_utc,
                json.dumps(c.hashtags, ensure_ascii=False),
                c.accent_sensitive,
                c.description,
                c.participants_file,
                json.dumps(c.extra, default=_json_default, ensure_ascii=False),
                source_toml,
                added,
                now,
            ],
        )
        if c.days:
            con.executemany(
                "INSERT INTO campaign_days VALUES (?, ?, ?, ?)",
                [[cid, d.date, d.theme, json.dumps(d.hashtags, ensure_ascii=False)] for d in c.days],
            )
        con.executemany(
            "INSERT INTO campaign_hashtags VALUES (?, ?, ?, ?)",
            [[cid, t, k, d.date if d else None] for t, k, d in c.official_tags()],
        )
        if c.participants:
            con.executemany(
                "INSERT INTO participants VALUES (?, ?, ?, ?, ?, ?, ?)",
                [[cid, i, p.name, p.country, p.city, p.kind, p.line] for i, p in enumerate(c.participants)],
            )
        accts = []
        for i, a in c.accounts():
            uid, at = a.account_uid, None
            if uid is None and (a.platform, a.handle_norm) in learned:
                uid, at = learned[(a.platform, a.handle_norm)]
                a.account_uid = uid
            accts.append([cid, i, a.platform, a.handle, a.handle_norm, uid, at])
        if accts:
            con.executemany("INSERT INTO participant_accounts VALUES (?, ?, ?, ?, ?, ?, ?)", accts)
        sync_chats(con, cid, c)  # [[chats]] materialised (docs/chats.md)
    c.campaign_id = cid
    return cid, row is None


def list_campaigns(archive: Archive) -> list[dict[str, Any]]:
    """Stored campaigns, by series then start."""
    rows = archive.con.execute(
        "SELECT c.campaign_id, c.slug, c.name, c.series, c.edition, c.timezone, c.start_local, c.end_local,"
        " (SELECT count(*) FROM participants p WHERE p.campaign_id = c.campaign_id),"
        " (SELECT count(*) FROM campaign_hashtags h WHERE h.campaign_id = c.campaign_id), c.updated_at"
        " FROM campaigns c ORDER BY c.series NULLS LAST, c.start_utc"
    ).fetchall()
    keys = (
        "campaign_id",
        "slug",
        "name",
        "series",
        "edition",
        "timezone",
        "start",
        "end",
        "participants",
        "official_hashtags",
        "updated_at",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]


def get_campaign(archive: Archive, slug: str) -> Campaign | None:
    """The stored campaign ``slug`` (with learned account ids), or None."""
    con = archive.con
    rows = con.execute(
        "SELECT campaign_id, slug, name, series, edition, timezone, start_local, end_local, hashtags,"
        " accent_sensitive, description, participants_file, extra FROM campaigns WHERE slug = ?",
        [slug],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    cid = int(row[0])
    days = [
        Day(d, theme, json.loads(tags))
        for d, theme, tags in con.execute(
            "SELECT day, theme, hashtags FROM campaign_days WHERE campaign_id = ? ORDER BY day", [cid]
        ).fetchall()
    ]
    parts: dict[int, Participant] = {}
    for pid, name, country, city, kind, line in con.execute(
        "SELECT participant_id, name, country, city, kind, line FROM participants WHERE campaign_id = ?"
        " ORDER BY participant_id",
        [cid],
    ).fetchall():
        parts[int(pid)] = Participant(name, country, city, kind, [], line)
    for pid, platform, handle, uid in con.execute(
        "SELECT participant_id, platform, handle, account_uid FROM participant_accounts WHERE campaign_id = ?"
        " ORDER BY participant_id, CASE platform WHEN 'x' THEN 0 WHEN 'mastodon' THEN 1 ELSE 2 END",
        [cid],
    ).fetchall():
        parts[int(pid)].accounts.append(Account(platform, handle, uid))
    return Campaign(
        name=row[2],
        slug=row[1],
        timezone=row[5],
        start=_parse_local(row[6]),
        end=_parse_local(row[7]),
        hashtags=json.loads(row[8]),
        days=days,
        accent_sensitive=bool(row[9]),
        series=row[3],
        edition=row[4],
        description=row[10],
        participants=[parts[k] for k in sorted(parts)],
        participants_file=row[11],
        extra=json.loads(row[12] or "{}", object_hook=_json_hook),
        campaign_id=cid,
    )


def campaigns_in_series(archive: Archive, series: str) -> list[str]:
    """Slugs of a series' editions, oldest first."""
    return [
        r[0]
        for r in archive.con.execute(
            "SELECT slug FROM campaigns WHERE series = ? ORDER BY start_utc", [series]
        ).fetchall()
    ]


def remove_campaign(archive: Archive, slug: str) -> bool:
    """Delete a stored campaign and its index; False when there was none."""
    with archive.transaction() as con:
        found = con.execute("SELECT campaign_id FROM campaigns WHERE slug = ?", [slug]).fetchall()
        row = found[0] if found else None
        if row is None:
            return False
        for t in (
            "campaigns",
            "campaign_days",
            "campaign_hashtags",
            "participants",
            "participant_accounts",
            "campaign_posts",
            "campaign_reposts",
            "campaign_authors",
            "campaign_handles",
            "campaign_counts",
            "campaign_tag_counts",
            "campaign_index_state",
        ):
            con.execute(f"DELETE FROM {t} WHERE campaign_id = ?", [row[0]])
        con.execute(
            "DELETE FROM chat_questions WHERE slug IN (SELECT slug FROM chats WHERE campaign_id = ?)",
            [row[0]],
        )
        con.execute("DELETE FROM chats WHERE campaign_id = ?", [row[0]])
    return True


def learn_account_ids(archive: Archive, campaign_id: int, learned: list[tuple[int, str, str, str]]) -> None:
    """Record account ids learned at a first handle match: (participant_id, platform,
    handle_norm, account_uid). Only accounts without an id yet are updated."""
    if not learned:
        return
    now = datetime.now(UTC)
    archive.con.executemany(
        "UPDATE participant_accounts SET account_uid = ?, learned_at = ? WHERE campaign_id = ?"
        " AND participant_id = ? AND platform = ? AND handle_norm = ? AND account_uid IS NULL",
        [[uid, now, campaign_id, pid, platform, hn] for pid, platform, hn, uid in learned],
    )
