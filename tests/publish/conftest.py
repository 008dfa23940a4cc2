"""Archives the export, report and story tests share: the bundled demo sample (built once) and
real twarc2 corpora; for stories, a writable copy of the sample with a story of posts of every
platform (a reply, a quote, media), and the web tests' fixtures."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.cli import app
from tests.web import conftest as _web

DEMO_SLUG = "museumweek-2025-demo"


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled synthetic MuseumWeek sample imported with its campaign (`salon demo --sample`).
    Read it only (read_only=True): every test of the session shares it."""
    folder = tmp_path_factory.mktemp("demo")
    arc = folder / "demo.duckdb"
    res = CliRunner().invoke(app, ["demo", "--sample", "-a", str(arc), "--dir", str(folder / "d")])
    assert res.exit_code == 0, res.output
    return arc


# The web tests' fixtures (a small Mastodon archive, a browser).
archive = _web.archive
browser_context = _web.browser_context

SALON = str(Path(sys.executable).with_name("salon"))
CAMPAIGN = DEMO_SLUG


@pytest.fixture
def story_archive(demo_archive: Path, tmp_path: Path) -> Path:
    """A writable copy of the demo sample (stories write to their archive)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_archive, path)
    return path


def story_uids(arc: object) -> list[str]:
    """Posts for a story: per platform an original with media, a reply and a quote (those the
    sample has), shown ones only, in time order."""
    q = arc.query  # type: ignore[attr-defined]
    picks: list[str] = []
    for sql in (
        "SELECT p.uid FROM posts p WHERE p.platform = ? AND p.kind = 'original' AND p.deleted_at IS NULL"
        " AND p.uid IN (SELECT uid FROM post_media WHERE alt_text IS NOT NULL) ORDER BY p.created_at LIMIT 2",
        "SELECT p.uid FROM posts p WHERE p.platform = ? AND p.kind = 'original' AND p.deleted_at IS NULL"
        " AND p.uid IN (SELECT uid FROM post_media WHERE alt_text IS NULL) ORDER BY p.created_at LIMIT 1",
        "SELECT p.uid FROM posts p WHERE p.platform = ? AND p.kind IN ('reply', 'quote') AND p.deleted_at IS NULL"
        " ORDER BY p.created_at LIMIT 2",
        "SELECT p.uid FROM posts p WHERE p.platform = ? AND p.kind = 'quote' AND p.deleted_at IS NULL"
        " ORDER BY p.created_at LIMIT 1",
    ):
        for platform in ("x", "mastodon", "bluesky"):
            picks += [r[0] for r in q(sql, [platform])]
    from salon.campaigns.shown import hidden_posts

    hidden = hidden_posts(arc, picks)  # type: ignore[arg-type]
    seen: set[str] = set()
    return [u for u in picks if u not in hidden and not (u in seen or seen.add(u))]  # type: ignore[func-returns-value]


@pytest.fixture
def demo_story(story_archive: Path) -> tuple[Path, list[str]]:
    """A copy of the demo archive with story ``day-one`` (heading, text, posts) created."""
    return make_story(story_archive)


def make_story(demo_archive: Path) -> tuple[Path, list[str]]:
    """Create story ``day-one`` (headings, text, posts) in ``demo_archive``."""
    from salon.publish.stories import model
    from salon.store.archive import open_archive

    with open_archive(demo_archive) as arc:
        uids = story_uids(arc)
        model.new_story(
            arc,
            "day-one",
            "MuseumWeek, day one",
            campaign=CAMPAIGN,
            curator="Ada Curator",
            institution="Musée de Test",
            description="What *museums* shared.",
        )
        half = len(uids) // 2
        model.add_items(
            arc,
            "day-one",
            [model.heading("Morning"), model.text("The day **opened** with [photos](https://example.org/a).")]
            + [model.post(u) for u in uids[:half]]
            + [model.heading("Evening")]
            + [model.post(u) for u in uids[half:]],
        )
    return demo_archive, uids
