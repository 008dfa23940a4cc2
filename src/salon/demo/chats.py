"""A synthetic chat series (#musesocial), written in the platforms' own formats, with the ground
truth of every post (DESIGN.md, Chat answer). **Everything here is invented.**

Three weekly chats of five questions (one hour, a question every 12 minutes), about forty
participants on X, Mastodon and Bluesky. The hosts post the questions by hand on each platform
(``Q1 ...``, ``Q2: ...``, ``#musesocial Q.3 ...``, ``T4 ...``; on Bluesky a question is a reply to
the previous one, as hosts thread them). Participants answer in every way the definition has to
sort out: a reply with a marker, a reply without one, a marker without a reply (``A1``, ``A1:``,
``A1 -``, ``A.1``, ``a1)``, ``A1a``, ``R1``, and ``Q1`` by a non-host), a reply to the question
that forgot the hashtag (untagged), a reply under one question carrying another's number (the
thread wins, flagged), a quote of the question, a late reply within the grace period, a late
marker after the window (nothing), replies to answers down the chain (with and without the
hashtag), hosts replying (conversation), small talk (conversation), reposts (counted, not
listed), and a few deleted answers.

``generate_chats(folder)`` writes ``data/`` (X API v2 pages, Mastodon statuses, a Jetstream
capture), ``musesocial.toml`` (the campaign with its ``[[chats]]``), ``participants.csv`` and
``chat_truth.json``: for every post uid its chat, role (question, answer, conversation,
untagged, repost, none), question, rule and flag, decided here from the plan's own structure,
never by reading the files back.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from salon.campaigns.chat_answers import chat_assignment
from salon.campaigns.chat_store import chat_by_slug
from salon.campaigns.config import load_campaign
from salon.campaigns.export import toml_value
from salon.campaigns.stored import save_campaign
from salon.demo import world as W
from salon.demo.formats.bluesky import jetstream_events
from salon.demo.formats.mastodon import m_status
from salon.demo.formats.x import x_compliance, x_pages
from salon.demo.ids import Ids, us
from salon.demo.model import Account, Config, PlanPost, zone
from salon.demo.population import build_world
from salon.importer import import_paths

__all__ = [
    "CHAT_TAG",
    "CHAT_TZ",
    "QUESTIONS",
    "ChatSeriesConfig",
    "add_chat_campaign",
    "add_chat_demo",
    "assignment_accuracy",
    "generate_chats",
    "plan_chats",
    "prepare_chats",
]

CHAT_TAG = "musesocial"
CHAT_TZ = "America/New_York"
QUESTION_MINUTES = (0, 12, 24, 36, 48)
MINUTES = 60
QUESTIONS = (
    (
        "What do you know about social media in museums now that you did not a year ago?",
        "Which platform brings your visitors into the conversation best, and why?",
        "How do you share the work behind the scenes without giving away too much?",
        "Who answers your museum's posts, and how fast?",
        "What is one thing you will try after this chat?",
    ),
    (
        "How do you write alt text for a collection of 10 000 objects?",
        "Which post of yours surprised you the most this year?",
        "How do curators and the social media team work together?",
        "What do you do when a post goes wrong?",
        "Which museum account do you follow for ideas?",
    ),
    (
        "How do you measure whether a chat like this one is worth it?",
        "What do you archive of your museum's posts, and where?",
        "Qui parle pour le musée : une voix ou plusieurs ? (FR/EN welcome)",
        "How do you invite people who never visit museums?",
        "What should the next #musesocial be about?",
    ),
)
ANSWERS = (
    "we started small and listened first",
    "short videos from the conservation lab work best for us",
    "the visitors' own photos, shared back with credit",
    "a weekly thread on one object, with its story",
    "honestly, we are still figuring it out",
    "our education team answers within the hour",
    "more questions, fewer announcements",
    "we ask the curators to write one post a month themselves",
    "alt text first, then the caption",
    "a shared calendar with the curators helps a lot",
    "we apologise quickly and explain what happened",
    "we keep everything in a spreadsheet, for now",
)
ANSWERS_FR = ("nous répondons à chaque commentaire", "une vidéo courte depuis l'atelier de restauration")
REPLIES = (
    "so true!",
    "same here",
    "love this idea",
    "how long did that take?",
    "we should try that",
    "great point",
)
SMALL_TALK = (
    "Hello from {city}, first time joining",
    "Lurking today but reading everything",
    "Coffee ready, let's go",
    "So many good ideas in here",
    "Saving this whole thread for our team meeting",
)
# The answer markers the generator writes (every form of DESIGN.md): text before the answer.
MARKERS = ("A{n} ", "A{n}: ", "A{n} - ", "A.{n} ", "a{n}) ", "A{n}a ", "A{n}b ")
QUESTION_FORMS = ("Q{n} {q}", "Q{n}: {q}", "Q.{n} {q}", "T{n} {q}", "Q{n} {q}")

# How a participant answers a question (weights).
MODES = (
    ("thread_marker", 30),
    ("thread_plain", 15),
    ("marker", 28),
    ("marker_q", 3),
    ("untagged", 7),
    ("wrong", 4),
    ("quote", 5),
    ("late", 5),
    ("late_marker", 3),
)


@dataclass
class ChatSeriesConfig:
    seed: int = 2012
    chats: int = 3
    first: date = date(2025, 5, 22)  # a Thursday, after the demo MuseumWeek
    per_platform: int = 13  # participants per platform (plus hosts)
    # Explicit UTC starts of the chats (aware datetimes), e.g. for a chat happening now; by
    # default weekly at 19:00 New York time from ``first``.
    starts: tuple[datetime, ...] | None = None


@dataclass
class Truth:
    chat: str
    role: str  # question | answer | conversation | untagged | repost | none
    n: int | None = None
    rule: str | None = None
    flag: str | None = None


class _ChatPlanner:
    def __init__(self, cfg: ChatSeriesConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.world = build_world(self.rng, 30, cfg.first)
        self.posts: list[PlanPost] = []
        self.truth: dict[int, Truth] = {}
        rng = self.rng
        # The hosts: the first institution account on each platform (a team of three accounts).
        self.hosts: dict[str, Account] = {}
        for inst in self.world.institutions:
            for a in inst.accounts:
                self.hosts.setdefault(a.platform, a)
        self.people: dict[str, list[Account]] = {}
        for platform in ("x", "mastodon", "bluesky"):
            pool = [
                a
                for a in self.world.accounts()
                if a.platform == platform
                and a.role in ("institution", "public")
                and a not in self.hosts.values()
            ]
            rng.shuffle(pool)
            self.people[platform] = pool[: cfg.per_platform]

    def new(
        self, platform: str, author: Account, kind: str, created: datetime, pieces: list[tuple[str, str, Any]]
    ) -> PlanPost:
        p = PlanPost(len(self.posts), platform, author, kind, created, "en", pieces=pieces)
        self.posts.append(p)
        return p

    @staticmethod
    def pieces(text: str, tag: bool = True, lead_tag: bool = False) -> list[tuple[str, str, Any]]:
        t = ("tag", "#" + CHAT_TAG, CHAT_TAG)
        if lead_tag:
            return [t, ("text", " " + text, None)]
        return [("text", text, None)] + ([("text", " ", None), t] if tag else [])

    def after(self, base: datetime, lo: float, hi: float) -> datetime:
        """A moment lo..hi seconds after ``base`` (replies at least 20 s after their parent)."""
        return base + timedelta(seconds=self.rng.uniform(max(lo, 25), hi))

    def chat(self, k: int) -> dict[str, Any]:
        rng = self.rng
        slug = f"{CHAT_TAG}-{k + 1}"
        start_local: datetime = datetime.combine(self.cfg.first + timedelta(days=7 * k), time(19, 0))
        start = start_local.replace(tzinfo=zone(CHAT_TZ)).astimezone(UTC)
        if self.cfg.starts:
            start = self.cfg.starts[k].astimezone(UTC).replace(second=0, microsecond=0)
            start_local = start.astimezone(zone(CHAT_TZ))  # written with its offset
        end = start + timedelta(minutes=MINUTES)
        qs = QUESTIONS[k % len(QUESTIONS)]
        for platform, host in self.hosts.items():
            welcome = self.new(
                platform,
                host,
                "original",
                start + timedelta(seconds=5),
                self.pieces("Welcome! The chat starts now", lead_tag=True),
            )
            self.truth[welcome.idx] = Truth(slug, "conversation")
            qposts: list[PlanPost] = []
            for n, (q, m) in enumerate(zip(qs, QUESTION_MINUTES, strict=True), 1):
                created = start + timedelta(minutes=m, seconds=rng.uniform(30, 50))
                form = QUESTION_FORMS[(n + k) % len(QUESTION_FORMS)]
                text = form.format(n=n, q=q)
                lead = form.startswith("Q.")
                if lead:
                    pcs = [("tag", "#" + CHAT_TAG, CHAT_TAG), ("text", " " + text, None)]
                else:
                    pcs = self.pieces(text, tag="#musesocial" not in q)
                kind = "original"
                qp = self.new(platform, host, kind, created, pcs)
                if platform == "bluesky" and qposts:  # hosts thread their questions on Bluesky
                    qp.kind, qp.parent = "reply", qposts[-1]
                qposts.append(qp)
                self.truth[qp.idx] = Truth(slug, "question", n)
            self.participants(slug, platform, qposts, start, end)
            bye = self.new(
                platform,
                host,
                "original",
                end - timedelta(minutes=2),
                self.pieces("Thank you all, see you next week"),
            )
            self.truth[bye.idx] = Truth(slug, "conversation")
        return {
            "slug": slug,
            "title": f"#musesocial, week {k + 1}",
            "hashtag": CHAT_TAG,
            "start": start_local,
            "minutes": MINUTES,
            "hosts": [
                f"x:{self.hosts['x'].username}",
                f"mastodon:{self.hosts['mastodon'].handle}",
                f"bluesky:{self.hosts['bluesky'].native_id}",
            ],
            "questions": list(qs),
            "question_minutes": list(QUESTION_MINUTES),
        }

    def participants(
        self, slug: str, platform: str, qposts: list[PlanPost], start: datetime, end: datetime
    ) -> None:
        rng = self.rng
        host = self.hosts[platform]
        # Not everyone comes every week: first-timers and returning participants across the series.
        people = [a for a in self.people[platform] if rng.random() < 0.75]
        nq = len(qposts)
        modes = [m for m, _ in MODES if not (m == "quote" and platform == "mastodon")]
        weights = [w for m, w in MODES if not (m == "quote" and platform == "mastodon")]
        answers: list[tuple[PlanPost, Truth]] = []
        for person in people:
            if rng.random() < 0.5:
                city = person.institution.city if person.institution else (person.location or "Lyon")
                p = self.new(
                    platform,
                    person,
                    "original",
                    self.after(start, 60, 600),
                    self.pieces(rng.choice(SMALL_TALK).format(city=city)),
                )
                self.truth[p.idx] = Truth(slug, "conversation")
            for n, q in enumerate(qposts, 1):
                if rng.random() > 0.7:
                    continue
                mode = rng.choices(modes, weights)[0]
                fr = person.lang == "fr"
                words = rng.choice(ANSWERS_FR if fr and rng.random() < 0.6 else ANSWERS)
                marker = ("R{n} " if fr and rng.random() < 0.5 else rng.choice(MARKERS)).format(n=n)
                slot_end = min(q.created + timedelta(minutes=11), end - timedelta(seconds=30))
                created = self.after(q.created, 25, max(30.0, (slot_end - q.created).total_seconds()))
                t: Truth
                if mode == "thread_marker":
                    p = self.new(platform, person, "reply", created, self.pieces(marker + words))
                    p.parent, t = q, Truth(slug, "answer", n, "thread")
                elif mode == "thread_plain":
                    p = self.new(platform, person, "reply", created, self.pieces(words))
                    p.parent, t = q, Truth(slug, "answer", n, "thread")
                elif mode == "marker":
                    p = self.new(
                        platform,
                        person,
                        "original",
                        created,
                        self.pieces(marker + words, lead_tag=rng.random() < 0.2),
                    )
                    t = Truth(slug, "answer", n, "marker")
                elif mode == "marker_q":
                    p = self.new(platform, person, "original", created, self.pieces(f"Q{n} {words}"))
                    t = Truth(slug, "answer", n, "marker")
                elif mode == "untagged":
                    text = (marker + words) if rng.random() < 0.5 else words
                    p = self.new(platform, person, "reply", created, self.pieces(text, tag=False))
                    p.parent, t = q, Truth(slug, "untagged", n)
                elif mode == "wrong":
                    other_n = n + 1 if n < nq else n - 1
                    p = self.new(platform, person, "reply", created, self.pieces(f"A{other_n} {words}"))
                    p.parent, t = q, Truth(slug, "answer", n, "thread", "thread-marker-disagree")
                elif mode == "quote":
                    p = self.new(platform, person, "quote", created, self.pieces(words))
                    p.quoted, t = q, Truth(slug, "answer", n, "thread")
                elif mode == "late":
                    late = end + timedelta(minutes=rng.uniform(5, 600))
                    p = self.new(platform, person, "reply", late, self.pieces(words))
                    p.parent, t = q, Truth(slug, "answer", n, "thread")
                else:  # late_marker: after the window, not in a thread: not part of the chat
                    late = end + timedelta(minutes=rng.uniform(5, 120))
                    p = self.new(platform, person, "original", late, self.pieces(marker + words))
                    t = Truth(slug, "none")
                self.truth[p.idx] = t
                if t.role == "answer" and p.created < end - timedelta(minutes=3):
                    answers.append((p, t))
        # Reactions to answers: replies down the chain, hosts' replies, reposts, deletions.
        for p, t in answers:
            r = rng.random()
            if r < 0.25:
                other = rng.choice([a for a in people if a is not p.author])
                tagged = rng.random() < 0.7
                rep = self.new(
                    platform,
                    other,
                    "reply",
                    self.after(p.created, 25, 150),
                    self.pieces(rng.choice(REPLIES), tag=tagged),
                )
                rep.parent = p
                if t.rule == "thread":  # down the question's reply chain
                    self.truth[rep.idx] = (
                        Truth(slug, "answer", t.n, "thread") if tagged else Truth(slug, "untagged", t.n)
                    )
                else:  # a reply to a marker answer is outside every thread
                    self.truth[rep.idx] = Truth(slug, "conversation" if tagged else "none")
            elif r < 0.35:
                rep = self.new(
                    platform,
                    host,
                    "reply",
                    self.after(p.created, 25, 120),
                    self.pieces("Great point, thank you"),
                )
                rep.parent = p
                self.truth[rep.idx] = Truth(slug, "conversation")  # a host's reply is never an answer
            elif r < 0.45:
                other = rng.choice([a for a in people if a is not p.author])
                rp = self.new(platform, other, "repost", self.after(p.created, 25, 120), [])
                rp.reposted = p
                self.truth[rp.idx] = Truth(slug, "repost")
            elif r < 0.47 and platform in ("x", "bluesky"):
                p.deleted_at = p.created + timedelta(hours=2)

    def finish(self) -> None:
        rng = self.rng
        referenced = {t.idx for p in self.posts for t in (p.parent, p.quoted, p.reposted) if t is not None}
        for p in self.posts:
            if p.idx in referenced:
                p.deleted_at = None  # a post others react to stays (as in the main generator)
            if p.platform == "x":
                p.created = p.created.replace(microsecond=0)
            else:
                p.created = p.created.replace(microsecond=(p.created.microsecond // 1000) * 1000)
        ids = Ids(rng)
        for p in sorted(self.posts, key=lambda q: (q.created, q.idx)):
            if p.platform == "x":
                p.x_id = ids.x(p.created)
            elif p.platform == "mastodon":
                p.m_origin_id = ids.mastodon(p.created)
                if p.author.host == W.MASTODON_SERVING:
                    p.m_id = p.m_origin_id
                else:
                    p.m_id = ids.mastodon(p.created + timedelta(milliseconds=rng.randrange(200, 20000)))
            else:
                p.b_time_us = us(p.created) + rng.randrange(150_000, 3_000_000)
                p.b_rkey = ids.rkey(us(p.created))


class _ChatConfig(Config):
    """The generator's Config, searching #musesocial (the X pages' request URL)."""

    def official(self) -> list[str]:
        return [CHAT_TAG]


def plan_chats(cfg: ChatSeriesConfig | None = None) -> tuple[_ChatPlanner, list[dict[str, Any]]]:
    """The planned series: the planner (posts, truth, hosts) and the ``[[chats]]`` entries."""
    planner = _ChatPlanner(cfg or ChatSeriesConfig())
    chats = [planner.chat(k) for k in range(planner.cfg.chats)]
    planner.finish()
    return planner, chats


def _toml(cfg: ChatSeriesConfig, chats: list[dict[str, Any]]) -> str:
    last = cfg.first + timedelta(days=7 * (cfg.chats - 1) + 2)
    out = [
        "[campaign]",
        'name = "#musesocial chats (synthetic)"',
        'slug = "musesocial"',
        'series = "musesocial"',
        f'timezone = "{CHAT_TZ}"',
        f"start = {cfg.first.isoformat()}",
        f"end = {last.isoformat()}          # exclusive",
        f'hashtags = ["{CHAT_TAG}"]',
        "",
        "[participants]",
        'file = "participants.csv"',
        "",
    ]
    for c in chats:
        out.append("[[chats]]")
        out.extend(f"{k} = {toml_value(v)}" for k, v in c.items())
        out.append("")
    return "\n".join(out)


def _participants(planner: _ChatPlanner) -> str:
    lines = ["name,country,city,kind,x,mastodon,bluesky"]
    for inst in planner.world.institutions:
        acc = {
            pl: " ".join(a.handle for a in inst.accounts if a.platform == pl)
            for pl in ("x", "mastodon", "bluesky")
        }
        name = inst.name.replace('"', "'")
        lines.append(
            f'"{name}",{inst.country},"{inst.city}",{inst.kind},{acc["x"]},{acc["mastodon"]},{acc["bluesky"]}'
        )
    return "\n".join(lines) + "\n"


def _m_events(posts: list[PlanPost]) -> list[dict[str, Any]]:
    """Mastodon statuses as ``salon collect`` saves them: the streaming API's ``update`` events
    of the serving server, oldest first, each wrapped with the server's host (which is how
    Salon resolves ``in_reply_to_id``, an id of that server, to a uri)."""
    ordered = sorted(posts, key=lambda q: int(q.m_id))
    return [{"instance": W.MASTODON_SERVING, "event": "update", "payload": m_status(p)} for p in ordered]


def _jsonl(path: Path, objs: list[Any], ascii_only: bool = False) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for o in objs:
            fh.write(json.dumps(o, ensure_ascii=ascii_only) + "\n")
    return len(objs)


def _write_data(
    folder: Path, cfg: ChatSeriesConfig, posts: list[PlanPost], rng: random.Random
) -> dict[str, int]:
    """The posts in the platforms' formats under ``folder/data``; {relative path: records}."""
    by = {pl: [p for p in posts if p.platform == pl] for pl in ("x", "mastodon", "bluesky")}
    out = {
        "x/search-musesocial.jsonl": (x_pages(_ChatConfig(seed=cfg.seed), by["x"]), True),
        "mastodon/musesocial.jsonl": (_m_events(by["mastodon"]), False),
        "bluesky/jetstream-musesocial.jsonl": (jetstream_events(by["bluesky"], rng), False),
        "x/compliance-musesocial.jsonl": (x_compliance(by["x"]), False),
    }
    return {
        f"data/{rel}": _jsonl(folder / "data" / rel, objs, ascii_only)
        for rel, (objs, ascii_only) in out.items()
        if objs
    }


