"""The wall's moderation modes, the trash and restore, takedowns through the CLI: what the
public wall shows (``explorer.campaign_latest``, behind /c/slug/latest and /wall/slug)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from salon.campaigns.tally import resolve_campaign, tally
from salon.campaigns.trust import moderation
from salon.campaigns.trust.visibility import publicly_visible
from salon.cli import app
from salon.store.archive import open_archive
from salon.web.explorer import campaign_latest
from tests.trust.data import SLUG, Builder

runner = CliRunner()


def _wall(arc) -> set[str]:
    return {p["uid"] for p in campaign_latest(arc, SLUG, limit=100)}


def _build(tmp_path: Path, mode: str) -> tuple[Path, dict[str, str]]:
    b = Builder(
        tmp_path, f'[moderation]\nmode = "{mode}"\nspam = {{ promo_domains = ["win-a-trip.example"] }}\n'
    )
    u = {
        "registry": b.post("Bienvenue au musée", user="louvre"),
        "public": b.post("What a lovely museum week", user="visitor"),
        "spam": b.post("Win a free trip to Paris", user="spammer", links=("https://win-a-trip.example/a",)),
        "optout": b.post("My quiet post about the museum", user="private", account={"indexable": False}),
    }
    return b.build(), u


def test_auto_mode_trash_and_restore(tmp_path: Path) -> None:
    path, u = _build(tmp_path, "auto")
    with open_archive(path) as arc:
        t = tally(arc, SLUG)
        assert t["posts"] == 4 and t["spam"]["posts"] == 1  # the opted-out post is counted
        assert _wall(arc) == {u["registry"], u["public"]}
        c = resolve_campaign(arc, SLUG)
        moderation.act(arc, c, u["public"], "trash", by="ed", reason="off topic")
        assert _wall(arc) == {u["registry"]}
        assert [r["uid"] for r in moderation.queue(arc, c, "trash")] == [u["public"]]
        moderation.act(arc, c, u["public"], "restore", by="ed")
        assert _wall(arc) == {u["registry"], u["public"]}
        assert moderation.queue(arc, c, "trash") == []
        assert publicly_visible(arc, u.values(), campaign=SLUG) == {u["registry"], u["public"]}


def test_pre_mode_shows_registry_and_approved_posts_only(tmp_path: Path) -> None:
    path, u = _build(tmp_path, "pre")
    with open_archive(path) as arc:
        tally(arc, SLUG)
        c = resolve_campaign(arc, SLUG)
        assert _wall(arc) == {u["registry"]}  # registry accounts approved automatically
        assert [r["uid"] for r in moderation.queue(arc, c, "pending")] == [u["public"]]
    r = runner.invoke(
        app, ["moderation", "wall", SLUG, "approve", u["public"], "-a", str(path), "--by", "ed"]
    )
    assert r.exit_code == 0, r.output
    with open_archive(path) as arc:
        assert _wall(arc) == {u["registry"], u["public"]}
        c = resolve_campaign(arc, SLUG)
        assert moderation.queue(arc, c, "pending") == []


def test_takedown_command_clears_the_wall_and_the_figures(tmp_path: Path) -> None:
    path, u = _build(tmp_path, "auto")
    r = runner.invoke(app, ["takedown", u["public"], "-a", str(path)])
    assert r.exit_code == 2  # --reason is required
    r = runner.invoke(
        app, ["takedown", u["public"], "--reason", "author asked", "-a", str(path), "--by", "ed"]
    )
    assert r.exit_code == 0, r.output
    assert "1 post removed" in " ".join(r.output.split())
    with open_archive(path) as arc:
        assert tally(arc, SLUG)["posts"] == 3  # deleted: out of the definition, tombstone kept
        assert _wall(arc) == {u["registry"]}
        assert arc.scalar("SELECT count(*) FROM tombstones WHERE uid = ?", [u["public"]]) == 1
    r = runner.invoke(app, ["moderation", "log", "-a", str(path), "--json"])
    assert '"takedown"' in r.output and "author asked" in r.output
