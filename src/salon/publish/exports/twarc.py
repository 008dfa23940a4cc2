"""The ``twarc`` CSV layout: twarc-csv's default tweet columns, in its order, for X posts.

Notebooks and tools built on ``twarc2 csv`` output read this export unchanged. The values are
derived the way twarc-csv 0.7 derives them, from the raw X API v2 payloads the archive keeps
byte for byte: each response page is flattened like ``twarc.expansions.flatten`` (authors,
referenced tweets, media, polls and places inlined from ``includes``), each tweet formatted like
twarc-csv's ``DataFrameConverter`` (retweets take the retweeted tweet's text, entities,
attachments and metrics; entities become lists of ``#tag``, ``@user`` and URLs; the replied,
retweeted and quoted users' ids and names), nested objects become dotted columns, lists JSON,
newlines in text ``\\n``, booleans ``True``/``False``. Only top-level tweets of a page are rows
(twarc-csv's default, without ``--inline-referenced-tweets``), each once (the first seen).

Two differences, both deliberate: an integer is always written as an integer (twarc-csv writes
``12.0`` when another tweet of its batch of 100 lacks the field, so its output depends on the
batching), and X posts that came in another format (v1.1, Gnip, an account archive) get a row
too, filled from the normalised tables where a column has an equivalent.

Neither twarc nor twarc-csv is imported: the column list is this module's ``TWARC_COLUMNS``,
checked against twarc-csv's own ``DEFAULT_TWEET_COLUMNS`` by the tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from salon.campaigns.definitions import latest_engagement_sql
from salon.publish.exports.pseudo import Pseudonymiser
from salon.publish.exports.select import Selection
from salon.store.rawstore import iter_payloads

__all__ = ["TWARC_COLUMNS", "TWARC_ID_COLUMNS", "iter_twarc_rows"]

TWARC_COLUMNS: tuple[str, ...] = tuple(
    [
        "id",
        "conversation_id",
        "referenced_tweets.replied_to.id",
        "referenced_tweets.retweeted.id",
        "referenced_tweets.quoted.id",
        "author_id",
        "in_reply_to_user_id",
        "in_reply_to_username",
        "retweeted_user_id",
        "retweeted_username",
        "quoted_user_id",
        "quoted_username",
        "created_at",
        "text",
        "lang",
        "source",
        "public_metrics.impression_count",
        "public_metrics.reply_count",
        "public_metrics.retweet_count",
        "public_metrics.quote_count",
        "public_metrics.like_count",
        "public_metrics.bookmark_count",
        "reply_settings",
        "edit_history_tweet_ids",
        "edit_controls.edits_remaining",
        "edit_controls.editable_until",
        "edit_controls.is_edit_eligible",
        "possibly_sensitive",
        "withheld.scope",
        "withheld.copyright",
        "withheld.country_codes",
        "entities.annotations",
        "entities.cashtags",
        "entities.hashtags",
        "entities.mentions",
        "entities.urls",
        "context_annotations",
        "attachments.media",
        "attachments.media_keys",
        "attachments.poll.duration_minutes",
        "attachments.poll.end_datetime",
        "attachments.poll.id",
        "attachments.poll.options",
        "attachments.poll.voting_status",
        "attachments.poll_ids",
        "author.id",
        "author.created_at",
        "author.username",
        "author.name",
        "author.description",
        "author.entities.description.cashtags",
        "author.entities.description.hashtags",
        "author.entities.description.mentions",
        "author.entities.description.urls",
        "author.entities.url.urls",
        "author.url",
        "author.location",
        "author.pinned_tweet_id",
        "author.profile_image_url",
        "author.protected",
        "author.public_metrics.followers_count",
        "author.public_metrics.following_count",
        "author.public_metrics.listed_count",
        "author.public_metrics.tweet_count",
        "author.verified",
        "author.verified_type",
        "author.withheld.scope",
        "author.withheld.copyright",
        "author.withheld.country_codes",
        "geo.coordinates.coordinates",
        "geo.coordinates.type",
        "geo.country",
        "geo.country_code",
        "geo.full_name",
        "geo.geo.bbox",
        "geo.geo.type",
        "geo.id",
        "geo.name",
        "geo.place_id",
        "geo.place_type",
        "matching_rules",
        "__twarc.retrieved_at",
        "__twarc.url",
        "__twarc.version",
    ]
)
TWARC_ID_COLUMNS = frozenset(
    {
        "id",
        "conversation_id",
        "referenced_tweets.replied_to.id",
        "referenced_tweets.retweeted.id",
        "referenced_tweets.quoted.id",
        "author_id",
        "in_reply_to_user_id",
        "retweeted_user_id",
        "quoted_user_id",
        "author.id",
        "author.pinned_tweet_id",
        "attachments.poll.id",
        "geo.id",
        "geo.place_id",
    }
)

# -- twarc.expansions.flatten, as it behaves ------------------------------------------------------


class _Missing(dict):  # type: ignore[type-arg]
    """An includes table: an unknown key gives a new empty object (like a defaultdict)."""

    def __missing__(self, key: Any) -> dict[str, Any]:
        return {}


def _includes(page: dict[str, Any], name: str, key: str = "id") -> _Missing:
    inc = page.get("includes")
    if isinstance(inc, dict) and isinstance(inc.get(name), list):
        return _Missing({i[key]: i for i in inc[name] if isinstance(i, dict) and key in i})
    return _Missing()


def flatten_page(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The tweets of one response page with their includes inlined (``twarc.expansions.flatten``)."""
    users = _Missing({**_includes(page, "users", "id"), **_includes(page, "users", "username")})
    media = _includes(page, "media", "media_key")
    polls = _includes(page, "polls")
    places = _includes(page, "places")
    tweets = _includes(page, "tweets")

    def expand(p: Any) -> Any:
        # Only containers are visited (strings, numbers and booleans come back as they are, as in
        # twarc): most values of a page are primitives, and a call per value was most of the time.
        if type(p) is list:
            return [expand(i) if type(i) is dict or type(i) is list else i for i in p]
        if type(p) is dict:
            for k, v in p.items():
                if type(v) is dict or type(v) is list:
                    p[k] = expand(v)
            if "author_id" in p:
                p["author"] = users[p["author_id"]]
            if "in_reply_to_user_id" in p:
                p["in_reply_to_user"] = users[p["in_reply_to_user_id"]]
            if "media_keys" in p:
                p["media"] = [media[k] for k in p["media_keys"]]
            if "poll_ids" in p and len(p["poll_ids"]) > 0:
                p["poll"] = polls[p["poll_ids"][-1]]
            if isinstance(p.get("geo"), dict) and "place_id" in p["geo"]:
                p["geo"] = {**p["geo"], **places[p["geo"]["place_id"]]}
            if "mentions" in p and isinstance(p["mentions"], list):
                p["mentions"] = [{**u, **users[u.get("username")]} for u in p["mentions"]]
            if "referenced_tweets" in p and isinstance(p["referenced_tweets"], list):
                p["referenced_tweets"] = [{**r, **tweets[r["id"]]} for r in p["referenced_tweets"]]
            if "pinned_tweet_id" in p:
                p["pinned_tweet"] = tweets[p["pinned_tweet_id"]]
        return p

    for tid, t in list(tweets.items()):
        tweets[tid] = expand(t)
    data = page.get("data")
    out: list[dict[str, Any]] = []
    if isinstance(data, list):
        out = [t for t in expand(data) if isinstance(t, dict)]
    elif isinstance(data, dict):
        out = [expand(data)]
    for t in out:
        if "__twarc" in page:
            t["__twarc"] = page["__twarc"]
        if "matching_rules" in page:
            t["matching_rules"] = page["matching_rules"]
    return out


