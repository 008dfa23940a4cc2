"""``salon demo`` (the main job on a synthetic MuseumWeek: generate or take the bundled sample,
import, show what the archive holds, store the campaign, tally it and check the tally against
the generator's ground truth) and ``salon demo generate``. Thin Typer layer over
``salon.demo``; no network, no account."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from salon.commands.common import console, err, note, open_archive_or_fail
from salon.commands.common import fail as _fail

# Only the defaults at start-up (salon.demo.model is light): the generator and the demo's
# import and tally load DuckDB and pyarrow, so the commands import them when they run.
from salon.demo.model import (
    DEFAULT_DAYS,
    DEFAULT_INSTITUTIONS,
    DEFAULT_POSTS,
    DEFAULT_SEED,
    DEFAULT_START,
    DEMO_DIR,
    DEMO_INSTITUTIONS,
    DEMO_POSTS,
    PLATFORMS,
)

app = typer.Typer(
    help="Salon's main job on a synthetic MuseumWeek (no network, no account), and the generator behind it.",
    invoke_without_command=True,
)


SeedOpt = Annotated[int, typer.Option(help="Random seed: the same seed gives the same files, byte for byte.")]
# `salon demo`'s own --archive: as everywhere, except that --live deletes and recreates the file.
DemoArchiveOpt = Annotated[
    str | None,
    typer.Option(
        "--archive",
        "-a",
        help="Archive file (DuckDB). Default: $SALON_ARCHIVE or ./salon.duckdb; with --live, "
        "DIR/live.duckdb, deleted and recreated on every run (an existing file the live demo did "
        "not make is refused).",
        show_default=False,
    ),
]
# What the live demo writes into the archives it makes (as the comment of this table), so that it
# only ever deletes one of its own archives, never a real one passed with -a by mistake.
LIVE_MARK = "salon demo --live: recreated on every run"
_LIVE_MARK_TABLE = "campaigns"


@app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    archive: DemoArchiveOpt = None,
    use_sample: Annotated[
        bool,
        typer.Option("--sample", help="Use the small synthetic sample bundled with Salon (instant)."),
    ] = False,
    folder: Annotated[
        Path,
        typer.Option("--dir", help="Folder of the synthetic campaign; generated there unless it holds one."),
    ] = Path(DEMO_DIR),
    posts: Annotated[int, typer.Option(min=1, help="Posts to generate.")] = DEMO_POSTS,
    institutions: Annotated[int, typer.Option(min=1, help="Institutions to generate.")] = DEMO_INSTITUTIONS,
    seed: SeedOpt = DEFAULT_SEED,
    regenerate: Annotated[
        bool, typer.Option("--regenerate", help="Generate again even if the folder holds a campaign.")
    ] = False,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Serve the campaign page and replay the campaign into a fresh archive (DIR/live.duckdb "
            "unless -a; deleted and recreated on every run), so the counters tick (what `make demo` "
            "runs). Stop with Ctrl-C.",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="With --live: the port to serve on (0: any free port).")] = 8000,
    rate: Annotated[float, typer.Option(help="With --live: records replayed per second.")] = 8.0,
) -> None:
    """Run the main job on a synthetic MuseumWeek: generate it into ./salon-demo (unless it is
    there; --sample takes the bundled one), import it into the archive through the normal import
    path, show what the archive holds, store the campaign, print its tally and check the tally
    against the ground truth the generator computed from its own plan.

    Everything in the demo data is invented (institutions, people, accounts, posts)."""
    if ctx.invoked_subcommand is not None:
        return
    from salon.demo.run import prepare, sample

    started = time.perf_counter()
    if live:
        _live(use_sample, folder, archive, seed, institutions, posts, regenerate, port, rate)
        return
    if use_sample:
        with sample() as data:
            console.print(
                f"[bold]Synthetic sample[/] bundled with Salon: {_describe(data.truth)}", highlight=False
            )
            ok = _main_job(data, archive)
    else:
        t0 = time.perf_counter()
        try:
            data = prepare(folder, seed=seed, institutions=institutions, posts=posts, regenerate=regenerate)
        except FileExistsError as exc:
            _fail(str(exc))
        verb = f"generated in {time.perf_counter() - t0:.1f} s" if data.generated else "already there"
        console.print(
            f"[bold]Synthetic campaign[/] in {escape(str(data.folder))} ({verb}): {_describe(data.truth)}",
            highlight=False,
            emoji=False,
        )
        ok = _main_job(data, archive)
    console.print(f"done in {time.perf_counter() - started:.1f} s", style="dim")
    if not ok:
        raise typer.Exit(1)


def _live(
    use_sample: bool,
    folder: Path,
    archive: str | None,
    seed: int,
    institutions: int,
    posts: int,
    regenerate: bool,
    port: int,
    rate: float,
) -> None:
    """The live demo: a fresh archive holding only the campaign definition, served, with the
    synthetic campaign replayed into it at ``rate`` records/s through the server's writer."""
    import tempfile
    from contextlib import ExitStack

    from salon.demo.chats import add_chat_campaign, prepare_chats
    from salon.demo.run import add_campaign, prepare, sample
    from salon.store.archive import open_archive
    from salon.web.app import serve

    # A fresh archive every time, so the counters start at zero and visibly tick; only ever one
    # the live demo made itself, checked before anything is generated.
    path = Path(archive) if archive else folder / "live.duckdb"
    refusal = _live_refusal(path)
    if refusal:
        _fail(refusal)
    with ExitStack() as stack:
        if use_sample:
            data = stack.enter_context(sample())
        else:
            try:
                data = prepare(
                    folder, seed=seed, institutions=institutions, posts=posts, regenerate=regenerate
                )
            except FileExistsError as exc:
                _fail(str(exc))
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in (path, Path(f"{path}.wal")):
            stale.unlink(missing_ok=True)
        # The #musesocial chat series too: its room fills up as its posts are replayed.
        chat_dir = (
            Path(stack.enter_context(tempfile.TemporaryDirectory())) / "chats"
            if data.bundled
            else data.folder / "chats"
        )
        chat_truth = prepare_chats(chat_dir)
        with open_archive(path) as arc:
            mark_live_archive(arc)
            add_campaign(data, arc)
            add_chat_campaign(chat_dir, chat_truth, arc)
        slug = data.truth["campaign"]["slug"]
        chat_slug = chat_truth["chats"][0]
        console.print(
            f"[bold]Live demo[/]: {_describe(data.truth)}; replaying {rate:g} records/s into "
            f"{escape(str(path))}",
            emoji=False,
        )

        def ready(url: str) -> None:
            console.print(
                f"Open [bold]{escape(f'{url}/c/{slug}')}[/] (the public campaign page) and "
                f"[bold]{escape(f'{url}/chats/{chat_slug}')}[/] (a chat room, filling up once the campaign is replayed) · Ctrl-C stops",
                highlight=False,
                emoji=False,
            )

        replay = [*data.import_paths, str(chat_dir / "data")]  # the chats after the campaign
        serve(str(path), port=port, replay=replay, replay_rate=rate, on_ready=ready)


