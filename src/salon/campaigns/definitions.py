"""The tally's definitions (DESIGN.md, Definitions) as SQL, in one place.

Every figure Salon shows about a campaign (CLI, web, API, reports) derives from the relations
built here; nothing else decides what a campaign post, a repost, a participant, an institution
or a country is.

- **Campaign post** (``campaign_posts_sql``): a post of kind original, reply or quote carrying at
  least one official hashtag (``post_hashtags.tag_key``, or ``tag_norm`` when the campaign is
  ``accent_sensitive``), created in ``[start, end)`` (the window converted to UTC once, in
  Python), and not deleted. Posts seen only as context (``is_context``: a quoted or retweeted
  post nested in another payload) *are* counted: they are real posts of the platform, stored
  with their own entities and times; a campaign that collected only by search would otherwise
  miss the originals its participants' posts were quoting.
- **Repost** (``reposts_sql``): a post of kind repost created in the window, not deleted, whose
  reposted post carries an official hashtag, judged on the reposted post when it is stored and
  on the repost's own hashtags otherwise. A repost of a stored post that has been deleted leaves
  the tally too (the platforms remove such reposts). Reposts are never added to posts.
- **Engagement** (``latest_engagement_sql``): likes, reposts, replies and quotes of the latest
  snapshot (``metrics_snapshots.observed_at``) of each campaign post, missing counts as 0.
- **Participant**: a distinct author of campaign posts (reposters are not participants).
- **Institution** (``author_match_sql``): a participant matched to the registry by platform
  account id first, else by handle, case-insensitive, among the accounts whose id is not known
  yet (the id is learned at the first match, so a handle taken over by another account later
  does not match it). **Country**: the matched institution's country in the registry.
- **Theme**: the campaign posts carrying one of the theme's hashtags, whatever their day;
  "on the day": those whose local date (campaign time zone) is the theme's date.

``at`` (a moment) replays the counter as it stood then: posts and reposts *created* before
``at`` (``created_at``, the platform's time, so an archive imported years later replays its
week), not deleted by then (``deleted_at`` after ``at`` still counts), engagement from the
latest snapshot observed by then. With ``basis="collected"`` a post must also have been
collected by then (``collected_at <= at``): what a live counter fed by this archive showed.

The SQL is standard (CASE, EXISTS/IN subqueries, window functions, GROUP BY) so that the same
text runs on Apache Spark over the Parquet export; the only dialect-specific pieces are the
timestamp literal (``ts_literal``) and ``date_trunc('hour', ...)``, which Spark also has.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from salon.campaigns.config import Campaign

__all__ = [
    "MEMBER_COLUMNS",
    "author_match_sql",
    "campaign_posts_sql",
    "day_expr",
    "latest_engagement_sql",
    "member_tags_sql",
    "members_sql",
    "reposts_sql",
    "ts_literal",
]

MEMBER_COLUMNS = (
    "uid",
    "is_repost",
    "platform",
    "author_uid",
    "created_at",
    "day",
    "hour",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "eng_at",
)

_SAFE_KEY = re.compile(r"^[^\s'\"\\;]+$")


def ts_literal(t: datetime) -> str:
    """A UTC timestamp literal (DuckDB ``TIMESTAMPTZ '...'``; Spark: ``TIMESTAMP '...'``)."""
    return f"TIMESTAMPTZ '{t.astimezone(UTC).isoformat(sep=' ')}'"


def _date_literal(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _keys(c: Campaign) -> str:
    keys = c.official_keys()
    for k in keys:
        if not _SAFE_KEY.match(k):  # hashtags never contain these; refuse rather than escape
            raise ValueError(f"hashtag key {k!r} cannot be used in a query")
    return ", ".join(f"'{k}'" for k in keys)


def _window(c: Campaign, alias: str, at: datetime | None, basis: str) -> str:
    lo, hi = c.start_utc, c.end_utc
    if at is not None:
        hi = min(hi, at.astimezone(UTC))
    cond = f"{alias}.created_at >= {ts_literal(lo)} AND {alias}.created_at < {ts_literal(hi)}"
    if at is not None and basis == "collected":
        cond += f" AND {alias}.collected_at <= {ts_literal(at)}"
    return cond


def _alive(alias: str, at: datetime | None) -> str:
    if at is None:
        return f"{alias}.deleted_at IS NULL"
    return f"({alias}.deleted_at IS NULL OR {alias}.deleted_at > {ts_literal(at)})"


def _restrict(alias: str, uids_rel: str | None) -> str:
    return f" AND {alias}.uid IN (SELECT uid FROM {uids_rel})" if uids_rel else ""


def campaign_posts_sql(
    c: Campaign, at: datetime | None = None, basis: str = "created", only: str | None = None
) -> str:
    """Campaign posts: (uid, platform, author_uid, created_at). ``only`` names a relation of
    uids to restrict to (incremental refresh)."""
    return (
        "SELECT p.uid, p.platform, p.author_uid, p.created_at FROM posts p"
        f" WHERE p.kind <> 'repost' AND {_window(c, 'p', at, basis)} AND {_alive('p', at)}"
        f" AND p.uid IN (SELECT h.uid FROM post_hashtags h WHERE h.{c.key_column} IN ({_keys(c)})"
        + _restrict("h", only)
        + ")"
        + _restrict("p", only)
    )


def reposts_sql(
    c: Campaign, at: datetime | None = None, basis: str = "created", only: str | None = None
) -> str:
    """Reposts: (uid, platform, author_uid, created_at)."""
    return (
        "SELECT r.uid, r.platform, r.author_uid, r.created_at FROM posts r"
        " LEFT JOIN posts o ON o.uid = r.repost_of_uid"
        f" WHERE r.kind = 'repost' AND {_window(c, 'r', at, basis)} AND {_alive('r', at)}"
        f" AND (o.uid IS NULL OR {_alive('o', at)})"
        f" AND coalesce(o.uid, r.uid) IN (SELECT h.uid FROM post_hashtags h WHERE h.{c.key_column} IN ({_keys(c)}))"
        + _restrict("r", only)
    )


def latest_engagement_sql(uids_rel: str, at: datetime | None = None) -> str:
    """(uid, likes, reposts, replies, quotes, observed_at) of the latest snapshot of each uid in
    ``uids_rel``: the greatest by (observed_at, likes, reposts, replies, quotes), NULLs lowest."""
    when = f" AND s.observed_at <= {ts_literal(at)}" if at is not None else ""
    return (
        "SELECT uid, likes, reposts, replies, quotes, observed_at FROM (SELECT s.uid, s.likes, s.reposts,"
        " s.replies, s.quotes, s.observed_at, row_number() OVER (PARTITION BY s.uid ORDER BY s.observed_at DESC, s.likes DESC NULLS LAST,"
        " s.reposts DESC NULLS LAST, s.replies DESC NULLS LAST, s.quotes DESC NULLS LAST) AS rn"
        f" FROM metrics_snapshots s WHERE s.uid IN (SELECT uid FROM {uids_rel}){when}) latest WHERE rn = 1"
    )


def day_expr(c: Campaign, col: str) -> str:
    """The local date (campaign time zone) of timestamp ``col``, for instants inside the window:
    a CASE over the UTC bounds of each local day (exact across DST changes)."""
    bounds = c.day_bounds()
    if len(bounds) == 1:
        return _date_literal(bounds[0][0])
    whens = " ".join(f"WHEN {col} < {ts_literal(hi)} THEN {_date_literal(d)}" for d, _lo, hi in bounds[:-1])
    return f"CASE {whens} ELSE {_date_literal(bounds[-1][0])} END"


def members_sql(
    c: Campaign, at: datetime | None = None, basis: str = "created", only: str | None = None
) -> str:
    """Campaign posts and reposts in one relation with ``MEMBER_COLUMNS``: local day, UTC hour,
    and the latest engagement of campaign posts (NULL for reposts) with its ``eng_at``."""
    posts = campaign_posts_sql(c, at, basis, only)
    reposts = reposts_sql(c, at, basis, only)
    return (
        f"WITH cp AS ({posts}), rp AS ({reposts}),"
        f" e AS ({latest_engagement_sql('cp', at)}),"
        " m AS (SELECT uid, FALSE AS is_repost, platform, author_uid, created_at FROM cp"
        " UNION ALL SELECT uid, TRUE AS is_repost, platform, author_uid, created_at FROM rp)"
        f" SELECT m.uid, m.is_repost, m.platform, m.author_uid, m.created_at, {day_expr(c, 'm.created_at')} AS day,"
        " date_trunc('hour', m.created_at) AS hour, e.likes, e.reposts, e.replies, e.quotes, e.observed_at AS eng_at"
        " FROM m LEFT JOIN e ON e.uid = m.uid AND NOT m.is_repost"
    )


def member_tags_sql(c: Campaign, members_rel: str) -> str:
    """(uid, tag_key, day): the official keys each campaign post of ``members_rel`` carries."""
    return (
        f"SELECT DISTINCT h.uid, h.{c.key_column} AS tag_key, m.day FROM post_hashtags h"
        f" JOIN {members_rel} m ON m.uid = h.uid AND NOT m.is_repost"
        f" WHERE h.{c.key_column} IN ({_keys(c)})"
    )


def author_match_sql(authors_rel: str, accounts_rel: str) -> str:
    """Registry match of each author in ``authors_rel`` (column author_uid):
    (author_uid, participant_id, learn_platform, learn_handle). ``accounts_rel`` has
    (participant_id, platform, handle_norm, account_uid). ``learn_*`` is set when the match was
    by handle: the account id to learn."""
    return (
        f"WITH a AS (SELECT DISTINCT author_uid FROM {authors_rel} WHERE author_uid IS NOT NULL),"
        " byid AS (SELECT a.author_uid, min(ra.participant_id) AS pid FROM a"
        f" JOIN {accounts_rel} ra ON ra.account_uid = a.author_uid GROUP BY a.author_uid),"
        " byhandle AS (SELECT a.author_uid, min(ra.participant_id) AS pid, min(ra.platform) AS platform,"
        " min(ra.handle_norm) AS handle_norm FROM a JOIN authors au ON au.uid = a.author_uid"
        f" JOIN {accounts_rel} ra ON ra.account_uid IS NULL AND ra.platform = au.platform"
        " AND ra.handle_norm = lower(au.handle) GROUP BY a.author_uid)"
        " SELECT a.author_uid, coalesce(byid.pid, byhandle.pid) AS participant_id,"
        " CASE WHEN byid.pid IS NULL THEN byhandle.platform END AS learn_platform,"
        " CASE WHEN byid.pid IS NULL THEN byhandle.handle_norm END AS learn_handle"
        " FROM a LEFT JOIN byid ON byid.author_uid = a.author_uid"
        " LEFT JOIN byhandle ON byhandle.author_uid = a.author_uid"
    )
