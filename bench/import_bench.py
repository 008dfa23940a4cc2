"""Import benchmark: Salon's import against DuckDB's own JSON scan and ``twarc2 csv``.

    .venv/bin/python -m bench.import_bench [--size-mb 900] [--skip-peer]

Builds (or reuses) ``bench/data/x-v2-<size>mb.jsonl`` from the real twarc2 corpus with fresh ids
(see ``bench/gen_x_v2.py``), then measures on that same file, each in its own child process so
its peak RSS is its own:

1. Salon: ``salon.importer.import_paths`` into a fresh archive;
2. the near-limit: DuckDB ``read_ndjson_objects`` over the file + a hashtag count;
3. the floor of a lossless import, each part on one thread: DuckDB parsing every line of the
   file with the import's own page structure (``x_v2_read.PAGE_STRUCT``, nothing unnested or stored);
   Python hashing every line and packing it into compressed raw blocks (``rawstore.pack``),
   nothing written; and DuckDB writing what Salon's import stored (every table's rows, read
   from Salon's archive) into a fresh archive in one transaction, with no memory limit, checkpoint
   included. Their sum over the CPUs is the least wall time any import that parses the lines,
   keeps them and stores the same tables could take here, before it derives or deduplicates
   anything, were the work split perfectly over the CPUs;
4. the peer: ``twarc2 csv`` (in ``bench/.venv-peer``), on a proportional subset of the file when
   the whole would take more than ``--peer-max-seconds``, its rate extrapolated.

Prints a table and writes ``bench/results/import-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.gen_x_v2 import generate
from bench.tally_bench import _remove_archive

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
PEER_VENV = HERE / ".venv-peer"
PEER_PACKAGES = ["twarc", "twarc-csv", "pandas<3"]
REFERENCE = {"twarc2_csv_tweets_per_s": 3_100, "duckdb_scan_tweets_per_s": 170_000}


def _run_child(argv: list[str], **kw: Any) -> tuple[float, int, str]:
    """Run a child process; its wall time, its own peak RSS (bytes) and stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, **kw)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss * 1024, out


# ---- children -----------------------------------------------------------------------------------


def _child_salon(path: str, archive: str, fast: str = "1") -> None:
    from salon.importer import import_paths

    t0 = time.perf_counter()
    report = import_paths([path], archive, fast=fast == "1")
    wall = time.perf_counter() - t0
    from salon.store.archive import open_archive

    with open_archive(archive, read_only=True) as arc:
        counts = {
            t: arc.scalar(f"SELECT count(*) FROM {t}")
            for t in ("raw", "posts", "post_hashtags", "authors", "metrics_snapshots", "quarantine")
        }
        counts["data_posts"] = arc.scalar("SELECT count(*) FROM posts WHERE NOT is_context")
    print(
        json.dumps(
            {
                "seconds": wall,
                "records_in": report.records_in,
                "records_new": report.records_new,
                "records_duplicate": report.records_duplicate,
                "records_bad": report.records_bad,
                "posts_new": report.posts_new,
                "tables": counts,
            }
        )
    )


def _child_scan(path: str) -> None:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    tags = con.execute(
        # Every line's hashtags: a page's tweets, a stream line's tweet, a flattened tweet.
        "SELECT count(*) FROM (SELECT unnest(CASE json_type(json, '$.data')"
        " WHEN 'ARRAY' THEN json_extract_string(json, '$.data[*].entities.hashtags[*].tag')"
        " WHEN 'OBJECT' THEN json_extract_string(json, '$.data.entities.hashtags[*].tag')"
        " ELSE json_extract_string(json, '$.entities.hashtags[*].tag') END) FROM read_ndjson_objects(?))",
        [path],
    ).fetchone()[0]  # type: ignore[index]
    wall = time.perf_counter() - t0
    print(json.dumps({"seconds": wall, "hashtags": tags}))