def mark_live_archive(arc: Any) -> None:
    """Mark ``arc`` as made by the live demo (the one thing that lets a later run delete it)."""
    arc.con.execute(f"COMMENT ON TABLE {_LIVE_MARK_TABLE} IS '{LIVE_MARK}'")


def _live_refusal(path: Path) -> str | None:
    """Why the live demo must not delete and recreate ``path`` (None: it may). It may when
    nothing is there, or when the file is an archive carrying the live demo's mark."""
    import duckdb

    wal = Path(f"{path}.wal")
    if not path.exists():
        if wal.exists():
            return f"{wal} exists without {path}: remove it or choose another archive (-a)"
        return None
    mark = None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return (
            f"{path} exists and cannot be checked as a live demo archive ({problem}): the live demo "
            "recreates its archive, so it leaves this file alone; choose another archive (-a)"
        )
    try:
        row = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ?",
            [_LIVE_MARK_TABLE],
        ).fetchone()
        mark = row[0] if row else None
    finally:
        con.close()
    if mark != LIVE_MARK:
        return (
            f"{path} exists and was not made by the live demo, which deletes and recreates its "
            "archive: choose another archive (-a), or delete the file yourself"
        )
    return None


def _describe(truth: dict[str, Any]) -> str:
    g = truth["generator"]
    return (
        f"{truth['posts']['total'] + truth['posts']['deleted']:,} posts by "
        f"{truth['institutions']['registered']:,} institutions in "
        f"{truth['institutions']['countries_registered']} countries and the public, seed {g['seed']} "
        f"(all invented)"
    )


