"""Shared fixtures: the real corpora beside the repo, and fresh archives."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
TWARC = CORPORA / "docnow-twarc-csv" / "test-data"


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    """Path of a fresh (not yet created) archive file."""
    return tmp_path / "archive.duckdb"
