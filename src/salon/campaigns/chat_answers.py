"""Who answered what in a chat (DESIGN.md, Question post and Chat answer): the ONE function
that decides it (``assign``), and the loader that feeds it from the archive
(``chat_assignment``). The transcript, the live room, the stats and the reports all call these.

Decided for every post of the chat, in this order:

1. **Question posts**: for each question n and each platform, the post Salon posted for it
   (``chat_post_intents``), else the first host post in the window ``[start, end)`` whose text
   starts (after leading hashtags/mentions) with a question marker for n: ``Q1``, ``Q1:``,
   ``Q.1``, ``T1`` (case-insensitive). A question has one post per platform it was asked on;
   ``Question.uid`` is the earliest.
2. **Thread**: a post that replies to a question-n post, directly or down a reply chain (the
   parent, else the platform's root when the chain has a gap: X ``conversation_id``, Bluesky
   ``reply.root``), or quotes it (and replies down from such a quote), created in
   ``[start, end + grace)``.
3. A post in a thread that lacks the chat's hashtag is **untagged** (listed apart, never an
   answer). A host's post is never an answer: hosts' posts with the hashtag are
   **conversation**. Any other thread post with the hashtag is an **answer** to n, rule
   ``thread``; when its text also carries an answer marker for another number it is flagged
   ``thread-marker-disagree`` (the thread wins).
4. **Marker**: a post outside every thread, created in ``[start, end)``, carrying the hashtag,
   not by a host, whose text starts with an answer marker for n: ``A1``, ``A1:``, ``A1 -``,
   ``A.1``, ``a1)``, ``A1a``, ``R1`` (French), or ``Q1``/``T1`` written by a non-host. Rule
   ``marker``. A marker for a question the chat does not have makes it conversation.
5. Everything else in ``[start, end)`` carrying the hashtag is **conversation**.
   **Reposts** (created in the window, of a post carrying the hashtag) are counted, never listed.

Deleted posts and posts of opted-out authors keep their place (so figures stay exact); every
public surface renders them as placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from salon.campaigns.chats import Chat, host_handle_matches
from salon.campaigns.engine import Engine
from salon.campaigns.trust.consent import author_visible_sql
from salon.campaigns.trust.posts import post_hidden_sql
from salon.store.archive import Archive

__all__ = [
    "RULE_MARKER",
    "RULE_THREAD",
    "THREAD_MARKER_DISAGREE",
    "Answer",
    "Assignment",
    "ChatPost",
    "Question",
    "answer_marker",
    "assign",
    "chat_assignment",
    "load_chat_posts",
    "question_marker",
]

RULE_THREAD = "thread"
RULE_MARKER = "marker"
THREAD_MARKER_DISAGREE = "thread-marker-disagree"

# Leading hashtags and mentions (``#musesocial @erin@museum.social A1: ...``), with the
# punctuation people put between them and the marker.
_LEAD = re.compile(r"^(?:[\s.,:;\-–—]*(?:[#＃]\w+|@[\w.@-]*\w))*[\s.,:;\-–—]*", re.UNICODE)
# A marker: the letter, an optional dot, the number, an optional one-letter part (A1a), then
# no further letter or digit ("A1st", "A10" for question 1 and "Apple" are not markers).
_ANSWER = re.compile(r"^([ARQT])\.?(\d{1,2})(?:[a-z])?(?![^\W_])", re.IGNORECASE | re.UNICODE)
_QUESTION = re.compile(r"^([QT])\.?(\d{1,2})(?![^\W_])", re.IGNORECASE | re.UNICODE)


def _lead_stripped(text: str | None) -> str:
    return _LEAD.sub("", text or "", count=1)


def question_marker(text: str | None) -> int | None:
    """n when ``text`` starts (after leading hashtags/mentions) with ``Qn``, ``Qn:``, ``Q.n``
    or ``Tn`` (a host's question post), else None."""
    m = _QUESTION.match(_lead_stripped(text))
    return int(m.group(2)) if m else None


def answer_marker(text: str | None) -> int | None:
    """n when ``text`` starts (after leading hashtags/mentions) with an answer marker for n:
    ``An``, ``An:``, ``An -``, ``A.n``, ``an)``, ``Ana``, ``Rn``, or ``Qn``/``Tn`` (written by a
    non-host; the caller checks that), else None."""
    m = _ANSWER.match(_lead_stripped(text))
    return int(m.group(2)) if m else None


@dataclass(slots=True)
class ChatPost:
    """What assignment needs to know of a post."""

    uid: str
    platform: str
    created_at: datetime
    text: str | None = None
    kind: str = "original"
    author_uid: str | None = None
    handle: str | None = None
    display_name: str | None = None
    reply_to_uid: str | None = None
    root_uid: str | None = None
    quote_of_uid: str | None = None
    repost_of_uid: str | None = None
    tag_keys: frozenset[str] = frozenset()
    url: str | None = None
    deleted: bool = False
    opted_out: bool = False  # its author may not be shown (trust.consent: opted out, hidden, inactive)
    hidden: bool = False  # an editor hid the post itself (trust.posts)
    is_host: bool = False


@dataclass(slots=True)
class Answer:
    uid: str
    n: int
    rule: str  # thread | marker
    flag: str | None = None  # thread-marker-disagree
    marker: int | None = None  # the number the text's marker gave, if any


@dataclass(slots=True)
class Question:
    n: int
    text: str  # the question post's own text, else the chat's question
    at: datetime  # scheduled time
    uid: str | None = None  # earliest question post
    uids: list[str] = field(default_factory=list)  # one per platform it was asked on


@dataclass(slots=True)
class Assignment:
    """The decision for every post of a chat (see the module docstring)."""

    chat: Chat
    questions: list[Question]
    posts: dict[str, ChatPost]
    answers: dict[str, Answer]  # uid -> answer
    conversation: list[str]  # uids, by time
    untagged: dict[str, int]  # uid -> question whose thread it is in
    reposts: list[str]  # counted, never listed

    def answers_to(self, n: int) -> list[Answer]:
        """The answers to question n, by time."""
        out = [a for a in self.answers.values() if a.n == n]
        return sorted(out, key=lambda a: (self.posts[a.uid].created_at, a.uid))

    def question_uids(self) -> dict[str, int]:
        return {u: q.n for q in self.questions for u in q.uids}

    def role(self, uid: str) -> str:
        """question | answer | conversation | untagged | repost | none"""
        if uid in self.question_uids():
            return "question"
        if uid in self.answers:
            return "answer"
        if uid in self.untagged:
            return "untagged"
        if uid in set(self.conversation):
            return "conversation"
        return "repost" if uid in set(self.reposts) else "none"

    def to_json(self) -> dict[str, Any]:
        """The documented transcript JSON (docs/chats.md)."""
        return {
            "chat": self.chat.slug,
            "questions": [
                {
                    "n": q.n,
                    "uid": q.uid,
                    "text": q.text,
                    "answers": [{"uid": a.uid, "rule": a.rule, "flag": a.flag} for a in self.answers_to(q.n)],
                }
                for q in self.questions
            ],
            "conversation": list(self.conversation),
            "untagged": sorted(self.untagged, key=lambda u: (self.posts[u].created_at, u)),
        }


def _is_host(chat: Chat, p: ChatPost) -> bool:
    hosts = chat.host_accounts()
    return any(host_handle_matches(h, p.platform, p.handle, p.author_uid) for h in hosts)


def assign(chat: Chat, posts: Iterable[ChatPost], posted: dict[int, list[str]] | None = None) -> Assignment:
    """THE assignment of a chat's posts (DESIGN.md, Chat answer; see the module docstring).
    ``posts``: every post that may belong to the chat (created in ``[start, end + grace)``);
    ``posted``: question n -> uids of the posts Salon posted for it."""
    keys = set(chat.tag_keys)
    start, end, grace_end = chat.start_utc, chat.end_utc, chat.grace_end_utc
    by_uid: dict[str, ChatPost] = {}
    for p in posts:
        if start <= p.created_at < grace_end:
            p.is_host = _is_host(chat, p)
            by_uid[p.uid] = p
    ordered = sorted(by_uid.values(), key=lambda p: (p.created_at, p.uid))
    in_window = [p for p in ordered if p.created_at < end]

    # 1. Question posts: Salon's, else each platform's first host post with the marker.
    nq = len(chat.questions)
    qposts: dict[int, list[str]] = {
        n: [u for u in (posted or {}).get(n, []) if u in by_uid] for n in range(1, nq + 1)
    }
    for n in range(1, nq + 1):
        have = {by_uid[u].platform for u in qposts[n]}
        for p in in_window:
            if p.is_host and p.kind != "repost" and p.platform not in have and question_marker(p.text) == n:
                qposts[n].append(p.uid)
                have.add(p.platform)
    q_of = {u: n for n, us in qposts.items() for u in us}
    questions = []
    for n, at in zip(range(1, nq + 1), chat.question_times(), strict=True):
        us = sorted(qposts[n], key=lambda u: (by_uid[u].created_at, u))
        text = (by_uid[us[0]].text or chat.questions[n - 1]) if us else chat.questions[n - 1]
        questions.append(Question(n, text, at, us[0] if us else None, us))

    # 2. Threads: the question each post's reply chain (or quote of a question) leads to.
    thread: dict[str, int | None] = dict(q_of)

    def thread_n(p: ChatPost) -> int | None:
        chain: list[str] = []
        cur: ChatPost | None = p
        found: int | None = None
        while cur is not None and cur.uid not in thread:
            chain.append(cur.uid)
            if cur.kind == "repost":
                break
            if cur.quote_of_uid in q_of:
                found = q_of[cur.quote_of_uid]
                break
            parent = by_uid.get(cur.reply_to_uid) if cur.reply_to_uid else None
            if parent is None:  # a gap in the chain: the platform's root still says which thread
                if cur.root_uid in q_of and cur.reply_to_uid is not None:
                    found = q_of[cur.root_uid]
                elif cur.reply_to_uid in q_of:
                    found = q_of[cur.reply_to_uid]
                break
            if parent.uid in chain:  # a cycle (bad data): no thread
                break
            cur = parent
        else:
            if cur is not None:
                found = thread[cur.uid]
        for u in chain:
            thread[u] = found
        return found

    answers: dict[str, Answer] = {}
    conversation: list[str] = []
    untagged: dict[str, int] = {}
    reposts: list[str] = []
    for p in ordered:
        if p.uid in q_of:
            continue
        if p.kind == "repost":
            target = by_uid.get(p.repost_of_uid) if p.repost_of_uid else None
            tags = target.tag_keys if target is not None else p.tag_keys
            if p.created_at < end and tags & keys:
                reposts.append(p.uid)
            continue
        tagged = bool(p.tag_keys & keys)
        tn = thread_n(p)
        if tn is not None:
            if not tagged:
                untagged[p.uid] = tn
            elif p.is_host:
                if p.created_at < end:
                    conversation.append(p.uid)
            else:
                m = answer_marker(p.text)
                flag = THREAD_MARKER_DISAGREE if m is not None and m != tn else None
                answers[p.uid] = Answer(p.uid, tn, RULE_THREAD, flag, m)
            continue
        if not tagged or p.created_at >= end:
            continue
        m = None if p.is_host else answer_marker(p.text)
        if m is not None and 1 <= m <= nq:
            answers[p.uid] = Answer(p.uid, m, RULE_MARKER, None, m)
        else:
            conversation.append(p.uid)
    return Assignment(chat, questions, by_uid, answers, conversation, untagged, reposts)


# -- from the archive ---------------------------------------------------------------------------


def load_chat_posts(archive: Archive | Engine, chat: Chat, uids: Iterable[str] = ()) -> list[ChatPost]:
    """Every stored post that may belong to ``chat``: created in ``[start, end + grace)`` and
    carrying one of its hashtags, or replying, quoting or reposting, or written by a host, or
    one of ``uids`` (the question posts Salon posted). Reply, root, quote and repost links are
    resolved through ``post_aliases``.

    ``archive``: the archive, or an engine (``salon.campaigns.engine``: DuckDB or, transpiled by
    sqlglot, Spark over a Parquet export): the one SQL text runs on both (Spark resolves a
    correlated subquery's outer references one level up only, hence ``author_visible_sql``'s
    form)."""
    keys = chat.tag_keys
    handles = sorted(
        {h for _, h in chat.host_accounts()} | {h.split("@", 1)[0] for _, h in chat.host_accounts()}
    )
    dids = [f"bluesky:{h}" for p, h in chat.host_accounts() if p == "bluesky" and h.startswith("did:")]
    wanted = [*dids, *uids] or [""]
    k_ph = ", ".join("?" for _ in keys)
    h_ph = ", ".join("?" for _ in handles)
    w_ph = ", ".join("?" for _ in wanted)
    sql = f"""
        SELECT p.uid, p.platform, p.created_at, p.text, p.kind, p.author_uid, a.handle, a.display_name,
               coalesce(ar.uid, p.reply_to_uid), coalesce(aro.uid, p.root_uid),
               coalesce(aq.uid, p.quote_of_uid), coalesce(ap.uid, p.repost_of_uid),
               (SELECT list(DISTINCT h.tag_key) FROM post_hashtags h WHERE h.uid = p.uid),
               p.url,
               p.deleted_at IS NOT NULL OR EXISTS (SELECT 1 FROM tombstones t WHERE t.uid = p.uid),
               NOT ({author_visible_sql("p.author_uid")}), {post_hidden_sql("p.uid")}
        FROM posts p
        LEFT JOIN authors a ON a.uid = p.author_uid
        LEFT JOIN post_aliases ar ON ar.alias_uid = p.reply_to_uid
        LEFT JOIN post_aliases aro ON aro.alias_uid = p.root_uid
        LEFT JOIN post_aliases aq ON aq.alias_uid = p.quote_of_uid
        LEFT JOIN post_aliases ap ON ap.alias_uid = p.repost_of_uid
        WHERE p.created_at >= ? AND p.created_at < ?
          AND (p.reply_to_uid IS NOT NULL OR p.quote_of_uid IS NOT NULL OR p.kind = 'repost'
               OR EXISTS (SELECT 1 FROM post_hashtags h WHERE h.uid = p.uid AND h.tag_key IN ({k_ph}))
               OR lower(a.handle) IN ({h_ph}) OR p.author_uid IN ({w_ph}) OR p.uid IN ({w_ph}))
    """
    rows = archive.query(sql, [chat.start_utc, chat.grace_end_utc, *keys, *handles, *wanted, *wanted])
    out = []
    for r in rows:
        out.append(
            ChatPost(
                uid=r[0],
                platform=r[1],
                created_at=r[2],
                text=r[3],
                kind=r[4],
                author_uid=r[5],
                handle=r[6],
                display_name=r[7],
                reply_to_uid=r[8],
                root_uid=r[9],
                quote_of_uid=r[10],
                repost_of_uid=r[11],
                tag_keys=frozenset(r[12] or ()),
                url=r[13],
                deleted=bool(r[14]),
                opted_out=bool(r[15]),
                hidden=bool(r[16]),
            )
        )
    return out


def posted_questions(archive: Archive | Engine, chat: Chat) -> dict[int, list[str]]:
    """Question n -> uids of the posts Salon posted for it (``salon chat run``)."""
    out: dict[int, list[str]] = {}
    for n, uid in archive.query(
        "SELECT n, uid FROM chat_post_intents WHERE slug = ? AND state = 'posted' AND uid IS NOT NULL",
        [chat.slug],
    ):
        out.setdefault(int(n), []).append(uid)
    return out


def chat_assignment(archive: Archive | Engine, chat: Chat) -> Assignment:
    """The assignment of ``chat`` over the archive's posts (``assign`` on ``load_chat_posts``;
    ``archive`` may be an engine over a Parquet export)."""
    posted = posted_questions(archive, chat)
    return assign(chat, load_chat_posts(archive, chat, [u for us in posted.values() for u in us]), posted)
