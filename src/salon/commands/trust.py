"""``salon spam ...``, ``salon moderation ...`` and ``salon takedown``: thin Typer commands over
``salon.campaigns.trust`` (docs/trust.md). Every action is logged with who (``--by``, default
``cli:<login>``) and when."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from salon.commands.common import ArchiveOpt, console, open_archive_or_fail, print_json
from salon.commands.common import fail as _fail

spam_app = typer.Typer(help="Spam held by the campaign's rules: review and decide.", no_args_is_help=True)
moderation_app = typer.Typer(
    help="The wall and public pages: block/allow lists, approvals, the trash, opt-out overrides, the log.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who takes the action (default: cli:<login>).")]


def _by(by: str | None) -> str:
    if by:
        return by
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (a container): still say it came from the command line
        return "cli"


def _campaign(arc: Any, slug: str) -> Any:
    from salon.campaigns.tally import CampaignNotFound, resolve_campaign

    try:
        c = resolve_campaign(arc, slug)
    except CampaignNotFound as exc:
        _fail(str(exc))
    if c.campaign_id is None:
        _fail(f"{slug}: trust decisions need a stored campaign (`salon campaign add` it first)")
    return c


def _logged(action: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> Any:
    """``action(*args, **kwargs)``, one logged trust action; a bad value or an unknown
    post/author is a clean failure (``what`` prefixes its reason)."""
    try:
        return action(*args, **kwargs)
    except (ValueError, LookupError) as exc:
        _fail(f"{what}{exc}")


def _show(
    rows: list[dict[str, Any]],
    as_json: bool,
    title: str,
    cols: Iterable[str],
    cells: Callable[[dict[str, Any]], Iterable[str]],
    fold: bool = True,
) -> None:
    """Print ``rows`` as JSON, or as a table of ``cols`` with ``cells(row)`` a row."""
    if as_json:
        print_json(rows)
        return
    t = Table(title=title)
    for col in cols:
        t.add_column(col, overflow="fold" if fold else "ellipsis")
    for r in rows:
        t.add_row(*cells(r))
    console.print(t)


def _refresh(arc: Any, c: Any) -> None:
    from salon.campaigns.trust import pipeline

    pipeline.refresh(arc, c)


@spam_app.command("review")
def spam_review(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug.", metavar="SLUG")],
    status: Annotated[
        str, typer.Option("--status", help="held (not reviewed yet), reviewed, or all held.")
    ] = "held",
    mark: Annotated[
        list[str] | None,
        typer.Option("--mark", help="Decide: UID=spam or UID=not_spam (repeatable); overrides the rules."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept in the log).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    by: ByOpt = None,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The editors' spam review queue of a campaign: posts held and why; --mark decides."""
    from salon.campaigns.trust import spam

    if status not in ("held", "reviewed", "all"):
        _fail("--status is held, reviewed or all")
    with open_archive_or_fail(archive) as arc:
        c = _campaign(arc, campaign)
        for m in mark or []:
            uid, _, decision = m.rpartition("=")
            _logged(spam.decide, arc, c, uid, decision, by=_by(by), note=note, what=f"--mark {m}: ")
            console.print(f"{uid}: {decision} (logged)")
        _refresh(arc, c)
        rows = spam.review_queue(arc, c, status=status, limit=limit)
        _show(
            rows,
            as_json,
            f"Spam review: {c.slug} ({status})",
            ("uid", "author", "text", "why", "decision"),
            _spam_row,
        )
        if as_json:
            return
        console.print(f"{len(rows)} shown. Decide with --mark UID=spam or --mark UID=not_spam.")


def _spam_row(r: dict[str, Any]) -> tuple[str, ...]:
    why = "; ".join(f"{w['reason']}" + (f" ({w['detail']})" if w["detail"] else "") for w in r["why"])
    dec = f"{r['decision']} by {r['decided_by']}" if r["decision"] else ""
    return r["uid"], r["handle"] or "", (r["text"] or "")[:120], why, dec


@moderation_app.command("import")
def moderation_import(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug.", metavar="SLUG")],
    list_name: Annotated[
        str, typer.Argument(help="block_accounts, allow_accounts or block_words.", metavar="LIST")
    ],
    csv_file: Annotated[
        Path, typer.Argument(help="CSV: one entry a line (first column), optional note column.")
    ],
    by: ByOpt = None,
    archive: ArchiveOpt = None,
) -> None:
    """Import a block or allow list from a CSV file."""
    from salon.campaigns.trust import lists

    if list_name not in lists.LISTS:
        _fail(f"LIST is one of {', '.join(lists.LISTS)}")
    try:
        text = csv_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{csv_file}: {exc}")
    with open_archive_or_fail(archive) as arc:
        c = _campaign(arc, campaign)
        out = lists.import_csv(arc, c.campaign_id, list_name, text, by=_by(by))
        _refresh(arc, c)
    console.print(
        f"{list_name}: {out['added']} added, {out['already']} already there, {out['bad']} unreadable"
    )


