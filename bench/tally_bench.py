"""Tally benchmark: latency of the full campaign tally at 1M and 10M stored posts.

    .venv/bin/python -m bench.tally_bench [--sizes 1000000,10000000] [--runs 30] [--keep]

For each size, builds a synthetic archive directly with DuckDB SQL (this measures the tally, not
the import): eight MuseumWeek editions (2014-2021, one week each, Europe/Paris, an official tag
and seven theme tags, 2,000 registered institutions from 58 countries), with 80% of the posts in
the editions' weeks (40% of them reposts), 20% elsewhere; one engagement snapshot per original,
0.5% deleted; one author per ten posts; written as the importer does, in batches of 5,000
posts (``collected_at`` per batch, on the posts and their hashtag rows). Then measures, on the
largest edition:

- ``cold``: building the campaign index from scratch (what `salon campaign add` pays once);
- ``tally`` (cached): the full tally (``salon.campaigns.tally.tally``, every figure of `salon
  tally --json`) when the archive has not changed since the last call (freshness check and
  in-memory result keyed by the index's watermarks): p50/p95 over ``--runs`` calls;
- ``compute`` (recomputed): the same with the in-memory result dropped before each call (the
  tally computed from the fresh index's aggregates);
- ``after_write``: a batch written through ``salon.store.writer.Writer`` (800 new campaign
  posts with engagement, 200 reposts: 180 of random stored posts of the campaign's week and 20
  of random stored posts of any time, 100 deletions of random stored posts, 20 new authors), then the full tally (incremental index refresh included): p50/p95;
  ``refresh`` is the refresh alone, measured on the same kind of batch;
- ``after_import``: the same batch written as an import (``Writer.start_import``, ``write``,
  ``finish_import`` and ``refresh_after_import``, which refreshes every stored campaign's
  index, timed apart), then the
  full tally: what `salon tally` costs right after `salon import`;
- ``scan``: the same tally computed from the archive tables without the index (reference).

Every run measures the same archive: the runs write into ``bench/data/tally-<N>.duckdb``, deleted
at the end. With ``--keep`` the archive as built (before any campaign or write) is kept as
``bench/data/tally-<N>.pristine.duckdb`` and a later ``--keep`` run starts from a copy of it
(a file copy instead of the build), so its batches write new posts and delete stored ones as in
the first run, on a campaign of the same size; the JSON says whether the archive was reused
(``archive_reused``) and what building (``build_s``) or copying (``copy_s``) it took.

Prints a table and writes ``bench/results/tally-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"

EDITIONS = list(range(2014, 2022))
THEMES = ["Secrets", "Souvenirs", "Architecture", "Inspiration", "Family", "Favourites", "Poses"]
COUNTRIES = [
    "FR", "GB", "US", "IT", "ES", "DE", "NL", "BE", "CH", "AT", "PT", "IE", "SE", "NO", "DK", "FI",
    "PL", "CZ", "GR", "TR", "RU", "UA", "CA", "MX", "BR", "AR", "CL", "CO", "PE", "JP", "KR", "CN",
    "IN", "AU", "NZ", "ZA", "EG", "MA", "TN", "SN", "NG", "KE", "IL", "AE", "SA", "QA", "LB", "IR",
    "TH", "SG", "MY", "ID", "PH", "VN", "HU", "RO", "BG", "HR",
]  # fmt: skip
N_PARTICIPANTS = 2000
BATCH = 5000  # posts per import batch (one collected_at each)


def _start(year: int) -> date:
    """MuseumWeek-like: the last full week of March."""
    d = date(year, 3, 31)
    return d - timedelta(days=(d.weekday() + 7) % 7 + 7)


def campaign_toml(year: int) -> tuple[str, str]:
    s = _start(year)
    days = "".join(
        f'\n[[days]]\ndate = {s + timedelta(days=i)}\ntheme = "{t}"\nhashtags = ["{t}MW"]\n'
        for i, t in enumerate(THEMES)
    )
    toml = (
        f'[campaign]\nname = "MuseumWeek {year}"\nslug = "mw-{year}"\nseries = "MuseumWeek"\n'
        f'timezone = "Europe/Paris"\nstart = {s}\nend = {s + timedelta(days=7)}\nhashtags = ["MuseumWeek"]\n'
        + days
    )
    rows = ["name,country,city,kind,x"]
    for k in range(N_PARTICIPANTS):
        rows.append(f"Museum {k},{COUNTRIES[k % len(COUNTRIES)]},,museum,user{k * 7}")
    return toml, "\n".join(rows) + "\n"


def build(path: Path, n: int) -> None:
    """A synthetic archive of ``n`` posts, in SQL."""
    from salon.store.archive import open_archive

    authors = max(n // 10, 10_000)
    with open_archive(path) as arc:
        con = arc.con
        starts = [datetime.combine(_start(y), datetime.min.time()) - timedelta(hours=1) for y in EDITIONS]
        # Edition e (0..7) or noise (8, 9) by i % 10; the week's offset by a hash of i.
        case_start = " ".join(f"WHEN {e} THEN TIMESTAMPTZ '{s.isoformat()}+00'" for e, s in enumerate(starts))
        con.execute(
            f"""CREATE TEMP TABLE g AS SELECT i, i % 10 AS e, hash(i) AS h,
            (hash(i * 7 + 1) % 100) AS r,
            TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(CAST(i // {BATCH} AS BIGINT)) AS batch_at
            FROM range({n}) t(i) ORDER BY i"""
        )
        con.execute(
            f"""INSERT INTO posts (uid, platform, native_id, author_uid, created_at, collected_at, text, kind,
            repost_of_uid, deleted_at, is_context)
            SELECT 'x:' || i, 'x', CAST(i AS VARCHAR), 'x:u' || (h % {authors}),
              CASE WHEN e < 8 THEN (CASE e {case_start} END) + to_seconds(CAST(h % (7 * 86400) AS BIGINT))
                   ELSE TIMESTAMPTZ '2013-01-01 00:00:00+00' + to_seconds(CAST(h % (9 * 365 * 86400) AS BIGINT)) END,
              batch_at, 'post ' || i,
              CASE WHEN r < 40 THEN 'repost' WHEN r < 50 THEN 'reply' WHEN r < 55 THEN 'quote' ELSE 'original' END,
              CASE WHEN r < 40 THEN 'x:' || (CASE WHEN i >= 10 * (1 + h % 500) THEN i - 10 * (1 + h % 500) ELSE i + 10 END) END,
              CASE WHEN (h >> 20) % 200 = 0 THEN TIMESTAMPTZ '2024-01-02 00:00:00+00' END,
              false
            FROM g"""
        )
        # Hashtags: campaign posts carry the official tag (90%) and/or the theme tag of a day.
        theme_case = " ".join(f"WHEN {k} THEN '{t.lower()}mw'" for k, t in enumerate(THEMES))
        con.execute(
            f"""INSERT INTO post_hashtags SELECT uid, k, n, d, s, batch_at FROM (
            SELECT 'x:' || i AS uid, 'museumweek' AS k, 'museumweek' AS n, 'MuseumWeek' AS d, 'entities' AS s,
              batch_at, i FROM g
              WHERE e < 8 AND r % 10 <> 0
            UNION ALL
            SELECT 'x:' || i, CASE (h >> 8) % 7 {theme_case} END, CASE (h >> 8) % 7 {theme_case} END,
              'ThemeMW', 'entities', batch_at, i FROM g WHERE e < 8 AND (r % 10 = 0 OR (h >> 4) % 3 = 0)
            UNION ALL
            SELECT 'x:' || i, 'art', 'art', 'art', 'entities', batch_at, i FROM g WHERE e >= 8 OR (h >> 12) % 4 = 0
            ) ORDER BY i"""
        )
        con.execute(
            """INSERT INTO metrics_snapshots SELECT 'x:' || i, TIMESTAMPTZ '2024-01-01 00:00:00+00',
            h % 50, (h >> 8) % 10, (h >> 16) % 5, (h >> 24) % 3, NULL FROM g WHERE r >= 40"""
        )
        con.execute(
            f"""INSERT INTO authors (uid, platform, native_id, handle, observed_at, handle_changed_at)
            SELECT 'x:u' || k, 'x', 'u' || k, 'User' || k, TIMESTAMPTZ '2024-01-01 00:00:00+00',
            TIMESTAMPTZ '2024-01-01 00:00:00+00' FROM range({authors}) t(k)"""
        )
        con.execute("DROP TABLE g")
        con.execute("CHECKPOINT")


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def _write_batch(arc: Any, n0: int, k: int, rng: random.Random, year: int, as_import: bool = False) -> float:
    """One import batch through the Writer: 800 new campaign posts (with engagement), 200
    reposts (180 of random stored posts of the campaign's week, 20 of random stored posts of any
    time), 100 deletions of random stored posts, 20 new authors."""
    from salon.campaigns.index import refresh_after_import
    from salon.model import Author, Engagement, Hashtag, Post, Tombstone
    from salon.store.batch import Batch
    from salon.store.writer import Writer

    now = datetime.now(UTC)
    start = datetime.combine(_start(year), datetime.min.time(), tzinfo=UTC)
    authors = max(n0 // 10, 10_000)
    base = n0 + k * 1000  # new ids, after the stored ones
    items: list[Any] = []
    for i in range(1000):
        nid = str(base + i)
        when = start + timedelta(seconds=rng.randrange(7 * 86400))
        a = rng.randrange(authors) if i % 50 else authors + k * 20 + i // 50  # 20 new authors
        author = Author("x", f"u{a}", handle=f"User{a}")
        if i < 800:
            tags = [Hashtag("MuseumWeek")] + ([Hashtag(f"{THEMES[i % 7]}MW")] if i % 3 == 0 else [])
            eng = Engagement(i % 50, i % 10, i % 5, i % 3, now)
            items.append(Post("x", nid, when, "new", author=author, hashtags=tags, engagement=eng))
        else:  # mostly reposts of the campaign week's stored posts, some of any stored post
            e = EDITIONS.index(year)
            of = rng.randrange(n0 // 10) * 10 + e if i < 980 else rng.randrange(n0)
            items.append(Post("x", nid, when, "RT", kind="repost", author=author, repost_of_uid=f"x:{of}"))
    for _ in range(100):
        items.append(Tombstone("x", str(rng.randrange(n0)), now))
    b = Batch()
    rid = f"bench-{k}-{now.timestamp()}"
    b.add_raw(rid, "bench", rid.encode(), None, None, "bench", None)
    b.add_items(items, rid, now)
    w = Writer(arc)
    if not as_import:
        w.write(b)
        return 0.0
    iid = w.start_import("import", "bench")
    w.write(b, iid)
    t = time.perf_counter()
    w.finish_import(iid, "done", {"in": len(items)})
    refresh_after_import(arc)  # what the importer does after finishing an import
    return 1000 * (time.perf_counter() - t)


def _copy_archive(src: Path, dst: Path) -> None:
    """Copy a closed DuckDB archive (and its WAL, if any) over ``dst``; each file is copied under
    a temporary name and renamed, so an interrupted copy never passes for a whole one."""
    for suffix in (".wal", ""):
        Path(str(dst) + suffix).unlink(missing_ok=True)
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix + ".tmp")
            os.replace(str(dst) + suffix + ".tmp", str(dst) + suffix)


def _remove_archive(path: Path) -> None:
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def prepare_archive(n: int, keep: bool) -> tuple[Path, dict[str, Any]]:
    """The archive a run writes into, as built: ``bench/data/tally-<n>.duckdb``, built afresh, or
    with ``keep`` copied from the pristine copy kept by an earlier ``--keep`` run (made right
    after the build, before any campaign or write). Returns it with what it took."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"tally-{n}.duckdb"
    pristine = DATA / f"tally-{n}.pristine.duckdb"
    _remove_archive(path)  # whatever an earlier run left there holds that run's writes
    info: dict[str, Any] = {"archive_reused": keep and pristine.exists()}
    t0 = time.perf_counter()
    if info["archive_reused"]:
        _copy_archive(pristine, path)
        info["build_s"] = None
        info["copy_s"] = round(time.perf_counter() - t0, 1)
        return path, info
    build(path, n)
    info["build_s"] = round(time.perf_counter() - t0, 1)
    if keep:
        t0 = time.perf_counter()
        _copy_archive(path, pristine)
        info["copy_s"] = round(time.perf_counter() - t0, 1)
    return path, info


def run_size(n: int, runs: int, keep: bool) -> dict[str, Any]:
    from salon.campaigns import tally as tally_mod
    from salon.campaigns.config import parse_campaign
    from salon.campaigns.index import refresh
    from salon.campaigns.stored import get_campaign, save_campaign
    from salon.campaigns.tally import tally
    from salon.store.archive import open_archive

    path, info = prepare_archive(n, keep)
    out: dict[str, Any] = {"posts_stored": n, **info}
    with open_archive(path) as arc:
        cold = {}
        for y in EDITIONS:
            toml, csv = campaign_toml(y)
            c = parse_campaign(toml, participants_csv=csv)
            save_campaign(arc, c)
            t = time.perf_counter()
            refresh(arc, c, force=True)
            cold[y] = time.perf_counter() - t
        sizes = {
            y: arc.scalar("SELECT count(*) FROM campaign_posts WHERE campaign_id = ?", [i + 1])
            for i, y in enumerate(EDITIONS)
        }
        target = max(sizes, key=lambda y: sizes[y])
        c = get_campaign(arc, f"mw-{target}")
        assert c is not None
        out["campaign"] = c.slug
        out["campaign_members"] = sizes[target]
        out["cold_index_build_ms"] = round(1000 * cold[target], 1)
        first = tally(arc, c)
        out["figures"] = {
            k: first[k] for k in ("posts", "reposts", "participants", "institutions", "countries")
        }
        lat = []
        for _ in range(runs):
            t = time.perf_counter()
            r = tally(arc, c)
            lat.append(1000 * (time.perf_counter() - t))
            assert r["source"] == "index"
        out["tally_ms"] = {"p50": round(_pct(lat, 50), 1), "p95": round(_pct(lat, 95), 1), "runs": runs}
        lat1 = []
        for _ in range(runs):
            tally_mod._CACHE.clear()
            t = time.perf_counter()
            r = tally(arc, c)
            lat1.append(1000 * (time.perf_counter() - t))
        out["compute_ms"] = {"p50": round(_pct(lat1, 50), 1), "p95": round(_pct(lat1, 95), 1), "runs": runs}
        lat2 = []
        before = first["posts"]
        rng = random.Random(n)
        k = 0
        for k in range(runs):
            _write_batch(arc, n, k, rng, target)
            t = time.perf_counter()
            r = tally(arc, c)
            lat2.append(1000 * (time.perf_counter() - t))
        out["after_write_ms"] = {
            "p50": round(_pct(lat2, 50), 1),
            "p95": round(_pct(lat2, 95), 1),
            "runs": len(lat2),
        }
        lat4 = []
        for j in range(k + 1, k + 1 + max(5, runs // 3)):
            _write_batch(arc, n, j, rng, target)
            t = time.perf_counter()
            refresh(arc, c)
            lat4.append(1000 * (time.perf_counter() - t))
        out["refresh_after_write_ms"] = {
            "p50": round(_pct(lat4, 50), 1),
            "p95": round(_pct(lat4, 95), 1),
            "runs": len(lat4),
        }
        lat5, fin = [], []
        j0 = k + 1 + max(5, runs // 3)  # the import batches' ids follow the refresh batches'
        for j in range(j0, j0 + max(5, runs // 3)):
            fin.append(_write_batch(arc, n, j, rng, target, as_import=True))
            t = time.perf_counter()
            r = tally(arc, c)
            lat5.append(1000 * (time.perf_counter() - t))
        out["after_import_ms"] = {
            "p50": round(_pct(lat5, 50), 1),
            "p95": round(_pct(lat5, 95), 1),
            "runs": len(lat5),
            "finish_import_refresh_p50": round(_pct(fin, 50), 1),
            "finish_import_refresh_p95": round(_pct(fin, 95), 1),
        }
        r = tally(arc, c)
        scan = tally(arc, c, use_index=False)
        drop = ("source", "computed_at")
        assert {k: v for k, v in r.items() if k not in drop} == {
            k: v for k, v in scan.items() if k not in drop
        }, "index and scan disagree"
        out["posts_after_writes"] = r["posts"]
        out["posts_added_net"] = r["posts"] - before
        lat3 = []
        for _ in range(3):
            t = time.perf_counter()
            tally(arc, c, use_index=False)
            lat3.append(1000 * (time.perf_counter() - t))
        out["scan_ms"] = {"p50": round(statistics.median(lat3), 1), "runs": 3}
    _remove_archive(path)  # it holds this run's writes; --keep keeps the pristine copy
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.tally_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000", help="Comma-separated numbers of stored posts.")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument(
        "--keep",
        action="store_true",
        help="Keep a pristine copy of each generated archive in bench/data (tally-<N>.pristine.duckdb)"
        " and start from a copy of it when there is one.",
    )
    args = ap.parse_args(argv)
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        print(f"tally bench: {n:,} posts ...", flush=True)
        results.append(run_size(n, args.runs, args.keep))
        r = results[-1]
        how = (
            f"archive reused: copied from its pristine copy in {r['copy_s']} s"
            if r["archive_reused"]
            else f"archive built in {r['build_s']} s"
        )
        print(
            f"  {n:>12,} posts  campaign {r['campaign']} ({r['campaign_members']:,} members)  "
            f"tally p50 {r['tally_ms']['p50']} ms  p95 {r['tally_ms']['p95']} ms  "
            f"recomputed p50 {r['compute_ms']['p50']} ms  p95 {r['compute_ms']['p95']} ms  "
            f"after a write p50 {r['after_write_ms']['p50']} ms  p95 {r['after_write_ms']['p95']} ms  "
            f"(refresh alone p50 {r['refresh_after_write_ms']['p50']} ms  p95 {r['refresh_after_write_ms']['p95']} ms)  "
            f"after an import p50 {r['after_import_ms']['p50']} ms  p95 {r['after_import_ms']['p95']} ms "
            f"(its refresh at finish_import p50 {r['after_import_ms']['finish_import_refresh_p50']} ms)  "
            f"scan {r['scan_ms']['p50']} ms  cold index {r['cold_index_build_ms']} ms  ({how})",
            flush=True,
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    meta = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],  # other work on the machine skews
    }
    (RESULTS / f"tally-{stamp}.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"wrote bench/results/tally-{stamp}.json")


if __name__ == "__main__":
    main()