def _child_floor(path: str) -> None:
    import duckdb

    from salon.importer import BULK_BATCH_BYTES
    from salon.store import rawstore, x_v2_read
    from salon.store.batch import raw_id

    con = duckdb.connect()
    con.execute("SET threads = 1")  # CPU seconds, summed below over the machine's CPUs
    t0 = time.perf_counter()
    # json_transform builds each line's structure; what is read of it still costs a little (50 MB
    # file, one thread: 0.17 s reading one list's length, 0.20 s these four), so the parse floor
    # reads the lists the import unnests and a string inside them. The import's parse, which
    # materialises every field, costs more.
    row = con.execute(
        "SELECT sum(len(d.data)), sum(len(d.includes.tweets)), sum(len(d.includes.users)),"
        " max(d.includes.users[1].description) FROM"
        f" (SELECT json_transform(json, '{x_v2_read.PAGE_STRUCT}') AS d FROM read_ndjson_objects(?))",
        [path],
    ).fetchone()
    parse = time.perf_counter() - t0
    assert row is not None
    t0 = time.perf_counter()
    lines: list[bytes] = []
    size = stored = 0
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            raw_id(line)
            lines.append(line)
            size += len(line)
            if size >= BULK_BATCH_BYTES:
                stored += sum(map(len, rawstore.pack(lines).blocks))
                lines, size = [], 0
    stored += sum(map(len, rawstore.pack(lines).blocks))
    keep = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "parse_seconds_one_thread": parse,
                "data_tweets_parsed": row[0],
                "keep_seconds_one_thread": keep,
                "raw_bytes_compressed": stored,
            }
        )
    )


def _child_write(archive: str, fresh: str) -> None:
    import duckdb

    from salon.store.archive import open_archive

    open_archive(fresh).close()  # the schema, by Salon's migrations
    con = duckdb.connect(fresh)
    con.execute("SET threads = 1")  # CPU seconds, as the other parts of the floor
    con.execute("ATTACH ? AS src (READ_ONLY)", [archive])
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = 'main'"
            " AND table_name NOT IN ('schema_migrations') ORDER BY table_name"
        ).fetchall()
    ]
    rows: dict[str, int] = {}
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for t in tables:
        # Through the archive's own tables: their primary keys are maintained as the import's are.
        rows[t] = con.execute(f"INSERT INTO main.{t} SELECT * FROM src.{t}").fetchone()[0]  # type: ignore[index]
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    write = time.perf_counter() - t0
    con.close()
    print(
        json.dumps(
            {
                "write_seconds_one_thread": write,
                "rows_written": sum(rows.values()),
                "rows_written_by_table": rows,
            }
        )
    )


# ---- the peer -----------------------------------------------------------------------------------


def _peer_bin() -> Path:
    twarc2 = PEER_VENV / "bin" / "twarc2"
    if not twarc2.exists():
        print(f"setting up the peer in {PEER_VENV} ({', '.join(PEER_PACKAGES)}) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", *PEER_PACKAGES],
            check=True,
        )
    return twarc2


def _subset(path: Path, meta: dict[str, Any], fraction: float) -> tuple[Path, int, int]:
    """The first ``fraction`` of the file's lines (whole lines), with its size and tweet count."""
    from bench.gen_x_v2 import _data_tweets

    want = max(1, int(meta["lines"] * fraction))
    out = DATA / f"{path.stem}.subset-{want}.jsonl"
    tweets = size = 0
    with path.open("rb") as src, out.open("wb") as dst:
        for i, line in enumerate(src):
            if i >= want:
                break
            dst.write(line)
            size += len(line)
            tweets += _data_tweets(json.loads(line))
    return out, size, tweets