@moderation_app.command("list")
def moderation_lists(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug.", metavar="SLUG")],
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the campaign's block and allow lists."""
    from salon.campaigns.trust import lists

    with open_archive_or_fail(archive, read_only=True) as arc:
        c = _campaign(arc, campaign)
        rows = lists.entries(arc, c.campaign_id)
    _show(
        rows,
        as_json,
        f"Lists: {c.slug}",
        ("list", "value", "note", "added by", "added at"),
        lambda r: (r["list"], r["value"], r["note"] or "", r["added_by"], str(r["added_at"])[:19]),
        fold=False,
    )


@moderation_app.command("log")
def moderation_log(
    campaign: Annotated[
        str | None, typer.Argument(help="Stored campaign slug (none: every campaign).", metavar="[SLUG]")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every moderation action, newest first: who, when, what, why."""
    from salon.campaigns.trust import log

    with open_archive_or_fail(archive, read_only=True) as arc:
        cid = _campaign(arc, campaign).campaign_id if campaign else None
        rows = log.history(arc, cid, limit=limit)
    _show(
        rows,
        as_json,
        "Moderation log",
        ("at", "by", "family", "action", "target", "reason"),
        lambda r: (str(r["at"])[:19], r["by_user"], r["family"], r["action"], r["target"], r["reason"] or ""),
    )


@moderation_app.command("wall")
def moderation_wall(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug.", metavar="SLUG")],
    action: Annotated[str, typer.Argument(help="approve, trash or restore.", metavar="ACTION")],
    uids: Annotated[list[str], typer.Argument(help="Post uid(s).", metavar="UID...")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the log).")] = None,
    by: ByOpt = None,
    archive: ArchiveOpt = None,
) -> None:
    """Approve (pre mode), trash or restore campaign posts on the wall and public pages."""
    from salon.campaigns.trust import moderation

    with open_archive_or_fail(archive) as arc:
        c = _campaign(arc, campaign)
        for uid in uids:
            _logged(moderation.act, arc, c, uid, action, by=_by(by), reason=reason)
            console.print(f"{uid}: {action} (logged)")


@moderation_app.command("queue")
def moderation_queue(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug.", metavar="SLUG")],
    which: Annotated[
        str, typer.Argument(help="pending (pre mode), trash or shown.", metavar="QUEUE")
    ] = "pending",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The wall's queues: posts waiting for approval, the trash, or what the wall shows."""
    from salon.campaigns.trust import moderation

    if which not in ("pending", "trash", "shown"):
        _fail("QUEUE is pending, trash or shown")
    with open_archive_or_fail(archive) as arc:
        c = _campaign(arc, campaign)
        _refresh(arc, c)
        rows = moderation.queue(arc, c, which, limit=limit)
    _show(
        rows,
        as_json,
        f"{which}: {c.slug}",
        ("uid", "author", "text", "last action"),
        lambda r: (
            r["uid"],
            r["handle"] or "",
            (r["text"] or "")[:120],
            f"{r['action']} by {r['by_user']}" if r["action"] else "",
        ),
    )


@moderation_app.command("consent")
def moderation_consent(
    author: Annotated[str, typer.Argument(help="Author uid.", metavar="AUTHOR")],
    action: Annotated[str, typer.Argument(help="show (override an opt-out) or hide.", metavar="ACTION")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required; kept in the log).")],
    by: ByOpt = None,
    archive: ArchiveOpt = None,
) -> None:
    """Override an author's opt-out (show) or keep an author off public pages (hide)."""
    from salon.campaigns.trust import consent

    with open_archive_or_fail(archive) as arc:
        _logged(consent.override, arc, author, action, reason=reason, by=_by(by))
    console.print(f"{author}: {action} (logged)")


@moderation_app.command("verify")
def moderation_verify(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug.", metavar="SLUG")],
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per lookup.")] = 3.0,
    max_age_hours: Annotated[
        float, typer.Option("--max-age", help="Re-check results older than this (hours).")
    ] = 24,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the registry's verification signals (Bluesky domain handles resolved both ways,
    Mastodon verified profile links) over the network; results are cached."""
    from datetime import timedelta

    from salon.campaigns.trust.verify import Resolver, verify_registry

    with open_archive_or_fail(archive) as arc:
        c = _campaign(arc, campaign)
        rows = verify_registry(arc, c, Resolver(timeout=timeout), max_age=timedelta(hours=max_age_hours))
    _show(
        rows,
        as_json,
        f"Registry verification: {c.slug}",
        ("institution", "account", "signal", "", "detail"),
        lambda r: (
            r["name"],
            f"{r['platform']}:{r['handle']}",
            r["signal"],
            "yes" if r["ok"] else "no",
            r["detail"],
        ),
    )


def takedown_cmd(
    target: Annotated[
        str,
        typer.Argument(
            help="A post (uid, URL or URI) or an account (uid, handle, profile URL).", metavar="URL|ID"
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (required; kept in the log).")],
    by: ByOpt = None,
    archive: ArchiveOpt = None,
) -> None:
    """Take down a post or an account on request: its posts leave every public surface and the
    figures at the next refresh; the tombstone stays; the request is logged."""
    from salon.campaigns.trust import takedown

    with open_archive_or_fail(archive) as arc:
        t = _logged(takedown.takedown, arc, target, reason=reason, by=_by(by))
    console.print(
        f"taken down: {t.kind} {t.uid} ({t.posts} post{'s' if t.posts != 1 else ''} removed; logged)"
    )


def register(app: typer.Typer) -> None:
    """Add the trust commands to the ``salon`` app."""
    app.add_typer(spam_app, name="spam")
    app.add_typer(moderation_app, name="moderation")
    app.command("takedown")(takedown_cmd)
