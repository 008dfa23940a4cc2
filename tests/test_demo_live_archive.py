"""`salon demo --live` deletes and recreates its archive: only ever one the live demo made itself
(it marks it), never an archive or other file passed with -a by mistake. The server is replaced by
a stub here; tests/test_demo_live.py runs the real one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import salon.web.app
from salon.cli import app
from salon.store.archive import open_archive


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The archive paths `salon demo --live` would have served, instead of serving them."""
    paths: list[str] = []
    monkeypatch.setattr(salon.web.app, "serve", lambda path, **kw: paths.append(path))
    return paths


def _real_archive(path: Path) -> bytes:
    with open_archive(path) as arc:
        arc.con.execute("CREATE TABLE keep_me AS SELECT 42 AS answer")
    return path.read_bytes()


def test_existing_archive_not_made_by_the_demo_is_refused(tmp_path: Path, served: list[str]) -> None:
    real = tmp_path / "real.duckdb"
    before = _real_archive(real)
    wal = Path(f"{real}.wal")
    wal.write_bytes(b"not ours either")
    r = CliRunner().invoke(app, ["demo", "--live", "--sample", "-a", str(real)])
    assert r.exit_code == 1
    assert "was not made by the live demo" in r.output and str(real) in r.output
    assert real.read_bytes() == before and wal.read_bytes() == b"not ours either"
    assert served == []
    wal.unlink()
    with open_archive(real, read_only=True) as arc:
        assert arc.scalar("SELECT answer FROM keep_me") == 42


def test_existing_file_that_is_no_archive_is_refused(tmp_path: Path, served: list[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("precious", encoding="utf-8")
    r = CliRunner().invoke(app, ["demo", "--live", "--sample", "-a", str(notes)])
    assert r.exit_code == 1 and "cannot be checked" in r.output
    assert notes.read_text(encoding="utf-8") == "precious" and served == []


def test_default_archive_follows_dir_and_is_recreated(tmp_path: Path, served: list[str]) -> None:
    folder = tmp_path / "elsewhere"
    runner = CliRunner()
    for _ in range(2):  # the second run recreates the archive the first one made
        r = runner.invoke(app, ["demo", "--live", "--sample", "--dir", str(folder)])
        assert r.exit_code == 0, r.output
    live = folder / "live.duckdb"
    assert served == [str(live), str(live)]
    with open_archive(live, read_only=True) as arc:
        # The sample campaign and the #musesocial chat series (salon.demo.chats), once each.
        slugs = [r[0] for r in arc.query("SELECT slug FROM campaigns ORDER BY slug")]
        assert len(slugs) == 2 and "musesocial" in slugs
