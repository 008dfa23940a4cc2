"""``salon export csv|xlsx|network|ids``: thin Typer commands over ``salon.publish.exports``
(``salon export raw`` stays in ``salon.cli``; ``salon export parquet`` lives with Spark's)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer

from salon.commands.common import ArchiveOpt, err, note, open_archive_or_fail
from salon.commands.common import fail as _fail

__all__ = ["register"]

CampaignOpt = Annotated[
    str | None,
    typer.Option(
        "--campaign", "-c", help="Only the campaign's posts and reposts (a stored slug or a campaign file)."
    ),
]
ChatOpt = Annotated[
    str | None,
    typer.Option(
        "--chat", help="Only a chat's posts and reposts (a stored chat's slug, see `salon chat list`)."
    ),
]
SinceOpt = Annotated[
    datetime | None,
    typer.Option(
        "--since",
        help="Posts created at or after this UTC date/time.",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
    ),
]
UntilOpt = Annotated[
    datetime | None,
    typer.Option(
        "--until",
        help="Posts created before this UTC date/time (exclusive).",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
    ),
]
PlatformOpt = Annotated[
    list[str] | None,
    typer.Option("--platform", "-p", help="Only this platform (x, mastodon, bluesky); repeat for several."),
]
ExcludeSpamOpt = Annotated[
    bool,
    typer.Option(
        "--exclude-spam",
        help="Leave out posts held as spam by the trust rules (else exported, marked in the `spam` column).",
    ),
]
PseudoOpt = Annotated[
    bool,
    typer.Option(
        "--pseudonymise", help="Replace authors and @mentions by salted hashes (see docs/exports.md)."
    ),
]
SaltOpt = Annotated[
    str | None,
    typer.Option(
        "--salt",
        envvar="SALON_PSEUDONYM_SALT",
        help="Salt of the pseudonyms (default: random, so two exports cannot be joined).",
        show_default=False,
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")]


def _filters(
    campaign: str | None,
    chat: str | None,
    since: datetime | None,
    until: datetime | None,
    platform: list[str] | None,
    exclude_spam: bool = False,
) -> Any:
    from salon.publish.exports import Filters

    f = Filters(
        campaign=campaign,
        chat=chat,
        since=since,
        until=until,
        platforms=tuple(platform or ()),
        exclude_spam=exclude_spam,
    )
    try:
        f.check()
    except ValueError as exc:
        _fail(str(exc), 2)
    return f


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """(on_start(total), advance(n)) driving a Rich progress bar on stderr (none when quiet or
    not a terminal)."""
    if quiet or not err.is_terminal:
        yield (lambda n: None), (lambda n: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    ) as bar:
        task = bar.add_task(label, total=None)
        yield (lambda n: bar.update(task, total=n)), (lambda n: bar.advance(task, n))


def _export(
    archive: str | None, label: str, quiet: bool, fn: Callable[..., Any], *args: Any, **kw: Any
) -> Any:
    """Every export's frame: open the archive read-only, run ``fn(archive, *args, **kw)`` with
    ``on_start`` and ``progress`` driving a progress bar (a missing campaign or a bad value is
    a clean failure, not a traceback), and close the archive whatever happens."""
    from salon.campaigns.tally import CampaignNotFound

    arc = open_archive_or_fail(archive, read_only=True)
    try:
        with _progress(label, quiet) as (start, advance):
            try:
                return fn(arc, *args, on_start=start, progress=advance, **kw)
            except (CampaignNotFound, ValueError, FileNotFoundError) as exc:
                _fail(str(exc))
    finally:
        arc.close()


def _left_out(left_out: dict[str, int]) -> None:
    """Say how many posts the filters left out, and why."""
    for why, n in left_out.items():
        note(f"{n:,} posts left out ({why.replace('_', ' ')})")


def _summary(res: Any, quiet: bool) -> None:
    for n in res.notes:
        note(n)
    _left_out(res.left_out)
    if not quiet:
        where = ", ".join(str(f) for f in res.files) or "stdout"
        err.print(f"{res.rows:,} rows written ({where})", highlight=False)


def csv_cmd(
    archive: ArchiveOpt = None,
    out: Annotated[
        str, typer.Option("--out", "-o", help="Output file (default: stdout; --excel needs a file).")
    ] = "-",
    layout: Annotated[
        str,
        typer.Option(
            "--layout",
            "-l",
            help="posts (one row per post, every platform) or twarc (twarc-csv's columns, X only).",
        ),
    ] = "posts",
    excel: Annotated[
        bool,
        typer.Option(
            "--excel", help="For Excel: BOM, ids kept as text, formulas neutralised, split at 1,048,576 rows."
        ),
    ] = False,
    campaign: CampaignOpt = None,
    chat: ChatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    platform: PlatformOpt = None,
    exclude_spam: ExcludeSpamOpt = False,
    pseudonymise: PseudoOpt = False,
    salt: SaltOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write posts as CSV (UTF-8, ids as text): the default layout's columns are documented in
    docs/exports.md; `--layout twarc` gives twarc-csv's default columns in its order."""
    from salon.publish.exports import export_csv

    if layout not in ("posts", "twarc"):
        _fail("--layout must be posts or twarc", 2)
    if excel and out == "-":
        _fail("--excel needs --out FILE (it may be split into several files)", 2)
    f = _filters(campaign, chat, since, until, platform, exclude_spam)
    target: Any = sys.stdout if out == "-" else out
    res = _export(
        archive,
        "exporting",
        quiet or out == "-",
        export_csv,
        target,
        layout=layout,
        excel=excel,
        filters=f,
        pseudonymise=pseudonymise,
        salt=salt,
    )
    _summary(res, quiet)


