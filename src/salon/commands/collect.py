"""``salon collect``, ``salon coverage`` and ``salon auth``: thin Typer commands over
``salon.collect``."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from salon.commands.common import ArchiveOpt, console, err, note, open_archive_or_fail, print_json
from salon.commands.common import fail as _fail

CampaignArg = Annotated[str, typer.Argument(help="A campaign file (.toml) or the slug of a stored campaign.")]


def _board_table(board: Any) -> Group:
    t = Table(title="Live collection", title_justify="left")
    for col in ("source", "status", "received", "stored", "new posts", "dup", "bad", "conn", "drops"):
        t.add_column(col, justify="left" if col in ("source", "status") else "right")
    for s in board.snapshot():
        t.add_row(
            s["source"],
            s["status"],
            f"{s['received']:,}",
            f"{s['stored']:,}",
            f"{s['posts_new']:,}",
            f"{s['duplicates']:,}",
            f"{s['bad']:,}",
            str(s["connections"]),
            str(s["disconnects"]),
        )
    msgs = [Text(f"• {m}", style="yellow") for m in board.messages[-8:]]
    return Group(t, *msgs)


def collect_cmd(
    campaign: CampaignArg,
    archive: ArchiveOpt = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Only these sources (mastodon, bluesky, x); repeatable."),
    ] = None,
    seconds: Annotated[
        float | None, typer.Option("--for", help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No live status table.")] = False,
) -> None:
    """Collect a campaign's posts live, from the sources tables of its campaign file.

    Mastodon tag timelines and streams, Bluesky Jetstream (with a searchPosts backfill), X
    recent search and filtered stream. Resumes where the last run stopped; Ctrl-C stops
    cleanly. Credentials come from the environment or `salon auth`."""
    from salon.campaigns.tally import CampaignNotFound
    from salon.collect.runner import SOURCE_NAMES, run
    from salon.collect.status import StatusBoard

    for s in source or ():
        if s not in SOURCE_NAMES:
            _fail(f"unknown source {s!r} (known: {', '.join(SOURCE_NAMES)})", 2)
    arc = open_archive_or_fail(archive)
    board = StatusBoard()
    stop = threading.Event()
    result: dict[str, Any] = {}

    def go() -> None:
        try:
            result["report"] = run(arc, campaign, sources=source, stop_event=stop, board=board)
        except BaseException as exc:
            result["error"] = exc

    worker = threading.Thread(target=go, name="salon-collect", daemon=True)
    worker.start()
    deadline = time.monotonic() + seconds if seconds else None
    shown = 0
    try:
        if quiet or not err.is_terminal:
            while worker.is_alive() and (deadline is None or time.monotonic() < deadline):
                for m in board.messages[shown:]:
                    note(m)
                shown = len(board.messages)
                worker.join(0.2)
        else:
            with Live(_board_table(board), console=err, refresh_per_second=4) as live:
                while worker.is_alive() and (deadline is None or time.monotonic() < deadline):
                    live.update(_board_table(board))
                    worker.join(0.25)
    except KeyboardInterrupt:
        err.print("[yellow]stopping:[/] finishing the batch in progress; run the same command to resume.")
    stop.set()
    worker.join()
    arc.close()
    if "error" in result:
        error = result["error"]
        if isinstance(error, (CampaignNotFound, ValueError, OSError)):
            _fail(str(error))
        raise error
    report = result["report"]
    for m in board.messages[shown:]:
        note(m)
    t = report.totals
    console.print(
        f"[bold]{t.posts_new:,}[/] new posts for {report.campaign} from {t.records_in:,} records "
        f"({t.records_new:,} new, {t.records_duplicate:,} already stored, {t.records_bad:,} quarantined)"
        f" — sources: {', '.join(report.sources) or 'none'}"
    )


def _fmt_time(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else "-"


def coverage_cmd(
    campaign: CampaignArg,
    archive: ArchiveOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """What live collection covered: posts and connection time per source and hour, gaps.

    Every gap (time without a connection) is listed with the backfill that covered it."""
    from salon.campaigns.tally import CampaignNotFound
    from salon.collect.coverage import coverage
    from salon.collect.status import human_seconds

    arc = open_archive_or_fail(archive, read_only=True)
    try:
        data = coverage(arc, campaign)
    except CampaignNotFound as exc:
        _fail(str(exc))
    finally:
        arc.close()
    if as_json:
        print_json(data, ensure_ascii=True)  # as it always printed: non-ASCII as \u escapes
        return
    t = Table(title=f"Coverage of {data['campaign']} (UTC hours)", title_justify="left")
    for col in ("hour", "source", "posts", "connected"):
        t.add_column(col, justify="right" if col in ("posts", "connected") else "left")
    for row in data["hours"]:
        pct = row["connected_seconds"] / 36
        style = "" if pct >= 99.5 or row["connected_seconds"] == 0 else "yellow"
        t.add_row(
            _fmt_time(row["hour"])[:13] + "h",
            row["source"],
            f"{row['posts']:,}",
            Text(f"{pct:.0f}%", style=style),
        )
    console.print(t)
    g = Table(title="Gaps and backfills", title_justify="left")
    for col in ("source", "from", "to", "length", "reason", "status", "covered by", "records"):
        g.add_column(col)
    for gap in data["gaps"]:
        style = "green" if gap["status"] == "backfilled" else "red"
        g.add_row(
            gap["source"],
            _fmt_time(gap["gap_start"]),
            _fmt_time(gap["gap_end"]),
            human_seconds(gap["seconds"]),
            gap["reason"] or "",
            Text(gap["status"], style=style),
            gap["backfill_source"] or "",
            f"{gap['records'] or 0:,}",
        )
    console.print(g if data["gaps"] else "[green]no gaps recorded[/]")


_NAMES = {
    "mastodon": [("token_env", "SALON_MASTODON_TOKEN", "Mastodon access token")],
    "bluesky": [
        ("handle_env", "SALON_BSKY_HANDLE", "Bluesky handle"),
        ("password_env", "SALON_BSKY_APP_PASSWORD", "Bluesky app password"),
    ],
    "x": [("token_env", "SALON_X_BEARER_TOKEN", "X API bearer token")],
    # Posting a chat's questions on X needs a user-context token (OAuth 2.0, tweet.write).
    "x-user": [("user_token_env", "SALON_X_USER_TOKEN", "X user-context token (tweet.write)")],
}


def auth_cmd(
    platform: Annotated[
        str, typer.Argument(help="mastodon, bluesky, x, or x-user (the token `salon chat run` posts with).")
    ],
    campaign: Annotated[
        str | None, typer.Option("--campaign", "-c", help="Campaign file whose *_env names to use.")
    ] = None,
    token: Annotated[str | None, typer.Option("--token", help="Mastodon or X token (else prompted).")] = None,
    handle: Annotated[str | None, typer.Option("--handle", help="Bluesky handle (else prompted).")] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="Bluesky app password (else prompted, hidden).")
    ] = None,
) -> None:
    """Save collection credentials (tokens, app passwords) for `salon collect`.

    Written to ~/.config/salon/credentials.toml (mode 0600; or $SALON_CREDENTIALS). Prompts
    with hidden input on a terminal. Environment variables of the same names take precedence."""
    from salon.collect.credentials import save_credentials

    if platform not in _NAMES:
        _fail(f"unknown platform {platform!r} (mastodon, bluesky, x or x-user)", 2)
    table: dict[str, Any] = {}
    if campaign:
        from salon.campaigns.config import CampaignError, load_campaign

        try:
            table = (load_campaign(campaign).extra.get("sources") or {}).get(platform.split("-")[0]) or {}
        except (CampaignError, OSError) as exc:
            _fail(str(exc))
    given = {"token_env": token, "handle_env": handle, "password_env": password, "user_token_env": token}
    values: dict[str, str] = {}
    for key, default, label in _NAMES[platform]:
        name = table.get(key) or default
        value = given[key]
        if value is None:
            if not err.is_terminal:
                _fail(
                    f"no {label} given: pass it as an option, or run `salon auth {platform}` in a terminal", 2
                )
            value = typer.prompt(label, hide_input=key != "handle_env")
        if not value:
            _fail(f"empty {label}", 2)
        values[name] = value
    path = save_credentials(values)
    console.print(f"saved {', '.join(values)} to {path} (mode 0600)")


def register(app: typer.Typer) -> None:
    """Add ``collect``, ``coverage`` and ``auth`` to the ``salon`` app."""
    app.command("collect")(collect_cmd)
    app.command("coverage")(coverage_cmd)
    app.command("auth")(auth_cmd)
