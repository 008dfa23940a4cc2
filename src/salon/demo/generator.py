"""A synthetic MuseumWeek, written in the platforms' own file formats.

**Everything produced here is synthetic**: institutions, people, accounts, ids and texts are
invented (``salon.demo.world``); URLs use the reserved ``.example`` domain.

The generator first makes a *plan* (institutions in ~58 countries with their accounts on X,
Mastodon and Bluesky, members of the public, spam accounts, and every post with its author, time,
kind, language, text, hashtags, mentions, links, photos, reply/quote/repost target and deletion),
then writes the plan out as the files a real collection would give:

- ``data/x/search-museumweek.jsonl``: X API v2 search pages as twarc2 writes them (``data``,
  ``includes.users``/``tweets``/``media``, ``meta``, ``__twarc``), newest first, 100 per page;
- ``data/x/compliance-tweets.jsonl``: an X compliance job's output (the deleted tweets);
- ``data/mastodon/mastodon.social-hashtags.jsonl``: Mastodon statuses (REST entities) as served by
  one server's hashtag timelines, one per line;
- ``data/bluesky/jetstream.jsonl``: a Bluesky Jetstream capture (post and repost creates, post
  deletes), facets with UTF-8 byte offsets;

plus ``participants.csv`` (the registry), ``museumweek.toml`` (the campaign file) and
``ground_truth.json``: the figures the campaign tally must find, computed here from the plan
alone (never by reading the files back). Each payload is built with the field set and nesting of
the real payloads in ``shared/corpora`` (``tests/test_demo_generator.py`` checks it).

Posts follow a daily rhythm in each author's time zone, so an institution in Tokyo or Los
Angeles posts its theme on its own local day, which may fall on another date in the campaign's
time zone (Europe/Paris). Deterministic: one ``random.Random(seed)``, no clock, no set order.
"""

import csv
import gzip
import io
import json
import random
import shutil
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from salon.demo import world as W
from salon.demo.formats.bluesky import jetstream_events
from salon.demo.formats.mastodon import m_status
from salon.demo.formats.x import x_compliance, x_pages
from salon.demo.plan import (
    CAMPAIGN_TZ,
    DEFAULT_DAYS,
    DEFAULT_INSTITUTIONS,
    DEFAULT_POSTS,
    DEFAULT_SEED,
    DEFAULT_START,
    PLATFORMS,
    Account,
    Config,
    Planner,
    PlanPost,
    World,
    make_plan,
    zone,
)

__all__ = [
    "DATA_DIR",
    "DEFAULT_DAYS",
    "DEFAULT_INSTITUTIONS",
    "DEFAULT_POSTS",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "GENERATOR_VERSION",
    "PLATFORMS",
    "generate",
    "ground_truth",
]

GENERATOR_VERSION = 1
DATA_DIR = "data"

# -- registry, campaign file, ground truth ------------------------------------------------------


def _participants_csv(world: World, rng: random.Random) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "country", "city", "kind", "x", "mastodon", "bluesky"])
    for inst in world.institutions:
        cols = {}
        for platform in PLATFORMS:
            handles = [a.handle for a in inst.accounts if a.platform == platform]
            if platform == "x" and rng.random() < 0.15:
                handles = [h.lower() for h in handles]  # registries rarely keep the handle's case
            cols[platform] = " ".join(handles)
        w.writerow(
            [inst.name, inst.country, inst.city, inst.kind, cols["x"], cols["mastodon"], cols["bluesky"]]
        )
    return buf.getvalue()


def campaign_name(cfg: Config) -> tuple[str, str]:
    return f"MuseumWeek {cfg.start.year} (synthetic demo)", f"museumweek-{cfg.start.year}-demo"