def _main_job(data: Any, archive: str | None) -> bool:
    """Import, info, campaign, tally, check; False when nothing could be imported."""
    from salon.campaigns.tally import tally
    from salon.commands.campaign import render_tally
    from salon.commands.info import print_info
    from salon.demo.run import add_campaign, check_tally, import_demo
    from salon.info import archive_info
    from salon.store.archive import default_archive_path, open_archive

    path = archive or default_archive_path()
    arc = open_archive_or_fail(path)
    try:
        t0 = time.perf_counter()
        report = import_demo(data, arc)
        took = time.perf_counter() - t0
        campaign = add_campaign(data, arc)
        t = tally(arc, campaign)
    finally:
        arc.close()
    console.print(
        f"imported {report.records_in:,} records from {len(report.files)} files in {took:.1f} s: "
        f"{report.posts_new:,} new posts, {report.records_duplicate:,} records already in {path}, "
        f"{report.records_bad:,} quarantined",
        highlight=False,
        markup=False,
        emoji=False,
    )
    for problem in report.problems[:10]:
        note(problem, "warning")

    console.rule("[bold]What the archive holds[/] (salon info)")
    arc = open_archive(path, read_only=True)
    try:
        info = archive_info(arc)
    finally:
        arc.close()
    print_info(info, console)

    slug = data.truth["campaign"]["slug"]
    console.rule(f"[bold]Campaign tally[/] (salon tally {escape(slug)})")
    console.print(render_tally(t))
    mismatches = check_tally(t, data.truth)
    if mismatches:
        err.print(
            "[yellow]The tally differs from the generator's ground truth[/] (expected when the archive "
            "holds other posts of this campaign):",
            highlight=False,
        )
        for m in mismatches:
            err.print(f"  {m}", highlight=False, soft_wrap=True, markup=False, emoji=False)
    else:
        console.print(
            f"[green]✓[/] The tally equals the ground truth the generator computed from its own plan "
            f"({escape(str(data.folder / 'ground_truth.json')) if not data.bundled else 'ground_truth.json of the sample'}).",
            highlight=False,
            emoji=False,
        )
    _chat_demo(data, path)
    where = "" if archive is None else f" -a {archive}"
    slug, where = escape(slug), escape(where)
    console.print(
        f"Next: [bold]salon tally {slug}{where}[/] · [bold]salon campaign participants {slug}{where}[/] · "
        f'[bold]salon sql "SELECT lang, count(*) FROM posts GROUP BY lang ORDER BY 2 DESC"{where}[/]',
        highlight=False,
        emoji=False,
    )
    return report.ok


