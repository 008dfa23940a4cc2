"""Web benchmark: requests/s and p99 latency of the public campaign page and the tally API under
concurrent load on loopback, at 1M stored posts.

    .venv/bin/python -m bench.web_bench [--posts 1000000] [--seconds 10] [--connections 32] [--keep]

Builds the synthetic archive of ``bench.tally_bench`` (eight MuseumWeek editions, 2,000
institutions) with every edition's campaign stored and indexed, starts a real ``salon serve`` on
it, and loads:

- ``page``: ``GET /c/{slug}``, the public live page (HTML, map and wall included);
- ``api``: ``GET /api/campaigns/{slug}/tally``, what ``salon tally --json`` prints;
- ``api+writes``: the API again while a writer streams new campaign posts into the served
  archive through the local ingest endpoint (what ``salon import`` does while the server runs)
  at 1,000 posts/s: 500 every 0.5 s on a fixed schedule; when a request takes longer than 0.5 s,
  the next one carries every post due by then, so the posts written match the rate stated
  whatever the server's latency (until 2026-11-21 the writer slept 0.5 s after each request of
  500 posts and wrote about a quarter of that under load). Reads must not wait for the writer,
  and the tally is recomputed per change. Reported: the posts sent and the posts the served
  tally gained per second, ``on_schedule`` (every request carried 500 posts) or the request
  sizes it took to keep the rate, request latency, and the longest wait of a post.

The server writes into ``bench/data/web-<N>.duckdb``, deleted at the end. With ``--keep`` the
archive as built (campaigns indexed, before any write) is kept as
``bench/data/web-<N>.pristine.duckdb`` and a later ``--keep`` run starts from a copy of it, so it
writes the same new posts into the same archive as the first run.

The load generator is ``wrk`` (Debian package) when installed, else a bounded Python generator
(threads with keep-alive connections). Both share this machine's cores with the server, as the
targets assume (≥ 500 req/s, p99 ≤ 100 ms on 2 cores). Prints a table and writes
``bench/results/web-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
TARGET_RPS, TARGET_P99_MS = 500, 100


def build_archive(n: int, keep: bool) -> tuple[Path, str, datetime, bool]:
    """The tally benchmark's synthetic archive with its campaigns stored and indexed, built or
    (``keep``) copied from the pristine copy an earlier ``--keep`` run kept; returns (path, slug
    of the largest edition, its start, whether the archive was reused)."""
    from bench.tally_bench import EDITIONS, _copy_archive, _remove_archive, build, campaign_toml
    from salon.campaigns.config import parse_campaign
    from salon.campaigns.index import refresh
    from salon.campaigns.stored import get_campaign, list_campaigns, save_campaign
    from salon.store.archive import open_archive

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"web-{n}.duckdb"
    pristine = DATA / f"web-{n}.pristine.duckdb"
    _remove_archive(path)  # whatever an earlier run left there holds that run's writes
    Path(str(path) + ".serve.json").unlink(missing_ok=True)
    reused = keep and pristine.exists()
    if reused:
        _copy_archive(pristine, path)
        with open_archive(path) as arc:  # "fresh" unless a migration dropped the indexes
            for row in list_campaigns(arc):
                c = get_campaign(arc, row["slug"])
                assert c is not None
                refresh(arc, c)
    else:
        build(path, n)
        with open_archive(path) as arc:
            for y in EDITIONS:
                toml, csv = campaign_toml(y)
                c = parse_campaign(toml, participants_csv=csv)
                save_campaign(arc, c)
                refresh(arc, c)
        if keep:
            _copy_archive(path, pristine)
    with open_archive(path) as arc:
        slug = str(
            arc.scalar(
                "SELECT c.slug FROM campaigns c JOIN campaign_posts p USING (campaign_id)"
                " GROUP BY c.slug ORDER BY count(*) DESC LIMIT 1"
            )
        )
        c = get_campaign(arc, slug)
        assert c is not None
        return path, slug, c.start_utc, reused


class Server:
    """``salon serve`` in a child process."""

    def __init__(self, archive: Path) -> None:
        salon = str(Path(sys.executable).with_name("salon"))
        self.info_path = Path(str(archive) + ".serve.json")
        self.proc = subprocess.Popen(
            [salon, "serve", "-a", str(archive), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 300
        while not self.info_path.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "salon serve did not start: " + (self.proc.stderr.read() or b"").decode()[-2000:]
                )  # type: ignore[union-attr]
            time.sleep(0.1)
        self.info: dict[str, Any] = json.loads(self.info_path.read_text())
        self.url: str = self.info["url"]
        self.host, port = self.url.removeprefix("http://").split(":")
        self.port = int(port)
        while True:
            try:
                if get(self.host, self.port, "/api/version")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.proc.pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))] if xs else 0.0


def load_wrk(url: str, seconds: float, connections: int) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {
        "tool": "wrk",
        "requests": int(total.group(1)) if total else None,
        "rps": round(rps, 1),
        "p50_ms": ms("50%"),
        "p99_ms": ms("99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def load_python(host: str, port: int, path: str, seconds: float, connections: int) -> dict[str, Any]:
    """A bounded load generator: ``connections`` threads, one keep-alive connection each."""
    lat: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        c = http.client.HTTPConnection(host, port, timeout=30)
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                c.close()
                c = http.client.HTTPConnection(host, port, timeout=30)
                continue
            lat[i].append((time.perf_counter() - t) * 1000)
        c.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    allv = [x for xs in lat for x in xs]
    return {
        "tool": "python",
        "requests": len(allv),
        "rps": round(len(allv) / elapsed, 1),
        "p50_ms": round(_pct(allv, 50), 2),
        "p99_ms": round(_pct(allv, 99), 2),
        "errors": sum(errors),
    }


def _statuses(first: int, count: int, start: datetime) -> list[bytes]:
    """Mastodon statuses carrying #MuseumWeek inside the campaign window."""
    out = []
    for n in range(first, first + count):
        created = start + timedelta(hours=10, seconds=n % 86400)
        s = {
            "id": str(n),
            "uri": f"https://bench.example/users/u{n % 5000}/statuses/{n}",
            "url": f"https://bench.example/@u{n % 5000}/{n}",
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "content": f"<p>Au musée ce soir #MuseumWeek n°{n}</p>",
            "language": "fr",
            "visibility": "public",
            "reblog": None,
            "in_reply_to_id": None,
            "account": {
                "id": str(n % 5000),
                "username": f"u{n % 5000}",
                "acct": f"u{n % 5000}",
                "url": f"https://bench.example/@u{n % 5000}",
            },
            "tags": [{"name": "museumweek"}],
            "mentions": [],
            "media_attachments": [],
        }
        out.append(json.dumps(s).encode())
    return out


