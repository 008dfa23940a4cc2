"""Tests of the TAGS CSV normaliser (``salon.normalize.tags_csv``).

No real TAGS export exists in ``../shared/corpora`` (its README says none could be found in
public form), so the rows here are built from the documented TAGS column lists: the 18 columns of
TAGS v6.1 (as listed by tidytags and by scripts reading TAGS exports), the TAGS v6.0 layout read
by DiscourseDB's TAGS importer (with ``in_reply_to_user`` and ``user_utc_offset``), an older
layout with ``id`` and Search API v1 columns, and one with the optional user and engagement
columns, reordered and with headers in other case and padding. Each row goes through a real CSV
round trip (``csv.writer`` then ``csv.DictReader``), which is the shape the file reader hands
over. The tweet ids, texts, dates, reply targets and entities are real: they are read from the X
account archive in ``../shared/corpora/twitter-archive-milahu104/data/tweets.js`` (chosen for
their hashtags, accents, replies and retweets), and expected values are derived from that file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salon.normalize as registry
from salon.hashtags import tag_key
from salon.model import Post
from salon.normalize import BadRecord, Context, tags_csv
from salon.normalize.tags_csv import HEADER_HINT_COLUMNS, looks_like_header, normalize, sniff
from tests.conftest import corpus_path

ACCOUNT_ID = "1964312974236991488"  # data/manifest.js accountId
HANDLE = "milahu104"

# Column layouts by TAGS version (header names as written in the sheet).
V61 = [
    "id_str", "from_user", "text", "created_at", "time", "geo_coordinates", "user_lang",
    "in_reply_to_user_id_str", "in_reply_to_screen_name", "from_user_id_str",
    "in_reply_to_status_id_str", "source", "profile_image_url", "user_followers_count",
    "user_friends_count", "user_location", "status_url", "entities_str",
]  # fmt: skip
V60 = [
    "id_str", "from_user", "text", "created_at", "time", "geo_coordinates", "user_lang",
    "in_reply_to_user", "in_reply_to_screen_name", "from_user_id_str", "in_reply_to_user_id_str",
    "in_reply_to_status_id_str", "source", "profile_image_url", "user_followers_count",
    "user_friends_count", "user_utc_offset", "status_url", "entities_str",
]  # fmt: skip
OLD = [
    "id", "from_user", "text", "created_at", "time", "geo_coordinates", "iso_language_code",
    "to_user", "to_user_id_str", "from_user_id_str", "in_reply_to_status_id_str", "source",
    "profile_image_url", "status_url",
]  # fmt: skip
# Optional columns, reordered, header case and padding as a user might leave them.
EXTRA = [
    " Text", "CREATED_AT", "From_User", "ID_STR ", "time", "user_created_at", "user_utc_offset",
    "favorite_count", "retweet_count", "user_followers_count", "user_friends_count",
    "from_user_id_str", "in_reply_to_status_id_str", "user_lang",
]  # fmt: skip
LAYOUTS = {"v6.1": V61, "v6.0": V60, "old": OLD, "extra": EXTRA}


@pytest.fixture(scope="module")
def archive() -> dict[str, dict[str, Any]]:
    """The archive's tweets by id, parsed from the raw ``tweets.js``."""
    raw = corpus_path("twitter-archive-milahu104", "data", "tweets.js").read_text(encoding="utf-8")
    return {t["tweet"]["id_str"]: t["tweet"] for t in json.loads(raw[raw.index("[") :])}


def csv_row(header: list[str], values: dict[str, str]) -> dict[str, str]:
    """One row as the file reader hands it over: write header + row as CSV, read it back."""
    canon = {h: values.get(h.strip().lower(), "") for h in header}
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerow([canon[h] for h in header])
    buf.seek(0)
    rows = list(csv.DictReader(buf))
    assert len(rows) == 1
    return rows[0]


def sheet_time(created_at: datetime) -> str:
    """``time`` as TAGS writes it: the sheet's own zone and day-first order (here UTC+1)."""
    return (created_at + timedelta(hours=1)).strftime("%d/%m/%Y %H:%M:%S")