def _peer(path: Path, meta: dict[str, Any], max_seconds: float) -> dict[str, Any]:
    twarc2 = _peer_bin()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "BEARER_TOKEN": "unused-offline"}
    # Calibrate on 2% of the file (at least 20 MB) to decide whether the whole is affordable.
    probe, probe_bytes, _ = _subset(path, meta, min(1.0, max(0.02, 20e6 / meta["bytes"])))
    wall, _, _ = _run_child(
        [str(twarc2), "csv", str(probe), str(probe.with_suffix(".csv"))],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    estimate = wall * meta["bytes"] / probe_bytes
    fraction = 1.0 if estimate <= max_seconds else max_seconds / estimate
    if fraction < 1.0:
        target, size, tweets = _subset(path, meta, fraction)
    else:
        target, size, tweets = path, meta["bytes"], meta["tweets"]
    wall, rss, _ = _run_child(
        [str(twarc2), "csv", str(target), str(DATA / "peer-output.csv")],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    rows = sum(1 for _ in (DATA / "peer-output.csv").open("rb")) - 1  # header (quoted newlines aside)
    return {
        "seconds": wall,
        "bytes": size,
        "tweets": tweets,
        "csv_lines": rows,
        "fraction_of_file": size / meta["bytes"],
        "extrapolated": fraction < 1.0,
        "seconds_whole_file_extrapolated": wall * meta["tweets"] / tweets,
        "peak_rss_bytes": rss,
        "tweets_per_s": tweets / wall,
    }


# ---- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=900, help="size of the generated file (MB)")
    ap.add_argument("--skip-peer", action="store_true", help="do not run twarc2 csv")
    ap.add_argument("--peer-max-seconds", type=float, default=300)
    ap.add_argument(
        "--python",
        action="store_true",
        help="normalise X v2 in Python instead of the DuckDB bulk path (import_paths fast=False)",
    )
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        children = {"salon": _child_salon, "scan": _child_scan, "floor": _child_floor, "write": _child_write}
        children[args.child[0]](*args.child[1:])
        return {}

    path = DATA / f"x-v2-{args.size_mb:g}mb.jsonl"
    t0 = time.perf_counter()
    meta = generate(path, args.size_mb)
    print(
        f"input: {path} ({meta['bytes'] / 1e6:,.0f} MB, {meta['lines']:,} lines, {meta['tweets']:,} tweets;"
        f" ready in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    me = [sys.executable, "-m", "bench.import_bench", "--child"]
    cwd = str(HERE.parent)

    archive = DATA / "bench-import.duckdb"
    _remove_archive(archive)
    wall, rss, out = _run_child([*me, "salon", str(path), str(archive), "0" if args.python else "1"], cwd=cwd)
    salon = json.loads(out) | {"wall_seconds": wall, "peak_rss_bytes": rss}
    salon["tweets_per_s"] = meta["tweets"] / salon["seconds"]
    salon["posts_per_s"] = salon["posts_new"] / salon["seconds"]
    salon["archive_bytes"] = archive.stat().st_size
    print(f"salon: {salon['seconds']:.2f} s, peak RSS {rss / 1e6:,.0f} MB", flush=True)

    wall, rss, out = _run_child([*me, "scan", str(path)], cwd=cwd)
    scan = json.loads(out) | {"wall_seconds": wall, "peak_rss_bytes": rss}
    scan["tweets_per_s"] = meta["tweets"] / scan["seconds"]
    print(f"duckdb scan: {scan['seconds']:.2f} s", flush=True)

    wall, rss, out = _run_child([*me, "floor", str(path)], cwd=cwd)
    floor = json.loads(out) | {"wall_seconds": wall, "peak_rss_bytes": rss}
    fresh = DATA / "bench-import-write.duckdb"
    _remove_archive(fresh)
    wall, rss, out = _run_child([*me, "write", str(archive), str(fresh)], cwd=cwd)
    floor |= json.loads(out) | {"write_wall_seconds": wall, "write_peak_rss_bytes": rss}
    _remove_archive(fresh)
    cpus = os.cpu_count() or 1
    floor["seconds_on_all_cpus"] = (
        floor["parse_seconds_one_thread"]
        + floor["keep_seconds_one_thread"]
        + floor["write_seconds_one_thread"]
    ) / cpus
    print(
        f"floor: parse {floor['parse_seconds_one_thread']:.2f} s + keep {floor['keep_seconds_one_thread']:.2f} s"
        f" + write {floor['write_seconds_one_thread']:.2f} s on one thread,"
        f" {floor['seconds_on_all_cpus']:.2f} s over {cpus} CPUs",
        flush=True,
    )

    peer = None if args.skip_peer else _peer(path, meta, args.peer_max_seconds)
    if peer:
        print(
            f"twarc2 csv: {peer['seconds']:.2f} s on {peer['fraction_of_file']:.0%} of the file", flush=True
        )

    ratios = {
        "salon_time_over_scan_time": salon["seconds"] / scan["seconds"],
        "floor_time_over_scan_time": floor["seconds_on_all_cpus"] / scan["seconds"],
        "salon_time_over_floor_time": salon["seconds"] / floor["seconds_on_all_cpus"],
        "salon_rate_over_peer_rate": salon["tweets_per_s"] / peer["tweets_per_s"] if peer else None,
        "scan_rate_over_peer_rate": scan["tweets_per_s"] / peer["tweets_per_s"] if peer else None,
    }
    result = {
        "benchmark": "import",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
        },
        "input": {"path": str(path), **meta},
        "salon": salon | {"fast_path": not args.python},
        "duckdb_scan": scan,
        "floor": floor,
        "twarc2_csv": peer,
        "ratios": ratios,
        "targets": {"salon_time_over_scan_time_max": 2.0, "peak_rss_bytes_max": 500e6},
        # Quoted from the issue (measured by the team lead), not by this run.
        "reference_figures_quoted": REFERENCE,
    }
    _print_table(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = RESULTS / f"import-{stamp}.json"
    out_path.write_text(json.dumps(result, indent=2))
    print(f"results: {out_path}")
    _remove_archive(archive)
    return result


def _print_table(r: dict[str, Any]) -> None:
    tweets = r["input"]["tweets"]
    rows = [
        ("salon import", r["salon"]["seconds"], r["salon"]["tweets_per_s"], r["salon"]["peak_rss_bytes"], ""),
        (
            "duckdb read_ndjson_objects",
            r["duckdb_scan"]["seconds"],
            r["duckdb_scan"]["tweets_per_s"],
            r["duckdb_scan"]["peak_rss_bytes"],
            "",
        ),
    ]
    peer = r["twarc2_csv"]
    if peer:
        note = f"{peer['tweets']:,} tweets" + (", extrapolated" if peer["extrapolated"] else "")
        rows.append(
            (
                "twarc2 csv",
                peer["seconds_whole_file_extrapolated"],
                peer["tweets_per_s"],
                peer["peak_rss_bytes"],
                note,
            )
        )
    width = shutil.get_terminal_size((100, 20)).columns
    print("-" * min(width, 100))
    print(f"{'':28} {'seconds':>9} {'tweets/s':>11} {'peak RSS':>10}  ({tweets:,} tweets)")
    for name, secs, rate, rss, note in rows:
        print(f"{name:28} {secs:9.2f} {rate:11,.0f} {rss / 1e6:8,.0f}MB  {note}")
    ra = r["ratios"]
    print(f"salon time / scan time: {ra['salon_time_over_scan_time']:.2f} (target <= 2)")
    fl = r["floor"]
    print(
        f"floor (parse {fl['parse_seconds_one_thread']:.2f} s + hash and compress"
        f" {fl['keep_seconds_one_thread']:.2f} s + write {fl['write_seconds_one_thread']:.2f} s,"
        f" over {r['machine']['cpus']} CPUs):"
        f" {fl['seconds_on_all_cpus']:.2f} s = {ra['floor_time_over_scan_time']:.2f}x the scan;"
        f" salon = {ra['salon_time_over_floor_time']:.1f}x the floor"
    )
    if ra["salon_rate_over_peer_rate"] is not None:
        print(
            f"salon rate / twarc2 csv rate: {ra['salon_rate_over_peer_rate']:.1f}x;"
            f" scan rate / twarc2 csv rate: {ra['scan_rate_over_peer_rate']:.1f}x"
        )
    print(f"salon posts stored: {r['salon']['tables']['posts']:,} ({r['salon']['posts_per_s']:,.0f} posts/s)")
    print("-" * min(width, 100))


if __name__ == "__main__":
    main()
