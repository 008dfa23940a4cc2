"""The campaign tally: every figure of a campaign in one pass (``tally``).

>>> from salon.store.archive import open_archive
>>> from salon.campaigns.tally import tally
>>> with open_archive("salon.duckdb") as arc:                     # doctest: +SKIP
...     t = tally(arc, "museumweek-2015")                          # a stored slug, or a Campaign
>>> t["posts"], t["reposts"], t["institutions"], t["by_day"]       # doctest: +SKIP

What is counted is defined in ``salon.campaigns.definitions`` (read its docstring). A figure is
computed over a *scope*: the campaign's members (campaign posts and reposts) either read from
the precomputed index (``salon.campaigns.index``; stored campaigns, ``at=None``) or
computed from the archive tables (campaign files, ``at=...``, or a read-only archive whose
index is stale). Both give the same numbers; the index is only faster.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from salon.campaigns import index
from salon.campaigns.config import Campaign, load_campaign
from salon.campaigns.definitions import author_match_sql, member_tags_sql, members_sql
from salon.campaigns.engine import DuckDBEngine, Engine
from salon.campaigns.stored import get_campaign
from salon.campaigns.trust import pipeline
from salon.campaigns.trust import spam as trust_spam
from salon.campaigns.trust.spam import spam_part
from salon.store.archive import Archive

__all__ = [
    "CampaignNotFound",
    "Scope",
    "resolve_campaign",
    "scan_scope",
    "scope",
    "spam_of_scope",
    "tally",
    "tally_of_scope",
]

_ids = itertools.count(1)


class CampaignNotFound(LookupError):
    """No stored campaign has this slug (and it is no campaign file)."""


def resolve_campaign(archive: Archive, campaign: Campaign | str) -> Campaign:
    """A Campaign from a Campaign, a stored slug, or a path to a campaign file. A file whose
    slug is stored is tallied with the stored registry's learned account ids."""
    if isinstance(campaign, Campaign):
        return campaign
    if campaign.endswith(".toml") or Path(campaign).is_file():
        c = load_campaign(campaign)
        stored = _stored(archive, c.slug)
        if stored is not None and _same(stored, c):
            return stored
        return c
    c2 = _stored(archive, campaign)
    if c2 is None:
        raise CampaignNotFound(f"no campaign {campaign!r} in {archive.path} (see `salon campaign list`)")
    return c2


def _stored(archive: Archive, slug: str) -> Campaign | None:
    try:
        return get_campaign(archive, slug)
    except Exception as exc:  # an archive from before campaigns: no table
        if "campaigns" in str(exc):
            return None
        raise


def _same(a: Campaign, b: Campaign) -> bool:
    return index.digest(a) == index.digest(b)