def generate_chats(
    folder: str | Path, cfg: ChatSeriesConfig | None = None, *, split: datetime | None = None
) -> dict[str, Any]:
    """Write the chat series into ``folder`` and return its ground truth (also written to
    ``folder/chat_truth.json``). Deterministic for ``cfg.seed``. With ``split``, the posts
    created from then on are written apart, under ``folder/later/data`` (a live test imports
    them while the chat page is open)."""
    cfg = cfg or ChatSeriesConfig()
    planner, chats = plan_chats(cfg)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    posts = planner.posts
    early = [p for p in posts if split is None or p.created < split]
    files = _write_data(folder, cfg, early, planner.rng)
    if split is not None:
        late = [p for p in posts if p.created >= split]
        files.update(
            {f"later/{k}": v for k, v in _write_data(folder / "later", cfg, late, planner.rng).items()}
        )
    (folder / "musesocial.toml").write_text(_toml(cfg, chats), encoding="utf-8", newline="\n")
    (folder / "participants.csv").write_text(_participants(planner), encoding="utf-8", newline="")
    per_post = {}
    for p in posts:
        t = planner.truth[p.idx]
        per_post[p.native_uid] = {
            "chat": t.chat,
            "role": t.role,
            "n": t.n,
            "rule": t.rule,
            "flag": t.flag,
            "platform": p.platform,
            "deleted": p.deleted_at is not None,
            "later": split is not None and p.created >= split,
        }
    authors = {p.author.native_id for p in posts}
    truth = {
        "generator": {"seed": cfg.seed, "chats": cfg.chats},
        "campaign": {"file": "musesocial.toml", "slug": "musesocial"},
        "chats": [c["slug"] for c in chats],
        "files": files,
        "accounts": len(authors),
        "posts": per_post,
    }
    with (folder / "chat_truth.json").open("w", encoding="utf-8", newline="\n") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    return truth


