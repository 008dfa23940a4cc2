"""Every registered institution's own figures, in one pass over the campaign (2,000 museums in a
few queries, not 2,000 tallies).

Per participant of the registry: campaign posts and reposts (the tally's definitions, from
``salon.campaigns.tally.scope``), posts by local day and by theme (a post counts once per theme
whose hashtag it carries, as in the tally), engagement received by its campaign posts as of their
latest snapshot and the date of the newest snapshot, its top posts, the accounts that reposted
its posts (amplified) and that mentioned one of its registered handles (opted-out accounts are
never listed), its rank among the
institutions of its country (by campaign posts; institutions with the same count share a rank),
and, given the previous edition, the change (``salon.campaigns.compare``).
"""

from __future__ import annotations

from typing import Any

from salon.campaigns.compare import compare
from salon.campaigns.config import Campaign
from salon.campaigns.definitions import latest_engagement_sql
from salon.campaigns.optout import listable
from salon.campaigns.tally import resolve_campaign, scope
from salon.campaigns.trust import pipeline
from salon.campaigns.trust.spam import held_sql
from salon.store.archive import Archive

__all__ = ["institution_figures"]


def institution_figures(
    archive: Archive, campaign: Campaign | str, *, previous: Campaign | str | None = None, top: int = 5
) -> list[dict[str, Any]]:
    """One dict per registered participant (registry order), see the module docstring.

    Like the campaign report's headline (DESIGN.md, Spam), every figure leaves out the members
    the trust rules hold as spam (``salon.campaigns.trust.spam.held_sql``, the relation the
    tally's ``spam`` part reads, so an institution's ``posts`` is ``spam_part(...)["shown"]``
    over its members); ``spam`` says what is held beside them (posts, reposts)."""
    c0 = resolve_campaign(archive, campaign)
    pipeline.refresh(archive, c0)  # the spam verdicts up to date, as the tally does (writable only)
    with scope(archive, c0, refreshed=not archive.read_only and c0.campaign_id is not None) as s:
        c = s.campaign
        con = archive.con
        held: dict[int, tuple[int, int]] = {}
        m = s.m
        if c.campaign_id is not None and _has_spam_table(archive):
            h = held_sql(int(c.campaign_id))
            held = {
                int(pid): (int(p), int(r))
                for pid, p, r in s.q(
                    "SELECT participant_id, count(*) FILTER (WHERE NOT m.is_repost), count(*) FILTER (WHERE m.is_repost)"
                    f" FROM {m} m SEMI JOIN {h} h ON h.uid = m.uid WHERE participant_id IS NOT NULL GROUP BY ALL"
                )
            }
            m = f"(SELECT * FROM {s.m} m ANTI JOIN {h} h ON h.uid = m.uid)"
        counts = {
            int(pid): (int(p), int(r))
            for pid, p, r in s.q(
                "SELECT participant_id, count(CASE WHEN NOT is_repost THEN 1 END), count(CASE WHEN is_repost THEN 1 END)"
                f" FROM {m} m WHERE participant_id IS NOT NULL GROUP BY participant_id"
            )
        }
        by_day: dict[int, dict[str, int]] = {}
        for pid, day, n in s.q(
            f"SELECT participant_id, day, count(*) FROM {m} m WHERE participant_id IS NOT NULL AND NOT is_repost"
            " GROUP BY ALL"
        ):
            by_day.setdefault(int(pid), {})[day.isoformat()] = int(n)
        themes = c.themes()
        key_theme = [(k, name) for name, t in themes.items() for k in t["keys"]]
        by_theme: dict[int, dict[str, int]] = {}
        if key_theme:
            con.register("_i_keys", _kt(key_theme))
            try:
                for pid, theme, n in s.q(
                    f"SELECT m.participant_id, k.theme, count(DISTINCT t.uid) FROM {s.tags} t JOIN {m} m ON m.uid = t.uid"
                    " JOIN _i_keys k ON k.tag_key = t.tag_key WHERE m.participant_id IS NOT NULL GROUP BY ALL"
                ):
                    by_theme.setdefault(int(pid), {})[theme] = int(n)
            finally:
                con.unregister("_i_keys")
        inst_posts = f"(SELECT uid FROM {m} m WHERE participant_id IS NOT NULL AND NOT is_repost)"
        eng: dict[int, dict[str, Any]] = {}
        for pid, li, rp, re_, q, at in s.q(
            f"SELECT m.participant_id, sum(e.likes), sum(e.reposts), sum(e.replies), sum(e.quotes), max(e.observed_at)"
            f" FROM ({latest_engagement_sql(inst_posts)}) e JOIN {m} m ON m.uid = e.uid GROUP BY m.participant_id"
        ):
            eng[int(pid)] = {
                "likes": int(li or 0),
                "reposts": int(rp or 0),
                "replies": int(re_ or 0),
                "quotes": int(q or 0),
                "as_of": at.isoformat() if at else None,
            }
        tops: dict[int, list[dict[str, Any]]] = {}
        for pid, uid, url, text, created, li, rp in s.q(
            "SELECT participant_id, uid, url, text, created_at, likes, reposts FROM (SELECT m.participant_id, p.uid,"
            " p.url, p.text, p.created_at, coalesce(m.likes, 0) AS likes, coalesce(m.reposts, 0) AS reposts,"
            " row_number() OVER (PARTITION BY m.participant_id ORDER BY coalesce(m.likes, 0) + coalesce(m.reposts, 0)"
            f" DESC, p.created_at, p.uid) AS rn FROM {m} m JOIN posts p ON p.uid = m.uid"
            f" WHERE m.participant_id IS NOT NULL AND NOT m.is_repost) WHERE rn <= {int(top)} ORDER BY participant_id, rn"
        ):
            tops.setdefault(int(pid), []).append(
                {
                    "uid": uid,
                    "url": url,
                    "text": text,
                    "created_at": created.isoformat(),
                    "likes": int(li),
                    "reposts": int(rp),
                }
            )
        amplified: dict[int, list[dict[str, Any]]] = {}
        for pid, handle, author, n in s.q(
            "SELECT participant_id, handle, author_uid, n FROM (SELECT o.participant_id, a.handle, r.author_uid,"
            " count(*) AS n, row_number() OVER (PARTITION BY o.participant_id ORDER BY count(*) DESC, r.author_uid) AS rn"
            f" FROM {m} o JOIN posts r ON r.repost_of_uid = o.uid AND r.kind = 'repost' AND r.deleted_at IS NULL"
            " LEFT JOIN authors a ON a.uid = r.author_uid WHERE o.participant_id IS NOT NULL AND NOT o.is_repost"
            f" AND r.author_uid <> o.author_uid AND {listable('r.author_uid')} GROUP BY o.participant_id, a.handle, r.author_uid) WHERE rn <= {int(top)} ORDER BY participant_id, rn"
        ):
            amplified.setdefault(int(pid), []).append(
                {"account": author, "handle": handle, "reposts": int(n)}
            )
        mentioned: dict[int, list[dict[str, Any]]] = {}
        handles = [
            (i, a.platform, a.handle.lower()) for i, p in enumerate(c.participants) for a in p.accounts
        ]
        if handles:
            con.register("_i_handles", _handles(handles))
            try:
                for pid, handle, author, n in s.q(
                    "SELECT pid, handle, author_uid, n FROM (SELECT h.pid, a.handle, p.author_uid, count(DISTINCT p.uid) AS n,"
                    " row_number() OVER (PARTITION BY h.pid ORDER BY count(DISTINCT p.uid) DESC, p.author_uid) AS rn"
                    f" FROM {m} x JOIN posts p ON p.uid = x.uid AND NOT x.is_repost JOIN post_mentions pm ON pm.uid = p.uid"
                    " JOIN _i_handles h ON h.platform = p.platform AND h.handle = lower(pm.handle)"
                    " LEFT JOIN authors a ON a.uid = p.author_uid WHERE x.participant_id IS DISTINCT FROM h.pid"
                    f" AND {listable('p.author_uid')}"
                    f" GROUP BY h.pid, a.handle, p.author_uid) WHERE rn <= {int(top)} ORDER BY pid, rn"
                ):
                    mentioned.setdefault(int(pid), []).append(
                        {"account": author, "handle": handle, "posts": int(n)}
                    )
            finally:
                con.unregister("_i_handles")
    change: dict[str, dict[str, Any]] = {}
    if previous is not None:
        cmp = compare(archive, previous, c)
        for status in ("new", "returning"):
            for e in cmp["institutions"][status]:
                change[e["name"]] = {
                    "status": status,
                    "posts_before": e.get("posts_a", 0),
                    "posts": e["posts_b"],
                }
    # Rank in country among institutions (participants with a campaign post).
    by_country: dict[str | None, list[int]] = {}
    for pid, (n_posts, _r) in counts.items():
        if n_posts > 0:
            by_country.setdefault(c.participants[pid].country, []).append(n_posts)
    out = []
    for i, p in enumerate(c.participants):
        posts, reposts = counts.get(i, (0, 0))
        peers = sorted(by_country.get(p.country, []), reverse=True)
        out.append(
            {
                "participant_id": i,
                "name": p.name,
                "country": p.country,
                "city": p.city,
                "accounts": [f"{a.platform}:{a.handle}" for a in p.accounts],
                "posts": posts,
                "reposts": reposts,
                "spam": {"posts": held.get(i, (0, 0))[0], "reposts": held.get(i, (0, 0))[1]},
                "by_day": {d.isoformat(): by_day.get(i, {}).get(d.isoformat(), 0) for d in c.local_dates()},
                "by_theme": {name: by_theme.get(i, {}).get(name, 0) for name in themes},
                "engagement": eng.get(
                    i, {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "as_of": None}
                ),
                "top_posts": tops.get(i, []),
                "amplified_by": amplified.get(i, []),
                "mentioned_by": mentioned.get(i, []),
                "rank_in_country": (1 + peers.index(posts)) if posts > 0 else None,
                "institutions_in_country": len(peers),
                "change": change.get(p.name) if previous is not None else None,
            }
        )
    return out


def _has_spam_table(archive: Archive) -> bool:
    """An archive from before the trust tables (read-only, not migrated) holds nothing."""
    return bool(archive.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'trust_spam'")[0][0])


def _kt(pairs: list[tuple[str, str]]) -> Any:
    import pyarrow as pa

    return pa.table({"tag_key": [k for k, _ in pairs], "theme": [t for _, t in pairs]})


def _handles(rows: list[tuple[int, str, str]]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "pid": pa.array([r[0] for r in rows], pa.int32()),
            "platform": [r[1] for r in rows],
            "handle": [r[2].lstrip("@") for r in rows],
        }
    )