@dataclass
class Scope:
    """The members of one campaign as relations a query can name:

    - ``m``: one row per campaign post or repost (uid, is_repost, platform, author_uid,
      participant_id, created_at, day, hour, likes, reposts, replies, quotes);
    - ``tags``: (uid, tag_key, day) official keys carried by campaign posts;
    - ``reg``: the registry (participant_id, name, country, city, kind);
    - ``counts``: the members counted by (day, hour, platform, participant_id, is_repost): n and
      the sums of likes, reposts, replies, quotes (groups may repeat: sum them);
    - ``tag_counts``: campaign posts by (tag_key, day): n (groups may repeat);
    - ``authors``: (author_uid, posts) of the members' authors (participants: posts > 0).

    The index keeps ``counts``, ``tag_counts`` and ``authors`` up to date by delta; a scan
    derives them from ``m`` and ``tags`` with GROUP BY. The tally reads only these.
    """

    archive: Archive | None  # None: over a Parquet export (``salon.campaigns.spark``)
    campaign: Campaign
    at: datetime | None
    m: str
    tags: str
    reg: str
    source: str  # index | scan
    registered: list[str] = field(default_factory=list)
    counts: str = ""
    tag_counts: str = ""
    authors: str = ""
    engine: Engine | None = None

    def q(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (DuckDB dialect) run by the scope's engine."""
        if self.engine is None:
            assert self.archive is not None
            self.engine = DuckDBEngine(self.archive.con)
        return self.engine.query(sql, params)

    def one(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self.q(sql, params)
        return rows[0][0] if rows else None


def _registry_table(c: Campaign) -> pa.Table:
    ps = c.participants
    return pa.table(
        {
            "participant_id": pa.array(range(len(ps)), pa.int32()),
            "name": pa.array([p.name for p in ps], pa.string()),
            "country": pa.array([p.country for p in ps], pa.string()),
            "city": pa.array([p.city for p in ps], pa.string()),
            "kind": pa.array([p.kind for p in ps], pa.string()),
            "pkey": pa.array([p.key for p in ps], pa.string()),
        }
    )


@contextmanager
def scope(
    archive: Archive,
    campaign: Campaign | str,
    at: datetime | None = None,
    *,
    basis: str = "created",
    use_index: bool = True,
    refreshed: bool = False,
) -> Iterator[Scope]:
    """The members of ``campaign`` (as of ``at``) ready to be counted (``refreshed``: the
    caller has just refreshed the campaign's index)."""
    c = resolve_campaign(archive, campaign)
    _check(at, basis)
    engine = DuckDBEngine(archive.con)
    indexed = False
    if use_index and at is None and c.campaign_id is not None:
        if not archive.read_only:
            if not refreshed:
                index.refresh(archive, c)
            indexed = True
        else:
            indexed = index.is_fresh(archive, c)
    if not indexed:
        with scan_scope(engine, c, at, basis=basis, archive=archive) as s:
            yield s
        return
    reg = f"_t_reg{next(_ids)}"
    engine.register(reg, _registry_table(c))
    try:
        cid = int(c.campaign_id)  # type: ignore[arg-type]
        m = (
            "(SELECT uid, is_repost, platform, author_uid, participant_id, created_at, day, hour, likes,"
            f" reposts, replies, quotes FROM campaign_posts WHERE campaign_id = {cid})"
        )
        tags = (
            "(SELECT uid, unnest(tags) AS tag_key, day FROM campaign_posts"
            f" WHERE campaign_id = {cid} AND NOT is_repost)"
        )
        counts = (
            "(SELECT day, hour, platform, participant_id, is_repost, n, likes, reposts, replies, quotes"
            f" FROM campaign_counts WHERE campaign_id = {cid})"
        )
        tag_counts = f"(SELECT tag_key, day, n FROM campaign_tag_counts WHERE campaign_id = {cid})"
        authors = f"(SELECT author_uid, posts FROM campaign_authors WHERE campaign_id = {cid})"
        yield Scope(archive, c, at, m, tags, reg, "index", [reg], counts, tag_counts, authors, engine)
    finally:
        engine.drop(reg)


def _check(at: datetime | None, basis: str) -> None:
    if at is not None and at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    if basis not in ("created", "collected"):
        raise ValueError("basis is 'created' or 'collected'")


@contextmanager
def scan_scope(
    engine: Engine,
    c: Campaign,
    at: datetime | None = None,
    *,
    basis: str = "created",
    archive: Archive | None = None,
) -> Iterator[Scope]:
    """The members of ``c`` computed from the archive tables by ``engine`` (the definitions'
    SQL, on DuckDB or, transpiled, on Spark over the Parquet export)."""
    _check(at, basis)
    n = next(_ids)
    reg, acc, raw_m, mm, tg = (f"_t_{k}{n}" for k in ("reg", "acc", "raw", "m", "tags"))
    names: list[str] = []
    try:
        engine.register(reg, _registry_table(c))
        names.append(reg)
        engine.register(acc, index.accounts_table(c))
        names.append(acc)
        engine.materialize(raw_m, members_sql(c, at, basis))
        names.append(raw_m)
        # The registry match joined in place (one computation less: a job less on Spark).
        engine.materialize(
            mm,
            "SELECT m.uid, m.is_repost, m.platform, m.author_uid, am.participant_id, m.created_at, m.day, m.hour,"
            f" m.likes, m.reposts, m.replies, m.quotes FROM {raw_m} m"
            f" LEFT JOIN ({author_match_sql(raw_m, acc)}) am ON am.author_uid = m.author_uid",
        )
        names.append(mm)
        engine.materialize(tg, member_tags_sql(c, mm))
        names.append(tg)
        counts = (
            "(SELECT day, hour, platform, participant_id, is_repost, count(*) AS n, coalesce(sum(likes), 0) AS likes,"
            " coalesce(sum(reposts), 0) AS reposts, coalesce(sum(replies), 0) AS replies,"
            f" coalesce(sum(quotes), 0) AS quotes FROM {mm} GROUP BY day, hour, platform, participant_id, is_repost)"
        )
        tag_counts = f"(SELECT tag_key, day, count(*) AS n FROM {tg} GROUP BY tag_key, day)"
        authors = (
            "(SELECT author_uid, count(CASE WHEN NOT is_repost THEN 1 END) AS posts FROM"
            f" {mm} WHERE author_uid IS NOT NULL GROUP BY author_uid)"
        )
        yield Scope(archive, c, at, mm, tg, reg, "scan", names, counts, tag_counts, authors, engine)
    finally:
        for name in reversed(names):
            engine.drop(name)


# -- the definitions as SQL aggregates -----------------------------------------------------------
# Over the scope's members ``m``: ``salon.campaigns.registry`` counts with ``POSTS`` and
# ``REPOSTS``; ``_tally`` computes the same figures from the scope's ``counts`` in one pass.

POSTS = "count(CASE WHEN NOT m.is_repost THEN 1 END)"
REPOSTS = "count(CASE WHEN m.is_repost THEN 1 END)"
ENGAGEMENT = {
    "likes": "coalesce(sum(m.likes), 0)",
    "reposts": "coalesce(sum(m.reposts), 0)",
    "replies": "coalesce(sum(m.replies), 0)",
    "quotes": "coalesce(sum(m.quotes), 0)",
}


# -- the tally ----------------------------------------------------------------------------------


def tally(
    archive: Archive,
    campaign: Campaign | str,
    at: datetime | None = None,
    *,
    basis: str = "created",
    top: int = 10,
    use_index: bool = True,
) -> dict[str, Any]:
    """The campaign's exact figures (JSON-ready). ``at``: as the counter stood then (see
    ``salon.campaigns.definitions``); ``top``: how many institutions to list.

    The tally of a stored campaign (``at=None``) is kept in memory until the archive changes:
    the key holds the watermarks the campaign index was refreshed to (or, read-only, the
    archive's: ``salon.campaigns.index.marks``, which move with every post written, deleted
    or re-observed) and the campaign's definition, so a cached tally is always the exact one."""
    c = resolve_campaign(archive, campaign)
    key: tuple[Any, ...] | None = None
    refreshed = False
    if at is None and use_index and c.campaign_id is not None:
        if archive.read_only:
            state: Any = (index.marks(archive), trust_spam.state_key(archive, c))
        else:
            pipeline.refresh(archive, c)  # account events, the campaign index, then the spam verdicts
            refreshed = True
            state = (index.index_state(archive, c.campaign_id), trust_spam.state_key(archive, c))
        key = (
            archive.path,
            c.campaign_id,
            index.digest(c),
            state,
            top,
            repr(
                (c.name, c.series, c.edition, c.start, c.end, c.hashtags, [(d.date, d.theme) for d in c.days])
            ),
            repr([(p.name, p.country) for p in c.participants]),
        )
        hit = _CACHE.get(key)
        if hit is not None:
            return copy.deepcopy(hit)
    with scope(archive, c, at, basis=basis, use_index=use_index, refreshed=refreshed) as s:
        out = _tally(s, top)
        out["spam"] = spam_of_scope(s)
    if key is not None and out["source"] == "index":
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = copy.deepcopy(out)
    return out


def spam_of_scope(s: Scope) -> dict[str, Any]:
    """The ``spam`` part (DESIGN.md, Spam) from its one function (``spam_part``), over the
    scope's members, run by the scope's engine (the archive's trust tables, or ``trust_spam``
    of a Parquet export on Spark or DuckDB)."""
    source: Any = s.engine if s.engine is not None else s.archive
    try:
        return spam_part(source, s.campaign, f"(SELECT uid, is_repost, author_uid FROM {s.m})")
    except Exception as exc:  # an archive from before the trust tables (read-only, not migrated)
        if "trust_spam" in str(exc):  # or an export made before they were exported: no verdicts
            return spam_part(source, dataclasses.replace(s.campaign, campaign_id=None))
        raise


_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
_CACHE_SIZE = 32


def tally_of_scope(s: Scope, top: int = 10) -> dict[str, Any]:
    """The tally of a scope (whichever engine computed it): every figure from its aggregates
    (the ``spam`` part is ``spam_of_scope``'s)."""
    return _tally(s, top)


def _tally(s: Scope, top: int) -> dict[str, Any]:
    c = s.campaign
    # Figures and breakdowns from the aggregates (the same for the index and a scan).
    posts_n = "coalesce(sum(CASE WHEN NOT k.is_repost THEN k.n END), 0)"
    reposts_n = "coalesce(sum(CASE WHEN k.is_repost THEN k.n END), 0)"
    row = s.q(
        f"SELECT {posts_n}, {reposts_n}, coalesce(sum(k.likes), 0), coalesce(sum(k.reposts), 0),"
        f" coalesce(sum(k.replies), 0), coalesce(sum(k.quotes), 0) FROM {s.counts} k"
    )[0]
    n_posts, n_reposts = int(row[0]), int(row[1])
    eng = {k: int(v) for k, v in zip(ENGAGEMENT, row[2:6], strict=True)}
    n_participants = int(s.one(f"SELECT count(*) FROM {s.authors} a WHERE a.posts > 0"))

    # Breakdowns in one pass: per day, platform, hour and participant (groups that exist).
    groups = s.q(
        "SELECT k.day, k.platform, k.hour, k.participant_id, GROUPING(k.day, k.platform, k.hour, k.participant_id),"
        f" {posts_n}, {reposts_n} FROM {s.counts} k"
        " GROUP BY GROUPING SETS ((k.day), (k.platform), (k.hour), (k.participant_id)) HAVING sum(k.n) <> 0"
    )
    by_day_p: dict[Any, int] = {}
    by_day_r: dict[Any, int] = {}
    by_platform: dict[str, dict[str, int]] = {}
    by_hour: dict[Any, tuple[int, int]] = {}
    by_part: dict[int, tuple[int, int]] = {}
    for day, platform, hour, pid, g, p, r in groups:
        if g == 0b0111:
            by_day_p[day], by_day_r[day] = int(p), int(r)
        elif g == 0b1011:
            by_platform[platform] = {"posts": int(p), "reposts": int(r)}
        elif g == 0b1101:
            by_hour[hour] = (int(p), int(r))
        elif g == 0b1110 and pid is not None:
            by_part[int(pid)] = (int(p), int(r))

    # Hashtags and themes.
    tag_rows = s.q(
        f"SELECT tag_key, day, sum(n) FROM {s.tag_counts} GROUP BY tag_key, day HAVING sum(n) <> 0"
    )
    tag_day: dict[str, dict[Any, int]] = {}
    for k, d, n in tag_rows:
        tag_day.setdefault(k, {})[d] = int(n)
    by_hashtag = {k: sum(tag_day.get(k, {}).values()) for _, k, _ in c.official_tags()}
    display = {k: t for t, k, _ in c.official_tags()}
    themes: dict[str, dict[str, Any]] = {}
    theme_defs = c.themes()
    for name, t in theme_defs.items():
        keys, dates = t["keys"], t["dates"]
        if len(keys) == 1 or not keys:
            per_day = tag_day.get(keys[0], {}) if keys else {}
            total, on_day = sum(per_day.values()), sum(per_day.get(d, 0) for d in dates)
        else:  # a post may carry several of the theme's tags: count it once
            dlist = ", ".join("CAST(? AS DATE)" for _ in dates)
            klist = ", ".join("?" for _ in keys)
            total, on_day = s.q(
                f"SELECT count(DISTINCT uid), count(DISTINCT CASE WHEN day IN ({dlist}) THEN uid END)"
                f" FROM {s.tags} WHERE tag_key IN ({klist})",
                [*dates, *keys],
            )[0]
        themes[name] = {
            "dates": [d.isoformat() for d in dates],
            "hashtags": t["hashtags"],
            "posts": int(total),
            "on_the_day": int(on_day),
        }

    # Institutions and countries (from the registry).
    reg = {
        int(pid): (name, country, pkey)
        for pid, name, country, pkey in s.q(f"SELECT participant_id, name, country, pkey FROM {s.reg}")
    }
    active = {pid: pr for pid, pr in by_part.items() if pr[0] > 0}
    # Institutions: participants with a campaign post; countries: theirs, in the registry.
    n_institutions = len(active)
    n_countries = len({reg[pid][1] for pid in active if reg[pid][1] is not None})
    by_country: dict[str, dict[str, int]] = {}
    for pid, (p, _r) in active.items():
        cc = reg[pid][1] or "??"
        e = by_country.setdefault(cc, {"posts": 0, "institutions": 0})
        e["posts"] += p
        e["institutions"] += 1
    top_inst = sorted(by_part.items(), key=lambda kv: (-kv[1][0], -kv[1][1], reg[kv[0]][0]))[:top]

    # Series over the whole window, zeros included.
    tz = c.tz
    by_day = {d.isoformat(): by_day_p.get(d, 0) for d in c.local_dates()}
    reposts_by_day = {d.isoformat(): by_day_r.get(d, 0) for d in c.local_dates()}
    hourly = []
    h = c.start_utc.replace(minute=0, second=0, microsecond=0)
    end = c.end_utc if s.at is None else min(c.end_utc, s.at.astimezone(UTC))
    hour_map = {(k.astimezone(UTC) if k is not None else None): v for k, v in by_hour.items()}
    while h < end:
        p, r = hour_map.get(h, (0, 0))
        hourly.append(
            {"hour": h.isoformat(), "local": h.astimezone(tz).isoformat(), "posts": p, "reposts": r}
        )
        h += timedelta(hours=1)

    return {
        "campaign": {
            "slug": c.slug,
            "name": c.name,
            "series": c.series,
            "edition": c.edition,
            "timezone": c.timezone,
            "start": c.start.isoformat(),
            "end": c.end.isoformat(),
            "start_utc": c.start_utc.isoformat(),
            "end_utc": c.end_utc.isoformat(),
            "official_hashtags": [t for t, _, _ in c.official_tags()],
            "registered_participants": len(c.participants),
        },
        "at": s.at.astimezone(UTC).isoformat() if s.at else None,
        "source": s.source,
        "posts": n_posts,
        "reposts": n_reposts,
        "engagement": eng,
        "participants": n_participants,
        "institutions": n_institutions,
        "countries": n_countries,
        "by_hashtag": by_hashtag,
        "hashtag_display": display,
        "by_day": by_day,
        "reposts_by_day": reposts_by_day,
        "themes": themes,
        "by_platform": dict(sorted(by_platform.items())),
        "by_country": dict(sorted(by_country.items(), key=lambda kv: (-kv[1]["posts"], kv[0]))),
        "top_institutions": [
            {
                "name": reg[pid][0],
                "country": reg[pid][1],
                "posts": p,
                "reposts": r,
            }
            for pid, (p, r) in top_inst
        ],
        "hourly": hourly,
        "computed_at": datetime.now(UTC).isoformat(),
    }
