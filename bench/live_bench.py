"""Live benchmark: a Jetstream replayed at full speed through the collector into the archive.

    .venv/bin/python -m bench.live_bench [--events 60000] [--batch-seconds 0.1]

A WebSocket server in a child process replays, as fast as the socket takes them, the real
Jetstream post and repost events of ``../shared/corpora/bluesky-jetstream`` repeated with fresh
record keys and increasing ``time_us`` (nothing else changed; each copy is a distinct post). The
collector (``salon.collect.run_async``: hashtag filter, batching, raw + posts + cursor writes)
stores the campaign's posts; a reader thread computes the campaign tally
(``salon.campaigns.tally.tally``) in a loop, as the live page does. Measured:

- events/s sustained: events delivered ÷ time from the first event sent to the cursor of the
  last event committed;
- the delay until the tally shows a campaign post: for each one, tally time − send time
  (p50/p95/max).

Target (DESIGN.md, Performance): ≥ 10× Bluesky's real post rate with the tally current within
1 s. Assumed real rate: 100 events/s in ``app.bsky.feed.post`` + ``app.bsky.feed.repost``
(Bluesky's busiest days carried ~3–4 M posts a day, i.e. 35–50 posts/s, plus roughly half as
many reposts; rounded up), so the target is ≥ 1,000 events/s.

Prints a table and writes ``bench/results/live-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import platform
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
CORPUS = HERE.parent.parent / "shared" / "corpora" / "bluesky-jetstream" / "internal"
FILES = [
    CORPUS / "corpus" / "testdata" / "expected_v1.jsonl",
    CORPUS / "subscribe" / "testdata" / "golden_v1.jsonl",
]
TAGS = ["IndieRebellion", "talesatwonderworld"]
ASSUMED_REAL_RATE = 100.0  # events/s in the post + repost collections (see the docstring)
WANTED = ("app.bsky.feed.post", "app.bsky.feed.repost")


def build_events(n: int) -> tuple[list[str], list[int]]:
    """``n`` events (JSON texts) and the indexes of those carrying a campaign hashtag."""
    base = []
    for f in FILES:
        for line in f.read_text(encoding="utf-8").splitlines():
            o = json.loads(line)
            if (
                o.get("kind") == "commit"
                and o["commit"]["collection"] in WANTED
                and o["commit"]["operation"] == "create"
            ):
                base.append(o)
    keys = {t.casefold() for t in TAGS}
    t0 = min(o["time_us"] for o in base)
    out: list[str] = []
    matching: list[int] = []
    i = 0
    while len(out) < n:
        for o in base:
            if len(out) >= n:
                break
            c = dict(
                o, time_us=t0 + len(out) * 10, commit=dict(o["commit"], rkey=f"{o['commit']['rkey']}x{i}")
            )
            rec = c["commit"].get("record") or {}
            tags = [f.get("tag", "") for fc in rec.get("facets") or () for f in fc.get("features") or ()]
            if any(t.casefold() in keys for t in tags + list(rec.get("tags") or ())):
                matching.append(len(out))
            out.append(json.dumps(c, separators=(",", ":")))
        i += 1
    return out, matching


def _server(events: list[str], matching: list[int], port_q: Any, sent_q: Any, rate: float | None) -> None:
    """Child process: serve ``events`` once to the first subscriber, as fast as possible or at
    ``rate`` events/s (sent in 10 ms slices)."""
    from websockets.asyncio.server import serve

    match = set(matching)

    async def handler(ws: Any) -> None:
        sent: list[float] = []
        first = time.time()
        for i, e in enumerate(events):
            if rate and i % max(1, int(rate / 100)) == 0:
                ahead = first + i / rate - time.time()
                if ahead > 0:
                    await asyncio.sleep(ahead)
            await ws.send(e)
            if i in match:
                sent.append(time.time())
        sent_q.put((first, time.time(), sent))
        await ws.wait_closed()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=None, max_size=2**24) as srv:
            port_q.put(srv.sockets[0].getsockname()[1])
            await asyncio.Future()

    asyncio.run(main())


def run(n_events: int, batch_seconds: float, rate: float | None = None) -> dict[str, Any]:
    from salon.campaigns.config import parse_campaign
    from salon.campaigns.tally import tally
    from salon.collect.credentials import Credentials
    from salon.collect.runner import run_async
    from salon.collect.status import StatusBoard
    from salon.store.archive import Archive, open_archive

    events, matching = build_events(n_events)
    ctx = mp.get_context("spawn")
    port_q, sent_q = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_server, args=(events, matching, port_q, sent_q, rate), daemon=True)
    proc.start()
    port = port_q.get(timeout=30)
    tmp = Path(tempfile.mkdtemp(prefix="salon-live-bench-"))
    toml = (
        '[campaign]\nname = "Live bench"\nslug = "live-bench"\ntimezone = "UTC"\n'
        "start = 2026-05-01\nend = 2026-08-01\n"  # the replayed events' time (recorded May-July 2026)
        f"hashtags = {json.dumps(TAGS)}\n\n[sources.bluesky]\n"
        f'jetstream = "ws://127.0.0.1:{port}/subscribe"\nappview = ""\nprofiles = ""\nbatch_seconds = {batch_seconds}\n'
    )
    camp_path = tmp / "live-bench.toml"
    camp_path.write_text(toml, encoding="utf-8")
    campaign = parse_campaign(toml, path=str(camp_path))
    arc = open_archive(tmp / "live.duckdb")
    reader = Archive(arc.path, arc.con.cursor(), read_only=True)
    stop = threading.Event()
    board = StatusBoard()
    seen: list[tuple[float, int]] = []  # (time, posts in tally)
    tally_times: list[float] = []
    last_us = json.loads(events[-1])["time_us"]
    done_at: list[float] = []

    def watch() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            posts = int(tally(reader, campaign)["posts"])
            tally_times.append(time.perf_counter() - t)
            now = time.time()
            if not seen or posts != seen[-1][1]:
                seen.append((now, posts))
            rows = reader.con.execute("SELECT value FROM collect_cursors WHERE name = 'time_us'").fetchall()
            if rows and int(rows[0][0]) >= last_us and not done_at:
                done_at.append(now)
            if done_at and posts >= len(matching):
                stop.set()
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.time()
    asyncio.run(run_async(arc, campaign, stop_event=stop, board=board, credentials=Credentials(env={})))
    watcher.join(5)
    first, last_sent, sent = sent_q.get(timeout=30)
    proc.kill()
    delays = []
    for k, ts in enumerate(sent, start=1):
        shown = next((t for t, posts in seen if posts >= k), None)
        if shown is not None:
            delays.append(shown - ts)
    elapsed = (done_at[0] if done_at else time.time()) - first
    stored = int(arc.con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
    reader.con.close()
    arc.close()
    throughput = len(events) / elapsed
    return {
        "events": len(events),
        "campaign_posts": len(matching),
        "posts_stored": stored,
        "seconds": round(elapsed, 3),
        "send_seconds": round(last_sent - first, 3),
        "events_per_s": round(throughput),
        "assumed_real_events_per_s": ASSUMED_REAL_RATE,
        "x_real_rate": round(throughput / ASSUMED_REAL_RATE, 1),
        "tally_delay_p50_s": round(statistics.median(delays), 3) if delays else None,
        "tally_delay_p95_s": round(sorted(delays)[int(0.95 * (len(delays) - 1))], 3) if delays else None,
        "tally_delay_max_s": round(max(delays), 3) if delays else None,
        "tally_runs": len(tally_times),
        "tally_seconds_p50": round(statistics.median(tally_times), 4) if tally_times else None,
        "paced_events_per_s": rate,
        "batch_seconds": batch_seconds,
        "setup_seconds": round(first - t0, 3),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.live_bench", description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=60_000)
    ap.add_argument("--batch-seconds", type=float, default=0.1)
    ap.add_argument("--rate", type=float, default=None, help="Pace the replay at this many events/s.")
    args = ap.parse_args(argv)
    r = run(args.events, args.batch_seconds, args.rate)
    r["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}
    r["at"] = datetime.now(UTC).isoformat()
    # The rate reached, not the rate offered: a replay paced at exactly 10x that falls behind
    # (952 events/s for 1,000 offered) has not met the target.
    ok = r["events_per_s"] >= 10 * ASSUMED_REAL_RATE and (r["tally_delay_p95_s"] or 9) <= 1.0
    for k, v in r.items():
        if k != "machine":
            print(f"{k:>28}: {v}")
    print(f"{'target (>=10x, p95 <= 1 s)':>28}: {'met' if ok else 'NOT met'}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"live-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(r, indent=2), encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
