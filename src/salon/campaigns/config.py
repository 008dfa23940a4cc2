"""Campaign files (DESIGN.md, Campaign file): a TOML file plus a participants CSV, parsed into
dataclasses and validated with errors that name the file, the line and the field.

>>> from salon.campaigns.config import load_campaign
>>> c = load_campaign("museumweek-2015.toml")          # doctest: +SKIP
>>> c.start_utc, c.end_utc, c.official_keys()           # doctest: +SKIP

The campaign window ``[start, end)`` is in the campaign's time zone; ``start_utc``/``end_utc``
and ``day_bounds()`` convert it to UTC once, in Python (zoneinfo), so no metric converts time
zones per row.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from salon.campaigns.chats import chat_issues
from salon.hashtags import tag_key, tag_norm

__all__ = [
    "PARTICIPANT_COLUMNS",
    "Account",
    "Campaign",
    "CampaignError",
    "Day",
    "Issue",
    "Participant",
    "countries",
    "load_campaign",
    "parse_campaign",
    "parse_participants",
]

PARTICIPANT_COLUMNS = ("name", "country", "city", "kind", "x", "mastodon", "bluesky")
ACCOUNT_PLATFORMS = ("x", "mastodon", "bluesky")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
_MASTODON = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BSKY = re.compile(r"^(did:[a-z]+:[A-Za-z0-9._:%-]+|[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,})$")


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → English name (shipped in ``salon/data/countries.csv``)."""
    text = (resources.files("salon") / "data" / "countries.csv").read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a campaign file: where (file, line, field) and what."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class CampaignError(ValueError):
    """A campaign file that cannot be used; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(slots=True)
class Account:
    """One account of a participant. ``account_uid`` is the platform account id (``x:12``,
    ``bluesky:did:plc:...``) once known: given as a DID, or learned at the first handle match."""

    platform: str
    handle: str  # as written in the CSV, without a leading @
    account_uid: str | None = None

    @property
    def handle_norm(self) -> str:
        return self.handle.lower()


@dataclass(slots=True)
class Participant:
    """A registered institution (one CSV row)."""

    name: str
    country: str | None = None
    city: str | None = None
    kind: str | None = None
    accounts: list[Account] = field(default_factory=list)
    line: int | None = None  # CSV line, for messages

    @property
    def key(self) -> str:
        """Identity across editions: the casefolded name with spaces collapsed."""
        return " ".join(self.name.casefold().split())


@dataclass(slots=True)
class Day:
    """A theme day: its date (campaign time zone), theme and hashtags."""

    date: date
    theme: str | None = None
    hashtags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Campaign:
    """A parsed, validated campaign."""

    name: str
    slug: str
    timezone: str
    start: date | datetime  # date: local midnight; datetime: naive local time
    end: date | datetime  # exclusive
    hashtags: list[str] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    accent_sensitive: bool = False
    series: str | None = None
    edition: str | None = None
    description: str | None = None
    participants: list[Participant] = field(default_factory=list)
    participants_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # chats, sources, ... kept for export
    campaign_id: int | None = None  # set once stored in an archive
    path: str | None = None

    # -- time -----------------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_to_utc(self, value: date | datetime) -> datetime:
        """A local date (midnight) or naive local datetime, in the campaign zone, as UTC."""
        if not isinstance(value, datetime):
            value = datetime.combine(value, time())
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.tz)
        return value.astimezone(UTC)

    @property
    def start_utc(self) -> datetime:
        return self.local_to_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        return self.local_to_utc(self.end)

    def local_dates(self) -> list[date]:
        """Every local date the window touches, in order."""
        first = self.start if not isinstance(self.start, datetime) else self.start.date()
        last_instant = self.end_utc - timedelta(microseconds=1)
        last = last_instant.astimezone(self.tz).date()
        out, d = [], first
        while d <= last:
            out.append(d)
            d += timedelta(days=1)
        return out

    def day_bounds(self) -> list[tuple[date, datetime, datetime]]:
        """(local date, UTC start, UTC end) of every local day of the window, clipped to it.
        Across a DST change a day lasts 23 or 25 hours."""
        s, e = self.start_utc, self.end_utc
        out = []
        for d in self.local_dates():
            lo = max(self.local_to_utc(d), s)
            hi = min(self.local_to_utc(d + timedelta(days=1)), e)
            if lo < hi:
                out.append((d, lo, hi))
        return out

    # -- hashtags -------------------------------------------------------------------------------

    def key(self, tag: str) -> str:
        """The hashtag key this campaign compares on (accents kept when accent_sensitive)."""
        return tag_norm(tag) if self.accent_sensitive else tag_key(tag)

    @property
    def key_column(self) -> str:
        """The ``post_hashtags`` column holding that key."""
        return "tag_norm" if self.accent_sensitive else "tag_key"

    def official_tags(self) -> list[tuple[str, str, Day | None]]:
        """(display, key, theme day or None) of every official hashtag, campaign tags first;
        a key appears once (the first spelling wins)."""
        out: list[tuple[str, str, Day | None]] = []
        seen: set[str] = set()
        for t in self.hashtags:
            k = self.key(t)
            if k not in seen:
                seen.add(k)
                out.append((t.lstrip("#＃"), k, None))
        for d in self.days:
            for t in d.hashtags:
                k = self.key(t)
                if k not in seen:
                    seen.add(k)
                    out.append((t.lstrip("#＃"), k, d))
        return out

    def official_keys(self) -> list[str]:
        return [k for _, k, _ in self.official_tags()]

    def themes(self) -> dict[str, dict[str, Any]]:
        """theme → {"dates": [...], "keys": [...], "hashtags": [...]} (days without a theme are
        named by their date)."""
        out: dict[str, dict[str, Any]] = {}
        for d in self.days:
            name = d.theme or d.date.isoformat()
            t = out.setdefault(name, {"dates": [], "keys": [], "hashtags": []})
            t["dates"].append(d.date)
            for h in d.hashtags:
                k = self.key(h)
                if k not in t["keys"]:
                    t["keys"].append(k)
                    t["hashtags"].append(h.lstrip("#＃"))
        return out

    # -- registry -------------------------------------------------------------------------------

    def accounts(self) -> list[tuple[int, Account]]:
        """(participant index, account) for every registered account."""
        return [(i, a) for i, p in enumerate(self.participants) for a in p.accounts]

    def definition(self) -> dict[str, Any]:
        """What the tally depends on (the store keys its precomputed index on a digest of this)."""
        return {
            "timezone": self.timezone,
            "start": self.start_utc.isoformat(),
            "end": self.end_utc.isoformat(),
            "accent_sensitive": self.accent_sensitive,
            "keys": self.official_keys(),
            "days": [(d.date.isoformat(), [self.key(h) for h in d.hashtags]) for d in self.days],
            "accounts": [(i, a.platform, a.handle_norm, a.account_uid) for i, a in self.accounts()],
        }


# -- parsing ------------------------------------------------------------------------------------


class _Lines:
    """Finds the line of ``key`` inside table ``[section]`` (or the n-th ``[[section]]``)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, section: str | None, key: str | None = None, index: int = 0) -> int | None:
        current: str | None = None
        count: dict[str, int] = {}
        header_line: int | None = None
        for no, raw in enumerate(self.lines, 1):
            s = raw.strip()
            m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", s) or re.match(r"^\[\s*([^\]]+?)\s*\]", s)
            if m:
                current = m.group(1)
                n = count.get(current, -1) + 1
                count[current] = n
                if current == section and n == index:
                    header_line = no
                    if key is None:
                        return no
                continue
            in_section = current == section and (current is None or count.get(current) == index)
            if in_section and key is not None:
                km = re.match(r"^([A-Za-z0-9_\"'-]+)\s*=", s)
                if km and km.group(1).strip("\"'") == key:
                    return no
        return header_line


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign file and its participants CSV; raises ``CampaignError``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CampaignError([Issue(str(p), None, None, f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise CampaignError([Issue(str(p), None, None, "not UTF-8 text")]) from None
    return parse_campaign(text, path=str(p), base_dir=p.parent)


def _as_date(value: Any) -> date | datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return None
    return None


def _tags(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [v.strip() for v in value]


def parse_campaign(
    text: str,
    *,
    path: str = "<campaign>",
    base_dir: Path | None = None,
    participants_csv: str | None = None,
) -> Campaign:
    """Parse and validate campaign TOML. The participants CSV is read from ``[participants]
    file`` relative to ``base_dir``, or given as ``participants_csv`` text."""
    issues: list[Issue] = []
    lines = _Lines(text)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        what = msg.split(" (at line")[0]
        if "date" in what.lower():
            what += " (write dates as YYYY-MM-DD, e.g. 2015-03-23)"
        raise CampaignError([Issue(path, line, None, what)]) from None

    def bad(section: str | None, key: str | None, message: str, index: int = 0) -> None:
        fld = ".".join(x for x in (section, key) if x)
        if section == "days":
            fld = f"days[{index + 1}].{key}" if key else f"days[{index + 1}]"
        issues.append(Issue(path, lines.find(section, key, index), fld or None, message))

    c = doc.get("campaign")
    if not isinstance(c, dict):
        raise CampaignError([Issue(path, None, "campaign", "missing [campaign] table")])
    name = c.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("campaign", "name", "required: the campaign's name")
        name = ""
    slug = c.get("slug")
    if slug is None and name:
        slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        bad("campaign", "slug", f"{slug!r} is not a slug (lowercase letters, digits, - and _)")
        slug = ""
    tzname = c.get("timezone", "UTC")
    tz_ok = False
    if not isinstance(tzname, str):
        bad("campaign", "timezone", "must be a string such as 'Europe/Paris'")
        tzname = "UTC"
    else:
        try:
            ZoneInfo(tzname)
            tz_ok = True
        except (ZoneInfoNotFoundError, ValueError):
            bad(
                "campaign",
                "timezone",
                f"unknown time zone {tzname!r} (use an IANA name such as 'Europe/Paris')",
            )
            tzname = "UTC"
    bounds: dict[str, date | datetime] = {}
    for key in ("start", "end"):
        raw = c.get(key)
        v = _as_date(raw)
        if raw is None:
            bad("campaign", key, "required (a date, YYYY-MM-DD)")
        elif v is None:
            bad("campaign", key, f"{raw!r} is not a date (YYYY-MM-DD)")
        elif isinstance(v, datetime) and v.tzinfo is not None:
            bad("campaign", key, "give a local date or time without offset; the zone is `timezone`")
        else:
            bounds[key] = v
    if len(bounds) == 2:
        s, e = bounds["start"], bounds["end"]
        sd = s if isinstance(s, datetime) else datetime.combine(s, time())
        ed = e if isinstance(e, datetime) else datetime.combine(e, time())
        if ed <= sd:
            bad("campaign", "end", f"end {e} is not after start {s} (end is exclusive)")
    hashtags = _tags(c.get("hashtags", []))
    if hashtags is None:
        bad("campaign", "hashtags", "must be a list of strings")
        hashtags = []
    accent = c.get("accent_sensitive", False)
    if not isinstance(accent, bool):
        bad("campaign", "accent_sensitive", "must be true or false")
        accent = False
    series = c.get("series")
    if series is not None and not isinstance(series, str):
        bad("campaign", "series", "must be a string")
        series = None
    edition = c.get("edition")
    if edition is not None:
        edition = str(edition)
    description = c.get("description")

    days: list[Day] = []
    raw_days = doc.get("days", [])
    if not isinstance(raw_days, list):
        bad(None, "days", "use [[days]] tables")
        raw_days = []
    seen_dates: dict[date, int] = {}
    for i, d in enumerate(raw_days):
        if not isinstance(d, dict):
            bad("days", None, "must be a table", i)
            continue
        dv = _as_date(d.get("date"))
        if d.get("date") is None:
            bad("days", "date", "required (YYYY-MM-DD)", i)
            continue
        if dv is None or isinstance(dv, datetime):
            bad("days", "date", f"{d.get('date')!r} is not a date (YYYY-MM-DD)", i)
            continue
        if dv in seen_dates:
            bad("days", "date", f"{dv} is already the date of days[{seen_dates[dv] + 1}]", i)
        seen_dates[dv] = i
        if len(bounds) == 2:
            s0 = bounds["start"] if not isinstance(bounds["start"], datetime) else bounds["start"].date()
            e0 = bounds["end"]
            e_excl = e0 if not isinstance(e0, datetime) else e0.date() + timedelta(days=1)
            if not (s0 <= dv < e_excl):
                bad("days", "date", f"{dv} is outside the campaign window [{bounds['start']}, {e0})", i)
        theme = d.get("theme")
        if theme is not None and not isinstance(theme, str):
            bad("days", "theme", "must be a string", i)
            theme = None
        dtags = _tags(d.get("hashtags", []))
        if dtags is None:
            bad("days", "hashtags", "must be a list of strings", i)
            dtags = []
        days.append(Day(dv, theme, dtags))

    all_tags = [(t, "campaign", 0) for t in hashtags] + [
        (t, "days", i) for i, d in enumerate(days) for t in d.hashtags
    ]
    for t, sec, i in all_tags:
        if not (tag_norm(t) if accent else tag_key(t)) or re.search(r"\s", t.strip()):
            bad(sec, "hashtags", f"{t!r} is not a hashtag", i)
    if not all_tags:
        bad("campaign", "hashtags", "a campaign needs at least one official hashtag (here or in [[days]])")

    participants: list[Participant] = []
    pfile: str | None = None
    pt = doc.get("participants")
    if pt is not None:
        if not isinstance(pt, dict):
            bad(None, "participants", "must be a table with file = ...")
        else:
            pfile = pt.get("file")
            if participants_csv is None and isinstance(pfile, str):
                csv_path = (base_dir or Path(".")) / pfile
                try:
                    participants_csv = csv_path.read_text(encoding="utf-8-sig")
                except OSError:
                    bad("participants", "file", f"cannot read {csv_path}")
                except UnicodeDecodeError:
                    bad("participants", "file", f"{csv_path} is not UTF-8")
            elif pfile is not None and not isinstance(pfile, str):
                bad("participants", "file", "must be a path")
                pfile = None
    if participants_csv is not None:
        csv_label = str((base_dir or Path(".")) / pfile) if pfile else "participants.csv"
        try:
            participants = parse_participants(participants_csv, path=csv_label)
        except CampaignError as exc:
            issues.extend(exc.issues)

    extra = {k: v for k, v in doc.items() if k not in ("campaign", "days", "participants")}
    issues.extend(chat_issues(doc.get("chats"), tzname if tz_ok else "UTC", path, lines.find, Issue))
    if issues:
        raise CampaignError(issues)
    camp = Campaign(
        name=name,
        slug=slug,
        timezone=tzname if tz_ok else "UTC",
        start=bounds["start"],
        end=bounds["end"],
        hashtags=hashtags,
        days=sorted(days, key=lambda d: d.date),
        accent_sensitive=accent,
        series=series,
        edition=edition,
        description=description if isinstance(description, str) else None,
        participants=participants,
        participants_file=pfile,
        extra=extra,
        path=path,
    )
    if camp.edition is None and camp.series:
        camp.edition = str(camp.start.year)
    return camp


def parse_participants(text: str, *, path: str = "participants.csv") -> list[Participant]:
    """Parse and validate a participants CSV (``name,country,city,kind,x,mastodon,bluesky``;
    several accounts on one platform separated by spaces). Raises ``CampaignError``."""
    issues: list[Issue] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        return []
    cols = [h.strip().lower() for h in header]
    if "name" not in cols:
        raise CampaignError(
            [Issue(path, 1, "name", f"header must include name; expected {','.join(PARTICIPANT_COLUMNS)}")]
        )
    unknown = [h for h in cols if h and h not in PARTICIPANT_COLUMNS]
    if unknown:
        issues.append(
            Issue(
                path,
                1,
                None,
                f"unknown column(s) {', '.join(unknown)}; expected {','.join(PARTICIPANT_COLUMNS)}",
            )
        )
    known = countries()
    seen: dict[tuple[str, str], int] = {}
    out: list[Participant] = []
    for row in reader:
        line = reader.line_num
        if not any(v.strip() for v in row):
            continue
        rec = {cols[i]: v.strip() for i, v in enumerate(row) if i < len(cols)}
        if len(row) > len(cols):
            issues.append(Issue(path, line, None, f"{len(row)} fields, the header has {len(cols)}"))
        name = rec.get("name", "")
        if not name:
            issues.append(Issue(path, line, "name", "empty name"))
        country = rec.get("country") or None
        if country is not None:
            cc = country.upper()
            if cc not in known:
                hint = " (the United Kingdom is GB)" if cc == "UK" else ""
                issues.append(
                    Issue(
                        path,
                        line,
                        "country",
                        f"unknown country code {country!r}: use ISO 3166-1 alpha-2{hint}",
                    )
                )
            country = cc
        p = Participant(
            name=name,
            country=country,
            city=rec.get("city") or None,
            kind=rec.get("kind") or None,
            line=line,
        )
        for platform in ACCOUNT_PLATFORMS:
            for h in (rec.get(platform) or "").split():
                h = h.lstrip("@")
                if platform == "x" and h.lower().startswith(("https://", "http://")):
                    h = h.rstrip("/").rsplit("/", 1)[-1]
                ok = {
                    "x": _X_HANDLE.match(h),
                    "mastodon": _MASTODON.match(h),
                    "bluesky": _BSKY.match(h),
                }[platform]
                if not ok:
                    form = {
                        "x": "a handle without @",
                        "mastodon": "user@instance",
                        "bluesky": "a handle or DID",
                    }
                    issues.append(Issue(path, line, platform, f"{h!r} is not {form[platform]}"))
                    continue
                k = (platform, h.lower())
                if k in seen:
                    issues.append(
                        Issue(path, line, platform, f"duplicate handle {h!r} (already on line {seen[k]})")
                    )
                    continue
                seen[k] = line
                uid = f"bluesky:{h}" if platform == "bluesky" and h.startswith("did:") else None
                p.accounts.append(Account(platform, h, uid))
        out.append(p)
    if issues:
        raise CampaignError(issues)
    return out
