"""The networks of a set of posts: who replies to, mentions, reposts and quotes whom; which
hashtags go together; who uses which hashtag. One definition each, as SQL over a relation of
post uids (a campaign's members, an export's selection), used by the network exports and the
report's network summary alike.

- **Interaction** (``interaction_edges_sql``): a directed edge from a post's author to
  - ``reply``: the author of the post it replies to (when that post is stored);
  - ``quote``: the author of the post it quotes (when stored);
  - ``repost``: the author of the post it reposts (when stored);
  - ``mention``: each account it mentions, matched to a stored author by platform and handle
    (case-insensitive; the oldest such account when a handle was reused), else a node
    ``platform:@handle``. A repost's mentions are the reposted post's, not the reposter's: they
    make no mention edge.
  Self-loops (replying to oneself in a thread) are left out. ``weight``: the number of posts.
- **Co-hashtag** (``cohashtag_edges_sql``): an undirected edge between two hashtag keys carried
  by the same post (reposts excluded: they carry their original's tags), weighted by posts.
- **User-hashtag** (``user_hashtag_edges_sql``): a directed edge from an author to each hashtag
  key of their posts (reposts excluded), weighted by posts.

Each edge row also has ``day``: the local date (a campaign's time zone, else UTC) of the posts,
one row per (edge, day), so a caller sums the weights over days or keeps them as spells.
"""

from __future__ import annotations

from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.definitions import day_expr
from salon.campaigns.optout import OPTED_OUT_AUTHORS
from salon.campaigns.tally import scope
from salon.store.archive import Archive

__all__ = [
    "INTERACTIONS",
    "NETWORKS",
    "cohashtag_edges_sql",
    "day_sql",
    "interaction_edges_sql",
    "network_summary",
    "user_hashtag_edges_sql",
]

INTERACTIONS = ("reply", "mention", "repost", "quote")
NETWORKS = ("interactions", "co-hashtag", "user-hashtag")


def day_sql(c: Campaign | None, col: str) -> str:
    """The local date of ``col``: the campaign's day (``definitions.day_expr``) or the UTC date."""
    if c is not None:
        return day_expr(c, col)
    return f"CAST(timezone('UTC', {col}) AS DATE)"


def interaction_edges_sql(uids_rel: str, day: str = "", interactions: tuple[str, ...] = INTERACTIONS) -> str:
    """(source, target, interaction, day, weight) over the posts of ``uids_rel``; ``day``: an
    expression of ``p.created_at`` (``day_sql``)."""
    d = day or day_sql(None, "p.created_at")
    parts = []
    for kind, col in (("reply", "reply_to_uid"), ("quote", "quote_of_uid"), ("repost", "repost_of_uid")):
        if kind in interactions:
            parts.append(
                f"SELECT p.author_uid AS source, o.author_uid AS target, '{kind}' AS interaction, {d} AS day"
                f" FROM p JOIN posts o ON o.uid = p.{col}"
            )
    if "mention" in interactions:
        parts.append(
            "SELECT p.author_uid AS source, coalesce(h.uid, p.platform || ':@' || lower(m.handle)) AS target,"
            f" 'mention' AS interaction, {d} AS day FROM p JOIN post_mentions m ON m.uid = p.uid"
            " LEFT JOIN handles h ON h.platform = p.platform AND h.handle = lower(m.handle)"
            " WHERE p.kind <> 'repost'"
        )
    if not parts:
        raise ValueError("no interaction chosen")
    return (
        f"WITH p AS (SELECT p.* FROM posts p WHERE p.uid IN (SELECT uid FROM {uids_rel})),"
        " handles AS (SELECT platform, lower(handle) AS handle, arg_min(uid, coalesce(created_at, observed_at)) AS uid"
        " FROM authors WHERE handle IS NOT NULL GROUP BY platform, lower(handle)),"
        f" e AS ({' UNION ALL '.join(parts)})"
        " SELECT source, target, interaction, day, count(*) AS weight FROM e"
        " WHERE source IS NOT NULL AND target IS NOT NULL AND source <> target"
        " GROUP BY source, target, interaction, day"
    )


