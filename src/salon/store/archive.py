"""Opening an archive (one DuckDB file) and migrating its schema.

Migrations are the ``NNNN_name.sql`` files in ``store/migrations``, applied in order, each in its
own transaction, and recorded in ``schema_migrations`` so a later version of Salon upgrades an
older archive in place. A migration that must move data SQL cannot (compressing payloads) has a
Python step too, run after its SQL in the same transaction (``_PYTHON_STEPS``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from salon import __version__
from salon.store import rawstore
from salon.store.relations import registered

__all__ = [
    "DEFAULT_ARCHIVE",
    "Archive",
    "ArchiveError",
    "check_archive_path",
    "default_archive_path",
    "open_archive",
    "registered",
]

DEFAULT_ARCHIVE = "salon.duckdb"


class ArchiveError(Exception):
    """The archive cannot be opened (locked by another process, not a Salon archive, ...)."""


def default_archive_path() -> str:
    """``$SALON_ARCHIVE`` or ``./salon.duckdb``."""
    return os.environ.get("SALON_ARCHIVE") or DEFAULT_ARCHIVE


def _migrations() -> list[tuple[str, str]]:
    folder = resources.files("salon.store") / "migrations"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(n.removesuffix(".sql"), (folder / n).read_text(encoding="utf-8")) for n in names]


class Archive:
    """An open archive. ``con`` is the DuckDB connection; every write of imported or collected
    records goes through ``salon.store.writer.Writer`` so they stay in one place."""

    def __init__(self, path: str, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query and return all rows."""
        return self.con.execute(sql, params or []).fetchall()

    def dicts(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query and return all rows as dicts from column name to value (in the order of
        the select list). Columns need distinct names: a repeated name keeps the last value."""
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """Run a query and return the first column of the first row."""
        # All rows, not ``fetchone``: a result left unfinished makes DuckDB refuse the
        # connection's next ``register`` (ResourceInUseException).
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    @contextmanager
    def transaction(
        self, commit_lock: AbstractContextManager[Any] | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction committed on success, rolled back on any exception. ``commit_lock``,
        when given, is held while committing (the importer keeps its parse and the writer's
        commits apart with it)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        try:
            with commit_lock or contextlib.nullcontext():
                self.con.execute("COMMIT")
        except duckdb.Error:
            # A commit that fails (out of memory while writing the WAL) leaves nothing written;
            # the transaction may still be open on this connection.
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise

    @contextmanager
    def settings(self, **values: str) -> Iterator[None]:
        """DuckDB settings (``memory_limit="2GB"``) for the time of a ``with`` block, the
        previous values restored after it, even when the block fails."""
        previous = {k: self.scalar(f"SELECT current_setting('{k}')") for k in values}
        try:
            for k, v in values.items():
                self.con.execute(f"SET {k} = '{v}'")
            yield
        finally:
            for k, v in previous.items():
                # DuckDB shows a size rounded ('18.8 GiB'): setting that back would move it a
                # little. The default is restored exactly by RESET; another value, closely.
                with contextlib.suppress(duckdb.Error):
                    self.con.execute(f"RESET {k}")
                    if self.scalar(f"SELECT current_setting('{k}')") != v:
                        self.con.execute(f"SET {k} = '{v}'")

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.query("SELECT name FROM schema_migrations ORDER BY name")]


# Python steps of migrations, by migration name (run after its SQL, in the same transaction).
_PYTHON_STEPS: dict[str, Callable[[duckdb.DuckDBPyConnection], None]] = {
    "0006_raw_blocks": rawstore.migrate_payloads,
}


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL,"
        " salon_version VARCHAR NOT NULL)"
    )
    done = {r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()}
    for name, sql in _migrations():
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            step = _PYTHON_STEPS.get(name)
            if step is not None:
                step(con)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [name, datetime.now(UTC), __version__]
            )
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def _close_dead_runs(con: duckdb.DuckDBPyConnection) -> None:
    """Opening read-write takes the archive's only write lock, so an import still marked running
    belongs to a process that died (kill -9, power loss): say so rather than leave it running.
    (Not at each import's start: a server runs several imports and collections at once.)

    Its counts are only written when it finishes, so they are 0 here though batches were
    committed: they are counted from what the archive kept (raw records and quarantined ones
    carry their file and import), so the row says what the killed import left."""
    kept_raw = "(SELECT count(*) FROM raw r WHERE r.file_id = f.file_id)"
    kept_bad = "(SELECT count(*) FROM quarantine q WHERE q.file_id = f.file_id)"
    con.execute(
        f"UPDATE import_files f SET status = 'interrupted', records_new = {kept_raw}, records_bad = {kept_bad},"
        f" records_in = greatest(records_in, {kept_raw} + {kept_bad}) WHERE status = 'reading'"
    )
    files = "(SELECT file_id FROM import_files f WHERE f.import_id = i.import_id)"
    new = f"(SELECT count(*) FROM raw r WHERE r.file_id IN {files})"
    bad = "(SELECT count(*) FROM quarantine q WHERE q.import_id = i.import_id)"
    posts = f"(SELECT count(*) FROM posts p JOIN raw r ON p.raw_id = r.raw_id WHERE r.file_id IN {files})"
    con.execute(
        f"UPDATE imports i SET status = 'interrupted', records_new = {new}, records_bad = {bad},"
        f" posts_new = {posts}, records_in = greatest(records_in, {new} + {bad})"
        " WHERE status = 'running' AND kind = 'import'"
    )
    con.execute("UPDATE imports SET status = 'interrupted' WHERE status = 'running'")


# A DuckDB database file: an 8-byte checksum, then these magic bytes (DuckDB's MainHeader).
_DUCKDB_MAGIC = b"DUCK"


def check_archive_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists; raises ``ArchiveError`` when it exists but is not a DuckDB
    database file (a JSON-lines file given as ``--archive``, a folder, a FIFO, an empty file).

    Why here: DuckDB opens some existing files that are not databases (``data.jsonl``) as an
    empty in-memory database, so an import "succeeds" and keeps nothing. Every command opens
    its archive through ``open_archive``, which calls this first."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot open archive: {exc.strerror or exc}") from None
    import stat

    if stat.S_ISDIR(st.st_mode):
        raise ArchiveError(
            f"{path}: is a folder, not a Salon archive (give the archive's file, e.g. salon.duckdb)"
        )
    if not stat.S_ISREG(st.st_mode):
        # Never open a FIFO or a device: reading it could block forever.
        raise ArchiveError(f"{path}: not a regular file, so not a Salon archive")
    try:
        with open(p, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read archive: {exc.strerror or exc}") from None
    if head[8:12] != _DUCKDB_MAGIC:
        what = "an empty file" if not head else "not a DuckDB database file"
        raise ArchiveError(
            f"{path}: not a Salon archive ({what}); give a Salon archive or a path where one will be "
            "created (did you mean to import this file? `salon import FILE -a ARCHIVE`)"
        )
    return True


def _check_salon_schema(con: duckdb.DuckDBPyConnection, p: str, read_only: bool) -> None:
    """A DuckDB file made by another program is not an archive: refuse it rather than add
    Salon's tables to it (or fail later on a missing table)."""
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    if "schema_migrations" in tables or (not tables and not read_only):
        return
    con.close()
    raise ArchiveError(f"{p}: a DuckDB database but not a Salon archive (it has no schema_migrations table)")


def open_archive(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
    external_access: bool = True,
) -> Archive:
    """Open (and create/migrate unless ``read_only``) the archive at ``path``.

    Read-only opens never create a file; a missing file raises ``ArchiveError``, and so does an
    existing file that is not a Salon archive. ``external_access=False`` opens it so that SQL
    cannot touch any other file or the network (no ``COPY TO``, ``read_text``, ``ATTACH``,
    ``INSTALL``): ``salon sql`` and the server run with it."""
    p = str(path or default_archive_path())
    exists = check_archive_path(p)
    if read_only and not exists:
        raise ArchiveError(f"{p}: no archive here (run `salon import` first)")
    if not exists and not create:
        raise ArchiveError(f"{p}: no archive here")
    try:
        config: dict[str, str | bool | int | float | list[str]] = {}
        if not external_access:
            config["enable_external_access"] = False
        con = duckdb.connect(p, read_only=read_only, config=config)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise ArchiveError(
                f"{p}: the archive is in use by another Salon process ({msg.splitlines()[0]})"
            ) from None
        raise ArchiveError(f"{p}: cannot open archive: {msg.splitlines()[0]}") from None
    except duckdb.ConnectionException as exc:
        # This process already has the archive open with other settings.
        raise ArchiveError(f"{p}: cannot open archive: {str(exc).splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise ArchiveError(f"{p}: not a Salon archive ({str(exc).splitlines()[0]})") from None
    # Sessions see timestamps in UTC whatever the machine's zone; campaigns convert explicitly.
    con.execute("SET TimeZone = 'UTC'")
    if exists:
        _check_salon_schema(con, p, read_only)
    if not read_only:
        _migrate(con)
        _close_dead_runs(con)
    return Archive(p, con, read_only)
