"""The synthetic MuseumWeek generator (``salon.demo``).

1. Every payload it writes has the key structure of the real payloads in ``../shared/corpora``:
   at each level, every key is one the real payloads use there (with a value of a type they use),
   the keys every real payload has are present, and nothing is nested where the real payloads
   nest nothing.
2. Offsets are right: X entity offsets in code points, Bluesky facet offsets in UTF-8 bytes.
3. The output is deterministic for a seed.
4. Importing the output through ``salon.importer.import_paths`` gives exactly the ground truth the
   generator computed from its own plan. The archive-side figures are computed here in plain
   Python from the archive tables, following DESIGN.md's definitions, not by the tally code.
5. ``salon demo generate``, ``salon demo --sample`` and ``salon demo`` run, and the bundled
   sample is what the generator writes.
"""

from __future__ import annotations

import csv
import gzip
import json
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from salon import normalize
from salon.cli import app
from salon.demo.generator import generate
from salon.demo.run import SAMPLE_ARGS
from salon.hashtags import tag_key
from salon.importer import import_paths
from tests.conftest import corpus_path, twarc

# Real payloads in ../shared/corpora, found inside the tests (tests/conftest.py).
MASTODON = ("mastodon-py", "extracted", "statuses_test_instance_localhost.jsonl")
JETSTREAM = ("bluesky-jetstream", "internal", "corpus", "testdata", "expected_v1.jsonl")
ATPROTO_THREAD = ("atproto-python", "tests", "test_atproto_client", "models", "test_data",
                  "thread_view_post_with_embed_media.json")  # fmt: skip
# twarc2 pages of 2022-2023 (tweet.fields with edit history): the field set a modern page has.
X_MODERN = ["quoted_edit.jsonl", "edited.jsonl", "edited_after.jsonl", "edited_before.jsonl",
            "verified_type.jsonl", "media_tweet.jsonl"]  # fmt: skip
FORMAT_OF = {"x": "x-v2", "mastodon": "mastodon", "bluesky": "jetstream"}
AVAILABLE = [p for p, f in FORMAT_OF.items() if f in normalize.formats()]
SAMPLE = Path(__file__).resolve().parents[1] / "src" / "salon" / "data" / "sample"


