"""While `salon serve` holds the archive, `salon info`, `salon tally` and `salon sql` are
answered by it (same figures as a direct run); SIGTERM stops it as Ctrl-C does; a leftover
`<archive>.serve.json` whose pid is alive but whose server does not answer is ignored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path

from tests.web.conftest import SALON, LiveServer
from tests.web.data import SLUG, build_archive, write_batch


def _salon(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SALON, *args], capture_output=True, text=True, timeout=120, env=env)


def test_info_tally_sql_answered_by_the_server_then_sigterm_stops_it(tmp_path: Path) -> None:
    arc = build_archive(tmp_path)
    server = LiveServer(arc)
    try:
        served = {
            "info": _salon("info", "--json", "-a", str(arc)),
            "tally": _salon("tally", SLUG, "--json", "-a", str(arc)),
            "tally_at": _salon("tally", SLUG, "--json", "--at", "2015-03-24T12:00", "-a", str(arc)),
            "sql": _salon("sql", "SELECT count(*) AS n FROM posts", "--output", "json", "-a", str(arc)),
        }
        for name, res in served.items():
            assert res.returncode == 0, (name, res.stderr)
        refused = _salon("sql", f"COPY posts TO '{tmp_path}/leak.csv'", "-a", str(arc))
        assert refused.returncode == 1 and refused.stderr.startswith("error: COPY statements are not run")
        read = _salon("sql", "SELECT * FROM read_text('/etc/hostname')", "-a", str(arc))
        assert read.returncode == 1 and "disabled by configuration" in read.stderr, read.stderr
        assert not (tmp_path / "leak.csv").exists()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=20) == 0
        assert not server.info_path.exists()
    finally:
        server.stop()
    direct = {
        "info": _salon("info", "--json", "-a", str(arc)),
        "tally": _salon("tally", SLUG, "--json", "-a", str(arc)),
        "tally_at": _salon("tally", SLUG, "--json", "--at", "2015-03-24T12:00", "-a", str(arc)),
        "sql": _salon("sql", "SELECT count(*) AS n FROM posts", "--output", "json", "-a", str(arc)),
    }
    assert json.loads(served["sql"].stdout) == json.loads(direct["sql"].stdout) == [{"n": 40}]
    for k in ("tally", "tally_at"):  # the same output but the moment it was computed
        s_t, d_t = json.loads(served[k].stdout), json.loads(direct[k].stdout)
        assert s_t.pop("computed_at") and d_t.pop("computed_at")
        assert s_t == d_t
        assert s_t["posts"] > 0
    s_info, d_info = json.loads(served["info"].stdout), json.loads(direct["info"].stdout)
    for k in ("posts", "authors", "raw_records", "quarantined", "by_platform_kind", "top_hashtags"):
        assert s_info[k] == d_info[k], k


def test_a_leftover_serve_file_of_a_live_pid_that_does_not_answer_is_ignored(tmp_path: Path) -> None:
    arc = build_archive(tmp_path)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    Path(f"{arc}.serve.json").write_text(
        json.dumps(
            {"pid": os.getpid(), "url": f"http://127.0.0.1:{port}", "token": "t", "archive": str(arc)}
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "SALON_PASSWORD": "correct horse battery"}
    res = _salon("users", "add", "ed", "-a", str(arc), env=env)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    batch = write_batch(tmp_path / "more.jsonl", 40, 5)
    res = _salon("import", str(batch), "-a", str(arc), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["posts_new"] == 5
    res = _salon("info", "--json", "-a", str(arc))
    assert res.returncode == 0 and json.loads(res.stdout)["posts"] == 45