def xlsx_cmd(
    out: Annotated[str, typer.Option("--out", "-o", help="Output workbook (.xlsx).")],
    archive: ArchiveOpt = None,
    layout: Annotated[str, typer.Option("--layout", "-l", help="posts or twarc (as for csv).")] = "posts",
    campaign: CampaignOpt = None,
    chat: ChatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    platform: PlatformOpt = None,
    exclude_spam: ExcludeSpamOpt = False,
    pseudonymise: PseudoOpt = False,
    salt: SaltOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write posts as an Excel workbook (XlsxWriter): ids and texts as text, never formulas;
    a new sheet every 1,048,576 rows."""
    from salon.publish.exports import export_xlsx

    if layout not in ("posts", "twarc"):
        _fail("--layout must be posts or twarc", 2)
    f = _filters(campaign, chat, since, until, platform, exclude_spam)
    res = _export(
        archive,
        "exporting",
        quiet,
        export_xlsx,
        out,
        layout=layout,
        filters=f,
        pseudonymise=pseudonymise,
        salt=salt,
    )
    _summary(res, quiet)


def network_cmd(
    out: Annotated[
        str,
        typer.Option(
            "--out", "-o", help="Output file (gephi-csv: STEM.nodes.csv and STEM.edges.csv beside it)."
        ),
    ],
    archive: ArchiveOpt = None,
    network: Annotated[
        str, typer.Option("--network", "-n", help="interactions (user to user), co-hashtag or user-hashtag.")
    ] = "interactions",
    fmt: Annotated[str, typer.Option("--format", "-f", help="gexf (1.3), graphml or gephi-csv.")] = "gexf",
    interaction: Annotated[
        list[str] | None,
        typer.Option(
            "--interaction",
            "-i",
            help="Only these interactions (reply, mention, repost, quote); repeat for several.",
        ),
    ] = None,
    dynamic: Annotated[bool, typer.Option("--dynamic", help="Add spells by day (Gephi's timeline).")] = False,
    campaign: CampaignOpt = None,
    chat: ChatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    platform: PlatformOpt = None,
    exclude_spam: ExcludeSpamOpt = False,
    pseudonymise: PseudoOpt = False,
    salt: SaltOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write a network of the posts: who replies to, mentions, reposts or quotes whom (directed,
    weighted; the kind in the attribute `interaction`), or hashtags together, or accounts to
    their hashtags. Accounts carry handle, platform, institution, country, posts, followers."""
    from salon.campaigns.networks import INTERACTIONS
    from salon.publish.exports.network import export_network

    f = _filters(campaign, chat, since, until, platform, exclude_spam)
    res = _export(
        archive,
        "writing network",
        quiet,
        export_network,
        out,
        network=network,
        fmt=fmt,
        interactions=tuple(interaction or INTERACTIONS),
        dynamic=dynamic,
        filters=f,
        pseudonymise=pseudonymise,
        salt=salt,
    )
    _left_out(res["left_out"])
    if not quiet:
        err.print(
            f"{res['nodes']:,} nodes, {res['edges']:,} edges from {res['selected']:,} posts ({', '.join(res['files'])})",
            highlight=False,
        )


def ids_cmd(
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder (created).")],
    archive: ArchiveOpt = None,
    campaign: CampaignOpt = None,
    chat: ChatOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    platform: PlatformOpt = None,
    exclude_spam: ExcludeSpamOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write post ids and URIs per platform, for re-hydration (x-ids.txt, mastodon-uris.txt,
    bluesky-uris.txt, and ids.csv with all of them)."""
    from salon.publish.exports.ids import export_ids

    f = _filters(campaign, chat, since, until, platform, exclude_spam)
    res = _export(archive, "exporting ids", quiet, export_ids, out, filters=f)
    _left_out(res["left_out"])
    if not quiet:
        counts = ", ".join(f"{p}: {n:,}" for p, n in res["by_platform"].items()) or "no posts"
        err.print(f"{counts} ({out})", highlight=False)


def register(export_app: typer.Typer) -> None:
    """Add the commands to ``salon export``."""
    export_app.command("csv")(csv_cmd)
    export_app.command("xlsx")(xlsx_cmd)
    export_app.command("network")(network_cmd)
    export_app.command("ids")(ids_cmd)
