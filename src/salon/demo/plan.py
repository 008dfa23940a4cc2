"""The plan of a synthetic MuseumWeek: an invented world (institutions in ~58 countries with
their accounts on X, Mastodon and Bluesky, members of the public, spam and outside accounts) and
every post with its author, time, kind, language, text pieces, hashtags, mentions, links, photos,
reply/quote/repost target, deletion and engagement, independently of any platform's format.

Posts follow a daily rhythm in each author's time zone, so an institution in Tokyo or Los
Angeles posts its theme on its own local day, which may fall on another date in the campaign's
time zone. Deterministic: one ``random.Random(seed)``, no clock, no iteration over sets.
Everything is synthetic (see ``salon.demo.world``).
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from salon.demo import world as W
from salon.hashtags import tag_key

DEFAULT_SEED = 2015
DEFAULT_INSTITUTIONS = 2_000
DEFAULT_POSTS = 20_000
DEFAULT_START = date(2025, 5, 12)  # a Monday
DEFAULT_DAYS = 7
PLATFORMS = ("x", "mastodon", "bluesky")
CAMPAIGN_TZ = "Europe/Paris"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_X_EPOCH_MS = 1288834974657
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PLATFORM_WEIGHT = {"x": 0.5, "bluesky": 0.3, "mastodon": 0.2}
_DAY_WEIGHTS = (1.35, 1.1, 1.0, 0.95, 0.95, 0.8, 0.85)
# Words left out of handles made from institution names.
_STOP = frozenset(
    [
        "de",
        "des",
        "du",
        "la",
        "le",
        "l",
        "d",
        "of",
        "the",
        "di",
        "del",
        "della",
        "dei",
        "delle",
        "da",
        "do",
        "dos",
        "das",
        "van",
        "den",
        "y",
        "e",
        "et",
        "and",
        "am",
        "a",
    ]
)

# -- small helpers ------------------------------------------------------------------------------


def ms(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def us(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(microseconds=1)


def iso_ms(dt: datetime) -> str:
    """``2025-05-12T08:15:02.123Z`` (X, Mastodon and Bluesky all write UTC like this)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def ascii_fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def _word_tag(s: str) -> str:
    """A place name as a hashtag: letters and digits only (``Cluj-Napoca`` → ``ClujNapoca``)."""
    return "".join(ch for ch in s if ch.isalnum())


def digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def b62(*parts: object, n: int = 10) -> str:
    v = int.from_bytes(digest(*parts), "big")
    out = []
    for _ in range(n):
        v, r = divmod(v, 62)
        out.append(_B62[r])
    return "".join(out)


def hexid(*parts: object, n: int = 16) -> str:
    return digest(*parts).hex()[:n]


def tid(us: int, clock: int) -> str:
    """An atproto TID (record key): 53 bits of microseconds and 10 of clock id, base32-sortable."""
    v = (us << 10) | (clock & 1023)
    out = []
    for _ in range(13):
        out.append(_S32[v & 31])
        v >>= 5
    return "".join(reversed(out))


