"""Peak memory of an import meeting records far over the size limit (issue 15): a 200 MB JSON
line without a newline, and a small zip whose member expands to a 1 GB line, each followed by a
file of good records that must still be imported.

    .venv/bin/python -m bench.huge_records            # 200 MB line and 1 GB zip line
    .venv/bin/python -m bench.huge_records --line-mb 20 --zip-mb 100   # a quick run

Each import runs in its own child process (``salon import``); its peak RSS is read with
``wait4`` for that child alone. Inputs go to ``bench/data/`` (git-ignored)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
GOOD = b'{"id": "1", "uri": "x"}'


def _good_lines() -> bytes:
    """Real records for the file after the huge one: the twarc2 test file, when ../shared is there."""
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "docnow-twarc-csv" / "test-data"
    f = corpus / "flat.jsonl"
    return f.read_bytes() if f.exists() else b""


def build(line_mb: int, zip_mb: int) -> tuple[Path, Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    line = DATA / f"huge-line-{line_mb}mb.jsonl"
    if not line.exists():
        with open(line, "wb") as fh:
            fh.write(b'{"text": "')
            block = b"x" * (1 << 20)
            for _ in range(line_mb):
                fh.write(block)
    bomb = DATA / f"huge-zip-{zip_mb}mb.zip"
    if not bomb.exists():
        with (
            zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z,
            z.open("tweets.jsonl", "w", force_zip64=True) as m,
        ):
            m.write(b'{"text": "')
            block = b" " * (1 << 20)
            for _ in range(zip_mb):
                m.write(block)
            m.write(b'"}\n')
    good = DATA / "after-huge.jsonl"
    good.write_bytes(_good_lines())
    return line, bomb, good


def run(paths: list[Path], archive: Path) -> dict[str, float | int | str]:
    for p in (archive, Path(f"{archive}.wal")):
        p.unlink(missing_ok=True)
    salon = str(Path(sys.executable).with_name("salon"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [salon, "import", *map(str, paths), "-a", str(archive), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    out = proc.stdout.read() if proc.stdout else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    report = json.loads(out) if out.strip() else {}
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "records_in": report.get("records_in", -1),
        "records_bad": report.get("records_bad", -1),
        "records_new": report.get("records_new", -1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--line-mb", type=int, default=200)
    ap.add_argument("--zip-mb", type=int, default=1024)
    a = ap.parse_args(argv)
    line, bomb, good = build(a.line_mb, a.zip_mb)
    results = {
        f"line_{a.line_mb}mb": run([line, good], DATA / "huge-line.duckdb"),
        f"zip_{a.zip_mb}mb": run([bomb, good], DATA / "huge-zip.duckdb"),
        "zip_bytes": bomb.stat().st_size,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
