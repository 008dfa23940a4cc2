"""A served-chats fixture: the synthetic #musesocial series moved around now (one chat past, one
live, one upcoming), imported into a fresh archive; the live chat's posts from now on are kept
apart (``later/``) for a test to import while a page is open."""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from salon.campaigns.config import load_campaign
from salon.campaigns.stored import save_campaign
from salon.demo.chats import ChatSeriesConfig, generate_chats
from salon.importer import import_paths
from salon.store.archive import open_archive

_PRISTINE: dict[Path, tuple[Path, dict[str, Any]]] = {}


def chats_around_now(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The series around now in ``folder`` (archive, campaign file, ``data/`` and ``later/``).
    Generating and importing it takes seconds, so it is done once a session, in a folder of its
    own that no test writes to, and copied (instantly) into each caller's ``folder``; the
    modules run minutes apart at most, well inside the live chat's hour."""
    pristine = folder.parent / "chats-around-now"
    if pristine not in _PRISTINE:
        _PRISTINE[pristine] = _generate(pristine)
    path, truth = _PRISTINE[pristine]
    shutil.copytree(pristine, folder, dirs_exist_ok=True)
    return folder / path.name, copy.deepcopy(truth)


def _generate(folder: Path) -> tuple[Path, dict[str, Any]]:
    now = datetime.now(UTC)
    cfg = ChatSeriesConfig(
        starts=(now - timedelta(days=9), now - timedelta(minutes=5), now + timedelta(days=2))
    )
    truth = generate_chats(folder, cfg, split=now)
    path = folder / "chats.duckdb"
    with open_archive(path, create=True) as arc:
        import_paths([str(folder / "data")], arc)
        save_campaign(arc, load_campaign(folder / "musesocial.toml"))
    return path, truth