def _campaign_toml(cfg: Config) -> str:
    name, slug = campaign_name(cfg)
    lines = [
        f"# A synthetic campaign written by `salon demo generate --seed {cfg.seed}`: every institution,",
        "# account and post of it is invented.",
        "[campaign]",
        f'name = "{name}"',
        f'slug = "{slug}"',
        f'timezone = "{CAMPAIGN_TZ}"',
        f"start = {cfg.start.isoformat()}",
        f"end = {cfg.end.isoformat()}          # exclusive",
        f'hashtags = ["{W.CAMPAIGN_TAG}"]',
    ]
    for i, (theme, tag) in enumerate(cfg.themes):
        lines += [
            "",
            "[[days]]",
            f"date = {(cfg.start + timedelta(days=i)).isoformat()}",
            f'theme = "{theme}"',
            f'hashtags = ["{tag}"]',
        ]
    lines += ["", "[participants]", 'file = "participants.csv"', ""]
    # Trust rules (docs/trust.md): the invented promotional domains the spam accounts link to.
    domains = ", ".join(f'"{d}"' for d in W.SPAM_DOMAINS)
    lines += [
        "[moderation]",
        'mode = "auto"',
        f"spam = {{ max_hashtags = 8, flood_same_text = 5, cluster_same_text = 5, promo_domains = [{domains}] }}",
        "",
    ]
    return "\n".join(lines)