def cohashtag_edges_sql(uids_rel: str, day: str = "") -> str:
    """(source, target, day, weight): pairs of hashtag keys on the same post (source < target)."""
    d = day or day_sql(None, "p.created_at")
    return (
        f"WITH t AS (SELECT DISTINCT h.uid, h.tag_key, {d} AS day FROM post_hashtags h JOIN posts p ON p.uid = h.uid"
        f" WHERE p.kind <> 'repost' AND p.uid IN (SELECT uid FROM {uids_rel}))"
        " SELECT a.tag_key AS source, b.tag_key AS target, a.day, count(*) AS weight"
        " FROM t a JOIN t b ON a.uid = b.uid AND a.tag_key < b.tag_key GROUP BY a.tag_key, b.tag_key, a.day"
    )


def user_hashtag_edges_sql(uids_rel: str, day: str = "") -> str:
    """(source, target, day, weight): an author to each hashtag key of their posts."""
    d = day or day_sql(None, "p.created_at")
    return (
        f"SELECT p.author_uid AS source, h.tag_key AS target, {d} AS day, count(DISTINCT p.uid) AS weight"
        " FROM post_hashtags h JOIN posts p ON p.uid = h.uid"
        f" WHERE p.kind <> 'repost' AND p.author_uid IS NOT NULL AND p.uid IN (SELECT uid FROM {uids_rel})"
        " GROUP BY p.author_uid, h.tag_key, day"
    )


def network_summary(archive: Archive, campaign: Campaign | str, *, top: int = 10) -> dict[str, Any]:
    """The campaign's interaction network in figures (over its posts and reposts): accounts,
    edges and posts by interaction, the most replied to / mentioned / reposted / quoted
    accounts (with handle; opted-out accounts counted, never listed), and the co-hashtag network's size and strongest pairs."""
    with scope(archive, campaign) as s:
        c = s.campaign
        con = archive.con
        rel = f"(SELECT uid FROM {s.m})"
        edges = con.execute(
            f"SELECT source, target, interaction, sum(weight) AS w FROM ({interaction_edges_sql(rel, day_sql(c, 'p.created_at'))})"
            " GROUP BY source, target, interaction"
        ).fetchall()
        pairs = con.execute(
            f"SELECT source, target, sum(weight) AS w FROM ({cohashtag_edges_sql(rel, day_sql(c, 'p.created_at'))})"
            " GROUP BY source, target ORDER BY w DESC, source, target"
        ).fetchall()
        handles = dict(con.execute("SELECT uid, handle FROM authors WHERE handle IS NOT NULL").fetchall())
        hidden = {r[0] for r in con.execute(OPTED_OUT_AUTHORS).fetchall()}
    nodes: set[str] = set()
    by: dict[str, dict[str, Any]] = {k: {"edges": 0, "posts": 0} for k in INTERACTIONS}
    received: dict[str, dict[str, int]] = {k: {} for k in INTERACTIONS}
    for src, dst, kind, w in edges:
        nodes.update((src, dst))
        by[kind]["edges"] += 1
        by[kind]["posts"] += int(w)
        received[kind][dst] = received[kind].get(dst, 0) + int(w)

    def label(uid: str) -> str:
        h = handles.get(uid)
        return ("@" + h) if h else uid.split(":", 1)[1] if ":@" in uid else uid

    tags: set[str] = set()
    for a, b, _ in pairs:
        tags.update((a, b))
    return {
        "accounts": len(nodes),
        "edges": len(edges),
        "by_interaction": by,
        "top": {
            k: [
                {"account": uid, "label": label(uid), "posts": n}
                for uid, n in sorted(
                    ((u, n) for u, n in received[k].items() if u not in hidden),
                    key=lambda kv: (-kv[1], kv[0]),
                )[:top]
            ]
            for k in INTERACTIONS
        },
        "cohashtag": {
            "hashtags": len(tags),
            "pairs": len(pairs),
            "top": [{"a": a, "b": b, "posts": int(w)} for a, b, w in pairs[:top]],
        },
    }
