"""The ONE assignment function (DESIGN.md, Question post, Chat answer), rule by rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from salon.campaigns.chat_answers import ChatPost, answer_marker, assign, question_marker
from salon.campaigns.chats import Chat

T0 = datetime(2026, 3, 6, 0, 0, tzinfo=UTC)


def chat() -> Chat:
    return Chat(
        slug="ms-1",
        hashtags=["musesocial"],
        start=T0,
        minutes=60,
        hosts=["x:host", "mastodon:erin@museum.social"],
        questions=["one?", "two?", "three?"],
    )


def post(
    uid: str, minute: float, text: str, handle: str = "alice", *, tag: bool = True, **kw: object
) -> ChatPost:
    platform = str(kw.pop("platform", "x"))
    return ChatPost(
        uid=uid,
        platform=platform,
        created_at=T0 + timedelta(minutes=minute),
        text=text,
        handle=handle,
        author_uid=f"{platform}:{handle}",
        tag_keys=frozenset({"musesocial"} if tag else set()),
        kind=str(kw.pop("kind", "reply" if kw.get("reply_to_uid") else "original")),
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("A1 yes", 1),
        ("A1: yes", 1),
        ("A1 - yes", 1),
        ("A.1 yes", 1),
        ("a1) yes", 1),
        ("A1a first part", 1),
        ("A1b", 1),
        ("R2 oui", 2),
        ("#musesocial @host A3: tags and mentions first", 3),
        ("@erin@museum.social a2 yes", 2),
        ("Q1 as an answer", 1),
        ("T2 too", 2),
        ("A12 twelve", 12),
        ("Apple pie", None),
        ("A 1 spaced", None),
        ("A1st place", None),
        ("an answer", None),
        ("I say A1", None),
    ],
)
def test_answer_markers(text: str, n: int | None) -> None:
    assert answer_marker(text) == n


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("Q1 hi", 1),
        ("Q1: hi", 1),
        ("Q.2 hi", 2),
        ("t3 hi", 3),
        ("#musesocial Q2", 2),
        ("A1", None),
        ("Quick", None),
    ],
)
def test_question_markers(text: str, n: int | None) -> None:
    assert question_marker(text) == n


def test_every_rule() -> None:
    posts = [
        post("q1", 0, "Q1 one? #musesocial", "host"),
        post("q1m", 0.2, "Q1: one? #musesocial", "erin", platform="mastodon"),  # local handle of the host
        post("q2", 20, "Q2 two? #musesocial", "host"),
        post("q2dup", 21, "Q2 again", "host"),  # not the first: conversation
        post("q3", 40, "Q3 three?", "host", tag=False),  # a question post needs no hashtag
        post("t1", 1, "yes #musesocial", reply_to_uid="q1"),  # thread, no marker
        post("t1b", 2, "me too #musesocial", "bob", reply_to_uid="t1"),  # down the chain
        post("t1m", 3, "A1 fediverse #musesocial", "carol", platform="mastodon", reply_to_uid="q1m"),
        post("wrong", 22, "A3 oops #musesocial", "dan", reply_to_uid="q2"),  # thread 2, marker 3: flagged
        post("m3", 41, "A3: standalone #musesocial", "eve"),  # marker
        post("mq", 42, "Q2 late to two #musesocial", "fay"),  # Q2 by a non-host: marker
        post(
            "untag", 23, "A2 forgot the tag", "gus", tag=False, reply_to_uid="q2"
        ),  # untagged, never an answer
        post("hostreply", 24, "thanks! #musesocial", "host", reply_to_uid="wrong"),  # host: conversation
        post("conv", 30, "hello all #musesocial", "hal"),
        post("A9", 31, "A9 no such question #musesocial", "ivy"),  # conversation
        post("late", 60 + 60 * 5, "late thought #musesocial", "jon", reply_to_uid="q3"),  # grace: thread ok
        post("latemarker", 61, "A1 too late #musesocial", "kim"),  # markers only in the window
        post("toolate", 60 + 60 * 25, "way late #musesocial", "lou", reply_to_uid="q3"),  # after grace
        post("gap", 25, "root says two #musesocial", "max", reply_to_uid="missing", root_uid="q2"),
        post("quote", 26, "look at this #musesocial", "ned", kind="quote", quote_of_uid="q2"),
        post("rp", 27, "", "oli", kind="repost", repost_of_uid="t1", tag=False),
        post("rp2", 28, "", "pat", kind="repost", repost_of_uid="elsewhere", tag=False),
        post("other", 29, "no tag, no thread", "quin", tag=False),
    ]
    a = assign(chat(), posts)
    assert [q.uids for q in a.questions] == [["q1", "q1m"], ["q2"], ["q3"]]
    assert a.questions[0].uid == "q1" and a.questions[0].text == "Q1 one? #musesocial"
    got = {u: (x.n, x.rule, x.flag) for u, x in a.answers.items()}
    assert got == {
        "t1": (1, "thread", None),
        "t1b": (1, "thread", None),
        "t1m": (1, "thread", None),
        "wrong": (2, "thread", "thread-marker-disagree"),
        "gap": (2, "thread", None),
        "quote": (2, "thread", None),
        "late": (3, "thread", None),
        "m3": (3, "marker", None),
        "mq": (2, "marker", None),
    }
    assert a.untagged == {"untag": 2}
    assert a.conversation == ["q2dup", "hostreply", "conv", "A9"]
    assert a.reposts == ["rp"]
    j = a.to_json()
    assert set(j) == {"chat", "questions", "conversation", "untagged"}
    assert j["questions"][1]["answers"][0] == {
        "uid": "wrong",
        "rule": "thread",
        "flag": "thread-marker-disagree",
    }
    assert j["untagged"] == ["untag"]


def test_salon_posted_question_wins_over_marker() -> None:
    posts = [
        post("hand", 0, "Q1 by hand", "host"),
        post("salon", 1, "Q1 one? #musesocial", "host"),
        post("r", 2, "yes #musesocial", "bob", reply_to_uid="salon"),
        post("r2", 3, "yes too #musesocial", "bob", reply_to_uid="hand"),
    ]
    a = assign(chat(), posts, {1: ["salon"]})
    assert a.questions[0].uids == ["salon"]
    assert "r" in a.answers and a.answers["r"].rule == "thread"
    assert "hand" in a.conversation and "r2" in a.conversation  # hand-posted duplicate: not the question