def ground_truth(
    cfg: Config, world: World, plan: Planner, files: dict[str, dict[str, Any]], gz: bool = False
) -> dict[str, Any]:
    """The figures a correct import and tally find, computed from the plan alone."""
    lo, hi = cfg.window
    tz = zone(CAMPAIGN_TZ)
    official = {t.lower(): t for t in cfg.official()}
    theme_keys = [
        (theme, tag, tag.lower(), cfg.start + timedelta(days=i)) for i, (theme, tag) in enumerate(cfg.themes)
    ]
    posts = plan.posts
    live = [p for p in posts if p.deleted_at is None]

    by_platform_kind: dict[str, dict[str, int]] = {
        pl: dict.fromkeys(("original", "reply", "quote", "repost"), 0) for pl in cfg.platforms
    }
    for p in live:
        by_platform_kind[p.platform][p.kind] += 1
    context = {
        q.idx
        for p in posts
        for q in (p.parent, p.quoted)
        if q is not None and q.external and (p.platform == "x" or q is p.quoted)
    }

    def official_keys(tags: list[tuple[str, str]]) -> list[str]:
        return sorted({k for _, k in tags if k in official})

    campaign = [p for p in live if p.kind != "repost" and lo <= p.created < hi and official_keys(p.tags())]
    outside = [p for p in live if p.kind != "repost" and not lo <= p.created < hi and official_keys(p.tags())]
    untagged = [
        p for p in live if p.kind != "repost" and lo <= p.created < hi and not official_keys(p.tags())
    ]
    reposts = [
        p for p in live if p.kind == "repost" and lo <= p.created < hi and official_keys(p.effective_tags())
    ]

    by_hashtag = dict.fromkeys(official, 0)
    by_day = {(cfg.start + timedelta(days=i)).isoformat(): 0 for i in range(cfg.days)}
    by_theme: dict[str, dict[str, Any]] = {
        theme: {"hashtag": tag, "date": d.isoformat(), "posts": 0, "on_the_day": 0}
        for theme, tag, _, d in theme_keys
    }
    variants: dict[str, set[str]] = {k: set() for k in official}
    authors: dict[tuple[str, str], Account] = {}
    inst_posts: Counter[str] = Counter()
    for p in campaign:
        keys = official_keys(p.tags())
        local_day = p.created.astimezone(tz).date()
        by_day[local_day.isoformat()] += 1
        for k in keys:
            by_hashtag[k] += 1
        for display, k in p.tags():
            if k in official:
                variants[k].add(display)
        for theme, _, k, d in theme_keys:
            if k in keys:
                by_theme[theme]["posts"] += 1
                by_theme[theme]["on_the_day"] += int(local_day == d)
        authors[(p.platform, p.author.native_id)] = p.author
        if p.author.institution is not None:
            inst_posts[p.author.institution.name] += 1
    posted = {a.institution.idx: a.institution for a in authors.values() if a.institution is not None}
    by_country: Counter[str] = Counter(i.country for i in posted.values())
    engagement = {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0}
    for p in campaign:
        if p.platform in ("x", "mastodon"):
            engagement["likes"] += p.likes
            engagement["reposts"] += p.reposts
            engagement["replies"] += p.replies
            engagement["quotes"] += p.quotes
    name, slug = campaign_name(cfg)
    records: Counter[str] = Counter()
    for f in files.values():
        records[f["format"]] += f["records"]

    def count(items: list[PlanPost], attr: str) -> dict[str, int]:
        c = Counter(getattr(p, attr) for p in items)
        return {k: c[k] for k in sorted(c)}

    return {
        "synthetic": True,
        "note": "Synthetic data from `salon demo generate`: every institution, account and post is invented.",
        "generator": {
            "name": "salon.demo.generator",
            "version": GENERATOR_VERSION,
            "seed": cfg.seed,
            "institutions": cfg.institutions,
            "posts": cfg.posts,
            "start": cfg.start.isoformat(),
            "days": cfg.days,
            "platforms": list(cfg.platforms),
            "gzip": gz,
        },
        "campaign": {
            "name": name,
            "slug": slug,
            "file": "museumweek.toml",
            "timezone": CAMPAIGN_TZ,
            "start": cfg.start.isoformat(),
            "end": cfg.end.isoformat(),
            "window_utc": [lo.isoformat(), hi.isoformat()],
            "hashtags": cfg.official(),
        },
        "import_paths": [DATA_DIR],
        "files": files,
        "records": {**{k: records[k] for k in sorted(records)}, "total": sum(records.values())},
        "posts": {
            "total": len(live),
            "by_platform": {pl: sum(v.values()) for pl, v in by_platform_kind.items()},
            "by_platform_kind": by_platform_kind,
            "context": len(context),
            "deleted": len(posts) - len(live),
            "deleted_by_platform": count([p for p in posts if p.deleted_at is not None], "platform"),
            # every author the archive knows of: of collected posts, deleted or not, and of context posts
            "authors": len(
                {(p.platform, p.author.native_id) for p in posts}
                | {(q.platform, q.author.native_id) for q in plan.external_posts if q.idx in context}
            ),
        },
        "campaign_posts": {
            "total": len(campaign),
            "by_platform": count(campaign, "platform"),
            "by_kind": count(campaign, "kind"),
            "by_hashtag": by_hashtag,
            "by_day": by_day,
            "by_theme": by_theme,
            "outside_window": len(outside),
            "in_window_without_official_hashtag": len(untagged),
        },
        "reposts": {"total": len(reposts), "by_platform": count(reposts, "platform")},
        "participants": {
            "total": len(authors),
            "by_role": dict(sorted(Counter(a.role for a in authors.values()).items())),
            "by_platform": dict(sorted(Counter(pl for pl, _ in authors).items())),
            "opted_out": sum(1 for a in authors.values() if not a.indexable),
        },
        "institutions": {
            "registered": len(world.institutions),
            "countries_registered": len({i.country for i in world.institutions}),
            "posted": len(posted),
            "countries": len(by_country),
            "by_country": dict(sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))),
            "posts_by_institution": dict(sorted(inst_posts.items(), key=lambda kv: (-kv[1], kv[0]))),
        },
        "engagement": engagement,
        "hashtag_variants": {k: sorted(v) for k, v in variants.items()},
    }


# -- writing ----------------------------------------------------------------------------------


def _write_jsonl(
    path: Path,
    objs: list[dict[str, Any]],
    *,
    compact: bool = False,
    ascii_only: bool = False,
    gz: bool = False,
) -> int:
    """One JSON document per line; gzip-compressed (reproducibly: no name, no time) if ``gz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seps = (",", ":") if compact else (", ", ": ")
    data = "".join(json.dumps(obj, ensure_ascii=ascii_only, separators=seps) + "\n" for obj in objs).encode()
    with path.open("wb") as fh:
        if gz:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as z:
                z.write(data)
        else:
            fh.write(data)
    return len(objs)


_README = """# Synthetic MuseumWeek (demo data)

