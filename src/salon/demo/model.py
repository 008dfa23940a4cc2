"""What a synthetic MuseumWeek's plan is made of: the generator's options (``Config``), the
world's institutions and accounts, and the posts with their text pieces, independently of any
platform's format. Everything is synthetic (see ``salon.demo.world``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from salon.demo import world as W

DEFAULT_SEED = 2015
DEFAULT_INSTITUTIONS = 2_000
DEFAULT_POSTS = 20_000
DEFAULT_START = date(2025, 5, 12)  # a Monday
DEFAULT_DAYS = 7
PLATFORMS = ("x", "mastodon", "bluesky")
# `salon demo`'s own defaults (a smaller MuseumWeek than the generator's, quick to import);
# here rather than in salon.demo.run so that the CLI reads them without loading DuckDB.
DEMO_DIR = "salon-demo"
DEMO_POSTS = 5_000
DEMO_INSTITUTIONS = 300
CAMPAIGN_TZ = "Europe/Paris"


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


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


@dataclass
class World:
    institutions: list[Institution]
    public: list[Account]
    spam: list[Account]
    external: list[Account]

    def accounts(self) -> list[Account]:
        out = [a for i in self.institutions for a in i.accounts]
        return out + self.public + self.spam + self.external


# -- posts --------------------------------------------------------------------------------------


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


# -- the generator's options --------------------------------------------------------------------


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


# -- text pieces --------------------------------------------------------------------------------


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


def short(url: str, n: int) -> str:
    bare = url.split("://", 1)[-1]
    return bare if len(bare) <= n else bare[: n - 1] + "…"
