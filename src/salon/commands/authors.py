"""``salon authors refresh``: names for the Bluesky authors an archive knows only by DID
(a thin Typer command over ``salon.collect.profiles.refresh_archive``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from salon.commands.common import ArchiveOpt, console, note, open_archive_or_fail, print_json
from salon.commands.common import fail as _fail

app = typer.Typer(help="Authors: names and handles.", no_args_is_help=True)


@app.command("refresh")
def refresh_cmd(
    archive: ArchiveOpt = None,
    appview: Annotated[
        str, typer.Option("--appview", help="AppView answering app.bsky.actor.getProfiles without a login.")
    ] = "https://public.api.bsky.app",
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            help="Also look up again the names older than this many hours (default: only unnamed authors).",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many authors.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Look Bluesky DIDs up by app.bsky.actor.getProfiles (25 per call, rate limits waited out)
    and store the handles and display names.

    Each response is kept as a raw record; the authors table shows the latest name and
    author_snapshots keeps every earlier one."""
    from salon.collect.profiles import refresh_archive

    if older_than is not None and older_than < 0:
        _fail("--older-than must be zero or more hours", 2)
    arc = open_archive_or_fail(archive)
    try:
        report = refresh_archive(
            arc,
            appview=appview,
            older_than=timedelta(hours=older_than) if older_than is not None else None,
            limit=limit,
        )
    finally:
        arc.close()
    if as_json:
        print_json(report.__dict__)
    else:
        console.print(
            f"{report.asked:,} Bluesky author(s) looked up in {report.calls:,} call(s): {report.found:,} named",
            highlight=False,
        )
    for why in report.failed:
        note(f"getProfiles failed for {why}", "warning")
    if report.failed:
        raise typer.Exit(1)
