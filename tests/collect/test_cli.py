"""``salon collect``, ``salon coverage`` and ``salon auth`` end to end (a real Jetstream server)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from salon.cli import app
from salon.collect.credentials import Credentials, Secret

from .harness import campaign_file
from .jetstream_server import JetstreamServer
from .servers import JETSTREAM_EVENTS, lines
from .test_jetstream import TAGS, sources


def test_collect_then_coverage(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with JetstreamServer(lines(JETSTREAM_EVENTS), drops=[30]) as srv:
        src = sources(srv.url).replace('appview = ""', 'appview = "http://127.0.0.1:9"')
        camp = campaign_file(tmp_path, TAGS, src)
        env = {**os.environ, "SALON_CREDENTIALS": str(tmp_path / "none.toml")}
        out = subprocess.run(
            [sys.executable, "-m", "salon.cli", "collect", str(camp), "-a", str(db), "--for", "3", "-q"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert out.returncode == 0, out.stderr
    assert "2 new posts for live-test" in out.stdout
    assert "no Bluesky login" in out.stderr  # says the gaps get no search backfill
    res = CliRunner().invoke(app, ["coverage", str(camp), "-a", str(db), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    js = next(s for s in data["sources"] if s["source"] == "bluesky:jetstream")
    assert js["posts"] == 2 and js["gaps"] >= 2  # the campaign start and the dropped connection
    assert {g["status"] for g in data["gaps"]} == {"backfilled"}
    res = CliRunner().invoke(app, ["coverage", str(camp), "-a", str(db)])
    assert res.exit_code == 0 and "Gaps and backfills" in res.output


def test_auth_writes_0600_and_never_prints_secrets(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cfg" / "credentials.toml"
    monkeypatch.setenv("SALON_CREDENTIALS", str(path))
    res = CliRunner().invoke(app, ["auth", "x", "--token", "sekrit-x-token-123"])
    assert res.exit_code == 0, res.output
    assert "sekrit" not in res.output and "SALON_X_BEARER_TOKEN" in res.output
    res = CliRunner().invoke(
        app, ["auth", "bluesky", "--handle", "a.bsky.social", "--password", "pw-4567-abcd"]
    )
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    creds = Credentials(path=path, env={})
    tok = creds.get("SALON_X_BEARER_TOKEN")
    assert tok == Secret("sekrit-x-token-123") and "sekrit" not in repr(tok) + str(tok) + f"{tok}"
    assert creds.get("SALON_BSKY_APP_PASSWORD") == Secret("pw-4567-abcd")
    assert creds.redact("HTTP 401 for sekrit-x-token-123") == "HTTP 401 for ***"
    # the environment wins over the file
    assert Credentials(path=path, env={"SALON_X_BEARER_TOKEN": "from-env"}).get(
        "SALON_X_BEARER_TOKEN"
    ) == Secret("from-env")
    res = CliRunner().invoke(app, ["auth", "x"])  # no terminal, no flag: a clear error
    assert res.exit_code == 2