def assignment_accuracy(archive: Any, truth: dict[str, Any]) -> dict[str, Any]:
    """Compare the archive's assignment of every chat (``salon.campaigns.chat_answers``) with the
    generator's ground truth, post by post: {"posts", "correct", "accuracy", "thread_linked",
    "thread_correct", "thread_accuracy", "wrong": [first mismatches]}."""
    got: dict[str, tuple[Any, ...]] = {}
    for slug in truth["chats"]:
        chat = chat_by_slug(archive, slug)
        if chat is None:
            continue
        a = chat_assignment(archive, chat)
        qs = a.question_uids()
        for u in a.posts:
            role = a.role(u)
            if role == "none":
                continue
            ans = a.answers.get(u)
            n = ans.n if ans else a.untagged.get(u, qs.get(u))
            got[u] = (slug, role, n, ans.rule if ans else None, ans.flag if ans else None)
    correct = thread = thread_ok = 0
    wrong: list[dict[str, Any]] = []
    for uid, t in truth["posts"].items():
        want = None if t["role"] == "none" else (t["chat"], t["role"], t["n"], t["rule"], t["flag"])
        ok = got.get(uid) == want
        correct += ok
        if t["rule"] == "thread":
            thread += 1
            thread_ok += ok
        if not ok and len(wrong) < 20:
            wrong.append({"uid": uid, "want": want, "got": got.get(uid)})
    n = len(truth["posts"])
    return {
        "posts": n,
        "correct": correct,
        "accuracy": correct / n if n else 1.0,
        "thread_linked": thread,
        "thread_correct": thread_ok,
        "thread_accuracy": thread_ok / thread if thread else 1.0,
        "unexpected": sorted(u for u in got if u not in truth["posts"])[:20],
        "wrong": wrong,
    }


