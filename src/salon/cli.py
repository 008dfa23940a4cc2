"""The ``salon`` command: a thin Typer layer over the library (``salon.importer``,
``salon.info``, ``salon.exports``, ...). Every command calls a function a notebook can call."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from salon import __version__
from salon.commands.common import ArchiveOpt, ask_server, console, err, note, printable, served
from salon.commands.common import fail as _fail

app = typer.Typer(
    name="salon",
    help="Run, archive and measure hashtag campaigns and scheduled chats on X, Mastodon and Bluesky.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
export_app = typer.Typer(help="Write what the archive holds back out.", no_args_is_help=True)
app.add_typer(export_app, name="export")


def _open(path: str | None, *, read_only: bool) -> Any:
    from salon.store.archive import ArchiveError, open_archive

    try:
        return open_archive(path, read_only=read_only)
    except ArchiveError as exc:
        _fail(str(exc))


def _version(value: bool) -> None:
    if value:
        console.print(f"salon {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Salon: collect every post of a campaign, keep it losslessly, count it exactly."""


@app.command("import")
def import_cmd(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files, directories (recursive), .gz/.zst/.zip files, or - for stdin.", show_default=False
        ),
    ],
    archive: ArchiveOpt = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Force a format instead of detecting it (see `salon formats`)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    batch_size: Annotated[
        int,
        typer.Option(
            "--batch-size", min=1, help="Records per transaction (a crash loses at most one batch)."
        ),
    ] = 20_000,
    max_record_mb: Annotated[
        float | None,
        typer.Option(
            "--max-record-mb",
            min=0.001,
            help="Quarantine, unread, any record (line, array element, document, CSV row) larger"
            " than this; memory stays bounded. Default: $SALON_MAX_RECORD_MB or 32.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Import exports and archives into the archive, detecting each file's format.

    Reads X API v2 (twarc2) and v1.1 JSON, Gnip, X account archives (tweets.js or the zip),
    TAGS CSV, Mastodon statuses and streaming events, Bluesky post views, records and
    Jetstream events, and Zeeschuimer NDJSON. Re-importing the same data changes no count; bad
    records are reported with file and line and quarantined, and the rest is imported.
    The exit code is 1 when nothing could be read, when a file was cut short (a truncated or
    corrupt gzip, zstd or zip: what came before is kept, the import is recorded incomplete) or
    when the import failed (disk full: recorded as failed, committed batches kept)."""
    import contextlib

    import duckdb

    from salon import normalize
    from salon.importer import import_failure, import_paths, summary
    from salon.sources.files import InputError, iter_inputs

    if fmt is not None and fmt not in normalize.formats():
        _fail(f"unknown format {fmt!r}; known: {', '.join(normalize.formats())}", 2)
    if max_record_mb is not None:
        import os

        os.environ["SALON_MAX_RECORD_MB"] = str(max_record_mb)  # read by salon.sources.streams
    try:
        total = sum(i.size or 0 for i in iter_inputs(paths))
    except InputError as exc:
        _fail(str(exc))
    arc = _open(archive, read_only=False)
    show_progress = not quiet and not as_json and err.is_terminal
    try:
        if show_progress:
            report = _import_with_progress(import_paths, paths, arc, fmt, total, batch_size)
        else:
            report = import_paths(paths, arc, fmt=fmt, batch_size=batch_size)
    except KeyboardInterrupt:
        arc.close()
        err.print(
            "[yellow]interrupted:[/] what was imported so far is kept; run the same command again to finish."
        )
        raise typer.Exit(130) from None
    except (duckdb.Error, OSError, MemoryError) as exc:
        with contextlib.suppress(Exception):
            arc.close()
        _fail(import_failure(exc, arc.path))
    arc.close()
    for problem in report.problems[:50]:
        note(problem, "warning")
    if len(report.problems) > 50:
        err.print(f"[yellow]... and {len(report.problems) - 50} more (see `salon info`, quarantine)[/]")
    if as_json:
        print(json.dumps(summary(report), default=str, indent=2))
    elif not quiet:
        console.print(
            f"[bold]{report.posts_new:,}[/] new posts from {report.records_in:,} records in {len(report.files)} file(s): "
            f"{report.records_new:,} new, {report.records_duplicate:,} already in the archive, "
            f"{report.records_bad:,} quarantined."
        )
    if not report.ok:
        raise typer.Exit(1)


def _import_with_progress(
    import_paths: Any, paths: list[str], arc: Any, fmt: str | None, total: int, batch_size: int
) -> Any:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    posts = 0
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[posts]:,} posts ({task.fields[rate]:,.0f}/s)"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task("importing", total=total or None, posts=0, rate=0.0)

        def advance(nbytes: int, nposts: int) -> None:
            nonlocal posts
            posts += nposts
            elapsed = bar.tasks[0].elapsed or 1e-9
            bar.update(task, advance=nbytes, posts=posts, rate=posts / elapsed)

        def on_file(inp: Any) -> None:
            bar.update(task, description=printable(Path(inp.label.split("!")[-1]).name[:40]))

        return import_paths(paths, arc, fmt=fmt, batch_size=batch_size, progress=advance, on_file=on_file)


@app.command()
def info(
    archive: ArchiveOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    top: Annotated[int, typer.Option(help="How many hashtags and quarantined records to list.")] = 10,
) -> None:
    """What the archive holds: posts by platform and kind, dates, authors, top hashtags,
    imports history and quarantined records."""
    from salon.info import archive_info
    from salon.store.archive import default_archive_path

    server = served(archive)
    if server is not None:  # the server holds the archive: it answers
        data = ask_server(server, {"op": "info", "top": top})
        data["archive"] = archive or default_archive_path()
    else:
        arc = _open(archive, read_only=True)
        data = archive_info(arc, top=top)
        arc.close()
    if as_json:
        print(json.dumps(data, default=str, indent=2))
        return
    from salon.commands.info import print_info

    print_info(data, console)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A read-only SQL query over the archive's tables.")],
    archive: ArchiveOpt = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, csv or json.")] = "table",
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            help="Write the result to this file (csv or json, by --output or the file's extension) "
            "instead of printing it. The query itself can never write or read a file.",
        ),
    ] = None,
) -> None:
    """Run a read-only SQL query (the schema is documented in docs/schema.md).

    Only SELECT/WITH/DESCRIBE/SHOW/EXPLAIN statements run, in a transaction that is rolled
    back, with DuckDB's external access off: COPY ... TO, EXPORT DATABASE, ATTACH, INSTALL and
    read_text()/read_csv() of other files are refused. Use --out to save a result. While
    `salon serve` holds the archive, the server answers."""
    from salon.store.query import QueryError, read_query

    if output not in ("table", "csv", "json"):
        _fail("--output must be table, csv or json", 2)
    if out is not None and output == "table":
        output = "json" if out.lower().endswith(".json") else "csv"
    server = served(archive)
    if server is not None:
        res = ask_server(server, {"op": "sql", "query": query})
        names, rows = res["names"], [tuple(r) for r in res["rows"]]
    else:
        arc = _open_query(archive)
        try:
            names, rows = read_query(arc.con, query)
        except QueryError as exc:
            _fail(str(exc))
        finally:
            arc.close()
    if not names:
        return
    if out is not None:
        try:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                _write_rows(fh, output, names, rows)
        except OSError as exc:
            _fail(f"{out}: {exc.strerror or exc}")
        err.print(f"{len(rows):,} rows written to {printable(out)}", markup=False, highlight=False)
    elif output in ("csv", "json"):
        _write_rows(sys.stdout, output, names, rows)
    else:
        t = Table()

        def cell(v: Any) -> Text:  # as it is: a value like "[x]" or ":smile:" is neither markup nor emoji
            return console.render_str("" if v is None else str(v), markup=False, emoji=False)

        for n in names:
            t.add_column(cell(n))
        for r in rows:
            t.add_row(*[cell(v) for v in r])
        console.print(t)


def _open_query(archive: str | None) -> Any:
    """The archive opened read-only with DuckDB's external access off (``salon sql``)."""
    from salon.store.archive import ArchiveError, open_archive

    try:
        return open_archive(archive, read_only=True, external_access=False)
    except ArchiveError as exc:
        _fail(str(exc))


def _write_rows(fh: Any, output: str, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    if output == "json":
        fh.write(
            json.dumps(
                [dict(zip(names, r, strict=True)) for r in rows], default=str, ensure_ascii=False, indent=2
            )
            + "\n"
        )
    else:
        import csv

        w = csv.writer(fh)
        w.writerow(names)
        w.writerows(rows)


@app.command()
def formats() -> None:
    """List the formats `salon import --format` accepts."""
    from salon import normalize

    for name in normalize.formats():
        console.print(name)


@export_app.command("raw")
def export_raw_cmd(
    archive: ArchiveOpt = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Output file (default: stdout).")] = "-",
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Only records of this format.")] = None,
) -> None:
    """Write every raw record back, byte-identical to what was imported, one per line."""
    from salon.publish.exports import export_raw

    arc = _open(archive, read_only=True)
    if out == "-":
        n = export_raw(arc, sys.stdout.buffer, fmt=fmt)
        sys.stdout.buffer.flush()
    else:
        with open(out, "wb") as fh:
            n = export_raw(arc, fh, fmt=fmt)
    arc.close()
    err.print(f"{n:,} raw records written")


from salon.commands import parquet as _parquet  # noqa: E402  (salon export parquet)

_parquet.register(export_app)

from salon.commands import campaign as _campaign  # noqa: E402  (campaigns, tally, compare)

app.add_typer(_campaign.app, name="campaign")
app.command("tally")(_campaign.tally_cmd)
app.command("compare")(_campaign.compare_cmd)

from salon.commands import chat as _chat  # noqa: E402  (scheduled chats)

app.add_typer(_chat.app, name="chat")

from salon.commands.demo import app as _demo_app  # noqa: E402  (the main job on synthetic data)

app.add_typer(_demo_app, name="demo")

from salon.commands import web as _web  # noqa: E402  (serve, users, tokens; import into a served archive)

_web.register(app)

from salon.commands import collect as _collect  # noqa: E402  (collect, coverage, auth)

_collect.register(app)

from salon.commands import export as _export  # noqa: E402  (export csv, xlsx, network, ids)

_export.register(export_app)

from salon.commands.report import report_cmd  # noqa: E402  (campaign and institution reports)

app.command("report")(report_cmd)

from salon.commands.authors import app as _authors_app  # noqa: E402  (names of Bluesky DIDs)

app.add_typer(_authors_app, name="authors")

from salon.commands import trust as _trust  # noqa: E402  (spam, moderation, takedown)

_trust.register(app)

from salon.commands import story as _story  # noqa: E402  (stories: curate, publish; media fetch)

app.add_typer(_story.app, name="story")
app.add_typer(_story.media_app, name="media")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
