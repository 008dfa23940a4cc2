"""The main job behind ``salon demo``: get a synthetic campaign (the bundled sample, or one
generated into a folder), import it through the normal import path, store its campaign file, and
check the campaign tally against the generator's ground truth. No network, no account.

>>> from salon.demo.run import prepare, import_demo, add_campaign, check_tally
>>> data = prepare("salon-demo")                                  # doctest: +SKIP
>>> report = import_demo(data, "salon.duckdb")                     # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from salon.campaigns.config import load_campaign
from salon.campaigns.index import refresh
from salon.campaigns.stored import save_campaign
from salon.demo.generator import DEFAULT_SEED, generate
from salon.demo.model import DEMO_DIR, DEMO_INSTITUTIONS, DEMO_POSTS
from salon.importer import ImportReport, import_paths
from salon.store.archive import Archive

__all__ = [
    "DEMO_DIR",
    "DEMO_INSTITUTIONS",
    "DEMO_POSTS",
    "DemoData",
    "add_campaign",
    "check_tally",
    "import_demo",
    "prepare",
    "sample",
]

# The bundled sample (``salon/data/sample``) is made with exactly these arguments:
#   salon demo generate --out src/salon/data/sample --seed 2015 --institutions 60 --posts 400 --gzip --force
# (tests/test_demo_generator.py checks that the committed files are what the generator writes).
SAMPLE_ARGS: dict[str, Any] = {"seed": 2015, "institutions": 60, "posts": 400, "gz": True}


@dataclass
class DemoData:
    """A synthetic campaign on disk: its folder, its ground truth, and whether it was just made."""

    folder: Path
    truth: dict[str, Any]
    generated: bool = False
    bundled: bool = False

    @property
    def import_paths(self) -> list[str]:
        return [str(self.folder / p) for p in self.truth.get("import_paths", ["data"])]

    @property
    def campaign_file(self) -> Path:
        return self.folder / self.truth["campaign"]["file"]


@contextmanager
def sample() -> Iterator[DemoData]:
    """The sample bundled with Salon (a few hundred synthetic posts), as a folder on disk."""
    with resources.as_file(resources.files("salon") / "data" / "sample") as folder:
        yield DemoData(Path(folder), _truth(Path(folder)), bundled=True)


def _truth(folder: Path) -> dict[str, Any]:
    with (folder / "ground_truth.json").open(encoding="utf-8") as fh:
        return dict(json.load(fh))


def prepare(
    folder: str | Path = DEMO_DIR,
    *,
    seed: int = DEFAULT_SEED,
    institutions: int = DEMO_INSTITUTIONS,
    posts: int = DEMO_POSTS,
    regenerate: bool = False,
) -> DemoData:
    """The synthetic campaign in ``folder``, generated there first unless it already holds one
    (``ground_truth.json``); ``regenerate`` makes it again."""
    folder = Path(folder)
    if (folder / "ground_truth.json").is_file() and not regenerate:
        return DemoData(folder, _truth(folder))
    if folder.exists() and any(folder.iterdir()) and not (folder / "ground_truth.json").is_file():
        raise FileExistsError(f"{folder} exists and holds no synthetic campaign: choose another folder")
    truth = generate(folder, seed=seed, institutions=institutions, posts=posts)
    return DemoData(folder, truth, generated=True)


def import_demo(data: DemoData, archive: Archive | str | None = None) -> ImportReport:
    """Import the campaign's platform files, through the normal import path."""
    return import_paths(data.import_paths, archive)


def add_campaign(data: DemoData, arc: Archive) -> Any:
    """Store the campaign file in the archive (as ``salon campaign add`` does) and return it."""
    c = load_campaign(data.campaign_file)
    save_campaign(arc, c, data.campaign_file.read_text(encoding="utf-8"))
    refresh(arc, c)
    return c


def check_tally(tally: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Where a campaign tally differs from the generator's ground truth (empty: it matches)."""
    cp, inst = truth["campaign_posts"], truth["institutions"]
    pairs: list[tuple[str, Any, Any]] = [
        ("posts", tally["posts"], cp["total"]),
        ("reposts", tally["reposts"], truth["reposts"]["total"]),
        ("participants", tally["participants"], truth["participants"]["total"]),
        ("institutions", tally["institutions"], inst["posted"]),
        ("countries", tally["countries"], inst["countries"]),
        ("engagement", tally["engagement"], truth["engagement"]),
        ("by hashtag", tally["by_hashtag"], cp["by_hashtag"]),
        ("by day", tally["by_day"], cp["by_day"]),
        (
            "themes",
            {k: (v["posts"], v["on_the_day"]) for k, v in tally["themes"].items()},
            {k: (v["posts"], v["on_the_day"]) for k, v in cp["by_theme"].items()},
        ),
        (
            "by platform",
            {k: v["posts"] for k, v in tally["by_platform"].items() if v["posts"]},
            {k: v for k, v in cp["by_platform"].items() if v},
        ),
    ]
    return [f"{name}: tally {got!r}, ground truth {want!r}" for name, got, want in pairs if got != want]
