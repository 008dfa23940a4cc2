"""Docs that are tested: the CLI reference is regenerated and compared, every command has help,
and the schema page documents every table of a fresh archive."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from salon.clidocs import render
from salon.store.archive import open_archive
from tests.conftest import REPO


@pytest.fixture(scope="module")
def reference() -> str:
    """docs/cli.md as the commands' --help give it now (rendered once for both tests)."""
    return render()


def test_cli_reference_is_current(reference: str) -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert reference == current, "docs/cli.md is stale: run `.venv/bin/python -m salon.clidocs`"


def test_every_command_is_documented(reference: str) -> None:
    for block in reference.split("## `")[1:]:
        title, body = block.split("`", 1)
        usage_and_help = body.split("╭")[0]
        assert len(usage_and_help.strip().splitlines()) >= 3, f"{title} has no help text"


def test_schema_page_lists_every_table(tmp_path: Path) -> None:
    open_archive(tmp_path / "a.duckdb").close()
    con = duckdb.connect(str(tmp_path / "a.duckdb"), read_only=True)
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    con.close()
    doc = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    missing = [t for t in tables if f"`{t}" not in doc]
    assert not missing, f"docs/schema.md does not document: {missing}"
