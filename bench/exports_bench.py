"""Exports and reports benchmark: three ratios measured in one run (DESIGN.md, Performance).

    .venv/bin/python -m bench exports                                   # full sizes (long)
    .venv/bin/python -m bench exports --csv-mb 5 --edges 50000 --institutions 2000 --posts 20000 --skip-peer

1. **csv**: Salon's CSV export (``salon export csv``, default and twarc layouts, each in its own
   child process) of an archive holding a twarc2 file built by ``bench.gen_x_v2`` from the real
   corpus (default 900 MB, the import bench's file), against ``twarc2 csv`` on the same file
   (the import bench's peer, in ``bench/.venv-peer``; ``--skip-peer`` leaves it out). Ratio:
   the peer's time over Salon's (the twarc layout writes the same rows as the peer). Salon's
   times include starting the ``salon`` command (about 1.5 s here), as the peer's include its.
2. **gexf**: writing a graph of ``--edges`` directed weighted edges (default 1,000,000) among
   edges/10 accounts with the export's node attributes: Salon's streaming GEXF writer against
   networkx (building the ``DiGraph`` and ``write_gexf``), from the same in-memory rows.
3. **reports**: ``salon report --all-institutions`` (HTML) and the campaign report (HTML + PDF)
   for a synthetic campaign of ``--institutions`` registered institutions (default 2,000) and
   ``--posts`` posts made by ``salon demo generate``.

Results are printed and written to ``bench/results/exports-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
SALON = [sys.executable, "-m", "salon.cli"]


def _timed(argv: list[str], **kw: Any) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def _rows(path: Path) -> int:
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def bench_csv(size_mb: float, skip_peer: bool, peer_max_seconds: float) -> dict[str, Any]:
    from bench.gen_x_v2 import generate
    from bench.import_bench import _peer

    DATA.mkdir(exist_ok=True)
    src = DATA / f"x-v2-{size_mb:g}mb.jsonl"
    meta = generate(src, size_mb)
    arc = DATA / f"exports-x-v2-{size_mb:g}mb.duckdb"
    if not arc.exists():
        subprocess.run([*SALON, "import", str(src), "-a", str(arc), "-q"], check=True)
    out: dict[str, Any] = {"file_bytes": meta["bytes"], "file_tweets": meta["tweets"]}
    for layout in ("posts", "twarc"):
        target = DATA / f"exports-{layout}.csv"
        secs = _timed([*SALON, "export", "csv", "-a", str(arc), "-o", str(target), "--layout", layout, "-q"])
        rows = _rows(target)
        out[layout] = {"seconds": secs, "rows": rows, "rows_per_s": rows / secs}
    if not skip_peer:
        peer = _peer(src, meta, peer_max_seconds)
        out["peer_twarc2_csv"] = peer
        # Both write the same rows (twarc-csv's default: each top-level tweet once): the peer's
        # time for the whole file (extrapolated when it ran on a part) over Salon's.
        out["ratio_peer_time_over_salon_twarc_layout"] = (
            peer["seconds_whole_file_extrapolated"] / out["twarc"]["seconds"]
        )
        out["ratio_peer_time_over_salon_posts_layout"] = (
            peer["seconds_whole_file_extrapolated"] / out["posts"]["seconds"]
        )
    return out


def _graph(n_edges: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    n_nodes = max(2, n_edges // 10)
    nodes = [
        {
            "id": f"x:{1_000_000_000 + i}",
            "label": f"@user{i}",
            "kind": "account",
            "handle": f"user{i}",
            "platform": "x",
            "institution": f"Museum {i}" if i % 50 == 0 else None,
            "country": "FR" if i % 50 == 0 else None,
            "posts": rng.randint(0, 40),
            "followers": rng.randint(0, 100_000),
            "days": None,
        }
        for i in range(n_nodes)
    ]
    kinds = ("reply", "mention", "repost", "quote")
    seen: set[tuple[int, int, str]] = set()
    edges = []
    while len(edges) < n_edges:
        a, b, k = rng.randrange(n_nodes), rng.randrange(n_nodes), kinds[rng.randrange(4)]
        if a == b or (a, b, k) in seen:
            continue
        seen.add((a, b, k))
        edges.append(
            {
                "source": nodes[a]["id"],
                "target": nodes[b]["id"],
                "interaction": k,
                "weight": rng.randint(1, 9),
                "days": None,
            }
        )
    return nodes, edges


def bench_gexf(n_edges: int) -> dict[str, Any]:
    import networkx as nx

    from salon.publish.exports.network import _Graph, _write_gexf

    nodes, edges = _graph(n_edges)
    DATA.mkdir(exist_ok=True)
    ours = DATA / f"bench-salon-{n_edges}.gexf"
    t0 = time.perf_counter()
    with open(ours, "w", encoding="utf-8") as fh:
        n, e = _write_gexf(fh, iter(nodes), iter(edges), _Graph(True, "", "", False))
    salon_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = nx.MultiDiGraph()
    for nd in nodes:
        g.add_node(nd["id"], **{k: v for k, v in nd.items() if k not in ("id", "days") and v is not None})
    for ed in edges:
        g.add_edge(
            ed["source"],
            ed["target"],
            key=ed["interaction"],
            interaction=ed["interaction"],
            weight=ed["weight"],
        )
    build_s = time.perf_counter() - t0
    theirs = DATA / f"bench-networkx-{n_edges}.gexf"
    t0 = time.perf_counter()
    nx.write_gexf(g, theirs)
    write_s = time.perf_counter() - t0
    out = {
        "edges": e,
        "nodes": n,
        "salon_seconds": salon_s,
        "salon_bytes": ours.stat().st_size,
        "networkx_build_seconds": build_s,
        "networkx_write_seconds": write_s,
        "networkx_bytes": theirs.stat().st_size,
        "ratio_networkx_over_salon": (build_s + write_s) / salon_s,
        "ratio_networkx_write_only_over_salon": write_s / salon_s,
    }
    xsd = HERE.parent.parent / "shared" / "formats" / "gexf" / "1.3" / "gexf.xsd"
    if xsd.exists() and n_edges <= 200_000:
        from lxml import etree

        schema = etree.XMLSchema(etree.parse(str(xsd)))
        for key, path in (("salon_valid", ours), ("networkx_valid", theirs)):
            try:
                out[key] = schema.validate(etree.parse(str(path)))
            except etree.XMLSyntaxError as exc:  # not even well-formed
                out[key] = f"not parsed: {exc}"
    return out


def bench_reports(institutions: int, posts: int) -> dict[str, Any]:
    from salon.demo.run import add_campaign, import_demo, prepare
    from salon.store.archive import open_archive

    folder = DATA / f"reports-{institutions}i-{posts}p"
    arc_path = folder / "archive.duckdb"
    data = prepare(folder, institutions=institutions, posts=posts)
    if not arc_path.exists():
        import_demo(data, str(arc_path))
        with open_archive(str(arc_path)) as arc:
            add_campaign(data, arc)
    with open_archive(str(arc_path), read_only=True) as arc:
        slug = str(arc.scalar("SELECT slug FROM campaigns ORDER BY campaign_id LIMIT 1"))
        posts_n = int(arc.scalar("SELECT count(*) FROM posts"))
    out_dir = folder / "institutions"
    shutil.rmtree(out_dir, ignore_errors=True)
    inst_s = _timed([*SALON, "report", slug, "-a", str(arc_path), "-o", str(out_dir), "--all-institutions"])
    n_reports = len(list(out_dir.glob("[0-9]*-*.html")))
    camp_dir = folder / "report"
    camp_s = _timed([*SALON, "report", slug, "-a", str(arc_path), "-o", str(camp_dir)])
    return {
        "institutions": n_reports,
        "posts_in_archive": posts_n,
        "institution_reports_seconds": inst_s,
        "institution_reports_per_s": n_reports / inst_s,
        "campaign_report_seconds_html_pdf": camp_s,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench exports", description=__doc__.split("\n\n")[0])
    p.add_argument("--csv-mb", type=float, default=900.0)
    p.add_argument("--edges", type=int, default=1_000_000)
    p.add_argument("--institutions", type=int, default=2000)
    p.add_argument("--posts", type=int, default=200_000)
    p.add_argument("--skip-peer", action="store_true", help="leave twarc2 csv out")
    p.add_argument("--peer-max-seconds", type=float, default=300.0)
    p.add_argument("--only", choices=("csv", "gexf", "reports"), action="append")
    a = p.parse_args(argv)
    only = set(a.only or ("csv", "gexf", "reports"))
    env_before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"
    result: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "args": vars(a)}
    try:
        if "csv" in only:
            result["csv"] = bench_csv(a.csv_mb, a.skip_peer, a.peer_max_seconds)
        if "gexf" in only:
            result["gexf"] = bench_gexf(a.edges)
        if "reports" in only:
            result["reports"] = bench_reports(a.institutions, a.posts)
    finally:
        if env_before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = env_before
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"exports-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
