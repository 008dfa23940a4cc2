"""``salon chat ...``: thin Typer commands over ``salon.campaigns.chats``, ``chat_answers``,
``chat_stats``, ``salon.publish.chat_transcript`` and ``salon.collect.chat_post`` (docs/chats.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from salon.commands.campaign import EngineOpt, ParquetOpt
from salon.commands.common import ArchiveOpt, console, open_archive_or_fail, print_json
from salon.commands.common import fail as _fail

app = typer.Typer(
    help="Scheduled chats (a campaign's [[chats]]): list, show, transcript, stats, and run (post the questions).",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
ChatArg = Annotated[str, typer.Argument(help="The chat's slug (see `salon chat list`).")]


def _chat(arc: Any, slug: str) -> Any:
    from salon.campaigns.chat_store import chat_by_slug

    chat = chat_by_slug(arc, slug)
    if chat is None:
        arc.close()
        _fail(f"no chat {slug!r} in the archive (see `salon chat list`)")
    return chat


@app.command("list")
def list_cmd(archive: ArchiveOpt = None, as_json: JsonOpt = False) -> None:
    """Chats of every stored campaign, by start."""
    from salon.campaigns.chat_store import all_chats

    arc = open_archive_or_fail(archive, read_only=True)
    chats = all_chats(arc)
    arc.close()
    if as_json:
        print_json([c.to_dict() for c in chats])
        return
    if not chats:
        console.print("no chats (add a campaign with [[chats]]: see docs/chats.md)")
        return
    t = Table()
    for col in ("slug", "hashtag", "start (UTC)", "minutes", "questions", "hosts", "campaign"):
        t.add_column(col)
    for c in chats:
        cells = (
            c.slug,
            "#" + c.hashtag,
            f"{c.start_utc:%Y-%m-%d %H:%M}",
            c.minutes,
            len(c.questions),
            " ".join(c.hosts),
            c.campaign_slug,
        )
        t.add_row(*[Text(str(v)) for v in cells])
    console.print(t)


@app.command("show")
def show_cmd(chat: ChatArg, archive: ArchiveOpt = None, as_json: JsonOpt = False) -> None:
    """A chat's definition, its questions with their times and question posts, and how many
    answers each has."""
    from salon.campaigns.chat_answers import chat_assignment
    from salon.campaigns.chat_stats import answers_per_question
    from salon.campaigns.chat_store import intents

    arc = open_archive_or_fail(archive, read_only=True)
    c = _chat(arc, chat)
    a = chat_assignment(arc, c)
    per = {q["n"]: q for q in answers_per_question(a)}
    data = c.to_dict()
    data["posting"] = intents(arc, c.slug)
    arc.close()
    for q, aq in zip(data["questions"], a.questions, strict=True):
        q["uids"] = aq.uids
        q.update({k: v for k, v in per[q["n"]].items() if k != "n"})
    if as_json:
        print_json(data)
        return
    console.print(
        Text.assemble(
            (c.title or c.slug, "bold"),
            f" #{c.hashtag}  {c.start_utc:%Y-%m-%d %H:%M} UTC ({c.timezone}), {c.minutes} min",
        )
    )
    console.print(Text("hosts: " + ", ".join(c.hosts)))
    t = Table()
    for col in (
        "Q",
        "at (UTC)",
        "question",
        "posted as",
        "answers",
        "thread",
        "marker",
        "flagged",
        "untagged",
    ):
        t.add_column(col)
    for q in data["questions"]:
        cells = (
            q["n"],
            q["at"][11:16],
            q["text"],
            len(q["uids"]),
            q["answers"],
            q["thread"],
            q["marker"],
            q["flagged"],
            q["untagged"],
        )
        t.add_row(*[Text(str(v)) for v in cells])
    console.print(t)
    for i in data["posting"]:
        line = f"Q{i['n']} on {i['platform']} from {i['host']}: {i['state']} after {i['attempts']} attempt(s)"
        extra = i["url"] or i["uid"] or i["error"] or ""
        console.print(
            Text(line + (f" ({extra})" if extra else ""), style="red" if i["state"] == "failed" else "")
        )


@app.command("transcript")
def transcript_cmd(
    chat: ChatArg,
    by: Annotated[
        str, typer.Option("--by", help="question: answers under each question; time: chronological.")
    ] = "question",
    fmt: Annotated[
        str, typer.Option("--format", help="md, html, csv or json (the documented shape).")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    archive: ArchiveOpt = None,
) -> None:
    """A chat's transcript: each question, its answers and their threaded replies, then the
    conversation (or every post by time). Deleted, opted-out and hidden posts are placeholders;
    reposts are not listed."""
    from salon.campaigns.chat_answers import chat_assignment
    from salon.campaigns.chat_store import hidden_uids
    from salon.publish.chat_transcript import FORMATS, render

    if by not in ("question", "time"):
        _fail("--by must be question or time")
    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}")
    arc = open_archive_or_fail(archive, read_only=True)
    c = _chat(arc, chat)
    text = render(chat_assignment(arc, c), by=by, fmt=fmt, hidden=hidden_uids(arc, c.slug))
    arc.close()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@app.command("stats")
def stats_cmd(
    chat: ChatArg,
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "duckdb",
    parquet: ParquetOpt = None,
) -> None:
    """A chat's figures: posts, participants, answers per question, replies, first-time and
    returning participants across the series, top contributors, institutions, platforms."""
    from salon.campaigns.chat_stats import chat_report

    if parquet is not None or engine != "duckdb":
        from salon.commands.engines import chat_stats_over_export

        s = chat_stats_over_export(chat, engine, parquet)
    else:
        arc = open_archive_or_fail(archive, read_only=True)
        c = _chat(arc, chat)
        s = chat_report(arc, c)
        arc.close()
    if as_json:
        print_json(s)
        return
    ps = s["participants_series"]
    console.print(
        Text(
            f"{s['chat']}: {s['posts']} posts, {s['participants']} participants ({ps['first_time']} first-time, "
            f"{ps['returning']} returning), {s['answers']} answers, {s['conversation']} conversation, "
            f"{s['untagged']} untagged, {s['replies']} replies, {s['reposts']} reposts"
        )
    )
    t = Table(title="answers per question")
    for col in ("Q", "answers", "thread", "marker", "flagged", "untagged"):
        t.add_column(col)
    for q in s["answers_per_question"]:
        t.add_row(*[Text(str(q[k])) for k in ("n", "answers", "thread", "marker", "flagged", "untagged")])
    console.print(t)
    console.print(Text("platforms: " + ", ".join(f"{k} {v}" for k, v in s["platforms"].items())))
    t = Table(title="top contributors")
    for col in ("account", "platform", "posts", "answers"):
        t.add_column(col)
    for r in s["top_contributors"]:
        who = ("@" + r["handle"] if r["handle"] else r["author_uid"]) + (" (host)" if r["host"] else "")
        t.add_row(*[Text(str(v)) for v in (who, r["platform"], r["posts"], r["answers"])])
    console.print(t)
    if s["institutions"]:
        console.print(
            Text("institutions: " + ", ".join(f"{i['name']} ({i['posts']})" for i in s["institutions"]))
        )


def _posters(campaign: Any, chat: Any) -> dict[str, Any]:
    from salon.collect.chat_run import posters_for

    out, missing = posters_for(campaign, chat)
    if missing:
        _fail("no credentials to post the questions: run " + ", ".join(missing))
    return out


@app.command("run")
def run_cmd(
    chat: ChatArg,
    archive: ArchiveOpt = None,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per question and platform.")] = 6,
) -> None:
    """Post each question at its time from the hosts' accounts on every platform of the chat's
    post_questions (Mastodon, Bluesky, X with a user-context token), with the hashtag and the
    `Q1` prefix. Never twice: the intent is recorded before each request, the platform's
    idempotency key is used, and the host's timeline is checked before any retry, so a restart,
    a second runner or a kill -9 cannot post a question again. Credentials: `salon auth`."""
    from salon.campaigns.stored import get_campaign
    from salon.collect.chat_run import run_chat

    arc = open_archive_or_fail(archive)
    try:
        c = _chat(arc, chat)
        if not c.post_questions:
            _fail(f"chat {chat!r} has no post_questions: Salon posts nothing (see docs/chats.md)")
        campaign = get_campaign(arc, c.campaign_slug)
        posters = _posters(campaign, c)
        report = run_chat(arc, c, posters, max_attempts=max_attempts, log=lambda m: console.print(Text(m)))
    finally:
        arc.close()
    console.print(
        Text(
            f"{len(report.posted)} posted, {len(report.already)} already posted, {len(report.failed)} failed, "
            f"{len(report.skipped)} too late"
        )
    )
    if report.failed:
        raise typer.Exit(1)


@app.command("threads")
def threads_cmd(chat: ChatArg, archive: ArchiveOpt = None) -> None:
    """Fetch the reply threads under each question post (Mastodon status context, Bluesky
    getPostThread, X search on conversation_id) and store them, so that answers which forgot
    the hashtag are captured: they are listed as untagged, never as answers. Run it during and
    after the chat. Endpoints from the campaign's [sources.*]; X needs `salon auth x`."""
    from salon.campaigns.stored import get_campaign
    from salon.collect.chat_threads import fetch_threads
    from salon.collect.credentials import Credentials

    arc = open_archive_or_fail(archive)
    try:
        c = _chat(arc, chat)
        campaign = get_campaign(arc, c.campaign_slug)
        sources = (campaign.extra.get("sources") if campaign else None) or {}
        m, b, x = (sources.get(k) or {} for k in ("mastodon", "bluesky", "x"))
        bases = {}
        if m.get("post_instance"):
            for h in c.hosts:
                if h.startswith("mastodon:") and "@" in h:
                    bases[h.rsplit("@", 1)[1]] = m["post_instance"]
        rep = fetch_threads(
            arc,
            c,
            mastodon_base=bases,
            bluesky_appview=b.get("thread_appview") or "https://public.api.bsky.app",
            x_api=x.get("api") or "https://api.x.com",
            x_token=Credentials().get(x.get("token_env") or "SALON_X_BEARER_TOKEN"),
        )
    finally:
        arc.close()
    console.print(
        Text(
            f"{rep.questions} question threads fetched in {rep.requests} requests: {rep.posts_new} new posts; "
            f"{rep.untagged} untagged thread posts in {c.slug}"
        )
    )
    for e in rep.errors:
        console.print(Text("warning: " + e, style="yellow"))
