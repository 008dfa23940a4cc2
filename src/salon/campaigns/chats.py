"""Chats (DESIGN.md, Chat): a campaign's ``[[chats]]`` entries, parsed and validated.

>>> from salon.campaigns.chats import chats_of
>>> chats = chats_of(campaign)                         # doctest: +SKIP
>>> chats[0].window, chats[0].question_times()          # doctest: +SKIP

A chat is kept in the campaign file's ``[[chats]]`` array (``Campaign.extra["chats"]``, so it is
stored with the campaign and exported back to TOML as written); this module reads it into
``Chat`` objects. A *series* is the chats sharing a hashtag key (a weekly #musesocial), across
every stored campaign.

Fields of one ``[[chats]]`` table::

    slug = "musesocial-1"                       # unique in the archive
    title = "Social media in museums"           # optional
    hashtag = "musesocial"                      # or hashtags = ["musesocial", "museumhour"]
    start = 2012-03-08T19:00:00-05:00           # with an offset, or local to the campaign's zone
    minutes = 60
    hosts = ["x:erinblasco", "mastodon:erin@museum.social", "bluesky:erin.bsky.social"]
    questions = ["What ...", "..."]
    question_minutes = [0, 12, 24, 36, 48]      # optional: default evenly spaced from start
    post_questions = ["mastodon", "bluesky"]     # optional: Salon posts them from the hosts
    grace_hours = 24                            # optional: late thread answers admitted after
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from salon.campaigns.textlength import LIMITS, length_for
from salon.hashtags import tag_key

__all__ = [
    "Chat",
    "ChatProblem",
    "chat_issues",
    "chat_problems",
    "chats_of",
    "find_chat",
    "host_handle_matches",
    "parse_chats",
    "question_text",
    "sync_chats",
]

T = TypeVar("T")
PLATFORMS = ("x", "mastodon", "bluesky")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
DEFAULT_GRACE_HOURS = 24.0


@dataclass(frozen=True, slots=True)
class ChatProblem:
    """One problem of a ``[[chats]]`` entry: which chat (1-based), which field, what."""

    index: int
    field: str
    message: str


@dataclass(slots=True)
class Chat:
    """One scheduled chat of a campaign."""

    slug: str
    hashtags: list[str]
    start: datetime  # aware
    minutes: int
    hosts: list[str]  # "platform:handle", as in the registry
    questions: list[str]
    question_minutes: list[int] | None = None
    post_questions: list[str] = field(default_factory=list)
    grace_hours: float = DEFAULT_GRACE_HOURS
    title: str | None = None
    timezone: str = "UTC"  # the campaign's zone (for display)
    campaign_slug: str | None = None
    index: int = 0  # position in the campaign's [[chats]]

    @property
    def hashtag(self) -> str:
        """The chat's main hashtag (the first), without ``#``."""
        return self.hashtags[0]

    @property
    def tag_keys(self) -> list[str]:
        return [tag_key(t) for t in self.hashtags]

    @property
    def series_key(self) -> str:
        """The key of the series the chat belongs to: its main hashtag's key."""
        return tag_key(self.hashtag)

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.start_utc + timedelta(minutes=self.minutes)

    @property
    def grace_end_utc(self) -> datetime:
        """End of the grace period (late *thread* answers only)."""
        return self.end_utc + timedelta(hours=self.grace_hours)

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.start_utc, self.end_utc

    def question_offsets(self) -> list[int]:
        """Minutes after the start at which each question is asked."""
        if self.question_minutes:
            return list(self.question_minutes)
        n = max(1, len(self.questions))
        return [round(i * self.minutes / n) for i in range(len(self.questions))]

    def question_times(self) -> list[datetime]:
        """UTC time of each question."""
        return [self.start_utc + timedelta(minutes=m) for m in self.question_offsets()]

    def host_accounts(self) -> list[tuple[str, str]]:
        """(platform, handle lower-cased, without @) of every host."""
        out = []
        for h in self.hosts:
            platform, _, handle = h.partition(":")
            out.append((platform, handle.lstrip("@").lower()))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The chat as public JSON (ISO times)."""
        return {
            "slug": self.slug,
            "title": self.title,
            "hashtags": self.hashtags,
            "start": self.start_utc.isoformat(),
            "end": self.end_utc.isoformat(),
            "timezone": self.timezone,
            "minutes": self.minutes,
            "hosts": self.hosts,
            "questions": [
                {"n": i + 1, "text": q, "at": t.isoformat()}
                for i, (q, t) in enumerate(zip(self.questions, self.question_times(), strict=True))
            ],
            "post_questions": self.post_questions,
            "grace_hours": self.grace_hours,
            "campaign": self.campaign_slug,
        }


def question_text(chat: Chat, n: int) -> str:
    """The text Salon posts for question ``n`` (1-based): ``Q1 <question> #hashtag``; the
    hashtag is not repeated when the question already carries it."""
    q = chat.questions[n - 1].strip()
    tag = "#" + chat.hashtag
    has_tag = any(tag_key(t) == tag_key(chat.hashtag) for t in re.findall(r"#(\w+)", q))
    return f"Q{n} {q}" + ("" if has_tag else f" {tag}")


def host_handle_matches(
    host: tuple[str, str], platform: str, handle: str | None, author_uid: str | None
) -> bool:
    """Whether a post's author (platform, handle, author uid) is the host account ``host``.
    Mastodon hosts are ``user@instance``: a local handle ``user`` matches too."""
    hp, hh = host
    if hp != platform:
        return False
    if author_uid and hh.startswith("did:") and author_uid == f"bluesky:{hh}":
        return True
    if not handle:
        return False
    h = handle.lstrip("@").lower()
    if h == hh:
        return True
    return platform == "mastodon" and "@" in hh and "@" not in h and hh.split("@", 1)[0] == h


def _as_start(value: Any, tz: ZoneInfo) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    return None


def parse_chats(
    raw: Any, *, timezone: str = "UTC", campaign_slug: str | None = None
) -> tuple[list[Chat], list[ChatProblem]]:
    """Read a campaign file's ``[[chats]]`` array: the chats that are valid and the problems of
    every entry (each with its 1-based index and field). Question lengths are checked for every
    platform in ``post_questions`` (``chat_problems``)."""
    tz = ZoneInfo(timezone)
    chats: list[Chat] = []
    problems: list[ChatProblem] = []
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [ChatProblem(0, "chats", "use [[chats]] tables")]
    seen: dict[str, int] = {}
    for i, d in enumerate(raw, 1):
        before = len(problems)

        def bad(fld: str, msg: str, i: int = i) -> None:
            problems.append(ChatProblem(i, fld, msg))

        if not isinstance(d, dict):
            bad("", "must be a table")
            continue
        slug = d.get("slug")
        if not isinstance(slug, str) or not _SLUG.match(slug):
            bad("slug", f"{slug!r} is not a slug (lowercase letters, digits, - and _)")
            slug = ""
        elif slug in seen:
            bad("slug", f"{slug!r} is already the slug of chats[{seen[slug]}]")
        seen[slug] = i
        tags = d.get("hashtags", d.get("hashtag"))
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t.strip() for t in tags):
            bad("hashtag", "required: the chat's hashtag (a string, or hashtags = [...])")
            tags = []
        tags = [t.strip().lstrip("#＃") for t in tags]
        for t in tags:
            if not tag_key(t) or re.search(r"\s", t):
                bad("hashtag", f"{t!r} is not a hashtag")
        start = _as_start(d.get("start"), tz)
        if start is None:
            bad("start", "required: a date and time, e.g. 2012-03-08T19:00:00-05:00")
        minutes = d.get("minutes", 60)
        if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
            bad("minutes", "must be a positive whole number of minutes")
            minutes = 60
        hosts = d.get("hosts", [])
        if isinstance(hosts, str):
            hosts = [hosts]
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            bad("hosts", "must be a list such as ['x:handle', 'mastodon:user@instance']")
            hosts = []
        for h in hosts:
            platform, sep, handle = h.partition(":")
            if not sep or platform not in PLATFORMS or not handle.strip("@"):
                bad("hosts", f"{h!r} is not platform:handle (x:, mastodon: or bluesky:)")
        if not hosts:
            bad("hosts", "a chat needs at least one host account")
        questions = d.get("questions", [])
        if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
            bad("questions", "must be a list of non-empty strings")
            questions = []
        qm = d.get("question_minutes")
        if qm is not None:
            if not isinstance(qm, list) or not all(
                isinstance(m, int) and not isinstance(m, bool) for m in qm
            ):
                bad("question_minutes", "must be a list of whole minutes")
                qm = None
            elif len(qm) != len(questions):
                bad("question_minutes", f"{len(qm)} times for {len(questions)} questions")
                qm = None
            elif any(m < 0 or m >= minutes for m in qm) or qm != sorted(qm):
                bad("question_minutes", f"must be increasing, from 0 to under the chat's {minutes} minutes")
                qm = None
        post = d.get("post_questions", [])
        if isinstance(post, str):
            post = [post]
        if not isinstance(post, list) or any(p not in PLATFORMS for p in post):
            bad("post_questions", "must list platforms among x, mastodon, bluesky")
            post = []
        for p in post:
            if not any(h.startswith(p + ":") for h in hosts):
                bad("post_questions", f"Salon posts on {p} from a host's account: no host is on {p}")
        grace = d.get("grace_hours", DEFAULT_GRACE_HOURS)
        if not isinstance(grace, int | float) or isinstance(grace, bool) or grace < 0:
            bad("grace_hours", "must be a number of hours (0 or more)")
            grace = DEFAULT_GRACE_HOURS
        title = d.get("title")
        if title is not None and not isinstance(title, str):
            bad("title", "must be a string")
            title = None
        if len(problems) > before or start is None:
            continue
        chat = Chat(
            slug=slug,
            hashtags=tags,
            start=start,
            minutes=minutes,
            hosts=[h.strip() for h in hosts],
            questions=[q.strip() for q in questions],
            question_minutes=qm,
            post_questions=list(post),
            grace_hours=float(grace),
            title=title,
            timezone=timezone,
            campaign_slug=campaign_slug,
            index=i - 1,
        )
        lengths = chat_problems(chat)
        problems.extend(lengths)
        if not lengths:
            chats.append(chat)
    return chats, problems


def chat_problems(chat: Chat) -> list[ChatProblem]:
    """Questions too long for a platform where Salon posts them (hashtag and ``Q1 `` prefix
    included): Mastodon 500 characters, Bluesky 300 graphemes, X 280 weighted characters."""
    out = []
    units = {"mastodon": "characters", "bluesky": "graphemes", "x": "weighted characters"}
    for platform in chat.post_questions:
        for n in range(1, len(chat.questions) + 1):
            text = question_text(chat, n)
            length = length_for(platform, text)
            if length > LIMITS[platform]:
                out.append(
                    ChatProblem(
                        chat.index + 1,
                        f"questions[{n}]",
                        f"too long for {platform}: {length} {units[platform]} with the hashtag and "
                        f"'Q{n} ' (at most {LIMITS[platform]})",
                    )
                )
    return out


def chat_issues(
    raw: Any,
    timezone: str,
    path: str,
    find_line: Callable[[str | None, str | None, int], int | None],
    issue: Callable[[str, int | None, str | None, str], T],
) -> list[T]:
    """The problems of a campaign file's ``[[chats]]`` as ``issue(file, line, field, message)``
    (``config.Issue``); ``find_line(section, key, index)`` finds a key's line in the file."""
    _, problems = parse_chats(raw, timezone=timezone)
    out = []
    for p in problems:
        key = p.field.split("[")[0] or None
        line = find_line("chats", key, max(0, p.index - 1))
        out.append(issue(path, line, f"chats[{p.index}].{p.field}".rstrip("."), p.message))
    return out


