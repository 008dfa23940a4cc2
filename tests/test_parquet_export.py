"""The Parquet export (``salon export parquet``): every table read back by DuckDB, pyarrow and
pandas equals the archive's, after a full export and after ``--since-last`` appended new posts
and deletions (the bundled synthetic sample, imported in two steps)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from salon.cli import app
from salon.demo.run import add_campaign, sample
from salon.importer import import_paths
from salon.publish.exports.parquet import (
    DELETIONS,
    TABLES,
    ExportError,
    export_parquet,
    load_schema,
    register_views,
)
from salon.store.archive import Archive, open_archive

SLUG = "museumweek-2025-demo"


def _key(row: tuple[Any, ...]) -> str:
    return repr(row)


def archive_rows(arc: Archive, table: str) -> list[tuple[Any, ...]]:
    return sorted(arc.con.execute(f"SELECT * FROM {table}").fetchall(), key=_key)


def duckdb_rows(directory: Path, table: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    register_views(con, directory)
    rows = con.execute(f"SELECT * FROM {table}").fetchall()
    con.close()
    return sorted(rows, key=_key)


def arrow_table(directory: Path, table: str) -> pa.Table:
    """A table as pyarrow reads it (typed hive partitions), in the archive's columns."""
    schema = load_schema(directory)
    t = schema["tables"][table]
    types = {"platform": pa.string(), "day": pa.date32(), "month": pa.string()}
    part = ds.partitioning(pa.schema([(c, types[c]) for c in t["partition_by"]]), flavor="hive")
    data = ds.dataset(directory / table, format="parquet", partitioning=part).to_table()
    return data.select([c["name"] for c in t["columns"]])


def _norm(v: Any) -> Any:
    # pandas gives NaN/NaT for nulls and Timestamps for datetimes: back to Python values
    import pandas as pd

    if v is None or (not isinstance(v, str | bytes | list) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, str | datetime | date):
        return v.item()
    return v


def check_equal(arc: Archive, directory: Path, tables: list[str] | None = None) -> None:
    for spec in TABLES:
        table = spec.name
        if tables is not None and table not in tables:
            continue
        want = archive_rows(arc, table)
        deletions = load_schema(directory)["tables"][DELETIONS]["rows_in_files"]
        if table == "posts" and deletions:  # applied by the reader (register_views)
            assert duckdb_rows(directory, table) == want, table
            continue
        assert duckdb_rows(directory, table) == want, table
        t = arrow_table(directory, table)
        got = sorted((tuple(r.values()) for r in t.to_pylist()), key=_key)
        assert got == want, table
        df = t.to_pandas()
        got_pd = sorted((tuple(_norm(v) for v in r) for r in df.itertuples(index=False)), key=_key)
        assert got_pd == want, table


@pytest.fixture
def arc_two_steps(tmp_path: Path) -> Any:
    """The sample's X search results and Mastodon first; Bluesky and X's compliance (deletions)
    second."""
    with sample() as data:
        files = sorted(str(p) for p in (data.folder / "data").rglob("*.gz"))
        first = [f for f in files if "compliance" not in f and "bluesky" not in f]
        second = [f for f in files if f not in first]
        path = tmp_path / "a.duckdb"
        import_paths(first, str(path))
        with open_archive(path) as arc:
            add_campaign(data, arc)
            yield arc, second, path