def lines(path: Path) -> Iterator[Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue  # the corpora hold deliberately broken lines


# -- key structure ----------------------------------------------------------------------------


class Shapes:
    """The key sets of the objects found at each (canonical) path of some payloads, and the
    types of the values under each key."""

    def __init__(self) -> None:
        self.keys: dict[str, list[frozenset[str]]] = defaultdict(list)
        self.types: dict[tuple[str, str], set[str]] = defaultdict(set)

    def add(self, obj: Any, canon: Callable[[str], str], path: str = "") -> None:
        if isinstance(obj, dict):
            p = canon(path)
            self.keys[p].append(frozenset(obj))
            for k, v in obj.items():
                self.types[(p, k)].add(type(v).__name__)
                self.add(v, canon, f"{path}.{k}" if path else k)
        elif isinstance(obj, list):
            for v in obj:
                self.add(v, canon, path + "[]")

    def union(self, p: str) -> set[str]:
        return set().union(*self.keys[p])

    def core(self, p: str) -> set[str]:
        return set.intersection(*(set(k) for k in self.keys[p]))


def shape_problems(gen: Shapes, real: Shapes, modern: Shapes | None = None) -> list[str]:
    out = []
    for p, sets in gen.keys.items():
        if p not in real.keys:
            out.append(f"{p or '<root>'}: no object is nested here in the real payloads")
            continue
        allowed, required = real.union(p), real.core(p)
        for ks in set(sets):
            if ks - allowed:
                out.append(f"{p or '<root>'}: keys the real payloads never use here: {sorted(ks - allowed)}")
            if required - ks:
                out.append(
                    f"{p or '<root>'}: keys every real payload has here are missing: {sorted(required - ks)}"
                )
    for (p, k), types in gen.types.items():
        real_types = real.types.get((p, k), set())
        # A field the corpus only ever shows empty (null) may hold a value (e.g. remote_url).
        if real_types and real_types != {"NoneType"} and types - real_types:
            out.append(f"{p}.{k}: value types {sorted(types)}, real {sorted(real_types)}")
    if modern is not None:  # all the fields of a modern payload are used somewhere
        for p in modern.keys:
            if p in gen.keys and modern.core(p) - gen.union(p):
                out.append(
                    f"{p or '<root>'}: fields of modern payloads never written: {sorted(modern.core(p) - gen.union(p))}"
                )
    return sorted(set(out))


def x_canon(path: str) -> str:
    for prefix, name in (("data[]", "tweet"), ("includes.tweets[]", "tweet"), ("includes.users[]", "user"),
                         ("includes.media[]", "media")):  # fmt: skip
        if path == prefix or path.startswith(prefix + "."):
            return name + path[len(prefix) :]
    return path


def mastodon_canon(path: str) -> str:
    """A reblogged or quoted status is a status: one shape for all of them."""
    out: list[str] = []
    for seg in path.split(".") if path else []:
        if seg == "reblog" or (seg == "quoted_status" and out and out[-1] == "quote"):
            out = []
            continue
        out.append(seg)
    return ".".join(out)


def jetstream_canon(event: dict[str, Any]) -> Callable[[str], str]:
    commit = event.get("commit") or {}
    root = f"{event.get('kind')}:{commit.get('collection')}:{commit.get('operation')}/"
    return lambda p: root + p


def x_real() -> tuple[Shapes, Shapes, Shapes]:
    real, modern, compliance = Shapes(), Shapes(), Shapes()
    for f in sorted(twarc().glob("*.json*")):
        for obj in lines(f):
            if not isinstance(obj, dict):
                continue
            if obj.get("action") == "delete":
                compliance.add(obj, str)
            data = obj.get("data")
            if isinstance(data, list) and data and isinstance(data[0], dict) and "text" in data[0]:
                real.add(obj, x_canon)
                if f.name in X_MODERN:
                    modern.add(obj, x_canon)
    return real, modern, compliance


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    truth = generate(out, seed=7, institutions=120, posts=2500)
    return out, truth


def test_x_pages_have_the_real_key_structure(
    needs_shared: Path, generated: tuple[Path, dict[str, Any]]
) -> None:
    out, _ = generated
    real, modern, real_compliance = x_real()
    gen, gen_compliance = Shapes(), Shapes()
    for obj in lines(out / "data" / "x" / "search-museumweek.jsonl"):
        gen.add(obj, x_canon)
    for obj in lines(out / "data" / "x" / "compliance-tweets.jsonl"):
        gen_compliance.add(obj, str)
    assert gen.keys["tweet"] and gen.keys["user"] and gen.keys["media"] and gen_compliance.keys[""]
    assert shape_problems(gen, real, modern) == []
    assert shape_problems(gen_compliance, real_compliance) == []


def test_mastodon_statuses_have_the_real_key_structure(
    needs_shared: Path, generated: tuple[Path, dict[str, Any]]
) -> None:
    out, _ = generated
    real, modern = Shapes(), Shapes()
    for obj in lines(corpus_path(*MASTODON)):
        real.add(obj, mastodon_canon)
        if "quote_approval" in obj:  # Mastodon 4.4+ (quotes): the field set of a current server
            modern.add(obj, mastodon_canon)
    gen = Shapes()
    statuses = list(lines(out / "data" / "mastodon" / "mastodon.social-hashtags.jsonl"))
    for obj in statuses:
        gen.add(obj, mastodon_canon)
    assert any(s["reblog"] for s in statuses) and any(s["quote"] for s in statuses)
    assert any(s["in_reply_to_id"] for s in statuses) and any(s["media_attachments"] for s in statuses)
    assert shape_problems(gen, real, modern) == []


def test_jetstream_events_have_the_real_key_structure(
    needs_shared: Path, generated: tuple[Path, dict[str, Any]]
) -> None:
    out, _ = generated
    real = Shapes()
    for ev in lines(corpus_path(*JETSTREAM)):
        real.add(ev, jetstream_canon(ev))
    # Jetstream's sample has no quote post: a quote's embed is the app.bsky.embed.record object
    # that atproto's thread view nests in a post record (recordWithMedia.record).
    thread = json.loads(corpus_path(*ATPROTO_THREAD).read_text(encoding="utf-8"))
    record_embed = thread["thread"]["post"]["record"]["embed"]["record"]
    assert record_embed["$type"] == "app.bsky.embed.record"
    real.add(
        record_embed,
        lambda p: "commit:app.bsky.feed.post:create/commit.record.embed" + (f".{p}" if p else ""),
    )
    gen = Shapes()
    events = list(lines(out / "data" / "bluesky" / "jetstream.jsonl"))
    for ev in events:
        gen.add(ev, jetstream_canon(ev))
    ops = Counter((e["commit"]["collection"], e["commit"]["operation"]) for e in events)
    assert ops[("app.bsky.feed.post", "create")] and ops[("app.bsky.feed.repost", "create")]
    assert ops[("app.bsky.feed.post", "delete")]
    embeds = Counter(e["commit"].get("record", {}).get("embed", {}).get("$type") for e in events)
    assert embeds["app.bsky.embed.record"] and embeds["app.bsky.embed.images"]
    assert shape_problems(gen, real) == []
    # Records are written with sorted keys, as Jetstream writes them.
    for e in events:
        rec = e["commit"].get("record")
        if rec is not None:
            assert list(rec) == sorted(rec)


def test_offsets_point_at_the_entities(generated: tuple[Path, dict[str, Any]]) -> None:
    out, _ = generated
    n = 0
    for page in lines(out / "data" / "x" / "search-museumweek.jsonl"):
        for t in page["data"] + page["includes"].get("tweets", []):
            text, ents = t["text"], t.get("entities", {})
            for h in ents.get("hashtags", []):
                assert text[h["start"] : h["end"]] == "#" + h["tag"]
                n += 1
            for m in ents.get("mentions", []):
                assert text[m["start"] : m["end"]] == "@" + m["username"]
            for u in ents.get("urls", []):
                assert text[u["start"] : u["end"]] == u["url"]
    for e in lines(out / "data" / "bluesky" / "jetstream.jsonl"):
        rec = e["commit"].get("record") or {}
        raw = rec.get("text", "").encode("utf-8")
        for f in rec.get("facets", []):
            span = raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8")
            feature = f["features"][0]
            if feature["$type"].endswith("#tag"):
                assert span == "#" + feature["tag"]
                n += 1
            else:
                assert feature["uri"].split("://", 1)[1].startswith(span.rstrip("…"))
    assert n > 1000
    # Some facets follow non-ASCII text, so byte and character offsets differ.
    records = [e["commit"].get("record") or {} for e in lines(out / "data" / "bluesky" / "jetstream.jsonl")]
    assert any(len(r["text"].encode()) != len(r["text"]) for r in records if r.get("facets"))


# -- determinism --------------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=11, institutions=40, posts=400)
    b = generate(tmp_path / "b", seed=11, institutions=40, posts=400)
    c = generate(tmp_path / "c", seed=12, institutions=40, posts=400)
    assert a == b
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")
    assert a["campaign_posts"] != c["campaign_posts"]
    # generating again in place replaces the earlier files
    generate(tmp_path / "a", seed=11, institutions=40, posts=400, gz=True)
    assert sorted(p.name for p in (tmp_path / "a" / "data" / "x").iterdir()) == [
        "compliance-tweets.jsonl.gz",
        "search-museumweek.jsonl.gz",
    ]


def test_sizes_and_world(generated: tuple[Path, dict[str, Any]]) -> None:
    out, truth = generated
    assert truth["synthetic"] is True
    assert truth["posts"]["total"] + truth["posts"]["deleted"] == 2500
    assert truth["institutions"]["registered"] == 120
    rows = list(csv.DictReader((out / "participants.csv").open(encoding="utf-8")))
    assert list(rows[0]) == ["name", "country", "city", "kind", "x", "mastodon", "bluesky"]
    assert len(rows) == 120 and len({r["name"] for r in rows}) == 120
    assert all(len(r["country"]) == 2 and r["country"].isupper() for r in rows)
    assert all(
        r["bluesky"] == "" or all(d.startswith("did:plc:") for d in r["bluesky"].split()) for r in rows
    )
    assert all(r["mastodon"] == "" or all("@" in h for h in r["mastodon"].split()) for r in rows)
    assert any(r["x"] and r["x"] == r["x"].lower() for r in rows)  # handles in another case
    camp = tomllib.loads((out / "museumweek.toml").read_text(encoding="utf-8"))
    assert camp["campaign"]["hashtags"] == ["MuseumWeek"] and len(camp["days"]) == 7
    assert camp["days"][0]["hashtags"] == ["SecretsMW"]
    assert camp["participants"]["file"] == "participants.csv"
    # variants of one key, languages, spam, opted-out accounts
    assert {"SecretsMW", "secretsmw", "SECRETSMW"} <= set(truth["hashtag_variants"]["secretsmw"])
    assert "MuséumWeek" in truth["hashtag_variants"]["museumweek"]
    assert truth["participants"]["by_role"]["spam"] >= 1
    langs = {e["commit"]["record"]["langs"][0] for e in lines(out / "data" / "bluesky" / "jetstream.jsonl")
             if e["commit"].get("record", {}).get("langs")}  # fmt: skip
    assert {"fr", "en", "es", "de", "it"} <= langs
    assert truth["institutions"]["countries"] >= 20


# -- import gives the ground truth ----------------------------------------------------------------


def archive_figures(db: Path, folder: Path, platforms: list[str]) -> dict[str, Any]:
    """The ground truth's figures, from the archive tables, by DESIGN.md's definitions."""
    camp = tomllib.loads((folder / "museumweek.toml").read_text(encoding="utf-8"))
    tz = ZoneInfo(camp["campaign"]["timezone"])
    lo = datetime.combine(camp["campaign"]["start"], time(0), tz)
    hi = datetime.combine(camp["campaign"]["end"], time(0), tz)
    days = [(d["theme"], d["date"], {tag_key(t) for t in d["hashtags"]}) for d in camp["days"]]
    official = {tag_key(t) for t in camp["campaign"]["hashtags"]} | set().union(*(k for _, _, k in days))
    con = duckdb.connect(str(db), read_only=True)
    posts = con.execute(
        "SELECT uid, platform, kind, created_at, author_uid, repost_of_uid, is_context, deleted_at FROM posts"
    ).fetchall()
    tags: dict[str, set[str]] = defaultdict(set)
    displays: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for uid, key, display in con.execute("SELECT uid, tag_key, tag_display FROM post_hashtags").fetchall():
        tags[uid].add(key)
        displays[uid].append((key, display))
    handles = {uid: (platform, native, handle) for uid, platform, native, handle in
               con.execute("SELECT uid, platform, native_id, handle FROM authors").fetchall()}  # fmt: skip
    latest = {r[0]: r[1:] for r in con.execute(
        "SELECT uid, arg_max(likes, observed_at), arg_max(reposts, observed_at), arg_max(replies, observed_at),"
        " arg_max(quotes, observed_at) FROM metrics_snapshots GROUP BY uid").fetchall()}  # fmt: skip
    indexable = dict(con.execute("SELECT uid, indexable FROM authors").fetchall())
    raw = con.execute("SELECT format, count(*) FROM raw GROUP BY ALL").fetchall()
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]  # type: ignore[index]
    con.close()

    registry: dict[tuple[str, str], dict[str, str]] = {}
    for row in csv.DictReader((folder / "participants.csv").open(encoding="utf-8")):
        for platform in ("x", "mastodon", "bluesky"):
            for h in row[platform].split():
                registry[(platform, h.casefold())] = row

    def institution(author_uid: str) -> dict[str, str] | None:
        platform, native, handle = handles[author_uid]
        return registry.get((platform, native.casefold())) or registry.get(
            (platform, (handle or "").casefold())
        )

    top = [p for p in posts if not p[6]]
    live = [p for p in top if p[7] is None]
    stored = {p[0]: p for p in posts}
    by_platform_kind = {pl: dict.fromkeys(("original", "reply", "quote", "repost"), 0) for pl in platforms}
    for p in live:
        by_platform_kind[p[1]][p[2]] += 1

    def inside(t: datetime) -> bool:
        return lo <= t < hi

    campaign = [p for p in live if p[2] != "repost" and inside(p[3]) and tags[p[0]] & official]
    reposts = []
    for p in live:
        if p[2] == "repost" and inside(p[3]):
            judged = tags[p[5]] if p[5] in stored else tags[p[0]]
            if judged & official:
                reposts.append(p)
    by_hashtag = {k: sum(1 for p in campaign if k in tags[p[0]]) for k in official}
    by_day = Counter(p[3].astimezone(tz).date().isoformat() for p in campaign)
    themes = {
        theme: (
            sum(1 for p in campaign if tags[p[0]] & keys),
            sum(1 for p in campaign if tags[p[0]] & keys and p[3].astimezone(tz).date() == d),
        )
        for theme, d, keys in days
    }
    authors = {p[4] for p in campaign}
    insts = {a: institution(a) for a in authors}
    posted = {r["name"]: r for r in insts.values() if r is not None}
    inst_posts = Counter(insts[p[4]]["name"] for p in campaign if insts[p[4]] is not None)  # type: ignore[index]
    engagement = dict.fromkeys(("likes", "reposts", "replies", "quotes"), 0)
    for p in campaign:
        if p[0] in latest:
            for k, v in zip(engagement, latest[p[0]], strict=True):
                engagement[k] += v or 0
    variants: dict[str, set[str]] = defaultdict(set)
    for p in campaign:
        for key, display in displays[p[0]]:
            if key in official:
                variants[key].add(display)
    return {
        "records": dict(raw),
        "quarantined": quarantined,
        "posts": len(live),
        "by_platform_kind": by_platform_kind,
        "context": sum(1 for p in posts if p[6] and p[7] is None),
        "deleted": sum(1 for p in posts if p[7] is not None),
        "authors": len({p[4] for p in posts}),
        "campaign_posts": len(campaign),
        "by_platform": dict(Counter(p[1] for p in campaign)),
        "by_kind": dict(Counter(p[2] for p in campaign)),
        "by_hashtag": by_hashtag,
        "by_day": dict(by_day),
        "themes": themes,
        "outside_window": sum(
            1 for p in live if p[2] != "repost" and not inside(p[3]) and tags[p[0]] & official
        ),
        "untagged": sum(1 for p in live if p[2] != "repost" and inside(p[3]) and not tags[p[0]] & official),
        "reposts": len(reposts),
        "reposts_by_platform": dict(Counter(p[1] for p in reposts)),
        "participants": len(authors),
        "institution_participants": sum(1 for r in insts.values() if r is not None),
        "opted_out": sum(1 for a in authors if indexable.get(a) is False),
        "institutions": len(posted),
        "countries": len({r["country"] for r in posted.values()}),
        "by_country": dict(Counter(r["country"] for r in posted.values())),
        "posts_by_institution": dict(inst_posts),
        "engagement": engagement,
        "variants": {k: sorted(v) for k, v in variants.items()},
    }