def tags_values(tweet: dict[str, Any], *, entities: bool = True) -> dict[str, str]:
    """The cells TAGS would write for an archive tweet (lower-case column names)."""
    tid = tweet["id_str"]
    created = datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
    values = {
        "id_str": tid,
        "id": tid,
        "from_user": HANDLE,
        "text": tweet["full_text"],
        "created_at": tweet["created_at"],
        "time": sheet_time(created),
        "user_lang": "de",
        "in_reply_to_user_id_str": tweet.get("in_reply_to_user_id_str") or "",
        "in_reply_to_screen_name": tweet.get("in_reply_to_screen_name") or "",
        "from_user_id_str": ACCOUNT_ID,
        "in_reply_to_status_id_str": tweet.get("in_reply_to_status_id_str") or "",
        "source": tweet["source"],
        "profile_image_url": "http://pbs.twimg.com/profile_images/0/x_normal.jpg",
        "user_followers_count": "12",
        "user_friends_count": "34",
        "status_url": f"http://twitter.com/{HANDLE}/statuses/{tid}",
        "iso_language_code": tweet["lang"],
        "user_utc_offset": "3600",
        "user_created_at": "Tue Sep 09 12:00:00 +0000 2025",
        "favorite_count": tweet["favorite_count"],
        "retweet_count": tweet["retweet_count"],
    }
    if entities:
        values["entities_str"] = json.dumps(tweet["entities"], ensure_ascii=False)
    return values


def one_post(row: dict[str, Any], ctx: Context | None = None) -> Post:
    items = list(normalize(row, ctx or Context()))
    assert len(items) == 1
    post = items[0]
    assert isinstance(post, Post)
    return post


def archive_tags(tweet: dict[str, Any]) -> list[str]:
    return [h["text"] for h in tweet["entities"]["hashtags"]]


# ---- layouts -------------------------------------------------------------------------------------

REPLY_ID = "2006782187459457283"  # "@Tom_Bayou #RichtigHängengeblieben", a reply
RT_ID = "2029269689663152415"  # "RT @E_Boeminghaus: ... #Bloomberg #Ölmarkt #Irak…"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_reads_the_same_post(layout: str, archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[REPLY_ID]
    post = one_post(csv_row(LAYOUTS[layout], tags_values(tweet)))
    assert post.uid == f"x:{REPLY_ID}"
    assert post.platform == "x" and post.native_id == REPLY_ID
    assert post.text == tweet["full_text"]
    assert post.created_at == datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")
    assert post.created_at is not None and post.created_at.tzinfo is not None
    assert post.created_at.utcoffset() == UTC.utcoffset(None)
    assert post.kind == "reply"
    assert post.reply_to_uid == f"x:{tweet['in_reply_to_status_id_str']}"
    assert [h.display for h in post.hashtags] == archive_tags(tweet) == ["RichtigHängengeblieben"]
    assert post.mentions == [m["screen_name"] for m in tweet["entities"]["user_mentions"]]
    assert post.author is not None and post.author_uid == f"x:{ACCOUNT_ID}"
    assert post.author.handle == HANDLE
    assert post.url == f"https://x.com/{HANDLE}/status/{REPLY_ID}"
    assert post.repost_of_uid is None and post.quote_of_uid is None
    expected_source = "entities" if "entities_str" in LAYOUTS[layout] else "text"
    assert {h.source for h in post.hashtags} == {expected_source}