def _ensure_flattened(obj: Any) -> list[dict[str, Any]]:
    if isinstance(obj, dict):
        if "data" in obj:
            return flatten_page(obj)
        if "errors" in obj and "includes" not in obj:
            return []
        return [obj] if "includes" not in obj else []
    if isinstance(obj, list):
        return [t for o in obj for t in _ensure_flattened(o)]
    return []


# -- twarc-csv's DataFrameConverter._format_tweet --------------------------------------------------


def _entities(entities: dict[str, Any]) -> dict[str, Any]:
    # A copy: an included tweet's objects are shared by every tweet of the page that refers to it.
    e = dict(entities)
    if "cashtags" in e:
        e["cashtags"] = ["$" + h["tag"] for h in e["cashtags"]]
    if "hashtags" in e:
        e["hashtags"] = ["#" + h["tag"] for h in e["hashtags"]]
    if "mentions" in e:
        e["mentions"] = ["@" + m["username"] for m in e["mentions"]]
    if "urls" in e:
        e["urls"] = [
            u["display_url"] if "media_key" in u else u["expanded_url"] if "expanded_url" in u else u["url"]
            for u in e["urls"]
        ]
    return e


def format_tweet(tweet: dict[str, Any]) -> dict[str, Any]:
    """One flattened tweet as twarc-csv shapes it before ``json_normalize`` (mutates it)."""
    tweet.pop("pinned_tweet", None)
    tweet.pop("in_reply_to_user", None)
    refs = tweet.get("referenced_tweets")
    if refs:
        replies = [t for t in refs if t.get("type") == "replied_to"]
        reply = replies[-1] if replies else None
        if reply and "author" in reply and "username" in reply["author"]:
            tweet["in_reply_to_username"] = reply["author"]["username"]
        rts = [t for t in refs if t.get("type") == "retweeted"]
        rt = rts[-1] if rts else None
        if rt and "author_id" in rt:
            tweet["retweeted_user_id"] = rt["author_id"]
            if "username" in rt.get("author", {}):
                tweet["retweeted_username"] = rt["author"]["username"]
        qts = [t for t in refs if t.get("type") == "quoted"]
        qt = qts[-1] if qts else None
        if qt and "author_id" in qt:
            tweet["quoted_user_id"] = qt["author_id"]
        if qt and "author" in qt and "username" in qt["author"]:
            tweet["quoted_username"] = qt["author"]["username"]
        if rt:  # a retweet shows the retweeted tweet's text, entities, media and metrics
            for k in ("text", "entities", "attachments", "context_annotations", "public_metrics"):
                own = tweet.pop(k, None)
                tweet[k] = rt.get(k, own)
        merged: dict[str, Any] = {}
        for r in reversed(refs):  # ChainMap: the first reference of a type wins
            merged[r["type"]] = {"id": r["id"]}
        tweet["referenced_tweets"] = merged
    else:
        tweet["referenced_tweets"] = {}
    if tweet.get("entities"):
        tweet["entities"] = _entities(tweet["entities"])
    author = tweet.get("author")
    if isinstance(author, dict) and author.get("entities"):
        author = tweet["author"] = dict(author)  # shared by the author's other tweets: a copy
        ae = author["entities"] = dict(author["entities"])
        if "url" in ae:
            ae["url"] = dict(ae["url"])
            urls = [u["expanded_url"] if "expanded_url" in u else u["url"] for u in ae["url"].pop("urls", [])]
            ae["url"]["urls"] = urls
            author["url"] = urls[-1]  # as twarc-csv: the profile has one URL
        if "description" in ae:
            ae["description"] = _entities(ae["description"])
    if isinstance(tweet.get("public_metrics"), dict) and "impression_count" not in tweet["public_metrics"]:
        tweet["public_metrics"] = {**tweet["public_metrics"], "impression_count": None}
    tweet.pop("type", None)
    for k in ("attachments", "entities", "public_metrics"):
        if k in tweet and not tweet[k]:
            tweet.pop(k)
    return tweet