def prepare_chats(folder: str | Path) -> dict[str, Any]:
    """The chat series' ground truth in ``folder``, generated there first unless it is there."""
    folder = Path(folder)
    if (folder / "chat_truth.json").is_file():
        return dict(json.loads((folder / "chat_truth.json").read_text(encoding="utf-8")))
    return generate_chats(folder)


def add_chat_campaign(folder: str | Path, truth: dict[str, Any], archive: Any) -> Any:
    """Store the series' campaign file (with its ``[[chats]]``) in ``archive``."""
    path = Path(folder) / truth["campaign"]["file"]
    c = load_campaign(path)
    save_campaign(archive, c, path.read_text(encoding="utf-8"))
    return c


def add_chat_demo(folder: str | Path, archive: Any) -> dict[str, Any]:
    """The chat series in ``folder`` (generated there unless it holds one), imported into
    ``archive`` through the normal import path with its campaign stored; returns the accuracy
    of the assignment against the ground truth (``assignment_accuracy``) plus ``records``."""
    folder = Path(folder)
    truth = prepare_chats(folder)
    report = import_paths([str(folder / "data")], archive)
    add_chat_campaign(folder, truth, archive)
    out = assignment_accuracy(archive, truth)
    out["records"] = report.records_in
    out["chats"] = truth["chats"]
    return out