Everything in this folder was invented by `salon demo generate` (seed {seed}): institutions,
people, accounts, ids, texts and links (on the reserved `.example` domain). It is written in the
platforms' own formats so that `salon import {data}` reads it like a real collection:

- `{data}/x/`: X API v2 search pages as twarc2 writes them, and a compliance file of deletions;
- `{data}/mastodon/`: Mastodon statuses from one server's hashtag timelines, one per line;
- `{data}/bluesky/`: a Bluesky Jetstream capture (post and repost creates, deletes).

`participants.csv` is the institution registry and `museumweek.toml` the campaign file.
`ground_truth.json` holds the figures a correct import and tally must find, computed by the
generator from its own plan.
"""


def generate(
    out: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    institutions: int = DEFAULT_INSTITUTIONS,
    posts: int = DEFAULT_POSTS,
    start: date = DEFAULT_START,
    days: int = DEFAULT_DAYS,
    platforms: Sequence[str] = PLATFORMS,
    gz: bool = False,
) -> dict[str, Any]:
    """Write a synthetic campaign into ``out`` and return its ground truth (also written to
    ``out/ground_truth.json``). The same arguments always give byte-identical files; ``gz``
    writes the data files gzip-compressed (``.jsonl.gz``, which ``salon import`` reads)."""
    cfg = Config(seed, institutions, posts, start, days, tuple(p for p in PLATFORMS if p in platforms))
    if len(cfg.platforms) != len(set(platforms)):
        raise ValueError(f"platforms must be among {', '.join(PLATFORMS)}")
    world, plan = make_plan(cfg)
    out = Path(out)
    data_dir = out / DATA_DIR
    if data_dir.exists():  # never leave files of an earlier generation beside the new ones
        if not (out / "ground_truth.json").is_file():
            raise FileExistsError(f"{data_dir} exists and was not written by the generator")
        shutil.rmtree(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    ext = ".jsonl.gz" if gz else ".jsonl"
    by_platform = {pl: [p for p in plan.posts if p.platform == pl] for pl in cfg.platforms}
    if "bluesky" in by_platform:  # cids of Bluesky records are needed before anything is written
        events = jetstream_events(by_platform["bluesky"], plan.rng)
    if "x" in by_platform:
        rel = f"{DATA_DIR}/x/search-museumweek{ext}"
        n = _write_jsonl(out / rel, x_pages(cfg, by_platform["x"]), ascii_only=True, gz=gz)
        files[rel] = {"format": "x-v2", "records": n}
        deletions = x_compliance(by_platform["x"])
        if deletions:
            rel = f"{DATA_DIR}/x/compliance-tweets{ext}"
            files[rel] = {
                "format": "x-v2",
                "records": _write_jsonl(out / rel, deletions, compact=True, gz=gz),
            }
    if "mastodon" in by_platform:
        rel = f"{DATA_DIR}/mastodon/{W.MASTODON_SERVING}-hashtags{ext}"
        statuses = [
            m_status(p) for p in sorted(by_platform["mastodon"], key=lambda q: int(q.m_id), reverse=True)
        ]
        files[rel] = {"format": "mastodon", "records": _write_jsonl(out / rel, statuses, gz=gz)}
    if "bluesky" in by_platform:
        rel = f"{DATA_DIR}/bluesky/jetstream{ext}"
        files[rel] = {"format": "jetstream", "records": _write_jsonl(out / rel, events, compact=True, gz=gz)}
    (out / "participants.csv").write_text(_participants_csv(world, plan.rng), encoding="utf-8", newline="")
    (out / "museumweek.toml").write_text(_campaign_toml(cfg), encoding="utf-8", newline="\n")
    (out / "README.md").write_text(_README.format(seed=seed, data=DATA_DIR), encoding="utf-8", newline="\n")
    truth = ground_truth(cfg, world, plan, dict(sorted(files.items())), gz)
    with (out / "ground_truth.json").open("w", encoding="utf-8", newline="\n") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    return truth
