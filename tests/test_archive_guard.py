"""An archive path that is not a Salon archive is refused, for every command taking
``--archive`` (they all open it through ``salon.store.archive.open_archive``), and ``salon sql``
is read-only for real: it can neither write nor read another file, nor reach the network."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from salon.cli import app
from salon.store.archive import ArchiveError, open_archive

runner = CliRunner()


def _jsonl(tmp_path: Path) -> Path:
    f = tmp_path / "data.jsonl"
    f.write_bytes(b'{"not": "an archive"}\n')
    return f


@pytest.mark.parametrize("kind", ["jsonl", "empty", "folder", "fifo", "text.duckdb"])
def test_open_archive_refuses_what_is_not_an_archive(tmp_path: Path, kind: str) -> None:
    p = tmp_path / kind
    if kind == "jsonl":
        p = _jsonl(tmp_path)
    elif kind == "empty":
        p.touch()
    elif kind == "folder":
        p.mkdir()
    elif kind == "fifo":
        os.mkfifo(p)
    else:
        p.write_text("hello\n" * 10, encoding="utf-8")
    before = p.read_bytes() if p.is_file() else None
    for ro in (False, True):
        with pytest.raises(ArchiveError, match=r"not a Salon archive|is a folder|not a regular file"):
            open_archive(p, read_only=ro)
    if before is not None:
        assert p.read_bytes() == before  # untouched


def test_a_foreign_duckdb_file_is_not_an_archive(tmp_path: Path) -> None:
    p = tmp_path / "other.duckdb"
    con = duckdb.connect(str(p))
    con.execute("CREATE TABLE mine (x INT)")
    con.close()
    for ro in (False, True):
        with pytest.raises(ArchiveError, match="a DuckDB database but not a Salon archive"):
            open_archive(p, read_only=ro)
    con = duckdb.connect(str(p), read_only=True)
    assert [r[0] for r in con.execute("SHOW TABLES").fetchall()] == ["mine"]  # no Salon tables added
    con.close()


def test_a_new_path_and_an_archive_open(tmp_path: Path) -> None:
    with open_archive(tmp_path / "new.duckdb") as arc:
        assert arc.applied_migrations()
    with open_archive(tmp_path / "new.duckdb", read_only=True) as arc:
        assert arc.scalar("SELECT count(*) FROM posts") == 0


def test_import_into_a_data_file_is_refused_with_exit_1(tmp_path: Path) -> None:
    data = _jsonl(tmp_path)
    src = tmp_path / "more.jsonl"  # refused before any file is read
    src.write_bytes(b"{}\n")
    before = data.read_bytes()
    res = runner.invoke(app, ["import", "-a", str(data), str(src), "-q"])
    assert res.exit_code == 1, res.output
    assert f"error: {data}: not a Salon archive" in res.stderr
    assert data.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        ["info"],
        ["sql", "SELECT 1"],
        ["tally", "x"],
        ["campaign", "list"],
        ["coverage", "x"],
        ["export", "raw"],
        ["users", "list"],
    ],
)
def test_every_archive_command_refuses_a_data_file(tmp_path: Path, args: list[str]) -> None:
    data = _jsonl(tmp_path)
    res = runner.invoke(app, [*args, "-a", str(data)])
    assert res.exit_code != 0
    assert "not a Salon archive" in res.stderr, res.stderr


@pytest.fixture
def arc_path(tmp_path: Path) -> Path:
    p = tmp_path / "a.duckdb"
    with open_archive(p):
        pass
    return p


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("COPY (SELECT 1 AS x) TO '{dir}/victim.duckdb'", "victim.duckdb"),
        ("COPY raw TO '{dir}/out.csv'", "out.csv"),
        ("EXPORT DATABASE '{dir}/exported'", "exported"),
        ("SELECT content FROM read_text('/etc/hostname')", None),
        ("SELECT * FROM read_csv('/etc/passwd')", None),
        ("SELECT * FROM '/etc/passwd'", None),
        ("ATTACH '{dir}/victim.duckdb' AS v", None),
        ("INSTALL httpfs", None),
        ("LOAD httpfs", None),
        ("SELECT 1; COPY (SELECT 1) TO '{dir}/two.csv'", "two.csv"),
        ("CREATE TABLE t AS SELECT 1", None),
        ("SET enable_external_access = true", None),
    ],
)
def test_sql_cannot_touch_files_or_the_network(arc_path: Path, query: str, target: str | None) -> None:
    victim = arc_path.parent / "victim.duckdb"
    victim.write_bytes(b"precious")
    res = runner.invoke(app, ["sql", query.format(dir=arc_path.parent), "-a", str(arc_path)])
    assert res.exit_code == 1, res.output
    assert res.stderr.startswith("error: "), res.stderr
    assert victim.read_bytes() == b"precious"
    if target is not None and target != "victim.duckdb":
        assert not (arc_path.parent / target).exists()
    with open_archive(arc_path, read_only=True) as arc:
        assert "t" not in {r[0] for r in arc.query("SHOW TABLES")}


def test_sql_reads_and_out_writes_the_result(arc_path: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["sql", "SELECT count(*) AS n FROM posts", "-a", str(arc_path), "--output", "json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"n": 0}]
    out = tmp_path / "r.csv"
    res = runner.invoke(
        app, ["sql", "WITH x AS (SELECT 42 AS answer) FROM x", "-a", str(arc_path), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").splitlines() == ["answer", "42"]
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["sql", "SELECT 'é' AS v", "-a", str(arc_path), "--out", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == [{"v": "é"}]
