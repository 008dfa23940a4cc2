"""The population of a synthetic MuseumWeek: institutions (names, places, accounts on X, Mastodon
and Bluesky), members of the public, spam and outside accounts, drawn from the vocabulary in
``salon.demo.world``. Everything is synthetic.
"""

from __future__ import annotations

import bisect
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from salon.demo import world as W
from salon.demo.ids import Ids
from salon.demo.model import PLATFORMS, Account, Institution, World

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


def ascii_fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


class Picker:
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
    ids = Ids(rng)
    countries = W.COUNTRIES
    cpick = Picker(countries, [c[1] for c in countries])
    kpick = Picker([k for k, _ in W.KINDS], [w for _, w in W.KINDS])
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
    ppick = Picker(["x", "bluesky", "mastodon"], [0.5, 0.33, 0.17])
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
    return str(Picker([h for h, _ in W.MASTODON_HOSTS], [w for _, w in W.MASTODON_HOSTS]).pick(rng))


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