def _chat_demo(data: Any, path: str) -> None:
    """The synthetic #musesocial chat series (salon.demo.chats): imported beside the campaign,
    its answers assigned and checked against the generator's ground truth."""
    import tempfile

    from salon.demo.chats import add_chat_demo

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "chats" if data.bundled else data.folder / "chats"
        arc = open_archive_or_fail(path)
        try:
            acc = add_chat_demo(folder, arc)
        finally:
            arc.close()
    console.rule("[bold]Chats[/] (salon chat list)")
    console.print(
        f"{len(acc['chats'])} synthetic #musesocial chats ({acc['records']:,} records): answers assigned to "
        f"{acc['correct']:,} of {acc['posts']:,} posts as the ground truth says ({acc['accuracy']:.1%}; "
        f"thread-linked {acc['thread_correct']:,}/{acc['thread_linked']:,}).",
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.print(
        f"Next: [bold]salon chat transcript {acc['chats'][0]}[/] · [bold]salon chat stats {acc['chats'][-1]}[/]",
        highlight=False,
        emoji=False,
    )


@app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write into.")] = Path(DEMO_DIR),
    seed: SeedOpt = DEFAULT_SEED,
    institutions: Annotated[
        int, typer.Option(min=1, help="Institutions in the registry.")
    ] = DEFAULT_INSTITUTIONS,
    posts: Annotated[
        int, typer.Option(min=1, help="Posts collected (all platforms and kinds).")
    ] = DEFAULT_POSTS,
    start: Annotated[str, typer.Option(help="First campaign day, YYYY-MM-DD.")] = DEFAULT_START.isoformat(),
    days: Annotated[int, typer.Option(min=1, max=7, help="Theme days (1 to 7).")] = DEFAULT_DAYS,
    platforms: Annotated[str, typer.Option(help="Comma-separated platforms to write.")] = ",".join(PLATFORMS),
    gz: Annotated[bool, typer.Option("--gzip", help="Write the data files gzip-compressed.")] = False,
    force: Annotated[bool, typer.Option(help="Replace a campaign generated there before.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ground truth as JSON.")] = False,
) -> None:
    """Write a synthetic MuseumWeek: every institution, person, account and post is invented.

    Files are in the platforms' own formats (X API v2 twarc2 pages and a compliance file,
    Mastodon statuses, a Bluesky Jetstream capture) under OUT/data, which `salon import` reads;
    OUT/participants.csv is the registry, OUT/museumweek.toml the campaign file (`salon campaign
    add`), and OUT/ground_truth.json the figures a correct import and tally find, computed from
    the generator's own plan. Deterministic: the same options give the same bytes."""
    from salon.demo.generator import generate

    try:
        first = date.fromisoformat(start)
    except ValueError:
        _fail(f"--start {start!r} is not a date (YYYY-MM-DD)", 2)
    chosen = [p.strip() for p in platforms.split(",") if p.strip()]
    if not chosen or any(p not in PLATFORMS for p in chosen):
        _fail(f"--platforms: choose among {', '.join(PLATFORMS)}", 2)
    if out.exists() and any(out.iterdir()):
        if not (out / "ground_truth.json").is_file():
            _fail(f"{out} is not empty and holds no synthetic campaign: choose another folder")
        if not force:
            _fail(f"{out} already holds a synthetic campaign (use --force to replace it)")
    t0 = time.perf_counter()
    truth = generate(
        out,
        seed=seed,
        institutions=institutions,
        posts=posts,
        start=first,
        days=days,
        platforms=chosen,
        gz=gz,
    )
    took = time.perf_counter() - t0
    if as_json:
        print(json.dumps(truth, ensure_ascii=False, indent=2))
        return
    for rel, f in truth["files"].items():
        size = (out / rel).stat().st_size
        shown = f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"
        console.print(
            f"  {out / rel}  {f['records']:,} records ({f['format']}), {shown}",
            highlight=False,
            markup=False,
            emoji=False,
        )
    cp = truth["campaign_posts"]
    console.print(
        f"wrote a synthetic campaign in {took:.1f} s: {_describe(truth)}; {cp['total']:,} campaign posts, "
        f"{truth['reposts']['total']:,} reposts, {truth['institutions']['posted']:,} institutions posted.\n"
        f"Import it with [bold]salon import {escape(str(out / 'data'))}[/], then [bold]salon campaign add "
        f"{escape(str(out / 'museumweek.toml'))}[/] and [bold]salon tally {escape(truth['campaign']['slug'])}[/].",
        highlight=False,
        emoji=False,
    )
