"""Many small files against one file (issue 15): N one-record files imported as a folder, against
the same N records in ONE file, both measured in the same run.

    .venv/bin/python -m bench.small_files_bench                       # 5,000 files, X v2 lines
    .venv/bin/python -m bench.small_files_bench --files 500           # a quick run
    .venv/bin/python -m bench.small_files_bench --records mastodon    # Mastodon statuses (Python path)
    .venv/bin/python -m bench.small_files_bench --profile             # + cProfile of the folder import

Records (real-shaped, never copied into the repo):

- ``x`` (default): the one-tweet lines (stream lines and flattened tweets) of the real twarc2
  corpus ``../shared/corpora/docnow-twarc-csv/test-data/``, repeated with fresh ids
  (``bench/gen_x_v2.py``), so no two records are the same; these take the DuckDB bulk path;
- ``mastodon``: the Mastodon statuses written by the synthetic generator (``salon demo
  generate``), normalised in Python.

The inputs are written to ``bench/data/small-files-<records>-<N>/`` (one ``.jsonl`` file per
record) and ``bench/data/small-files-<records>-<N>.jsonl`` (the same records, same order, one
file). Each import runs in its own child process (``salon.importer.import_paths`` of the folder,
then of the one file, each into a fresh archive; peak RSS by ``wait4``); the archives must end
with the same counts. Prints the ratio folder/file and writes
``bench/results/small-files-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.gen_x_v2 import CORPUS, replica_lines, templates
from bench.import_bench import _run_child
from bench.tally_bench import _remove_archive

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
TABLES = ("raw", "posts", "post_hashtags", "authors", "metrics_snapshots", "quarantine", "import_files")


def _x_records(n: int) -> Iterator[bytes]:
    """``n`` one-tweet X v2 lines from the real corpus, with fresh ids per repetition."""
    if not CORPUS.is_dir():
        raise SystemExit(f"{CORPUS} is missing: the x records are made from the real twarc2 corpus")
    tpls, n_ids = templates()
    one = [t for t in tpls if t.tweets == 1]
    made, replica = 0, 0
    while made < n:
        for line, _ in replica_lines(one, n_ids, replica):
            yield line
            made += 1
            if made >= n:
                return
        replica += 1


def _mastodon_records(n: int) -> Iterator[bytes]:
    """``n`` Mastodon statuses written by the synthetic generator (``salon demo generate``)."""
    from salon.demo.generator import generate

    out = DATA / f"small-files-demo-{n}"
    posts = max(n * 4, 1000)  # the statuses are about a third of the generated posts
    if not (out / "ground_truth.json").is_file():
        generate(out, posts=posts, platforms=("mastodon",))
    lines = [
        line + b"\n"
        for f in sorted((out / "data" / "mastodon").glob("*.jsonl"))
        for line in f.read_bytes().splitlines()
        if line.strip()
    ]
    if len(lines) < n:
        raise SystemExit(f"the generator wrote {len(lines)} statuses, fewer than {n}")
    yield from lines[:n]


def build(records: str, n: int) -> tuple[Path, Path]:
    """Write the folder of ``n`` one-record files and the one file of the same records (reused
    when both exist)."""
    folder = DATA / f"small-files-{records}-{n}"
    single = DATA / f"small-files-{records}-{n}.jsonl"
    if not (folder.is_dir() and single.is_file() and len(list(folder.iterdir())) == n):
        _write(records, n, folder, single)
    # One modification time for every file: it is the observation time of payloads that carry
    # none (engagement snapshots of statuses), so the two archives can be compared.
    for p in [single, *folder.iterdir()]:
        os.utime(p, (MTIME, MTIME))
    return folder, single


MTIME = 1_700_000_000


def _write(records: str, n: int, folder: Path, single: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = _x_records(n) if records == "x" else _mastodon_records(n)
    width = len(str(n))
    with open(single, "wb") as one:
        for i, line in enumerate(source):
            (folder / f"record-{i:0{width}d}.jsonl").write_bytes(line)
            one.write(line)


def _child(path: str, archive: str, profile: str = "") -> None:
    from salon.importer import import_paths
    from salon.store.archive import open_archive

    t0 = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        report = prof.runcall(import_paths, [path], archive)
        wall = time.perf_counter() - t0
        stats = pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative")
        stats.print_stats(40)
        stats.dump_stats(profile)
    else:
        report = import_paths([path], archive)
        wall = time.perf_counter() - t0
    with open_archive(archive, read_only=True) as arc:
        counts = {t: arc.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}
    print(
        json.dumps(
            {
                "seconds": wall,
                "records_in": report.records_in,
                "records_new": report.records_new,
                "records_bad": report.records_bad,
                "posts_new": report.posts_new,
                "files": len(report.files),
                "tables": counts,
            }
        )
    )


def run(folder: Path, single: Path, profile: bool = False) -> dict[str, Any]:
    """Import the one file, then the folder, each in a child process into a fresh archive."""
    me = [sys.executable, "-m", "bench.small_files_bench", "--child"]
    cwd = str(HERE.parent)
    out: dict[str, Any] = {}
    for name, path in (("one_file", single), ("folder", folder)):
        archive = DATA / f"bench-small-files-{name}.duckdb"
        _remove_archive(archive)
        argv = [*me, str(path), str(archive)]
        if profile and name == "folder":
            argv.append(str(RESULTS / "small-files-folder.prof"))
        wall, rss, text = _run_child(argv, cwd=cwd)
        out[name] = json.loads(text) | {"wall_seconds": wall, "peak_rss_bytes": rss}
        print(f"{name}: {out[name]['seconds']:.2f} s, peak RSS {rss / 1e6:,.0f} MB", flush=True)
        _remove_archive(archive)
    a, b = out["folder"]["tables"], out["one_file"]["tables"]
    same = {k: a[k] for k in a if k != "import_files"} == {k: b[k] for k in b if k != "import_files"}
    out["same_counts"] = same
    out["ratio"] = out["folder"]["seconds"] / out["one_file"]["seconds"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m bench.small_files_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=5000, help="number of one-record files (default 5,000)")
    ap.add_argument("--records", choices=("x", "mastodon"), default="x", help="which records (see above)")
    ap.add_argument("--profile", action="store_true", help="cProfile the folder import (stderr, .prof file)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(*args.child)
        return {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    folder, single = build(args.records, args.files)
    print(
        f"input: {args.files:,} one-record files in {folder} and {single} ({time.perf_counter() - t0:.1f} s)"
    )
    res = run(folder, single, args.profile)
    res |= {
        "files": args.files,
        "records": args.records,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(
        f"{args.files:,} one-record files: {res['folder']['seconds']:.2f} s; the same records in one file:"
        f" {res['one_file']['seconds']:.2f} s; ratio {res['ratio']:.1f}x;"
        f" same counts: {'yes' if res['same_counts'] else 'NO'}"
    )
    if not res["same_counts"]:
        print("folder:", res["folder"]["tables"], "\none file:", res["one_file"]["tables"])
    path = RESULTS / f"small-files-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