def test_import_gives_exactly_the_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    truth = generate(out, seed=3, institutions=150, posts=3000, platforms=AVAILABLE)
    db = tmp_path / "archive.duckdb"
    report = import_paths([str(out / p) for p in truth["import_paths"]], str(db))
    assert report.records_bad == 0 and report.problems == []
    assert report.records_in == truth["records"]["total"]
    got = archive_figures(db, out, AVAILABLE)
    cp, inst, part = truth["campaign_posts"], truth["institutions"], truth["participants"]

    assert got["records"] == {k: v for k, v in truth["records"].items() if k != "total"}
    assert got["quarantined"] == 0
    assert got["posts"] == truth["posts"]["total"]
    assert got["by_platform_kind"] == truth["posts"]["by_platform_kind"]
    assert got["context"] == truth["posts"]["context"] > 0
    assert got["deleted"] == truth["posts"]["deleted"] > 0
    assert got["authors"] == truth["posts"]["authors"]
    assert got["campaign_posts"] == cp["total"]
    assert got["by_platform"] == cp["by_platform"]
    assert got["by_kind"] == cp["by_kind"]
    assert got["by_hashtag"] == cp["by_hashtag"]
    assert got["by_day"] == cp["by_day"]
    assert got["themes"] == {k: (v["posts"], v["on_the_day"]) for k, v in cp["by_theme"].items()}
    assert got["outside_window"] == cp["outside_window"] > 0
    assert got["untagged"] == cp["in_window_without_official_hashtag"] > 0
    assert got["reposts"] == truth["reposts"]["total"]
    assert got["reposts_by_platform"] == truth["reposts"]["by_platform"]
    assert got["participants"] == part["total"]
    assert got["institution_participants"] == part["by_role"]["institution"]
    assert got["opted_out"] == part["opted_out"]
    assert got["institutions"] == inst["posted"]
    assert got["countries"] == inst["countries"]
    assert got["by_country"] == inst["by_country"]
    assert got["posts_by_institution"] == inst["posts_by_institution"]
    assert got["engagement"] == truth["engagement"]
    assert got["variants"] == truth["hashtag_variants"]

    again = import_paths([str(out / p) for p in truth["import_paths"]], str(db))
    assert again.posts_new == 0 and again.records_duplicate == truth["records"]["total"]


