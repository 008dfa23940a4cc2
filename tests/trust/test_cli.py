"""`salon spam review`, `salon moderation ...` and the tally's headline, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from salon.cli import app
from tests.trust.data import SLUG, Builder

runner = CliRunner()


def _archive(tmp_path: Path) -> tuple[Path, str, str]:
    b = Builder(tmp_path, '[moderation]\nspam = { promo_domains = ["win-a-trip.example"] }\n')
    spam_uid = b.post("Win a trip today", user="promo", links=("https://win-a-trip.example/x",))
    good_uid = b.post("A quiet morning in our galleries", user="visitor")
    return b.build(), spam_uid, good_uid


def test_spam_review_lists_and_decides(tmp_path: Path) -> None:
    path, spam_uid, _good = _archive(tmp_path)
    r = runner.invoke(app, ["tally", SLUG, "-a", str(path)])
    assert r.exit_code == 0, r.output
    assert "1 posts held as spam (promotional_link 1)" in r.output
    r = runner.invoke(app, ["spam", "review", SLUG, "-a", str(path), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["uid"] for x in rows] == [spam_uid]
    assert rows[0]["why"][0]["reason"] == "promotional_link"
    r = runner.invoke(
        app,
        [
            "spam",
            "review",
            SLUG,
            "-a",
            str(path),
            "--mark",
            f"{spam_uid}=not_spam",
            "--by",
            "ed",
            "--note",
            "ok",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["tally", SLUG, "-a", str(path), "--json"])
    assert json.loads(r.output)["spam"]["posts"] == 0
    r = runner.invoke(app, ["moderation", "log", SLUG, "-a", str(path), "--json"])
    log = json.loads(r.output)
    assert (log[0]["action"], log[0]["by_user"], log[0]["reason"]) == ("not_spam", "ed", "ok")
    r = runner.invoke(app, ["spam", "review", SLUG, "-a", str(path), "--mark", "nope=spam"])
    assert r.exit_code == 1 and "is not a post of campaign" in r.output


def test_moderation_import_csv(tmp_path: Path) -> None:
    path, _spam_uid, _good = _archive(tmp_path)
    csv = tmp_path / "block.csv"
    csv.write_text("account,note\nmastodon:visitor@mastodon.example,troll\n", encoding="utf-8")
    r = runner.invoke(app, ["moderation", "import", SLUG, "block_accounts", str(csv), "-a", str(path)])
    assert r.exit_code == 0, r.output
    assert "1 added" in r.output
    r = runner.invoke(app, ["tally", SLUG, "-a", str(path), "--json"])
    assert json.loads(r.output)["spam"]["by_reason"] == {"blocked_account": 1, "promotional_link": 1}
    r = runner.invoke(app, ["moderation", "import", SLUG, "nonsense", str(csv), "-a", str(path)])
    assert r.exit_code == 1