def _dotted(d: dict[str, Any], prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            _dotted(v, key + ".", out)
        else:
            out[key] = v
    return out


def _value(v: Any) -> Any:
    t = type(v)
    if t is str:
        return v.replace("\r", "").replace("\n", "\\n") if ("\n" in v or "\r" in v) else v
    if t is list or t is tuple:
        return json.dumps(v)  # as twarc-csv: json.dumps defaults (ASCII escapes, ", " separators)
    if t is bool:
        return "True" if v else "False"
    if t is float and v.is_integer():
        return int(v)
    return v


def _row(flat: dict[str, Any]) -> list[Any]:
    get = flat.get
    return [None if (v := get(c)) is None else v if type(v) is int else _value(v) for c in TWARC_COLUMNS]


def tweet_row(tweet: dict[str, Any], ps: Pseudonymiser | None = None) -> list[Any]:
    """A flattened tweet as a row of ``TWARC_COLUMNS``."""
    flat = _dotted(format_tweet(tweet), "", {})
    if ps is not None:
        _pseudonymise(flat, ps)
    return _row(flat)


_USER_ID_COLUMNS = ("author_id", "in_reply_to_user_id", "retweeted_user_id", "quoted_user_id", "author.id")
_USERNAME_COLUMNS = ("in_reply_to_username", "retweeted_username", "quoted_username", "author.username")
_PROFILE_COLUMNS = tuple(
    c
    for c in TWARC_COLUMNS
    if c.startswith("author.")
    and c not in ("author.id", "author.username", "author.created_at", "author.protected")
    and not c.startswith(("author.public_metrics.", "author.verified"))
)


def _pseudonymise(flat: dict[str, Any], ps: Pseudonymiser) -> None:
    for c in _USER_ID_COLUMNS:
        if flat.get(c):
            flat[c] = ps.account("x:" + str(flat[c]))
    name = flat.get("author.username")
    for c in _USERNAME_COLUMNS:
        if flat.get(c):
            flat[c] = ps.handle(str(flat[c]))
    for c in _PROFILE_COLUMNS:
        flat.pop(c, None)
    if name:
        flat["author.name"] = ps.handle(str(name))
    if isinstance(flat.get("entities.mentions"), list):
        flat["entities.mentions"] = ["@" + str(ps.handle(m)) for m in flat["entities.mentions"]]
    if isinstance(flat.get("text"), str):
        flat["text"] = ps.text(flat["text"])


# -- the export -----------------------------------------------------------------------------------


def x_posts_sql(uids_rel: str) -> str:
    """The native ids of the selected X posts the twarc layout writes: top-level ones (a post
    seen only inside another post's payload is no row of twarc-csv's either)."""
    return (
        f"SELECT p.native_id FROM {uids_rel} s JOIN posts p ON p.uid = s.uid WHERE p.platform = 'x'"
        " AND NOT coalesce(p.is_context, FALSE)"
    )


def _x_ids(sel: Selection) -> set[str]:
    return {r[0] for r in sel.con.execute(x_posts_sql(sel.uids)).fetchall()}


def _time(v: datetime | None) -> str | None:
    if v is None:
        return None
    return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"


def _strip(uid: str | None) -> str | None:
    return uid.split(":", 1)[1] if uid and uid.startswith("x:") else uid


def _fallback_rows(sel: Selection, ids: set[str], ps: Pseudonymiser | None) -> Iterator[list[Any]]:
    """Rows for selected X posts with no v2 payload, from the normalised tables."""
    import pyarrow as pa

    con = sel.archive.con
    con.register("_x_tw_left", pa.table({"uid": ["x:" + i for i in sorted(ids)]}))
    try:
        rows = con.execute(
            f"WITH s AS (SELECT uid FROM _x_tw_left), e AS ({latest_engagement_sql('s')})"
            " SELECT p.native_id AS id, p.root_uid, p.reply_to_uid, p.repost_of_uid, p.quote_of_uid, p.author_uid,"
            " p.created_at, p.text, p.lang, e.replies, e.reposts, e.quotes, e.likes, p.sensitive,"
            " (SELECT list('#' || tag_display ORDER BY tag_display) FROM post_hashtags h WHERE h.uid = p.uid) AS tags,"
            " (SELECT list('@' || handle ORDER BY handle) FROM post_mentions m WHERE m.uid = p.uid) AS mentions,"
            " (SELECT list(url ORDER BY url) FROM post_urls u WHERE u.uid = p.uid) AS urls,"
            " a.native_id AS a_id, a.created_at AS a_created, a.handle AS a_handle, a.display_name AS a_name,"
            " a.bio AS a_bio, a.followers AS a_followers, a.following AS a_following, a.posts_count AS a_posts,"
            " a.verified AS a_verified, t.author_uid AS t_author, ta.handle AS t_handle,"
            " r.author_uid AS r_author, ra.handle AS r_handle, q.author_uid AS q_author, qa.handle AS q_handle"
            " FROM s JOIN posts p ON p.uid = s.uid LEFT JOIN e ON e.uid = p.uid"
            " LEFT JOIN authors a ON a.uid = p.author_uid"
            " LEFT JOIN posts r ON r.uid = p.repost_of_uid LEFT JOIN authors ra ON ra.uid = r.author_uid"
            " LEFT JOIN posts q ON q.uid = p.quote_of_uid LEFT JOIN authors qa ON qa.uid = q.author_uid"
            " LEFT JOIN posts t ON t.uid = p.reply_to_uid LEFT JOIN authors ta ON ta.uid = t.author_uid"
            " ORDER BY p.created_at, p.uid"
        )
        names = [d[0] for d in rows.description]
        records = [dict(zip(names, r, strict=True)) for r in rows.fetchall()]
    finally:
        con.unregister("_x_tw_left")
    for r in records:
        refs = (
            ("replied_to", r["reply_to_uid"]),
            ("retweeted", r["repost_of_uid"]),
            ("quoted", r["quote_of_uid"]),
        )
        t: dict[str, Any] = {
            "id": r["id"],
            "conversation_id": _strip(r["root_uid"]),
            "referenced_tweets": {k: {"id": _strip(v)} for k, v in refs if v},
            "author_id": _strip(r["author_uid"]),
            "in_reply_to_user_id": _strip(r["t_author"]),
            "in_reply_to_username": r["t_handle"],
            "retweeted_user_id": _strip(r["r_author"]),
            "retweeted_username": r["r_handle"],
            "quoted_user_id": _strip(r["q_author"]),
            "quoted_username": r["q_handle"],
            "created_at": _time(r["created_at"]),
            "text": r["text"],
            "lang": r["lang"],
            "possibly_sensitive": r["sensitive"],
            "entities": {"hashtags": r["tags"], "mentions": r["mentions"], "urls": r["urls"]},
            "author": {
                "id": r["a_id"],
                "created_at": _time(r["a_created"]),
                "username": r["a_handle"],
                "name": r["a_name"],
                "description": r["a_bio"],
                "verified": r["a_verified"],
                "public_metrics": {
                    "followers_count": r["a_followers"],
                    "following_count": r["a_following"],
                    "tweet_count": r["a_posts"],
                },
            },
        }
        if r["likes"] is not None:
            t["public_metrics"] = {
                "reply_count": r["replies"],
                "retweet_count": r["reposts"],
                "quote_count": r["quotes"],
                "like_count": r["likes"],
            }
        flat = _dotted(t, "", {})
        if ps is not None:
            _pseudonymise(flat, ps)
        yield _row(flat)


def iter_twarc_rows(sel: Selection, *, pseudonymiser: Pseudonymiser | None = None) -> Iterator[list[Any]]:
    """Rows of ``TWARC_COLUMNS`` for the selected X posts: first those found in the raw X v2
    payloads, in the order received, then the others from the normalised tables."""
    wanted = _x_ids(sel)
    if not wanted:
        return
    done: set[str] = set()
    for _rid, payload in iter_payloads(sel.archive.con, "format = 'x-v2'"):
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        for tweet in _ensure_flattened(obj):
            tid = tweet.get("id")
            if not isinstance(tid, str) or tid in done or tid not in wanted:
                continue
            done.add(tid)
            yield tweet_row(tweet, pseudonymiser)
    left = wanted - done
    if left:
        yield from _fallback_rows(sel, left, pseudonymiser)