class Writer(threading.Thread):
    """Streams new posts into the served archive through the local ingest endpoint at
    ``batch / every`` posts/s: request k starts at ``k * every`` on a fixed schedule (not
    ``every`` after the previous one returned) and carries every post due by then: ``batch``
    when the server keeps the pace, more after a request that took longer than ``every``. On
    ``halt``, a last request sends the posts due by then, so the posts sent are the stated rate
    times the time written."""

    def __init__(self, server: Server, start: datetime, batch: int = 500, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.server, self.start_ts, self.batch, self.every = server, start, batch, every
        self.halt = threading.Event()
        self.streaming = threading.Event()  # set when the import is open and the first request leaves
        self.sent = 0  # posts sent
        self.seconds = 0.0  # from the first request to the halt
        self.sizes: list[int] = []  # posts per request
        self.write_ms: list[float] = []  # per request
        self.lag_s: list[float] = []  # per request: its end minus the due time of its oldest post
        self.new: list[int] = []  # posts_new reported by the server, per request
        self.flushed = False  # the last request is the one sent on halt

    def run(self) -> None:
        import httpx

        from salon.sources.files import RawRecord
        from salon.web.ingest import TOKEN_HEADER, encode_records

        h = {TOKEN_HEADER: self.server.info["token"]}
        with httpx.Client(base_url=self.server.url, headers=h, timeout=120, trust_env=False) as c:
            iid = c.post("/api/local/imports", json={"kind": "import", "arguments": "bench"}).json()[
                "import_id"
            ]
            fid = c.post(f"/api/local/imports/{iid}/files", json={"path": "bench"}).json()["file_id"]
            n = 10**12
            t0 = time.perf_counter()
            self.streaming.set()
            while True:
                halted = self.halt.is_set()
                now = time.perf_counter() - t0
                k = int(now / self.every)
                if halted:  # the posts due by now at the stated rate
                    self.seconds = now
                    total = max(self.sent, round(self.batch * now / self.every))
                else:  # request k, due at k * every
                    total = (k + 1) * self.batch
                count = total - self.sent
                if count > 0:
                    recs = [
                        RawRecord(p, self.sent + i + 1, json.loads(p))
                        for i, p in enumerate(_statuses(n + self.sent, count, self.start_ts))
                    ]
                    t = time.perf_counter()
                    r = c.post(
                        f"/api/local/imports/{iid}/files/{fid}/records",
                        params={"source": "bench"},
                        content=encode_records(recs),
                    )
                    r.raise_for_status()
                    done = time.perf_counter()
                    self.write_ms.append((done - t) * 1000)
                    self.lag_s.append(done - t0 - (self.sent // self.batch) * self.every)
                    self.new.append(int(r.json()["posts_new"]))
                    self.sizes.append(count)
                    self.sent += count
                    self.flushed = halted
                if halted:
                    break
                self.halt.wait(max(0.0, t0 + (k + 1) * self.every - time.perf_counter()))
            c.post(f"/api/local/imports/{iid}/files/{fid}/finish", json={"counts": {}})
            c.post(f"/api/local/imports/{iid}/finish", json={"counts": {}})


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(prog="python -m bench.web_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep a pristine copy of the archive (bench/data/web-<N>.pristine.duckdb) and start from"
        " a copy of it when there is one",
    )
    ap.add_argument(
        "--python-load", action="store_true", help="use the Python load generator even if wrk is there"
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    path, slug, start, reused = build_archive(args.posts, args.keep)
    build_s = time.perf_counter() - t0
    server = Server(path)
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    results: dict[str, Any] = {
        "posts_stored": args.posts,
        "campaign": slug,
        "archive_reused": reused,
        "build_s": round(build_s, 1),  # with --keep and a pristine copy: the copy
        "connections": args.connections,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "at": datetime.now(UTC).isoformat(),
        "runs": {},
    }
    try:
        targets = {"page": f"/c/{slug}", "api": f"/api/campaigns/{slug}/tally"}
        for path_ in targets.values():
            status = get(server.host, server.port, path_)[0]
            assert status == 200, (path_, status)
        results["page_bytes"] = len(get(server.host, server.port, targets["page"])[1])

        def run(name: str, path_: str) -> None:
            if use_wrk:
                r = load_wrk(server.url + path_, args.seconds, args.connections)
            else:
                r = load_python(server.host, server.port, path_, args.seconds, args.connections)
            r["ok"] = r["rps"] >= TARGET_RPS and r["p99_ms"] <= TARGET_P99_MS and r["errors"] == 0
            results["runs"][name] = r

        run("page", targets["page"])
        run("api", targets["api"])
        before = json.loads(get(server.host, server.port, targets["api"])[1])["posts"]
        w = Writer(server, start)
        w.start()
        while w.is_alive() and not w.streaming.wait(0.1):  # opening the import waits for the server
            pass
        time.sleep(1.0)
        run("api+writes", targets["api"])
        w.halt.set()
        w.join()
        deadline = time.monotonic() + 60  # the served tally follows the last write within a refresh
        while True:
            after = json.loads(get(server.host, server.port, targets["api"])[1])["posts"]
            if after - before >= w.sent or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        sizes = w.sizes[:-1] if w.flushed else w.sizes  # the scheduled requests
        results["runs"]["api+writes"].update(
            {
                "posts_per_s_stated": round(w.batch / w.every),
                "write_seconds": round(w.seconds, 2),
                "write_requests": len(w.sizes),
                "posts_sent": w.sent,
                "posts_new": sum(w.new),  # as the ingest endpoint reported them
                "posts_added": after - before,  # as the served tally counts them
                "posts_per_s_sent": round(w.sent / w.seconds, 1) if w.seconds else 0.0,
                "posts_per_s_added": round((after - before) / w.seconds, 1) if w.seconds else 0.0,
                # every request carried `batch` posts: the server kept the pace of the schedule
                "on_schedule": all(x == w.batch for x in sizes),
                "request_posts_p50": int(_pct([float(x) for x in sizes], 50)),
                "request_posts_max": max(sizes, default=0),
                "request_p50_ms": round(_pct(w.write_ms, 50), 1),
                "request_p95_ms": round(_pct(w.write_ms, 95), 1),
                "lag_max_s": round(max(w.lag_s, default=0.0), 2),
            }
        )
        results["server_rss_mb"] = round(server.rss_mb(), 1)
    finally:
        server.stop()
        from bench.tally_bench import _remove_archive

        _remove_archive(path)  # it holds this run's writes; --keep keeps the pristine copy
        Path(str(path) + ".serve.json").unlink(missing_ok=True)
    _print(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"web-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written {out}")
    return results


def _print(r: dict[str, Any]) -> None:
    print(
        f"\nweb benchmark: {r['posts_stored']:,} posts, campaign {r['campaign']}, {r['connections']} connections,"
        f" {r['seconds']:.0f} s per run, {r['cpus']} CPUs (target ≥ {TARGET_RPS} req/s, p99 ≤ {TARGET_P99_MS} ms)"
    )
    print(f"{'run':<12}{'tool':>7}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  ok")
    for name, x in r["runs"].items():
        print(
            f"{name:<12}{x['tool']:>7}{x['rps']:>10,.0f}{x['p50_ms']:>9.1f}{x['p99_ms']:>9.1f}{x['errors']:>8}  {'yes' if x['ok'] else 'NO'}"
        )
    w = r["runs"].get("api+writes", {})
    if "posts_sent" in w:
        pace = (
            "on schedule"
            if w["on_schedule"]
            else f"behind the schedule: requests of p50 {w['request_posts_p50']:,}, max {w['request_posts_max']:,} posts"
        )
        print(
            f"during api+writes: {w['posts_sent']:,} posts sent in {w['write_seconds']} s, {w['write_requests']} requests"
            f" ({w['posts_per_s_sent']:,.0f} posts/s sent, {w['posts_per_s_added']:,.0f}/s added to the tally,"
            f" {w['posts_per_s_stated']:,} stated); {pace}; request p50 {w['request_p50_ms']} ms,"
            f" p95 {w['request_p95_ms']} ms; longest wait of a post {w['lag_max_s']} s"
        )
    print(
        f"archive {'reused (copied from its pristine copy)' if r['archive_reused'] else 'built'} in"
        f" {r['build_s']} s; server RSS {r.get('server_rss_mb')} MB"
    )


if __name__ == "__main__":
    main()
