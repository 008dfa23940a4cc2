"""Schema migrations upgrade an older archive in place without losing a byte."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from salon import __version__
from salon.importer import import_paths
from salon.publish.exports import iter_raw
from salon.store import archive as archive_mod
from salon.store.archive import open_archive
from salon.store.rawstore import BLOCK_BYTES, iter_payloads, payload_of
from tests.conftest import twarc


def _archive_at(path: Path, last: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB file with the migrations up to ``last`` applied, as an older Salon left it."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL,"
        " salon_version VARCHAR NOT NULL)"
    )
    for name, sql in archive_mod._migrations():
        if name > last:
            break
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [name, datetime.now(UTC), "0.old"])
    return con


def test_inline_payloads_move_into_blocks(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = _archive_at(path, "0005_campaign_index_delta")
    # Payloads of every size, including one larger than a block and non-UTF-8 bytes.
    payloads = [b'{"n": %d, "pad": "%s"}' % (i, b"x" * (i * 997 % 5000)) for i in range(700)]
    payloads += [b"\xff\xfe not utf-8", b"{" + b"y" * (BLOCK_BYTES * 2) + b"}"]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i, p in enumerate(payloads):
        con.execute(
            "INSERT INTO raw VALUES (?, 'x-v2', ?, 1, ?, 'f.jsonl', NULL, ?, ?)",
            [f"id{i:04d}", p, i + 1, __version__, t0],
        )
    con.close()

    with open_archive(path) as arc:
        assert "0006_raw_blocks" in arc.applied_migrations()
        assert arc.scalar("SELECT count(*) FROM raw") == len(payloads)
        assert arc.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'raw_0005'") == 0
        assert arc.scalar("SELECT count(*) FROM raw_blocks") < len(payloads) / 10
        assert [p for _rid, p in iter_payloads(arc.con)] == payloads  # received order kept
        assert list(iter_raw(arc)) == payloads
        assert payload_of(arc.con, "id0701") == payloads[701]
        assert payload_of(arc.con, "nope") is None
    # The migrated archive takes new records as usual: new blocks after the migrated ones.
    rep = import_paths([str(twarc("withheld.jsonl"))], path)
    assert rep.records_new == 5
    with open_archive(path, read_only=True) as arc:
        stored = [p for _rid, p in iter_payloads(arc.con)]
    assert stored[: len(payloads)] == payloads
    assert stored[len(payloads) :] == [ln for ln in twarc("withheld.jsonl").read_bytes().split(b"\n") if ln]


def test_fresh_archive_has_every_migration(tmp_path: Path) -> None:
    with open_archive(tmp_path / "new.duckdb") as arc:
        assert arc.applied_migrations() == [n for n, _ in archive_mod._migrations()]
        cols = [r[0] for r in arc.query("SELECT column_name FROM duckdb_columns() WHERE table_name = 'raw'")]
        assert "payload" not in cols and {"block_id", "block_offset", "block_length"} <= set(cols)