def test_full_export_reads_back_equal(arc_two_steps: Any, tmp_path: Path) -> None:
    arc, _second, _path = arc_two_steps
    out = tmp_path / "pq"
    done: list[str] = []
    summary = export_parquet(arc, out, progress=lambda t, _r, _d: done.append(t))
    assert done == [s.name for s in TABLES]
    assert summary["rows"]["posts"] == arc.scalar("SELECT count(*) FROM posts") > 0
    check_equal(arc, out)
    # The layout: zstd files in hive partitions, schema.json and README beside them.
    files = list((out / "posts").rglob("*.parquet"))
    assert files and all(f.parent.name.startswith("day=") for f in files)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(files[0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    schema = json.loads((out / "schema.json").read_text())
    assert schema["tables"]["posts"]["partition_by"] == ["platform", "day"]
    assert schema["tables"]["posts"]["added_partition_columns"] == ["day"]
    assert [c["name"] for c in schema["tables"]["posts"]["columns"]][:3] == ["uid", "platform", "native_id"]
    assert "spark.read.parquet" in (out / "README.md").read_text()
    # A folder that is no export is refused; --since-last needs a previous export.
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    with pytest.raises(ExportError):
        export_parquet(arc, tmp_path / "other")
    with pytest.raises(ExportError):
        export_parquet(arc, tmp_path / "fresh", since_last=True)
    # Coarser partitions for sparse archives: by month, or by platform alone.
    for grain in ("month", "none"):
        export_parquet(arc, tmp_path / grain, partition=grain)
        check_equal(arc, tmp_path / grain, ["posts", "post_hashtags", "metrics_snapshots", "authors"])
        want = ["platform", grain] if grain != "none" else ["platform"]
        assert load_schema(tmp_path / grain)["tables"]["post_urls"]["partition_by"] == want


def test_since_last_appends_new_posts_and_deletions(arc_two_steps: Any, tmp_path: Path) -> None:
    arc, second, path = arc_two_steps
    out = tmp_path / "pq"
    export_parquet(arc, out)
    before = {p: p.stat().st_mtime_ns for p in (out / "posts").rglob("*.parquet")}
    n_before = arc.scalar("SELECT count(*) FROM posts")
    arc.close()
    import_paths(second, str(path))
    with open_archive(path) as arc2:
        deleted_old = arc2.scalar(
            f"SELECT count(*) FROM posts WHERE deleted_at IS NOT NULL AND uid IN"
            f" (SELECT uid FROM read_parquet('{out}/posts/**/*.parquet'))"
        )
        s = export_parquet(arc2, out, since_last=True)
        assert s["export"] == 2
        assert s["new_posts"] == arc2.scalar("SELECT count(*) FROM posts") - n_before > 0
        assert s["rows"][DELETIONS] > 0  # the compliance file deletes posts exported before
        assert s["rows"][DELETIONS] <= deleted_old
        # Appended: the first export's files are all still there, untouched.
        assert all(p.stat().st_mtime_ns == m for p, m in before.items())
        assert any(p.name.startswith("e2_") for p in (out / "posts").rglob("*.parquet"))
        check_equal(arc2, out)
        # Nothing changed: a third export adds nothing.
        s3 = export_parquet(arc2, out, since_last=True)
        assert s3["new_posts"] == 0 and s3["rows"]["posts"] == 0 and s3["rows"][DELETIONS] == 0
        check_equal(arc2, out, ["posts", "metrics_snapshots", "tombstones"])


def test_campaign_export_and_cli(arc_two_steps: Any, tmp_path: Path) -> None:
    arc, _second, path = arc_two_steps
    from salon.campaigns.definitions import members_sql
    from salon.campaigns.tally import resolve_campaign

    c = resolve_campaign(arc, SLUG)
    members = {r[0] for r in arc.query(f"SELECT uid FROM ({members_sql(c)})")}
    arc.close()
    out = tmp_path / "camp"
    r = CliRunner().invoke(app, ["export", "parquet", "-a", str(path), "-o", str(out), "--campaign", SLUG])
    assert r.exit_code == 0, r.output
    got = {r[0] for r in duckdb_rows(out, "posts")}
    assert members <= got  # its members, and the posts its reposts repost
    assert json.loads((out / "_salon_export.json").read_text())["campaign"] == SLUG
    r = CliRunner().invoke(app, ["export", "parquet", "-a", str(path), "-o", str(out), "--since-last"])
    assert r.exit_code == 1 and "campaign" in r.output


def test_export_runs_under_its_memory_limit_and_restores_the_setting(
    arc_two_steps: Any, tmp_path: Path
) -> None:
    """DuckDB would cache up to 80% of the machine's memory during an export (20 GB of 24 for
    100M posts): the export sets its own limit (spilling to disk past it) and gives the archive
    its setting back afterwards, after a failure too."""
    import duckdb

    arc, _second, _path = arc_two_steps
    before = arc.scalar("SELECT current_setting('memory_limit')")
    probe = duckdb.connect()
    probe.execute("SET memory_limit = '64MB'")
    want = probe.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert want != before
    seen: list[str] = []

    def progress(_t: str, _r: int, _d: int) -> None:
        seen.append(arc.scalar("SELECT current_setting('memory_limit')"))
        assert arc.scalar("SELECT current_setting('preserve_insertion_order')") is False

    export_parquet(arc, tmp_path / "pq", progress=progress, memory_limit="64MB")
    assert seen and set(seen) == {want}
    check_equal(arc, tmp_path / "pq", ["posts", "post_hashtags", "metrics_snapshots"])
    assert arc.scalar("SELECT current_setting('memory_limit')") == before
    assert arc.scalar("SELECT current_setting('preserve_insertion_order')") is True

    def fail(_t: str, _r: int, _d: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        export_parquet(arc, tmp_path / "pq2", progress=fail)
    assert arc.scalar("SELECT current_setting('memory_limit')") == before
    with pytest.raises(ExportError, match="a size such as"):
        export_parquet(arc, tmp_path / "pq3", memory_limit="lots")


def _failing_after(table: str) -> Any:
    def progress(t: str, _r: int, _d: int) -> None:
        if t == table:
            raise RuntimeError(f"killed after {t}")

    return progress


def test_an_export_that_fails_midway_is_neither_appended_to_nor_counted_twice(
    arc_two_steps: Any, tmp_path: Path
) -> None:
    """A full export cut short leaves a folder the next full export takes over, and that
    --since-last refuses (its tables are gone or half written); an incremental export cut short
    leaves files the next one replaces, so no row is exported twice."""
    arc, second, path = arc_two_steps
    out = tmp_path / "pq"
    with pytest.raises(RuntimeError, match="killed"):
        export_parquet(arc, out, progress=_failing_after("post_hashtags"))
    with pytest.raises(ExportError, match="no previous export"):
        export_parquet(arc, out, since_last=True)
    export_parquet(arc, out)
    check_equal(arc, out)
    assert not (out / "_salon_export.partial").exists()
    # A full export over a finished one, cut short: the old state no longer invites --since-last.
    with pytest.raises(RuntimeError, match="killed"):
        export_parquet(arc, out, progress=_failing_after("posts"))
    with pytest.raises(ExportError, match="no previous export"):
        export_parquet(arc, out, since_last=True)
    export_parquet(arc, out)
    # An incremental export cut short after some tables were appended, then run again.
    arc.close()
    import_paths(second, str(path))
    with open_archive(path) as arc2:
        with pytest.raises(RuntimeError, match="killed"):
            export_parquet(arc2, out, since_last=True, progress=_failing_after("metrics_snapshots"))
        summary = export_parquet(arc2, out, since_last=True)
        assert summary["export"] == 2 and summary["new_posts"] > 0
        check_equal(arc2, out, ["posts", "post_hashtags", "metrics_snapshots", "authors"])
