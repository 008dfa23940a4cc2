"""``salon export parquet``: a thin Typer command over ``salon.publish.exports.parquet``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from salon.commands.common import ArchiveOpt, err, open_archive_or_fail, print_json
from salon.commands.common import fail as _fail

__all__ = ["register"]


def export_parquet_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (created if missing).")],
    archive: ArchiveOpt = None,
    campaign: Annotated[
        str | None,
        typer.Option(help="Only this stored campaign's posts and reposts, their rows and its registry."),
    ] = None,
    since_last: Annotated[
        bool,
        typer.Option(
            "--since-last",
            help="Append only what changed since the last export into DIR (new posts and rows, "
            "deletions as tombstone rows in post_deletions/).",
        ),
    ] = False,
    partition: Annotated[
        str,
        typer.Option(
            help="Time partition after the platform: day (UTC), month (fewer, larger files for a "
            "sparse archive) or none. --since-last keeps the folder's."
        ),
    ] = "day",
    memory_limit: Annotated[
        str | None,
        typer.Option(
            help="DuckDB's memory during the export (e.g. 4GB); it spills to disk beyond it and "
            "writes rows in any order within a file. Default: DuckDB's own, up to 80% of the "
            "machine's memory (100M posts: 20 GB; with 4GB, 1.3x the time)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Every normalised table as zstd Parquet, hive-partitioned by platform and UTC day, with
    schema.json and a README (docs/parquet.md). Reads back in pandas, pyarrow, DuckDB, Spark."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from salon.campaigns.tally import CampaignNotFound
    from salon.publish.exports.parquet import TABLES, ExportError, export_parquet

    # Read-write when it can: the campaigns' spam verdicts are brought up to date first, as a
    # tally does; read-only (exported as they stand) when another process holds the archive.
    arc = open_archive_or_fail(archive, fallback=True)
    try:
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rows]:,} rows"),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("exporting", total=len(TABLES), rows=0)
            total = 0

            def progress(table: str, rows: int, done: int) -> None:
                nonlocal total
                total += rows
                bar.update(task, completed=done, rows=total, description=f"exported {table}")

            summary = export_parquet(
                arc,
                out,
                campaign=campaign,
                since_last=since_last,
                partition=partition,
                progress=progress,
                memory_limit=memory_limit,
            )
    except (ExportError, CampaignNotFound) as exc:
        _fail(str(exc))
    finally:
        arc.close()
    if as_json:
        print_json(summary)
        return
    rows = summary["rows"]
    err.print(
        f"export {summary['export']} to {out}: {summary['new_posts']:,} new posts, "
        f"{sum(rows.values()):,} rows in {sum(1 for v in rows.values() if v)} tables"
    )


def register(export_app: typer.Typer) -> None:
    """Add ``parquet`` to ``salon export``."""
    export_app.command("parquet")(export_parquet_cmd)