def sync_chats(con: Any, campaign_id: int, campaign: Any) -> None:
    """Rewrite the ``chats``/``chat_questions`` rows of ``campaign`` (inside the caller's
    transaction ``con``)."""
    old = [
        r[0] for r in con.execute("SELECT slug FROM chats WHERE campaign_id = ?", [campaign_id]).fetchall()
    ]
    for slug in old:
        con.execute("DELETE FROM chat_questions WHERE slug = ?", [slug])
    con.execute("DELETE FROM chats WHERE campaign_id = ?", [campaign_id])
    for chat in chats_of(campaign):
        # A slug is unique in the archive: a chat moved to another campaign replaces the old row.
        con.execute("DELETE FROM chat_questions WHERE slug = ?", [chat.slug])
        con.execute("DELETE FROM chats WHERE slug = ?", [chat.slug])
        con.execute(
            "INSERT INTO chats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                chat.slug,
                campaign_id,
                chat.series_key,
                json.dumps(chat.hashtags, ensure_ascii=False),
                chat.start_utc,
                chat.end_utc,
                chat.grace_end_utc,
                json.dumps(chat.hosts, ensure_ascii=False),
                chat.title,
            ],
        )
        rows = [
            [chat.slug, i + 1, q, t]
            for i, (q, t) in enumerate(zip(chat.questions, chat.question_times(), strict=True))
        ]
        if rows:
            con.executemany("INSERT INTO chat_questions VALUES (?, ?, ?, ?)", rows)


def chats_of(campaign: Any) -> list[Chat]:
    """The valid chats of a parsed or stored ``Campaign`` (problems are reported by
    ``parse_campaign``; an entry with one is left out here)."""
    chats, _ = parse_chats(
        campaign.extra.get("chats"), timezone=campaign.timezone, campaign_slug=campaign.slug
    )
    return chats


def find_chat(campaigns: list[Any], slug: str) -> Chat | None:
    """The chat ``slug`` among ``campaigns``' chats, or None."""
    for c in campaigns:
        for chat in chats_of(c):
            if chat.slug == slug:
                return chat
    return None
