"""A served-chats fixture: the synthetic #musesocial series moved around now (one chat past, one
live, one upcoming), imported into a fresh archive; the live chat's posts from now on are kept
apart (``later/``) for a test to import while a page is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from salon.campaigns.config import load_campaign
from salon.campaigns.stored import save_campaign
from salon.demo.chats import ChatSeriesConfig, generate_chats
from salon.importer import import_paths
from salon.store.archive import open_archive


def chats_around_now(folder: Path) -> tuple[Path, dict[str, Any]]:
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