# -- CLI and the bundled sample --------------------------------------------------------------------


def test_cli_generate_and_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    out = tmp_path / "gen"
    args = ["demo", "generate", "--out", str(out), "--posts", "300", "--institutions", "30", "--seed", "5"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["generator"]["seed"] == 5 and (out / "participants.csv").is_file()
    assert runner.invoke(app, args).exit_code == 1  # will not overwrite without --force
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert (
        runner.invoke(app, ["demo", "generate", "--out", str(tmp_path), "--platforms", "x,fb"]).exit_code == 2
    )

    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["demo", "--posts", "400", "--institutions", "40"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "salon-demo" / "ground_truth.json").is_file() and (tmp_path / "salon.duckdb").is_file()
    assert "What the archive holds" in r.output and "The tally equals the ground truth" in r.output
    r = runner.invoke(app, ["demo", "--posts", "400", "--institutions", "40"])  # again: nothing new
    assert r.exit_code == 0 and "0 new posts" in r.output


def test_demo_sample(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["demo", "--sample", "--archive", str(tmp_path / "s.duckdb")])
    assert r.exit_code == 0, r.output
    assert "The tally equals the ground truth" in r.output


def test_bundled_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    truth = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))
    g = truth["generator"]
    assert {k: g[k] if k != "gz" else g["gzip"] for k in SAMPLE_ARGS} == SAMPLE_ARGS
    again = generate(tmp_path, **SAMPLE_ARGS)
    assert again == truth
    for rel in truth["files"]:
        assert list(lines(tmp_path / rel)) == list(lines(SAMPLE / rel)), rel
    for name in ("participants.csv", "museumweek.toml", "README.md"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes()
    assert 200 <= truth["posts"]["total"] <= 1000
    assert sum((SAMPLE / rel).stat().st_size for rel in truth["files"]) < 300_000


def test_window_is_the_campaign_zone(generated: tuple[Path, dict[str, Any]]) -> None:
    _, truth = generated
    lo, hi = (datetime.fromisoformat(t) for t in truth["campaign"]["window_utc"])
    assert lo == datetime(2025, 5, 11, 22, tzinfo=UTC) and hi == datetime(2025, 5, 18, 22, tzinfo=UTC)