def test_v61_row_uses_entities_str(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive["2023041753897738313"]  # reply with #whoaremyfriends and an expanded URL
    post = one_post(csv_row(V61, tags_values(tweet)))
    assert [(h.display, h.source) for h in post.hashtags] == [("whoaremyfriends", "entities")]
    assert post.urls == [u["expanded_url"] for u in tweet["entities"]["urls"]]
    assert post.mentions == ["shlomo96", "achseostwest"]
    assert post.author is not None
    assert (post.author.followers, post.author.following) == (12, 34)
    assert post.lang is None  # user_lang is the account's interface language, not the post's


def test_old_layout_reads_post_language_and_v1_search_dates() -> None:
    values = {
        "id": "232944431433666561",
        "from_user": "TestCellBio",
        "text": "Plos One paper #cellbio",
        "created_at": "Tue, 07 Aug 2012 21:00:55 +0000",  # the v1 Search API's format
        "iso_language_code": "en",
        "from_user_id_str": "38951828",
    }
    post = one_post(csv_row(OLD, values))
    assert post.uid == "x:232944431433666561"
    assert post.created_at == datetime(2012, 8, 7, 21, 0, 55, tzinfo=UTC)
    assert post.lang == "en"
    assert [h.display for h in post.hashtags] == ["cellbio"]


def test_extra_columns_author_and_engagement(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[REPLY_ID]
    values = tags_values(tweet) | {"favorite_count": "7", "retweet_count": "3"}
    seen = datetime(2026, 1, 2, tzinfo=UTC)
    post = one_post(csv_row(EXTRA, values), Context(observed_at=seen))
    assert post.engagement is not None
    assert (post.engagement.likes, post.engagement.reposts, post.engagement.observed_at) == (7, 3, seen)
    assert post.author is not None
    assert post.author.created_at == datetime(2025, 9, 9, 12, tzinfo=UTC)


# ---- ids mangled by a spreadsheet ----------------------------------------------------------------


@pytest.mark.parametrize("mangled", ["1.23457E+17", "1,23457E+17", "2.02927E+18", "2,02927e+18"])
def test_scientific_notation_id_is_a_bad_record(mangled: str) -> None:
    row = csv_row(
        V61,
        {
            "id_str": mangled,
            "from_user": HANDLE,
            "text": "#MuseumWeek",
            "created_at": "Sat Mar 14 12:00:00 +0000 2015",
        },
    )
    with pytest.raises(BadRecord) as err:
        list(normalize(row, Context()))
    assert str(err.value) == (
        f"id_str {mangled} looks mangled into scientific notation by a spreadsheet; "
        "re-export the sheet as CSV with ids as text"
    )


@pytest.mark.parametrize("bad", ["2029269689663152415.0", "-2029269689663152415", "２０２９", "abc"])
def test_non_digit_id_is_a_bad_record(bad: str) -> None:
    row = {"id_str": bad, "from_user": HANDLE, "text": "x", "created_at": "Sat Mar 14 12:00:00 +0000 2015"}
    with pytest.raises(BadRecord, match="not all digits"):
        list(normalize(row, Context()))


def test_status_url_rescues_a_mangled_id(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[RT_ID]
    values = tags_values(tweet) | {"id_str": "2.02927E+18", "from_user_id_str": "1.96431E+18"}
    post = one_post(csv_row(V61, values))
    assert post.uid == f"x:{RT_ID}"
    # The author id is mangled too, and nothing holds it exactly: no author rather than a guess.
    assert post.author is None and post.author_uid is None


def test_status_url_settles_a_precision_rounded_id(archive: dict[str, dict[str, Any]]) -> None:
    values = tags_values(archive[RT_ID]) | {"id_str": "2029269689663150000"}
    assert one_post(csv_row(V61, values)).native_id == RT_ID


def test_id_and_status_url_disagreeing_is_a_bad_record(archive: dict[str, dict[str, Any]]) -> None:
    values = tags_values(archive[RT_ID]) | {"id_str": REPLY_ID}
    with pytest.raises(BadRecord, match="disagree"):
        list(normalize(csv_row(V61, values), Context()))


def test_status_url_alone_gives_the_id(archive: dict[str, dict[str, Any]]) -> None:
    values = tags_values(archive[RT_ID]) | {"id_str": ""}
    assert one_post(csv_row(V61, values)).native_id == RT_ID


def test_mangled_reply_target_is_not_guessed(archive: dict[str, dict[str, Any]]) -> None:
    values = tags_values(archive[REPLY_ID]) | {"in_reply_to_status_id_str": "2.00664E+18"}
    post = one_post(csv_row(V61, values))
    assert post.kind == "reply" and post.reply_to_uid is None


# ---- hashtags and mentions from text -------------------------------------------------------------


@pytest.mark.parametrize(
    "tid",
    [
        RT_ID,
        REPLY_ID,
        "2024771320370598323",  # RT with #SPD, #Grüne
        "1975448139604930892",  # reply with #schulzwang and umlauts
        "1977058079918461055",  # original with #hatetwitter
        "2029589715347780006",  # reply with #noonewantstofightforisrael
    ],
)
def test_text_hashtags_match_the_platform_entities(tid: str, archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[tid]
    post = one_post(csv_row(OLD, tags_values(tweet, entities=False)))
    assert [h.display for h in post.hashtags] == archive_tags(tweet)
    assert {h.source for h in post.hashtags} <= {"text"}
    assert post.mentions == [m["screen_name"] for m in tweet["entities"]["user_mentions"]]


def test_accented_hashtag_from_text() -> None:
    row = csv_row(
        OLD,
        {
            "id": "576714014335172608",
            "from_user": "MuseeLouvre",
            "text": "Les secrets du #MuséeDuLouvre pour la #MuseumWeek ! #SecretsMW",
            "created_at": "Mon Mar 23 09:00:00 +0000 2015",
        },
    )
    post = one_post(row)
    assert [h.display for h in post.hashtags] == ["MuséeDuLouvre", "MuseumWeek", "SecretsMW"]
    assert tag_key(post.hashtags[0].display) == "museedulouvre"
    assert post.created_at == datetime(2015, 3, 23, 9, tzinfo=UTC)


def test_hashtag_inside_a_url_is_not_counted(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive["2023041753897738313"]
    (url,) = tweet["entities"]["urls"]
    # The text as displayed, with the expanded URL (it ends in "#radical-problems") in place.
    text = tweet["full_text"].replace(url["url"], url["expanded_url"])
    assert "#radical-problems" in text
    post = one_post(csv_row(OLD, tags_values(tweet, entities=False) | {"text": text}))
    assert [h.display for h in post.hashtags] == ["whoaremyfriends"]


def test_email_address_is_not_a_mention() -> None:
    row = {
        "id_str": "1",
        "from_user": "a",
        "text": "write to renold@cf.ac.uk or @ALT_UK",
        "created_at": "Sat Mar 14 12:00:00 +0000 2015",
    }
    assert one_post(row).mentions == ["ALT_UK"]


def test_unreadable_entities_str_falls_back_to_text(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[RT_ID]
    values = tags_values(tweet) | {"entities_str": '{"hashtags":[{"text":"Bloomb'}  # cut cell
    post = one_post(csv_row(V61, values))
    assert [(h.display, h.source) for h in post.hashtags] == [(t, "text") for t in archive_tags(tweet)]


# ---- kinds ---------------------------------------------------------------------------------------


def test_retweet_is_a_repost(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[RT_ID]
    assert tweet["full_text"].startswith("RT @")
    post = one_post(csv_row(V61, tags_values(tweet)))
    assert post.kind == "repost"
    assert post.repost_of_uid is None  # the retweeted post's id is not in the sheet
    assert [h.display for h in post.hashtags] == ["Bloomberg", "Ölmarkt", "Irak"]


def test_original_and_reply_kinds(archive: dict[str, dict[str, Any]]) -> None:
    original = one_post(csv_row(V60, tags_values(archive["1977058079918461055"])))
    assert original.kind == "original" and original.reply_to_uid is None
    reply = one_post(csv_row(V60, tags_values(archive["1975448139604930892"])))
    assert reply.kind == "reply" and reply.reply_to_uid == "x:1842862119265751078"


# ---- times ---------------------------------------------------------------------------------------


def test_created_at_is_preferred_over_the_sheet_local_time(archive: dict[str, dict[str, Any]]) -> None:
    tweet = archive[REPLY_ID]
    values = tags_values(tweet)
    assert values["time"] == "01/01/2026 18:38:52"  # the sheet's zone, one hour ahead
    assert one_post(csv_row(V61, values)).created_at == datetime(2026, 1, 1, 17, 38, 52, tzinfo=UTC)


def test_naive_time_alone_is_a_bad_record(archive: dict[str, dict[str, Any]]) -> None:
    values = tags_values(archive[REPLY_ID]) | {"created_at": ""}
    with pytest.raises(BadRecord, match="no UTC offset"):
        list(normalize(csv_row(V61, values), Context()))


def test_time_with_offset_is_used_when_created_at_is_empty(archive: dict[str, dict[str, Any]]) -> None:
    values = tags_values(archive[REPLY_ID]) | {"created_at": "", "time": "2026-01-01T18:38:52+01:00"}
    assert one_post(csv_row(V61, values)).created_at == datetime(2026, 1, 1, 17, 38, 52, tzinfo=UTC)


def test_unreadable_created_at_is_a_bad_record() -> None:
    row = {"id_str": "1", "from_user": "a", "text": "x", "created_at": "14/03/2015 12:00:00 yesterday"}
    with pytest.raises(BadRecord, match="unreadable created_at"):
        list(normalize(row, Context()))


# ---- recognising TAGS ----------------------------------------------------------------------------


def test_not_a_tags_row() -> None:
    with pytest.raises(BadRecord, match="not a TAGS row"):
        list(normalize({"name": "Louvre", "country": "FR"}, Context()))
    with pytest.raises(BadRecord):
        list(normalize(["id_str", "text"], Context()))


def test_sniff() -> None:
    assert sniff({"ID_STR": "1", "From_User": "a", " text ": "b"})
    assert sniff({"id": "1", "from_user": "a", "text": "b", "created_at": ""})
    assert not sniff({"id_str": "1", "text": "b"})
    assert not sniff({"from_user": "a", "text": "b"})
    assert not sniff(["id_str", "from_user", "text"])
    # a v1 Search API JSON result has the same keys but numbers and objects: not a CSV row
    assert not sniff({"id": 232944431433666561, "id_str": "1", "from_user": "a", "text": "b", "metadata": {}})


def test_registry_sniffs_a_tags_row(archive: dict[str, dict[str, Any]]) -> None:
    row = csv_row(V61, tags_values(archive[REPLY_ID]))
    assert registry.sniff(row) == tags_csv.FORMAT == "tags-csv"
    assert [p.uid for p in registry.normalize(row)] == [f"x:{REPLY_ID}"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_looks_like_header(layout: str) -> None:
    assert looks_like_header(LAYOUTS[layout])
    assert looks_like_header(["\ufeffid_str", *V61[1:]])


def test_header_hints() -> None:
    assert all(c == c.lower().strip() for c in HEADER_HINT_COLUMNS)
    assert all({c.strip().lower() for c in cols} >= HEADER_HINT_COLUMNS for cols in LAYOUTS.values())
    assert not looks_like_header(["name", "country", "city", "kind", "x", "mastodon", "bluesky"])
    assert not looks_like_header(["id", "text", "created_at"])


# ---- property ------------------------------------------------------------------------------------

_UID = re.compile(r"x:[0-9]+")
digits = st.from_regex(r"[0-9]{1,19}", fullmatch=True)
# Mostly plausible cells, so that both outcomes (a post, a bad record) are exercised.
ids = st.one_of(
    digits,
    st.from_regex(r"[0-9][.,][0-9]{5}[eE]\+1[78]", fullmatch=True),
    st.text(max_size=25),
)
cells = st.one_of(st.text(max_size=60), st.sampled_from(["", " ", "0", "null", "{}", "[]", '{"hashtags":5}']))
times = st.one_of(
    st.sampled_from(
        ["Sat Mar 14 12:00:00 +0000 2015", "Tue, 07 Aug 2012 21:00:55 +0000", "2015-03-14T12:00:00Z"]
    ),
    st.sampled_from(["", "14/03/2015 12:00:00", "2015-03-14T13:00:00+01:00"]),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(
    id_str=ids,
    text=st.text(max_size=200),
    created_at=times,
    time=times,
    status_url=st.one_of(st.just(""), ids.map(lambda i: f"http://twitter.com/u/statuses/{i}"), cells),
    entities_str=cells,
    reply_to=st.one_of(st.just(""), ids),
    user_id=ids,
    extra=st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=4),
)
def test_any_row_gives_a_post_or_a_bad_record(
    id_str: str,
    text: str,
    created_at: str,
    time: str,
    status_url: str,
    entities_str: str,
    reply_to: str,
    user_id: str,
    extra: dict[str, str],
) -> None:
    row = extra | {
        "id_str": id_str,
        "from_user": "milahu104",
        "text": text,
        "created_at": created_at,
        "time": time,
        "status_url": status_url,
        "entities_str": entities_str,
        "in_reply_to_status_id_str": reply_to,
        "from_user_id_str": user_id,
        "user_followers_count": user_id,
    }
    try:
        items = list(normalize(row, Context()))
    except BadRecord:
        return
    assert len(items) == 1
    post = items[0]
    assert isinstance(post, Post)
    assert _UID.fullmatch(post.uid)
    assert post.created_at is not None and post.created_at.tzinfo is not None
    assert post.reply_to_uid is None or _UID.fullmatch(post.reply_to_uid)
    assert post.author_uid is None or _UID.fullmatch(post.author_uid)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=15), st.text(max_size=40), max_size=8))
def test_arbitrary_string_rows_never_raise_anything_but_bad_record(row: dict[str, str]) -> None:
    try:
        items = list(normalize(row, Context()))
    except BadRecord:
        return
    assert all(isinstance(p, Post) and _UID.fullmatch(p.uid) for p in items)