def cid(data: bytes, codec: int = 0x71) -> str:
    """A CIDv1 string (base32, sha2-256) of ``data``: ``bafyrei...`` for records (dag-cbor),
    ``bafkrei...`` for blobs (raw). The hash is of the JSON bytes, not of the real CBOR."""
    raw = bytes([1, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def id_path(native_id: str) -> str:
    """Mastodon's media path split: ``117020570191569442`` → ``117/020/570/191/569/442``."""
    s = native_id.rjust(((len(native_id) + 2) // 3) * 3, "0")
    return "/".join(s[i : i + 3] for i in range(0, len(s), 3))


def short(url: str, n: int) -> str:
    bare = url.split("://", 1)[-1]
    return bare if len(bare) <= n else bare[: n - 1] + "…"


class _Picker:
    """Weighted choice among a fixed list in O(log n) (``random.choices`` is O(n) per call)."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += max(w, 0.0)
            self.cum.append(total)
        self.total = total

    def __bool__(self) -> bool:
        return bool(self.items) and self.total > 0

    def pick(self, rng: random.Random) -> Any:
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


# -- the world ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Account:
    platform: str
    username: str  # X username, Mastodon username (local part), Bluesky: the DID's owner name
    display_name: str
    native_id: str  # X user id, Mastodon account id on the serving server, Bluesky DID
    role: str  # institution | public | spam | external
    lang: str
    tz: str
    created_at: datetime
    followers: int
    following: int
    statuses: int
    bio: str
    host: str | None = None  # Mastodon: the account's own server
    institution: Institution | None = None
    location: str | None = None
    website: str | None = None
    indexable: bool = True
    country: str = ""

    @property
    def acct(self) -> str:
        """Mastodon ``acct`` as the serving server writes it (relative for its own users)."""
        return self.username if self.host == W.MASTODON_SERVING else f"{self.username}@{self.host}"

    @property
    def handle(self) -> str:
        """The handle a registry writes: X username, ``user@server``, or the Bluesky DID."""
        if self.platform == "mastodon":
            return f"{self.username}@{self.host}"
        if self.platform == "bluesky":
            return self.native_id
        return self.username

    @property
    def profile_url(self) -> str:
        return f"https://{self.host}/@{self.username}"

    @property
    def ap_uri(self) -> str:
        return f"https://{self.host}/users/{self.username}"


@dataclass(eq=False)
class Institution:
    idx: int
    name: str
    country: str
    city: str
    kind: str
    lang: str
    tz: str
    activity: float
    followers: int
    accounts: list[Account] = field(default_factory=list)


@dataclass(eq=False)
class Media:
    alt: str
    width: int
    height: int
    key: str  # seed of every id and file name of this photo


@dataclass(eq=False)
class PlanPost:
    """One post of the plan: what it is, independently of any platform's format."""

    idx: int
    platform: str
    author: Account
    kind: str  # original | reply | quote | repost
    created: datetime  # UTC; whole seconds on X, milliseconds elsewhere
    lang: str
    pieces: list[tuple[str, str, Any]] = field(default_factory=list)  # (text|tag|mention|url, text, value)
    media: list[Media] = field(default_factory=list)
    parent: PlanPost | None = None  # reply target
    quoted: PlanPost | None = None
    reposted: PlanPost | None = None
    external: bool = False  # only ever seen nested in another payload (context)
    deleted_at: datetime | None = None
    theme: int | None = None  # theme day the author meant (for replies to carry it on)
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    # native ids, set once times are final
    x_id: str = ""
    m_id: str = ""  # id on the serving server
    m_origin_id: str = ""  # id on the author's server (in uri and url)
    b_rkey: str = ""
    b_cid: str = ""
    b_time_us: int = 0

    @property
    def root(self) -> PlanPost:
        p = self
        while p.parent is not None:
            p = p.parent
        return p

    def tags(self) -> list[tuple[str, str]]:
        """(display, key) of the post's own hashtags, in text order."""
        return [(t[1:], v) for k, t, v in self.pieces if k == "tag"]

    def effective_tags(self) -> list[tuple[str, str]]:
        """The hashtags a repost is judged on are those of the reposted post."""
        return self.reposted.tags() if self.reposted is not None else self.tags()

    @property
    def m_uri(self) -> str:
        suffix = "/activity" if self.kind == "repost" else ""
        return f"{self.author.ap_uri}/statuses/{self.m_origin_id}{suffix}"

    @property
    def m_url(self) -> str:
        if self.kind == "repost":
            return self.m_uri
        return f"{self.author.profile_url}/{self.m_origin_id}"

    @property
    def b_collection(self) -> str:
        return "app.bsky.feed.repost" if self.kind == "repost" else "app.bsky.feed.post"

    @property
    def b_uri(self) -> str:
        return f"at://{self.author.native_id}/{self.b_collection}/{self.b_rkey}"

    @property
    def native_uid(self) -> str:
        """The archive uid Salon gives this post (``platform:native_id``)."""
        if self.platform == "x":
            return f"x:{self.x_id}"
        if self.platform == "mastodon":
            return f"mastodon:{self.m_uri}"
        return f"bluesky:{self.b_uri}"


class _Ids:
    """Platform ids derived from times, unique within one generation."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[int] = set()
        self.strings: set[str] = set()

    def _unique(self, make: Any) -> int:
        while True:
            v = make()
            if v not in self.used:
                self.used.add(v)
                return int(v)

    def x(self, dt: datetime) -> str:
        t = ms(dt) - _X_EPOCH_MS
        return str(
            self._unique(lambda: (t << 22) | (self.rng.randrange(1024) << 12) | self.rng.randrange(4096))
        )

    def x_user(self, created: datetime) -> str:
        if created.year < 2014:
            return str(self._unique(lambda: self.rng.randrange(10_000_000, 2_900_000_000)))
        return self.x(created)

    def mastodon(self, dt: datetime) -> str:
        t = ms(dt)
        return str(self._unique(lambda: (t << 16) | self.rng.randrange(65536)))

    def did(self) -> str:
        while True:
            d = "did:plc:" + "".join(self.rng.choice(_S32) for _ in range(24))
            if d not in self.strings:
                self.strings.add(d)
                return d

    def rkey(self, us: int) -> str:
        while True:
            k = tid(us, self.rng.randrange(1024))
            if k not in self.strings:
                self.strings.add(k)
                return k


@dataclass
class World:
    institutions: list[Institution]
    public: list[Account]
    spam: list[Account]
    external: list[Account]

    def accounts(self) -> list[Account]:
        out = [a for i in self.institutions for a in i.accounts]
        return out + self.public + self.spam + self.external


def _parse_city(spec: str, tz: str, lang: str) -> tuple[str, str, str]:
    parts = spec.split("|")
    return parts[0], parts[1] if len(parts) > 1 else tz, parts[2] if len(parts) > 2 else lang


def _handle_from_name(name: str, city: str, taken: set[str], limit: int = 15) -> str:
    words = re.findall(r"[A-Za-z0-9]+", ascii_fold(name))
    city_words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", ascii_fold(city))}
    core = [w for w in words if w.lower() not in _STOP and w.lower() not in city_words]
    city_part = "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", ascii_fold(city)))
    if any(w.lower() in city_words for w in words):
        base = "".join(w[0].upper() for w in core) + city_part
    elif core:
        base = "".join(w[0].upper() for w in core[:-1]) + core[-1].capitalize()
    else:
        base = city_part or "Museum"
    base = base[:limit]
    handle, n = base, 1
    while handle.lower() in taken:
        n += 1
        handle = base[: limit - len(str(n))] + str(n)
    taken.add(handle.lower())
    return handle


def _person(rng: random.Random, lang: str) -> tuple[str, str]:
    lang = lang if lang in W.FIRST_NAMES else "en"
    return rng.choice(W.FIRST_NAMES[lang]), rng.choice(W.LAST_NAMES[lang])


def _account_created(rng: random.Random, first: int, last: int, start: date) -> datetime:
    year = rng.randint(first, min(last, start.year - 1))
    day = rng.randrange(365)
    secs = rng.randrange(86400)
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=day, seconds=secs)


def build_world(rng: random.Random, n_institutions: int, start: date) -> World:
    """Institutions (names, places, accounts), the public, spam and outside accounts."""
    ids = _Ids(rng)
    countries = W.COUNTRIES
    cpick = _Picker(countries, [c[1] for c in countries])
    kpick = _Picker([k for k, _ in W.KINDS], [w for _, w in W.KINDS])
    names: set[str] = set()
    handles: dict[str, set[str]] = {"x": set(), "mastodon": set()}
    institutions: list[Institution] = []
    for idx in range(n_institutions):
        code, _, clang, ctz, cities = cpick.pick(rng)
        city, tz, lang = _parse_city(rng.choice(cities), ctz, clang)
        kind = kpick.pick(rng)
        nlang = lang if lang in W.NAMES else "en"
        name = ""
        for attempt in range(40):
            template = rng.choice(W.NAMES[nlang][kind])
            first, last = _person(rng, nlang)
            name = template.format(subject=rng.choice(W.SUBJECTS[nlang]), city=city, person=f"{first} {last}")
            if attempt > 30:
                name = f"{name} ({rng.choice(cities).split('|')[0]})"
            if name not in names:
                break
        while name in names:
            name += " II"
        names.add(name)
        activity = 0.0 if rng.random() < 0.12 else min(rng.paretovariate(1.4), 40.0)
        followers = int(math.exp(rng.gauss(8.0, 1.4)))
        inst = Institution(idx, name, code, city, kind, lang, tz, activity, followers)
        institutions.append(inst)
        has = {"x": rng.random() < 0.9, "mastodon": rng.random() < 0.3, "bluesky": rng.random() < 0.45}
        if not any(has.values()):
            has["x"] = True
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(name).lower()).strip("-")[:40]
        website = f"https://{slug}.example"
        bio = f"{name}, {city}"
        for platform in PLATFORMS:
            if not has[platform]:
                continue
            created = _account_created(
                rng,
                2009 if platform == "x" else 2017 if platform == "mastodon" else 2023,
                2022 if platform == "x" else 2024,
                start,
            )
            if platform == "x":
                uname = _handle_from_name(name, city, handles["x"])
                native = ids.x_user(created)
                host = None
            elif platform == "mastodon":
                uname = _handle_from_name(name, city, handles["mastodon"], 30).lower()
                host = "glammr.us" if rng.random() < 0.4 else _host_pick(rng)
                native = ids.mastodon(created)
            else:
                uname = re.sub(r"[^a-z0-9]", "", ascii_fold(name).lower())[:18]
                host = None
                native = ids.did()
            scale = {"x": 1.0, "mastodon": 0.08, "bluesky": 0.2}[platform]
            inst.accounts.append(
                Account(
                    platform,
                    uname,
                    name,
                    native,
                    "institution",
                    lang,
                    tz,
                    created,
                    max(3, int(followers * scale)),
                    rng.randrange(50, 2000),
                    rng.randrange(200, 30000),
                    bio,
                    host,
                    inst,
                    f"{city}, {code}",
                    website,
                    True,
                    code,
                )
            )
        if has["x"] and rng.random() < 0.03:  # a second X account (shop, library, education ...)
            created = _account_created(rng, 2010, 2022, start)
            uname = _handle_from_name(name + " Edu", city, handles["x"])
            inst.accounts.append(
                Account(
                    "x",
                    uname,
                    f"{name} – éducation" if lang == "fr" else f"{name} Education",
                    ids.x_user(created),
                    "institution",
                    lang,
                    tz,
                    created,
                    max(3, followers // 10),
                    rng.randrange(50, 800),
                    rng.randrange(100, 5000),
                    bio,
                    None,
                    inst,
                    f"{city}, {code}",
                    website,
                    True,
                    code,
                )
            )

    public: list[Account] = []
    ppick = _Picker(["x", "bluesky", "mastodon"], [0.5, 0.33, 0.17])
    for _ in range(max(40, int(n_institutions * 1.2))):
        code, _, clang, ctz, cities = cpick.pick(rng)
        city, tz, lang = _parse_city(rng.choice(cities), ctz, clang)
        if lang not in W.LANGS:
            lang = "en"
        first, last = _person(rng, lang)
        platform = ppick.pick(rng)
        created = _account_created(
            rng, 2010 if platform == "x" else 2018 if platform == "mastodon" else 2023, 2024, start
        )
        base = ascii_fold(f"{first}_{last[:3]}").lower().replace(" ", "")
        if platform == "x":
            uname = _unique_name(rng, base, handles["x"], 15)
            native, host = ids.x_user(created), None
        elif platform == "mastodon":
            uname = _unique_name(rng, base, handles["mastodon"], 30)
            native, host = ids.mastodon(created), _host_pick(rng)
        else:
            uname = base
            native, host = ids.did(), None
        acc = Account(
            platform,
            uname,
            f"{first} {last}",
            native,
            "public",
            lang,
            tz,
            created,
            int(math.exp(rng.gauss(4.5, 1.3))),
            rng.randrange(20, 1500),
            rng.randrange(10, 20000),
            "",
            host,
            None,
            city if rng.random() < 0.5 else None,
            None,
            True,
            code,
        )
        if platform == "mastodon" and rng.random() < 0.06:
            acc.indexable = False  # opted out of search indexing: archived, never published
        public.append(acc)

    spam: list[Account] = []
    for n in range(max(2, n_institutions // 150)):
        display, base = W.SPAM_NAMES[n % len(W.SPAM_NAMES)]
        platform = "x" if rng.random() < 0.7 else "bluesky"
        created = datetime.combine(start - timedelta(days=rng.randrange(3, 60)), time(rng.randrange(24)), UTC)
        if platform == "x":
            uname = _unique_name(rng, base, handles["x"], 15, force_digits=True)
            native = ids.x_user(created)
        else:
            uname, native = base, ids.did()
        spam.append(
            Account(
                platform,
                uname,
                display,
                native,
                "spam",
                "en",
                "UTC",
                created,
                rng.randrange(0, 40),
                rng.randrange(1000, 5000),
                rng.randrange(5000, 90000),
                "Best deals!!! DM for promo",
                None,
            )
        )

    external: list[Account] = []
    for display, base, lang in W.EXTERNAL_ACCOUNTS:
        for platform in ("x", "mastodon"):
            created = _account_created(rng, 2009 if platform == "x" else 2018, 2020, start)
            if platform == "x":
                uname = _unique_name(rng, base, handles["x"], 15)
                native, host = ids.x_user(created), None
            else:
                uname = _unique_name(rng, base, handles["mastodon"], 30)
                native, host = ids.mastodon(created), "mastodon.world"
            external.append(
                Account(
                    platform,
                    uname,
                    display,
                    native,
                    "external",
                    lang,
                    "UTC",
                    created,
                    rng.randrange(20_000, 400_000),
                    rng.randrange(100, 900),
                    rng.randrange(20_000, 90_000),
                    display,
                    host,
                )
            )
    return World(institutions, public, spam, external)


def _host_pick(rng: random.Random) -> str:
    return str(_Picker([h for h, _ in W.MASTODON_HOSTS], [w for _, w in W.MASTODON_HOSTS]).pick(rng))


def _unique_name(
    rng: random.Random, base: str, taken: set[str], limit: int, force_digits: bool = False
) -> str:
    base = re.sub(r"[^a-z0-9_]", "", base.lower())[:limit] or "user"
    name = base
    if force_digits or name in taken:
        while True:
            suffix = str(rng.randrange(10, 9999))
            name = base[: limit - len(suffix)] + suffix
            if name not in taken:
                break
    taken.add(name)
    return name


# -- the plan ----------------------------------------------------------------------------------


@dataclass
class Config:
    seed: int = DEFAULT_SEED
    institutions: int = DEFAULT_INSTITUTIONS
    posts: int = DEFAULT_POSTS
    start: date = DEFAULT_START
    days: int = DEFAULT_DAYS
    platforms: tuple[str, ...] = PLATFORMS

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days)

    @property
    def window(self) -> tuple[datetime, datetime]:
        tz = zone(CAMPAIGN_TZ)
        lo = datetime.combine(self.start, time(0), tz).astimezone(UTC)
        hi = datetime.combine(self.end, time(0), tz).astimezone(UTC)
        return lo, hi

    @property
    def themes(self) -> tuple[tuple[str, str], ...]:
        return W.THEMES[: self.days]

    def official(self) -> list[str]:
        return [W.CAMPAIGN_TAG] + [tag for _, tag in self.themes]


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
        self.day_pick = _Picker(range(len(w)), w)
        self.public_by_platform: dict[str, _Picker] = {}
        self.inst_by_platform: dict[str, _Picker] = {}
        for p in cfg.platforms:
            pub = [a for a in world.public if a.platform == p]
            self.public_by_platform[p] = _Picker(pub, [1.0 + math.log1p(a.followers) for a in pub])
            inst = [a for i in world.institutions for a in i.accounts if a.platform == p and i.activity > 0]
            self.inst_by_platform[p] = _Picker(
                inst, [a.institution.activity if a.institution else 0 for a in inst]
            )
        self.active = [
            i for i in world.institutions if i.activity > 0 and any(a.platform in allowed for a in i.accounts)
        ]
        self.inst_pick = _Picker(self.active, [i.activity for i in self.active])
        pubs = [a for a in world.public if a.platform in allowed]
        self.pub_pick = _Picker(pubs, [1.0 + math.log1p(a.followers) for a in pubs])
        spam = [a for a in world.spam if a.platform in allowed]
        self.spam_pick = _Picker(spam, [1.0] * len(spam))
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
            acc = _Picker(
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
        pick = _Picker(base, weights)
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
        rpick = _Picker(pool, rweights)
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
        ids = _Ids(rng)
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


def strip_mentions(pieces: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """The pieces without mentions (and the space before each), for platforms or copies where
    the mentioned account does not exist."""
    out: list[tuple[str, str, Any]] = []
    for pc in pieces:
        if pc[0] == "mention":
            if out and out[-1] == ("text", " ", None):
                out.pop()
            continue
        out.append(pc)
    return out


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
    n_reposts = n - len(plan.posts) - n_replies - n_quotes
    plan.reactions(n_replies, n_quotes, max(0, n_reposts))
    # Some targets cannot be reacted to (a platform with one account): fill up with originals.
    while len(plan.posts) < n and plan.inst_pick:
        plan.institution_originals(n - len(plan.posts))
    del plan.posts[n:]
    plan.finish()
    return world, plan
