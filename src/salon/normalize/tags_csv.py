"""TAGS (Martin Hawksey's Twitter Archiving Google Sheet) rows, as exported to CSV.

The file reader parses the CSV and hands :func:`normalize` one row: a dict from the header names
as written in the file to string cells (``""`` for empty ones). Column order and set vary by TAGS
version, so every column is looked up by name, case-insensitively and trimmed:

- TAGS v6 / v6.1 (18 columns): ``id_str, from_user, text, created_at, time, geo_coordinates,
  user_lang, in_reply_to_user_id_str, in_reply_to_screen_name, from_user_id_str,
  in_reply_to_status_id_str, source, profile_image_url, user_followers_count,
  user_friends_count, user_location, status_url, entities_str``;
- TAGS v6.0 (2014) also ``in_reply_to_user`` and ``user_utc_offset``;
- older sheets ``id`` instead of ``id_str``, the v1 Search API's ``from_user_name``,
  ``iso_language_code``, ``to_user``, ``to_user_id_str``; some add ``user_created_at``,
  ``user_verified``, ``favorite_count``/``retweet_count``.

What a spreadsheet does to a tweet export, and how it is handled here:

- Ids longer than 15 digits are numbers to a spreadsheet: re-saved, ``1264255250585849857``
  becomes ``1.26426E+18`` (or ``1,26426E+18`` in a comma locale) or loses its last digits. An id
  that is not all digits raises :class:`BadRecord`; it is never guessed. ``status_url``
  (``http://twitter.com/<user>/statuses/<id>``) is text and keeps the exact id, so when it is
  present it rescues a mangled ``id_str`` and settles a precision-rounded one.
- ``created_at`` is Twitter's own UTC timestamp (``Sat May 23 18:01:55 +0000 2020``; the v1
  Search API wrote ``Tue, 07 Aug 2012 21:00:55 +0000``). ``time`` is a sheet formula rendered in
  the *sheet's* time zone and date order (``23/05/2020 19:01:55`` for the example above), so it
  is only used when ``created_at`` is empty and ``time`` carries an explicit UTC offset.
- There are no per-post hashtag entities in the sheet's columns except ``entities_str`` (TAGS
  v6, the v1.1 ``entities`` object as JSON): when it parses, hashtags, mentions, URLs and media
  come from it (source ``entities``); otherwise hashtags and mentions are parsed from the text
  (source ``text``), and no URLs are recorded (the text only holds unexpanded t.co links).
- Retweets are recognised by their ``RT @user:`` text; the retweeted post's id is not in the
  sheet, so ``repost_of_uid`` stays None. Quotes cannot be told apart from originals.
- ``user_lang`` is the account's interface language, not the post's, so it is not used as
  ``lang``; ``iso_language_code``/``lang`` columns (the post's language) are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from salon.hashtags import hashtags_in_text
from salon.model import Author, Engagement, Hashtag, Item, Media, Post, make_uid, post_kind
from salon.normalize import BadRecord, Context
from salon.normalize.common import parse_time, to_bool, to_int

__all__ = [
    "FORMAT",
    "HEADER_HINT_COLUMNS",
    "ID_COLUMNS",
    "looks_like_header",
    "mentions_in_text",
    "normalize",
    "sniff",
]

FORMAT = "tags-csv"

HEADER_HINT_COLUMNS: frozenset[str] = frozenset({"from_user", "text", "created_at"})
"""Lower-case columns present in the header of every TAGS version; together with one of
:data:`ID_COLUMNS` they mark a CSV as a TAGS export (see :func:`looks_like_header`)."""

ID_COLUMNS: tuple[str, ...] = ("id_str", "id")
"""The post id column, by TAGS version (v5+ ``id_str``, older sheets ``id``), in order of trust."""

_DIGITS = re.compile(r"[0-9]+")
# 1.23457E+17, 1,23457E+17, 1.2E17, 123E+15: what a spreadsheet shows for a long number.
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]*)?[eE][+-]?[0-9]+")
_STATUS_URL_ID = re.compile(r"/status(?:es)?/([0-9]+)(?:[/?#]|$)")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
# An X username: 1-15 of [A-Za-z0-9_], not preceded by a name character or one of !#$%&*@ (as in
# twitter-text, so e-mail addresses do not count) nor followed by more name characters.
_MENTION = re.compile(r"(?<![A-Za-z0-9_!#$%&*@＠])[@＠]([A-Za-z0-9_]{1,15})(?![\w@＠]|://)")
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")
_ENTITY_KEYS = ("hashtags", "user_mentions", "urls", "media", "symbols")


def _key(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def _columns(obj: Mapping[Any, Any]) -> dict[str, str]:
    """The row's cells by normalised column name (first non-empty cell wins on duplicates).
    Cells that are not strings (a csv.DictReader's ``None`` filler or extra-cells list) are
    dropped."""
    cols: dict[str, str] = {}
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        key = _key(name)
        if key not in cols or (not cols[key].strip() and value.strip()):
            cols[key] = value
    return cols


def looks_like_header(columns: list[str]) -> bool:
    """Whether a CSV header row is a TAGS export's: it has every :data:`HEADER_HINT_COLUMNS`
    column and an id column (``id_str`` or ``id``), compared case-insensitively and trimmed."""
    names = {_key(c) for c in columns if isinstance(c, str)}
    return names >= HEADER_HINT_COLUMNS and any(c in names for c in ID_COLUMNS)


def sniff(obj: Any) -> bool:
    """A CSV row (a dict of string cells) with ``from_user``, ``text`` and ``id_str`` or ``id``
    columns, in any case. JSON payloads with those keys (the v1 Search API) carry numbers and
    objects as well, and are left to the JSON formats."""
    if not isinstance(obj, dict):
        return False
    names = set()
    for name, value in obj.items():
        if isinstance(name, str):
            if value is not None and not isinstance(value, str):
                return False
            names.add(_key(name))
    return "from_user" in names and "text" in names and any(c in names for c in ID_COLUMNS)


def _mangled_reason(column: str, value: str) -> str:
    if _SCIENTIFIC.fullmatch(value):
        return (
            f"{column} {value} looks mangled into scientific notation by a spreadsheet; "
            "re-export the sheet as CSV with ids as text"
        )
    return (
        f"{column} {value!r} is not a tweet id (not all digits; a spreadsheet may have turned it "
        "into a number); re-export the sheet as CSV with ids as text"
    )


def _status_url_id(cols: Mapping[str, str]) -> str | None:
    m = _STATUS_URL_ID.search(cols.get("status_url", "").strip())
    return m.group(1) if m else None


def _precision_rounded(value: str, exact: str) -> bool:
    """Whether ``value`` is ``exact`` with its last digits lost to floating point (a
    spreadsheet keeps 15 significant digits, JavaScript about 16): same length, trailing zeros,
    and within the rounding step of the digits kept."""
    if len(value) != len(exact) or len(exact) <= 15 or not value.endswith("0"):
        return False
    return abs(int(value) - int(exact)) < 10 ** (len(exact) - 15)


def _post_id(cols: Mapping[str, str]) -> str:
    """The post's exact id: ``id_str`` (else ``id``), checked against ``status_url``'s id,
    which rescues a mangled or precision-rounded id column. Never guessed."""
    url_id = _status_url_id(cols)
    mangled: str | None = None
    for column in ID_COLUMNS:
        value = cols.get(column, "").strip()
        if not value:
            continue
        if not (value.isascii() and _DIGITS.fullmatch(value)):
            mangled = mangled or _mangled_reason(column, value)
            continue
        if url_id is None or url_id == value:
            return value
        if _precision_rounded(value, url_id):
            return url_id
        raise BadRecord(
            f"{column} {value} and status_url id {url_id} disagree; re-export the sheet as CSV "
            "with ids as text"
        )
    if url_id is not None:
        return url_id
    if mangled is not None:
        raise BadRecord(mangled)
    raise BadRecord("TAGS row without a post id (id_str, id and status_url are all empty)")


def _optional_id(cols: Mapping[str, str], column: str) -> str | None:
    """An optional id column's value when it is exact digits; None when empty or mangled (a
    mangled reference is dropped rather than guessed)."""
    value = cols.get(column, "").strip()
    return value if value.isascii() and _DIGITS.fullmatch(value) else None


def _created_at(cols: Mapping[str, str]) -> datetime:
    """``created_at`` (UTC, Twitter's format or ISO), else ``time`` if it carries its offset."""
    created = cols.get("created_at", "").strip()
    if created:
        try:
            dt = parse_time(created)
        except (ValueError, TypeError, IndexError, OverflowError):
            raise BadRecord(f"unreadable created_at {created!r}") from None
        if dt is not None:
            return dt
    local = cols.get("time", "").strip()
    if local:
        aware = _aware_time(local)
        if aware is not None:
            return aware
        raise BadRecord(
            f"created_at is empty and time {local!r} has no UTC offset (TAGS writes it in the "
            "sheet's own time zone and date order), so the post time cannot be read exactly"
        )
    raise BadRecord("TAGS row without created_at or time")


def _aware_time(value: str) -> datetime | None:
    """``value`` as UTC when it states its own offset (ISO 8601 or RFC 2822), else None."""
    dt: datetime | None
    try:
        dt = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            dt = None
    if dt is None or dt.tzinfo is None:
        return None
    try:
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _entities(cols: Mapping[str, str]) -> dict[str, Any] | None:
    """``entities_str`` as the v1.1 entities object, or None when absent or unreadable (a cell
    longer than a sheet allows is cut, and then the text is parsed instead)."""
    raw = cols.get("entities_str", "").strip()
    if not raw:
        return None
    try:
        entities = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(entities, dict) or not any(k in entities for k in _ENTITY_KEYS):
        return None
    return entities


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The object elements of an array (not ``common.as_list``, which keeps every element)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _strings(items: list[Any]) -> list[str]:
    return [v for v in items if isinstance(v, str) and v]


def mentions_in_text(text: str) -> list[str]:
    """``@name`` mentions (X usernames, without @) written in plain text, skipping e-mail
    addresses and URLs."""
    if not text or ("@" not in text and "＠" not in text):
        return []
    stripped = _URL.sub(lambda m: " " * len(m.group(0)), text)
    return [m.group(1) for m in _MENTION.finditer(stripped)]


def _handle(cols: Mapping[str, str]) -> str | None:
    """``from_user`` when it is a plausible X username (old accounts may exceed 15 chars)."""
    handle = cols.get("from_user", "").strip().lstrip("@")
    return handle if handle.isascii() and _HANDLE.fullmatch(handle) else None


def _author(cols: Mapping[str, str]) -> Author | None:
    """The posting account, when ``from_user_id_str`` holds an exact id (a mangled one is not
    guessed: the post is then kept without an author)."""
    user_id = _optional_id(cols, "from_user_id_str") or _optional_id(cols, "from_user_id")
    if user_id is None:
        return None
    handle = _handle(cols)
    try:
        user_created = parse_time(cols.get("user_created_at", "").strip() or None)
    except (ValueError, TypeError, IndexError, OverflowError):
        user_created = None  # an unreadable profile date is no reason to lose the post
    verified = cols.get("user_verified", "").strip()
    return Author(
        platform="x",
        native_id=user_id,
        handle=handle,
        display_name=(cols.get("from_user_name") or cols.get("user_name") or "").strip() or None,
        bio=cols.get("user_description", "").strip() or None,
        url=f"https://x.com/{handle}" if handle else None,
        followers=to_int(cols.get("user_followers_count", "").strip()),
        following=to_int(cols.get("user_friends_count", "").strip()),
        posts_count=to_int(cols.get("user_statuses_count", "").strip()),
        verified=to_bool(verified) if verified else None,
        created_at=user_created,
    )


def _engagement(cols: Mapping[str, str], ctx: Context) -> Engagement | None:
    likes = to_int((cols.get("favorite_count") or cols.get("like_count") or "").strip())
    reposts = to_int(cols.get("retweet_count", "").strip())
    if likes is None and reposts is None:
        return None
    return Engagement(likes=likes, reposts=reposts, observed_at=ctx.observed_at)


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """One TAGS row as a post (with its author embedded when the author id is exact)."""
    if not isinstance(obj, Mapping):
        raise BadRecord("TAGS row must be a mapping of column names to cells")
    cols = _columns(obj)
    if not any(c in cols for c in (*ID_COLUMNS, "status_url")) and "text" not in cols:
        raise BadRecord("not a TAGS row: it has neither an id column (id_str, id) nor a text column")
    tid = _post_id(cols)
    text = cols.get("text", "")
    created_at = _created_at(cols)

    entities = _entities(cols)
    hashtags: list[Hashtag]
    mentions: list[str]
    urls: list[str] = []
    media: list[Media] = []
    if entities is not None:
        hashtags = [
            Hashtag(tag, "entities")
            for tag in _strings([h.get("text") or h.get("tag") for h in _dicts(entities.get("hashtags"))])
        ]
        mentions = _strings(
            [m.get("screen_name") or m.get("username") for m in _dicts(entities.get("user_mentions"))]
        )
        urls = _strings([u.get("expanded_url") or u.get("url") for u in _dicts(entities.get("urls"))])
        for m in _dicts(entities.get("media")):
            url = m.get("media_url_https") or m.get("media_url")
            media.append(Media(type=str(m.get("type") or "photo"), url=url if isinstance(url, str) else None))
    else:
        hashtags = [Hashtag(tag, "text") for tag in hashtags_in_text(text)]
        mentions = mentions_in_text(text)

    reply_to = _optional_id(cols, "in_reply_to_status_id_str") or _optional_id(cols, "in_reply_to_status_id")
    is_reply = bool(
        cols.get("in_reply_to_status_id_str", "").strip() or cols.get("in_reply_to_status_id", "").strip()
    )
    author = _author(cols)
    handle = _handle(cols)
    lang = (cols.get("lang") or cols.get("iso_language_code") or "").strip() or None
    yield Post(
        platform="x",
        native_id=tid,
        created_at=created_at,
        text=text,
        kind=post_kind(repost=text.lstrip().startswith("RT @"), quote=False, reply=is_reply),
        author=author,
        uri=f"https://x.com/i/web/status/{tid}",
        url=f"https://x.com/{handle}/status/{tid}" if handle else f"https://x.com/i/web/status/{tid}",
        lang=lang,
        reply_to_uid=make_uid("x", reply_to) if reply_to else None,
        hashtags=hashtags,
        mentions=mentions,
        urls=urls,
        media=media,
        engagement=_engagement(cols, ctx),
    )
