"""Which posts an export holds: filters by campaign, chat, date and platform, shared by every format.

A *selection* is an SQL relation of post uids (``Selection.uids``, registered on the archive's
connection for as long as the ``selection`` block runs). With a campaign, its members are taken
from ``salon.campaigns.tally.scope`` (campaign posts and reposts, the one definition); dates and
platforms narrow that down. Deleted posts (tombstones) and posts of authors who opted out of
indexing (DESIGN.md, Opted out) are never exported; how many were left out is kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import pyarrow as pa

from salon.campaigns.chat_answers import chat_assignment
from salon.campaigns.chat_store import chat_by_slug, hidden_uids
from salon.campaigns.config import Campaign
from salon.campaigns.optout import listable
from salon.campaigns.tally import resolve_campaign, scope
from salon.campaigns.trust.posts import post_hidden_sql
from salon.campaigns.trust.spam import held_sql
from salon.store.archive import Archive

__all__ = ["PLATFORMS", "Filters", "Selection", "selection"]

PLATFORMS = ("x", "mastodon", "bluesky")
_ids = itertools.count(1)


@dataclass
class Filters:
    """What to export. ``since``/``until``: UTC dates or times, ``until`` exclusive (a date means
    its midnight UTC); ``platforms``: empty for all; ``campaign``: a stored slug, a campaign
    file or a Campaign; ``chat``: a stored chat's slug (its posts and reposts as
    ``salon.campaigns.chat_answers.chat_assignment`` decides them; posts an editor hid from the
    chat's public surfaces are left out)."""

    campaign: Campaign | str | None = None
    chat: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None
    platforms: Sequence[str] = ()
    include_reposts: bool = True
    exclude_spam: bool = False  # leave out posts the campaign's trust rules hold as spam

    def check(self) -> None:
        for p in self.platforms:
            if p not in PLATFORMS:
                raise ValueError(f"unknown platform {p!r}; one of {', '.join(PLATFORMS)}")


@dataclass
class Selection:
    """The selected posts: ``uids`` names a relation with one column ``uid`` (and
    ``participant_id`` when a campaign was given), ``campaign`` the resolved campaign."""

    archive: Archive
    uids: str
    count: int
    campaign: Campaign | None
    table: Any = None  # the uids as an Arrow table (register it on another cursor with ``cursor``)
    # (uid, reasons): the selected posts held as spam (``salon.campaigns.trust.spam.held_sql``,
    # of the campaign given, else of any stored campaign); None: an archive without trust tables
    held: str | None = None
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def con(self) -> Any:
        return self.archive.con

    def cursor(self) -> Any:
        """A new cursor on the archive that also sees ``uids`` (registrations are per cursor),
        so rows can stream from it while other queries run on the archive's connection."""
        cur = self.archive.con.cursor()
        cur.register(self.uids, self.table)
        return cur


def _utc(v: date | datetime) -> datetime:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    return datetime.combine(v, time(0), tzinfo=UTC)


@contextmanager
def selection(archive: Archive, filters: Filters | None = None) -> Iterator[Selection]:
    """The posts ``filters`` select, as a relation of uids on ``archive.con`` (dropped at exit)."""
    f = filters or Filters()
    f.check()
    con = archive.con
    n = next(_ids)
    name = f"_x_sel{n}"
    # Posts an editor hid (a chat room's or a campaign's hide: trust.posts) are never exported.
    conds: list[str] = ["p.deleted_at IS NULL", f"NOT {post_hidden_sql('p.uid')}"]
    params: list[Any] = []
    if f.since is not None:
        conds.append("p.created_at >= ?")
        params.append(_utc(f.since))
    if f.until is not None:
        conds.append("p.created_at < ?")
        params.append(_utc(f.until))
    if f.platforms:
        conds.append("p.platform IN (" + ", ".join("?" for _ in f.platforms) + ")")
        params.extend(f.platforms)
    if not f.include_reposts:
        conds.append("p.kind <> 'repost'")
    with ExitStack() as stack:
        campaign: Campaign | None = None
        if f.campaign is not None:
            campaign = resolve_campaign(archive, f.campaign)
            s = stack.enter_context(scope(archive, campaign))
            base = f"SELECT m.uid, m.participant_id FROM {s.m} m JOIN posts p ON p.uid = m.uid"
        else:
            base = "SELECT p.uid, CAST(NULL AS INTEGER) AS participant_id FROM posts p"
        left: dict[str, int] = {}
        if f.chat is not None:
            chat = chat_by_slug(archive, f.chat)
            if chat is None:
                raise ValueError(f"no chat {f.chat!r} in {archive.path} (see `salon chat list`)")
            a = chat_assignment(archive, chat)
            hidden = hidden_uids(archive, chat.slug)
            # Question posts, answers, conversation, untagged thread posts and reposts: every
            # post the assignment gives a role (posts loaded only as context have none).
            roles = set(a.question_uids()) | set(a.answers) | set(a.conversation) | set(a.untagged)
            members = [u for u in [*roles, *a.reposts] if u not in hidden]
            chat_rel = f"_x_chat{n}"
            con.register(chat_rel, pa.table({"uid": pa.array(sorted(set(members)), pa.string())}))
            stack.callback(con.unregister, chat_rel)
            conds.append(f"p.uid IN (SELECT uid FROM {chat_rel})")
            if hidden:
                left["hidden_in_chat"] = len(hidden & roles)
        held = _held(archive, campaign)
        if f.exclude_spam and held is not None:
            before = int(
                con.execute(f"SELECT count(*) FROM ({base} WHERE {' AND '.join(conds)})", params).fetchall()[
                    0
                ][0]
            )
            conds.append(f"p.uid NOT IN (SELECT uid FROM {held})")
        where = " WHERE " + " AND ".join(conds)
        # Opted-out authors are counted in tallies but never exported (DESIGN.md).
        opted = " AND " + listable("p.author_uid")
        table = con.sql(base + where + opted, params=params).to_arrow_table()
        con.register(name, table)
        stack.callback(con.unregister, name)
        count = int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
        everything = int(con.execute(f"SELECT count(*) FROM ({base + where})", params).fetchall()[0][0])
        if everything != count:
            left["opted_out"] = everything - count
        if f.exclude_spam and held is not None and before != everything:
            left["spam"] = before - everything
        yield Selection(archive, name, count, campaign, table, left_out=left, held=held)


def _held(archive: Archive, campaign: Campaign | None) -> str | None:
    """The relation of posts held as spam: the campaign's, or (no campaign given) held in any
    stored campaign, reasons merged."""
    if not archive.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'trust_spam'")[0][0]:
        return None
    if campaign is not None:
        if campaign.campaign_id is None:  # a campaign file: nothing held (verdicts are stored ones')
            return None
        return held_sql(int(campaign.campaign_id))
    cids = [int(r[0]) for r in archive.query("SELECT DISTINCT campaign_id FROM trust_spam ORDER BY 1")]
    if not cids:
        return None
    union = " UNION ALL ".join(f"SELECT uid, unnest(reasons) AS reason FROM {held_sql(c)}" for c in cids)
    return f"(SELECT uid, list(DISTINCT reason ORDER BY reason) AS reasons FROM ({union}) GROUP BY uid)"
