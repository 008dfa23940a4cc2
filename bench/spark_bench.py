"""Spark bench: DuckDB against Spark local on the same campaign tally, and the Parquet export
against DuckDB's own COPY.

    .venv/bin/python -m bench.spark_bench --sizes 10000000,100000000    # the issue's sizes
    .venv/bin/python -m bench.spark_bench --sizes 1000000               # a quick run

For each size, the tally bench's synthetic archive (``bench.tally_bench.build``: eight
MuseumWeek editions, 2,000 registered institutions, 80 % of the posts in the editions' weeks),
then, each in its own child process (time and peak memory of the process and all its children,
the JVM included, sampled every 50 ms with psutil):

- ``export``: ``salon export parquet`` of the whole archive (every table, partitioned), and
  ``copy``: DuckDB's own ``COPY posts TO ... (FORMAT parquet, COMPRESSION zstd)`` of the posts
  table alone, unpartitioned (the floor of writing the largest table);
- ``duckdb``: the full tally of the 2021 edition (``salon.campaigns.tally``, every figure of
  ``salon tally --json``) computed from the archive's tables (``use_index=False``: no campaign
  index, the same work Spark does), and over the Parquet export (``tally_export(engine=
  "duckdb")``); ``start`` is opening the archive;
- ``spark``: the same tally on PySpark ``local[N]`` over the Parquet export (``tally_export(
  engine="spark")``), run twice (the second with the JVM warm); ``start`` is starting the
  SparkSession (the JVM), measured apart.

Both engines must give the same figures: the bench checks it. Prints a table and writes
``bench/results/spark-<timestamp>.json``. Archives and exports go to ``bench/data/`` and are
removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
YEAR = 2021
SLUG = f"mw-{YEAR}"


class PeakRSS:
    """Peak resident memory of this process and its children (the JVM), sampled."""

    def __init__(self, interval: float = 0.05) -> None:
        import psutil

        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._t.start()

    def _sample(self) -> int:
        import psutil

        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(interval)

    def stop(self) -> int:
        self.peak = max(self.peak, self._sample())
        self._stop.set()
        self._t.join()
        return self.peak // (1024 * 1024)


def _clean(t: dict[str, Any]) -> dict[str, Any]:
    # spam: read from the archive's trust tables, which the export does not carry
    drop = ("source", "computed_at", "spam")
    return json.loads(json.dumps({k: v for k, v in t.items() if k not in drop}, default=str))


def child(kind: str, archive: str, export: str, cores: int, memory: str, partition: str) -> dict[str, Any]:
    """One measurement, in this (child) process."""
    rss = PeakRSS()
    out: dict[str, Any] = {"kind": kind}
    t0 = time.perf_counter()
    if kind == "export":
        from salon.publish.exports.parquet import export_parquet
        from salon.store.archive import open_archive

        with open_archive(archive, read_only=True) as arc:
            s = export_parquet(arc, export, partition=partition)
        out["rows"] = s["rows"]
        out["seconds"] = time.perf_counter() - t0
        files = list(Path(export).rglob("*.parquet"))
        out["bytes"] = sum(f.stat().st_size for f in files)
        out["files"] = len(files)
    elif kind == "copy":
        import duckdb

        con = duckdb.connect(archive, read_only=True)
        dest = Path(export).with_suffix(".posts.parquet")
        con.execute(f"COPY posts TO '{dest}' (FORMAT parquet, COMPRESSION zstd)")
        con.close()
        out["seconds"] = time.perf_counter() - t0
        out["bytes"] = dest.stat().st_size
        dest.unlink()
    elif kind == "duckdb":
        from salon.campaigns.spark import tally_export
        from salon.campaigns.tally import tally
        from salon.store.archive import open_archive

        arc = open_archive(archive, read_only=True)
        out["start_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        t = tally(arc, SLUG, use_index=False)
        out["archive_s"] = time.perf_counter() - t1
        arc.close()
        t1 = time.perf_counter()
        tp = tally_export(export, SLUG, engine="duckdb")
        out["parquet_s"] = time.perf_counter() - t1
        out["same"] = _clean(t) == _clean(tp)
        out["tally"] = _clean(t)
    elif kind == "spark":
        from salon.campaigns.spark import spark_session, tally_export

        spark = spark_session(f"local[{cores}]", {"spark.driver.memory": memory})
        out["start_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        t = tally_export(export, SLUG, engine="spark", spark=spark)
        out["first_s"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        tally_export(export, SLUG, engine="spark", spark=spark)
        out["warm_s"] = time.perf_counter() - t1
        out["tally"] = _clean(t)
        spark.stop()
    out["peak_rss_mb"] = rss.stop()
    out["total_s"] = time.perf_counter() - t0
    return out


def _run_child(kind: str, archive: Path, export: Path, o: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.spark_bench", "--child", kind, str(archive), str(export)]
    cmd += ["--cores", str(o.cores), "--spark-memory", o.spark_memory, "--partition", o.partition]
    r = subprocess.run(cmd, cwd=HERE.parent, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{r.stderr[-3000:]}")
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def _steps_file(n: int) -> Path:
    return DATA / f"spark-{n}.steps.json"


def _save_step(n: int, res: dict[str, Any]) -> None:
    """Keep what was measured so far beside the kept archive: a long run (100M posts takes hours)
    cut short by the end of a session is resumed with ``--reuse`` without losing the steps done."""
    _steps_file(n).write_text(json.dumps(res, indent=2, default=str))


def run_size(n: int, engines: list[str], o: argparse.Namespace) -> dict[str, Any]:
    from bench.tally_bench import build, campaign_toml
    from salon.campaigns.config import parse_campaign
    from salon.campaigns.stored import save_campaign
    from salon.store.archive import open_archive

    DATA.mkdir(exist_ok=True)
    archive = DATA / f"spark-{n}.duckdb"
    export = DATA / f"spark-{n}-parquet"
    steps = _steps_file(n)
    # What a --keep run left: a built archive (its build time in the steps file), maybe an export.
    done: dict[str, Any] = json.loads(steps.read_text()) if o.reuse and steps.exists() else {}
    built = o.reuse and archive.exists() and "build_s" in done
    exported = built and (export / "schema.json").exists() and "export" in done
    old_reuse = o.reuse and not built and archive.exists() and (export / "schema.json").exists()
    kept = json.loads((export / "schema.json").read_text()) if exported or old_reuse else {}
    if kept and kept.get("partition") != o.partition:
        raise SystemExit(f"--reuse: {export} is partitioned otherwise; run without --reuse")
    res: dict[str, Any] = {"posts": n}
    if built:  # measured by an earlier run: carried over, marked as such
        res.update({k: v for k, v in done.items() if k in ("build_s", "build_loadavg", "export", "copy")})
        res["resumed"] = True
    elif old_reuse:  # an archive and export kept without a steps file: the tallies only
        res["reused"] = True
    else:
        for p in (archive, Path(f"{archive}.wal"), steps):
            p.unlink(missing_ok=True)
        shutil.rmtree(export, ignore_errors=True)
        t0 = time.perf_counter()
        build(archive, n)
        with open_archive(archive) as arc:
            toml, csv = campaign_toml(YEAR)
            save_campaign(arc, parse_campaign(toml, participants_csv=csv))
            arc.con.execute("CHECKPOINT")
        res["build_s"] = round(time.perf_counter() - t0, 1)
        res["build_loadavg"] = [round(x, 2) for x in os.getloadavg()]
        _save_step(n, res)
    try:
        if not old_reuse and not (exported and "copy" in res):
            shutil.rmtree(export, ignore_errors=True)
            res["export"] = _run_child("export", archive, export, o)
            _save_step(n, res)
            res["copy"] = _run_child("copy", archive, export, o)
            _save_step(n, res)
        if "export" in res and "copy" in res:
            res["export_vs_copy"] = round(res["export"]["seconds"] / res["copy"]["seconds"], 2)
        tallies = {}
        for e in engines:
            res[e] = _run_child(e, archive, export, o)
            tallies[e] = res[e].pop("tally")
            res[e]["loadavg"] = [round(x, 2) for x in os.getloadavg()]
            _save_step(n, res)
        res["members"] = tallies[engines[0]]["posts"] + tallies[engines[0]]["reposts"]
        res["engines_agree"] = all(t == tallies[engines[0]] for t in tallies.values()) and all(
            res[e].get("same", True) for e in engines
        )
    finally:
        if not o.keep:
            for p in (archive, Path(f"{archive}.wal"), steps):
                p.unlink(missing_ok=True)
            shutil.rmtree(export, ignore_errors=True)
    return res


def _line(r: dict[str, Any]) -> str:
    s = f"{r['posts']:>12,} posts ({r['members']:,} members of {SLUG})"
    if "export" in r and "copy" in r:
        s += (
            f"  export {r['export']['seconds']:.1f} s {r['export']['peak_rss_mb']} MB"
            f" ({r['export']['bytes'] / 1e6:.0f} MB, {r['export']['files']:,} files)  DuckDB COPY posts "
            f"{r['copy']['seconds']:.1f} s {r['copy']['peak_rss_mb']} MB  ratio {r['export_vs_copy']}x"
        )
    else:
        s += "  (archive and export reused: not timed)"
    if "duckdb" in r:
        d = r["duckdb"]
        s += (
            f"\n    duckdb: start {d['start_s']:.2f} s, tally over the archive {d['archive_s']:.2f} s, "
            f"over Parquet {d['parquet_s']:.2f} s, peak {d['peak_rss_mb']} MB"
        )
    if "spark" in r:
        k = r["spark"]
        s += (
            f"\n    spark:  start {k['start_s']:.1f} s, tally over Parquet {k['first_s']:.1f} s "
            f"(warm {k['warm_s']:.1f} s), peak {k['peak_rss_mb']} MB (JVM included)"
        )
    return s + f"\n    same figures: {r['engines_agree']}"


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    ap = argparse.ArgumentParser(prog="python -m bench.spark_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000000,100000000", help="Comma-separated numbers of posts.")
    ap.add_argument("--engines", default="duckdb,spark", help="duckdb, spark or both.")
    ap.add_argument("--cores", type=int, default=2, help="Spark local[N].")
    ap.add_argument("--spark-memory", default="4g", help="spark.driver.memory (local mode: all of Spark).")
    ap.add_argument("--partition", default="day", help="The export's time partition: day, month or none.")
    ap.add_argument("--keep", action="store_true", help="Keep the archives and exports in bench/data.")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help=(
            "Resume from what a --keep run left in bench/data: its measured steps (spark-N.steps.json) "
            "are carried over and only the missing ones run; an archive and export kept without a "
            "steps file are tallied only."
        ),
    )
    ap.add_argument("--child", nargs=3, metavar=("KIND", "ARCHIVE", "EXPORT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, args.cores, args.spark_memory, args.partition), default=str))
        return None
    engines = [e for e in args.engines.split(",") if e]
    results = []
    for n in (int(x) for x in args.sizes.split(",")):
        print(f"spark bench: {n:,} posts ...", flush=True)
        results.append(run_size(n, engines, args))
        print(_line(results[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    meta = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "spark_cores": args.cores,
        "spark_memory": args.spark_memory,
        "partition": args.partition,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],  # other work on the machine skews
    }
    out = RESULTS / f"spark-{stamp}.json"
    doc = {"meta": meta, "results": results}
    out.write_text(json.dumps(doc, indent=2))
    print(f"wrote {out}")
    return doc


if __name__ == "__main__":
    main()
