"""The plan of a synthetic MuseumWeek: an invented world (institutions in ~58 countries with
their accounts on X, Mastodon and Bluesky, members of the public, spam and outside accounts) and
every post with its author, time, kind, language, text pieces, hashtags, mentions, links, photos,
reply/quote/repost target, deletion and engagement, independently of any platform's format.

Posts follow a daily rhythm in each author's time zone, so an institution in Tokyo or Los
Angeles posts its theme on its own local day, which may fall on another date in the campaign's
time zone. Deterministic: one ``random.Random(seed)``, no clock, no iteration over sets.
Everything is synthetic (see ``salon.demo.world``).

This module draws the posts (``Planner``, ``make_plan``); the plan's parts live beside it:
``salon.demo.model`` (options, accounts, posts), ``salon.demo.population`` (the world's
institutions and accounts) and ``salon.demo.ids`` (native ids, keys and hashes). Their names are
re-exported here, where the generator and the formats import them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from salon.demo import world as W
from salon.demo.ids import Ids, b62, cid, digest, hexid, id_path, iso_ms, ms, tid, us
from salon.demo.impostor import add_impostor
from salon.demo.model import (
    CAMPAIGN_TZ,
    DEFAULT_DAYS,
    DEFAULT_INSTITUTIONS,
    DEFAULT_POSTS,
    DEFAULT_SEED,
    DEFAULT_START,
    PLATFORMS,
    Account,
    Config,
    Institution,
    Media,
    PlanPost,
    World,
    short,
    strip_mentions,
    zone,
)
from salon.demo.population import Picker, ascii_fold, build_world
from salon.hashtags import tag_key

__all__ = [
    "CAMPAIGN_TZ",
    "DEFAULT_DAYS",
    "DEFAULT_INSTITUTIONS",
    "DEFAULT_POSTS",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "PLATFORMS",
    "Account",
    "Config",
    "Institution",
    "Media",
    "PlanPost",
    "Planner",
    "World",
    "ascii_fold",
    "b62",
    "build_world",
    "cid",
    "digest",
    "hexid",
    "id_path",
    "iso_ms",
    "make_plan",
    "ms",
    "short",
    "strip_mentions",
    "tid",
    "us",
    "zone",
]

_PLATFORM_WEIGHT = {"x": 0.5, "bluesky": 0.3, "mastodon": 0.2}
_DAY_WEIGHTS = (1.35, 1.1, 1.0, 0.95, 0.95, 0.8, 0.85)


def _word_tag(s: str) -> str:
    """A place name as a hashtag: letters and digits only (``Cluj-Napoca`` → ``ClujNapoca``)."""
    return "".join(ch for ch in s if ch.isalnum())


class Planner:
    """Turns a world and a config into the list of posts (see the module docstring)."""

    def __init__(self, cfg: Config, world: World, rng: random.Random) -> None:
        self.cfg = cfg
        self.world = world
        self.rng = rng
        self.posts: list[PlanPost] = []
        self.external_posts: list[PlanPost] = []
        allowed = set(cfg.platforms)
        w = _DAY_WEIGHTS[: cfg.days]
        self.day_pick = Picker(range(len(w)), w)
        self.public_by_platform: dict[str, Picker] = {}
        self.inst_by_platform: dict[str, Picker] = {}
        for p in cfg.platforms:
            pub = [a for a in world.public if a.platform == p]
            self.public_by_platform[p] = Picker(pub, [1.0 + math.log1p(a.followers) for a in pub])
            inst = [a for i in world.institutions for a in i.accounts if a.platform == p and i.activity > 0]
            self.inst_by_platform[p] = Picker(
                inst, [a.institution.activity if a.institution else 0 for a in inst]
            )
        self.active = [
            i for i in world.institutions if i.activity > 0 and any(a.platform in allowed for a in i.accounts)
        ]
        self.inst_pick = Picker(self.active, [i.activity for i in self.active])
        pubs = [a for a in world.public if a.platform in allowed]
        self.pub_pick = Picker(pubs, [1.0 + math.log1p(a.followers) for a in pubs])
        spam = [a for a in world.spam if a.platform in allowed]
        self.spam_pick = Picker(spam, [1.0] * len(spam))
        by_country: dict[str, list[Institution]] = {}
        for i in world.institutions:
            by_country.setdefault(i.country, []).append(i)
        self.inst_by_country = by_country
        self.reposted_pairs: set[tuple[int, int]] = set()

    # -- time -----------------------------------------------------------------------------------

    def local_time(self, account: Account, day: int, role: str | None = None) -> datetime:
        """A moment on local day ``day`` (0 = the campaign's first date) in the author's daily
        rhythm: institutions in office hours, the public at lunch and in the evening."""
        rng = self.rng
        role = role or account.role
        if role == "institution":
            h = rng.gauss(10.5, 1.4) if rng.random() < 0.55 else rng.gauss(15.0, 1.8)
            h = min(21.5, max(7.0, h))
        elif role == "public":
            h = rng.gauss(12.5, 2.5) if rng.random() < 0.45 else rng.gauss(20.5, 1.6)
            h = min(23.95, max(6.5, h))
        else:
            h = rng.uniform(0, 23.99)
        secs = int(h * 3600)
        local = datetime.combine(self.cfg.start + timedelta(days=day), time(0), zone(account.tz))
        naive = local.replace(tzinfo=None) + timedelta(seconds=secs, milliseconds=rng.randrange(1000))
        return naive.replace(tzinfo=zone(account.tz)).astimezone(UTC)

    def pick_day(self) -> int:
        return int(self.day_pick.pick(self.rng))

    # -- hashtags -------------------------------------------------------------------------------

    def variant(self, tag: str) -> str:
        """How people write an official tag: mostly as published, sometimes in other cases, and
        #MuseumWeek now and then with an accent (all share one key)."""
        r = self.rng.random()
        if r < 0.82:
            return tag
        if r < 0.91:
            return tag.lower()
        if r < 0.95:
            return tag.upper()
        if r < 0.98:
            return tag[0].lower() + tag[1:]
        if tag == W.CAMPAIGN_TAG:
            return self.rng.choice(("MuséumWeek", "Museumweek"))
        return tag.capitalize()

    def tag_piece(self, display: str, key: str | None = None) -> tuple[str, str, str]:
        return ("tag", "#" + display, key if key is not None else tag_key(display))

    def official_pieces(self, theme: int | None, *, mw: float, theme_p: float) -> list[tuple[str, str, Any]]:
        out = []
        if theme is not None and self.rng.random() < theme_p:
            tag = self.cfg.themes[theme][1]
            out.append(self.tag_piece(self.variant(tag), tag.lower()))
        if self.rng.random() < mw or not out:
            out.append(self.tag_piece(self.variant(W.CAMPAIGN_TAG), W.CAMPAIGN_TAG.lower()))
        return out

    def topic_pieces(self, lang: str, n: int) -> list[tuple[str, str, Any]]:
        tags = W.TOPIC_TAGS.get(lang, W.TOPIC_TAGS["en"])
        return [self.tag_piece(t) for t in self.rng.sample(tags, min(n, len(tags)))]

    # -- composing ------------------------------------------------------------------------------

    def compose(
        self,
        sentence: str,
        tags: list[tuple[str, str, Any]],
        *,
        lead_tag: bool = False,
        mention: Account | None = None,
        urls: Sequence[str] = (),
        lang: str = "en",
    ) -> list[tuple[str, str, Any]]:
        """Pieces of a text: optional leading tag, sentence, mention, links, then hashtags."""
        pieces: list[tuple[str, str, Any]] = []
        seen: set[str] = set()
        uniq = []
        for t in tags:
            if t[2] not in seen:
                seen.add(t[2])
                uniq.append(t)
        tags = uniq
        if lead_tag and tags:
            pieces += [tags[0], ("text", " : " if lang == "fr" else ": ", None)]
            tags = tags[1:]
        pieces.append(("text", sentence, None))
        if mention is not None:
            pieces += [("text", " ", None), ("mention", "@" + mention.username, mention)]
        for u in urls:
            pieces += [("text", " ", None), ("url", u, u)]
        for t in tags:
            pieces += [("text", " ", None), t]
        return _fit(pieces)

    def new_post(self, platform: str, author: Account, kind: str, created: datetime, lang: str) -> PlanPost:
        p = PlanPost(len(self.posts), platform, author, kind, created, lang)
        self.posts.append(p)
        return p

    def photo(self, lang: str, key: str) -> Media:
        alts = W.ALT_TEXTS.get(lang, W.ALT_TEXTS["en"])
        w, h = self.rng.choice(((1200, 800), (1080, 1080), (900, 1200), (1600, 900)))
        return Media(self.rng.choice(alts) if self.rng.random() < 0.7 else "", w, h, key)

    # -- originals ------------------------------------------------------------------------------

    def institution_originals(self, n: int) -> None:
        rng, made = self.rng, 0
        allowed = set(self.cfg.platforms)
        while made < n and self.inst_pick:
            inst: Institution = self.inst_pick.pick(rng)
            accounts = [a for a in inst.accounts if a.platform in allowed]
            acc = Picker(
                accounts,
                [
                    _PLATFORM_WEIGHT[a.platform] * (1.0 if a.display_name == inst.name else 0.25)
                    for a in accounts
                ],
            ).pick(rng)
            lang = inst.lang if inst.lang in W.LANGS else "en"
            if lang != "en" and rng.random() < 0.12:
                lang = "en"
            r = rng.random()
            if r < 0.02:  # the evening before
                day, theme = -1, None
                created = self.local_time(acc, day)
                sentence, tags = (
                    W.TEASER_TEXTS[lang],
                    [self.tag_piece(self.variant(W.CAMPAIGN_TAG), "museumweek")],
                )
            elif r < 0.035:  # the morning after
                day, theme = self.cfg.days, None
                created = self.local_time(acc, day)
                sentence, tags = (
                    W.THANKS_TEXTS[lang],
                    [self.tag_piece(self.variant(W.CAMPAIGN_TAG), "museumweek")],
                )
            else:
                day = self.pick_day()
                theme = day if rng.random() < 0.86 else rng.randrange(len(self.cfg.themes))
                created = self.local_time(acc, day)
                texts = W.THEME_TEXTS[lang][theme % 7]
                sentence = rng.choice(texts).format(obj=rng.choice(W.OBJECTS[lang]), city=inst.city)
                if rng.random() < 0.02:  # look-alike tags only: not a campaign post
                    tags = [self.tag_piece(rng.choice(W.LOOKALIKE_TAGS).format(year=self.cfg.start.year))]
                else:
                    tags = self.official_pieces(theme, mw=0.7, theme_p=0.92)
                if rng.random() < 0.4:
                    tags += self.topic_pieces(lang, 1 if rng.random() < 0.75 else 2)
                if rng.random() < 0.08:
                    tags.append(self.tag_piece(_word_tag(inst.city)))
            others = self.inst_by_platform.get(acc.platform)
            mention = others.pick(rng) if others and rng.random() < 0.1 else None
            if mention is acc:
                mention = None
            urls = [f"{acc.website}/museumweek"] if acc.website and rng.random() < 0.15 else []
            pieces = self.compose(
                sentence, tags, lead_tag=rng.random() < 0.12, mention=mention, urls=urls, lang=lang
            )
            media = [self.photo(lang, f"m{len(self.posts)}")] if rng.random() < 0.55 else []
            p = self.new_post(acc.platform, acc, "original", created, lang)
            p.pieces, p.media, p.theme = pieces, media, theme
            made += 1
            # Cross-posting the same text to another of the institution's platforms.
            other = [a for a in accounts if a.platform != acc.platform]
            if made < n and other and rng.random() < 0.3:
                acc2 = rng.choice(other)
                q = self.new_post(
                    acc2.platform,
                    acc2,
                    "original",
                    created + timedelta(seconds=rng.randrange(60, 1200)),
                    lang,
                )
                q.pieces = strip_mentions(pieces)
                q.media = [Media(m.alt, m.width, m.height, m.key + "b") for m in media]
                q.theme = theme
                made += 1

    def public_originals(self, n: int) -> None:
        rng = self.rng
        for _ in range(n):
            if not self.pub_pick:
                return
            acc: Account = self.pub_pick.pick(rng)
            lang = acc.lang
            day = self.pick_day()
            created = self.local_time(acc, day)
            theme = day
            pool = self.inst_by_country.get(acc.country, []) or self.world.institutions
            inst = rng.choice(pool)
            sentence = rng.choice(W.PUBLIC_TEXTS[lang]).format(
                museum=inst.name, city=inst.city, obj=rng.choice(W.OBJECTS[lang])
            )
            tags = self.official_pieces(theme, mw=0.7, theme_p=0.45) if rng.random() < 0.9 else []
            if rng.random() < 0.06:
                tags.append(self.tag_piece(rng.choice(W.LOUVRE_TAGS), "museedulouvre"))
            if rng.random() < 0.3 or not tags:
                tags += self.topic_pieces(lang, 1)
            p = self.new_post(acc.platform, acc, "original", created, lang)
            p.pieces = self.compose(sentence, tags, lang=lang)
            p.media = [self.photo(lang, f"m{p.idx}")] if rng.random() < 0.3 else []
            p.theme = theme

    def spam_posts(self, n: int) -> None:
        rng = self.rng
        lo, hi = self.cfg.window
        span = (hi - lo) + timedelta(days=2)
        for _ in range(n):
            if not self.spam_pick:
                return
            acc: Account = self.spam_pick.pick(rng)
            created = lo - timedelta(days=1) + timedelta(seconds=rng.uniform(0, span.total_seconds()))
            created = created.replace(microsecond=(created.microsecond // 1000) * 1000)
            tags = [self.tag_piece(self.variant(W.CAMPAIGN_TAG), "museumweek")]
            for i in rng.sample(range(len(self.cfg.themes)), min(len(self.cfg.themes), rng.randint(2, 4))):
                tag = self.cfg.themes[i][1]
                tags.append(self.tag_piece(tag.upper() if rng.random() < 0.3 else tag, tag.lower()))
            tags += [self.tag_piece(t) for t in rng.sample(W.SPAM_TAGS, rng.randint(3, 5))]
            urls = [
                f"https://{rng.choice(W.SPAM_DOMAINS)}/{b62('spam', len(self.posts), k, n=6)}"
                for k in range(rng.randint(2, 3))
            ]
            p = self.new_post(acc.platform, acc, "original", created, "en")
            p.pieces = self.compose(rng.choice(W.SPAM_TEXTS), tags, urls=urls)

    def external_originals(self, n: int) -> None:
        rng = self.rng
        lo, _ = self.cfg.window
        ext = [a for a in self.world.external if a.platform in self.cfg.platforms]
        for _ in range(n if ext else 0):
            acc = rng.choice(ext)
            created = lo - timedelta(days=2) + timedelta(seconds=rng.uniform(0, 8 * 86400))
            created = created.replace(microsecond=(created.microsecond // 1000) * 1000)
            p = PlanPost(-1 - len(self.external_posts), acc.platform, acc, "original", created, acc.lang)
            tags = [self.tag_piece(t) for t in rng.sample(W.TOPIC_TAGS.get(acc.lang, W.TOPIC_TAGS["en"]), 1)]
            slug = b62("news", p.idx, n=8).lower()
            p.pieces = self.compose(
                rng.choice(W.EXTERNAL_TEXTS[acc.lang]), tags, urls=[f"https://news.example/{acc.lang}/{slug}"]
            )
            p.external = True
            self.external_posts.append(p)

    # -- reactions ------------------------------------------------------------------------------

    def reactor(self, platform: str, *, institution_share: float, not_author: Account) -> Account | None:
        for _ in range(8):
            pick = self.inst_by_platform if self.rng.random() < institution_share else self.public_by_platform
            pk = pick.get(platform)
            if not pk:
                pk = (
                    self.public_by_platform if pick is self.inst_by_platform else self.inst_by_platform
                ).get(platform)
            if not pk:
                return None
            acc: Account = pk.pick(self.rng)
            if acc is not not_author:
                return acc
        return None

    def delay(self, minutes: float, sigma: float, cap_hours: float) -> timedelta:
        m = min(self.rng.lognormvariate(math.log(minutes), sigma), cap_hours * 60)
        return timedelta(seconds=max(20.0, m * 60), milliseconds=self.rng.randrange(1000))

    def reply(self, target: PlanPost, acc: Account) -> PlanPost:
        rng = self.rng
        created = target.created + self.delay(90, 1.0, 48)
        lang = acc.lang if acc.lang in W.LANGS else "en"
        theme = target.theme
        share = 0.55 if acc.role == "institution" else 0.4
        tags = self.official_pieces(theme, mw=0.5, theme_p=0.7) if rng.random() < share else []
        p = self.new_post(target.platform, acc, "reply", created, lang)
        p.parent, p.theme = target, theme
        p.pieces = self.compose(rng.choice(W.REPLY_TEXTS[lang]), tags, lang=lang)
        p.media = [self.photo(lang, f"m{p.idx}")] if rng.random() < 0.05 else []
        return p

    def quote(self, target: PlanPost, acc: Account) -> PlanPost:
        rng = self.rng
        created = target.created + self.delay(120, 1.0, 48)
        lang = acc.lang if acc.lang in W.LANGS else "en"
        city = target.author.institution.city if target.author.institution else (acc.location or "Paris")
        theme = target.theme
        tags = self.official_pieces(theme, mw=0.6, theme_p=0.6) if rng.random() < 0.7 else []
        p = self.new_post(target.platform, acc, "quote", created, lang)
        p.quoted, p.theme = target, theme
        if target.platform == "x" and not target.external and rng.random() < 0.1:
            p.parent = target  # a quote that also replies: still a quote
        p.pieces = self.compose(rng.choice(W.QUOTE_TEXTS[lang]).format(city=city), tags, lang=lang)
        return p

    def repost(self, target: PlanPost, acc: Account) -> PlanPost:
        created = target.created + self.delay(60, 1.2, 72)
        p = self.new_post(target.platform, acc, "repost", created, target.lang)
        p.reposted, p.theme = target, target.theme
        return p

    def reactions(self, n_replies: int, n_quotes: int, n_reposts: int) -> None:
        rng = self.rng
        base = [p for p in self.posts if p.kind == "original" and p.author.role != "spam"]
        weights = [
            (1.0 + math.log1p(p.author.followers)) * (2.5 if p.author.role == "institution" else 0.6)
            for p in base
        ]
        pick = Picker(base, weights)
        ext_x = [p for p in self.external_posts if p.platform == "x"]
        ext_m = [p for p in self.external_posts if p.platform == "mastodon"]
        first = round(n_replies * 0.7)
        done, budget = 0, 50 * (n_replies + n_quotes) + 100
        while done < first and pick and budget > 0:
            budget -= 1
            target = rng.choice(ext_x) if ext_x and rng.random() < 0.04 else pick.pick(rng)
            acc = self.reactor(target.platform, institution_share=0.2, not_author=target.author)
            if acc is not None:
                self.reply(target, acc)
                done += 1
        made = 0
        while made < n_quotes and pick and budget > 0:
            budget -= 1
            r = rng.random()
            if r < 0.06 and ext_x:
                target = rng.choice(ext_x)
            elif r < 0.09 and ext_m:
                target = rng.choice(ext_m)
            else:
                target = pick.pick(rng)
            acc = self.reactor(target.platform, institution_share=0.5, not_author=target.author)
            if acc is not None:
                self.quote(target, acc)
                made += 1
        # Institutions answer the public's replies to their posts (threads).
        answers = [
            p
            for p in self.posts
            if p.kind == "reply"
            and p.author.role == "public"
            and p.parent is not None
            and p.parent.author.role == "institution"
        ]
        while done < n_replies and budget > 0:
            budget -= 1
            if answers and rng.random() < 0.8:
                target = rng.choice(answers)
                assert target.parent is not None
                acc = target.parent.author
            elif pick:
                target = pick.pick(rng)
                acc = self.reactor(target.platform, institution_share=0.3, not_author=target.author)
            else:
                break
            if acc is not None:
                self.reply(target, acc)
                done += 1
        pool = [p for p in self.posts if p.kind != "repost" and p.author.role != "spam"]
        rweights = [
            (1.0 + math.log1p(p.author.followers))
            * (3.0 if p.author.role == "institution" else 0.5)
            * (1.0 if p.kind == "original" else 0.3)
            for p in pool
        ]
        rpick = Picker(pool, rweights)
        made, attempts = 0, 0
        while made < n_reposts and rpick and attempts < n_reposts * 20:
            attempts += 1
            target = rpick.pick(rng)
            acc = self.reactor(target.platform, institution_share=0.25, not_author=target.author)
            if acc is None or (id(acc), target.idx) in self.reposted_pairs:
                continue
            self.reposted_pairs.add((id(acc), target.idx))
            self.repost(target, acc)
            made += 1

    # -- finishing ------------------------------------------------------------------------------

    def finish(self) -> None:
        """Platform time precision, deletions, engagement counts, then native ids."""
        rng = self.rng
        for p in [*self.posts, *self.external_posts]:
            if p.platform == "x":
                p.created = p.created.replace(microsecond=0)
            else:
                p.created = p.created.replace(microsecond=(p.created.microsecond // 1000) * 1000)
        # Posts referenced by others are never deleted (so the tally's repost rule is unambiguous).
        referenced: set[int] = set()
        for p in self.posts:
            for t in (p.parent, p.quoted, p.reposted):
                if t is not None:
                    referenced.add(t.idx)
        deletable = [
            p
            for p in self.posts
            if p.idx not in referenced and p.kind in ("original", "reply") and p.platform in ("x", "bluesky")
        ]
        n_del = min(len(deletable), max(1, round(len(self.posts) * 0.006))) if deletable else 0
        for p in rng.sample(deletable, n_del):
            p.deleted_at = p.created + timedelta(seconds=rng.randrange(1800, 40 * 3600))
            p.deleted_at = p.deleted_at.replace(microsecond=rng.randrange(1000) * 1000)
        # Engagement as the platforms report it: at least what the plan itself holds.
        seen: dict[int, list[int]] = {}
        for p in self.posts:
            for t, slot in ((p.parent, 1), (p.quoted, 2), (p.reposted, 0)):
                if t is not None:
                    seen.setdefault(t.idx, [0, 0, 0])[slot] += 1
        for p in [*self.posts, *self.external_posts]:
            if p.kind == "repost" or p.platform == "bluesky":
                continue
            reposts, replies, quotes = seen.get(p.idx, [0, 0, 0])
            scale = 0.25 if p.platform == "mastodon" else 1.0
            base = math.log1p(p.author.followers * scale / 300)
            likes = 0 if p.author.role == "spam" else int(rng.lognormvariate(base, 0.9))
            p.likes = likes
            p.reposts = reposts + int(likes * 0.2 * rng.random())
            p.replies = replies + (1 if rng.random() < 0.05 else 0)
            p.quotes = quotes
        ids = Ids(rng)
        for p in sorted([*self.posts, *self.external_posts], key=lambda q: (q.created, q.idx)):
            if p.platform == "x":
                p.x_id = ids.x(p.created)
            elif p.platform == "mastodon":
                p.m_origin_id = ids.mastodon(p.created)
                if p.author.host == W.MASTODON_SERVING:
                    p.m_id = p.m_origin_id
                else:  # federated: the serving server numbers it when it arrives
                    p.m_id = ids.mastodon(p.created + timedelta(milliseconds=rng.randrange(200, 20000)))
            else:
                p.b_time_us = us(p.created) + rng.randrange(150_000, 3_000_000)
                p.b_rkey = ids.rkey(us(p.created))


def _length(pieces: list[tuple[str, str, Any]]) -> int:
    return sum(23 if k == "url" else len(t) for k, t, _ in pieces)


def _fit(pieces: list[tuple[str, str, Any]], limit: int = 250) -> list[tuple[str, str, Any]]:
    """Drop trailing hashtags (never the first) until the text fits every platform's limit."""
    while _length(pieces) > limit:
        tag_positions = [i for i, pc in enumerate(pieces) if pc[0] == "tag"]
        if len(tag_positions) <= 1:
            break
        i = tag_positions[-1]
        if i > 0 and pieces[i - 1] == ("text", " ", None):
            del pieces[i - 1 : i + 1]
        else:
            del pieces[i]
    return pieces


def make_plan(cfg: Config) -> tuple[World, Planner]:
    """The whole plan for a config: world and posts, deterministic for ``cfg.seed``."""
    if not 1 <= cfg.days <= len(W.THEMES):
        raise ValueError(f"days must be between 1 and {len(W.THEMES)}")
    unknown = [p for p in cfg.platforms if p not in PLATFORMS]
    if unknown or not cfg.platforms:
        raise ValueError(f"platforms must be among {', '.join(PLATFORMS)}")
    if cfg.institutions < 1 or cfg.posts < 1:
        raise ValueError("institutions and posts must be positive")
    rng = random.Random(cfg.seed)
    world = build_world(rng, cfg.institutions, cfg.start)
    plan = Planner(cfg, world, rng)
    n = cfg.posts
    n_spam = round(n * 0.03)
    n_inst = round(n * 0.45)
    n_pub = round(n * 0.12)
    n_replies = round(n * 0.10)
    n_quotes = round(n * 0.04)
    plan.external_originals(max(3, n // 400))
    plan.institution_originals(n_inst)
    plan.public_originals(n_pub)
    plan.spam_posts(n_spam)
    add_impostor(plan)  # one lookalike account (the trust rules' demo)
    n_reposts = n - len(plan.posts) - n_replies - n_quotes
    plan.reactions(n_replies, n_quotes, max(0, n_reposts))
    # Some targets cannot be reacted to (a platform with one account): fill up with originals.
    while len(plan.posts) < n and plan.inst_pick:
        plan.institution_originals(n - len(plan.posts))
    del plan.posts[n:]
    plan.finish()
    return world, plan
