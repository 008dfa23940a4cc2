"""``salon.info.archive_info`` reads its rows with ``Archive.dicts`` (the helper of
test_archive_dicts.py) and gives what ``salon info --json`` prints: the same keys, in the same
order, with the same values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salon.importer import import_paths
from salon.info import archive_info
from salon.store.archive import Archive, open_archive
from tests.conftest import twarc


@pytest.fixture
def twarc_archive(tmp_path: Path) -> Path:
    a = tmp_path / "a.duckdb"
    files = ("brexit.jsonl", "streaming_output_with_error.jsonl", "tweets_compliance.jsonl")
    import_paths([str(twarc(f)) for f in files], str(a))
    return a


def test_archive_info_reads_its_rows_with_archive_dicts(
    twarc_archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    dicts = Archive.dicts

    def spy(self: Archive, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        seen.append(sql)
        return dicts(self, sql, params)

    monkeypatch.setattr(Archive, "dicts", spy)
    with open_archive(twarc_archive, read_only=True) as arc:
        info = archive_info(arc, top=3)
    assert len(seen) == 6  # totals, by platform and kind, hashtags, imports, quarantine, counts
    assert list(info) == [
        "archive",
        "posts",
        "context_posts",
        "deleted_posts",
        "first_post_at",
        "last_post_at",
        "authors",
        "raw_records",
        "quarantined",
        "tombstones",
        "author_profiles",
        "engagement_snapshots",
        "by_platform_kind",
        "top_hashtags",
        "imports",
        "quarantine",
    ]
    assert info["posts"] > 0 and info["quarantined"] == 1 and len(info["top_hashtags"]) == 3
    assert list(info["top_hashtags"][0]) == ["tag_key", "display", "posts"]
    assert list(info["quarantine"][0]) == ["path", "line", "reason", "bytes"]
    (imp,) = info["imports"]
    assert isinstance(imp["started_at"], str) and isinstance(info["first_post_at"], str)


def test_salon_info_json_is_archive_info(twarc_archive: Path) -> None:
    from salon.cli import app

    res = CliRunner().invoke(app, ["info", "-a", str(twarc_archive), "--json", "--top", "3"])
    assert res.exit_code == 0, res.output
    with open_archive(twarc_archive, read_only=True) as arc:
        info = archive_info(arc, top=3)
    assert json.loads(res.stdout) == json.loads(json.dumps(info, default=str))
