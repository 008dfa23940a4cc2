"""``salon story ...``: curate and publish stories (thin layer over ``salon.publish.stories``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from salon.commands.common import ArchiveOpt, console, err, fail, note, open_archive_or_fail, print_json

app = typer.Typer(
    help="Curate stories (posts, headings, Markdown text) and publish them as files that need no "
    "platform, script or server: a folder, one HTML file, a WACZ.",
    no_args_is_help=True,
)

SlugArg = Annotated[str, typer.Argument(help="The story's slug (lower-case letters, digits, '-').")]


@app.command("new")
def new_cmd(
    slug: SlugArg,
    title: Annotated[str, typer.Option("--title", "-t", help="The story's title.")] = "",
    campaign: Annotated[
        str | None, typer.Option(help="The campaign it tells (slug): its time zone and name.")
    ] = None,
    chat: Annotated[str | None, typer.Option(help="The chat of that campaign it tells (slug).")] = None,
    curator: Annotated[str | None, typer.Option(help="Who curated it (shown in the colophon).")] = None,
    institution: Annotated[str | None, typer.Option(help="The publishing institution (colophon).")] = None,
    description: Annotated[str | None, typer.Option(help="An introduction (Markdown).")] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the page (BCP 47, default en).")] = None,
    archive: ArchiveOpt = None,
) -> None:
    """Create an empty story."""
    from salon.publish.stories.model import StoryError, new_story

    with open_archive_or_fail(archive) as arc:
        try:
            s = new_story(
                arc,
                slug,
                title or slug,
                campaign=campaign,
                chat=chat,
                curator=curator,
                institution=institution,
                description=description,
                lang=lang,
            )
        except StoryError as exc:
            fail(str(exc))
    err.print(Text(f"story {s.slug} created: add posts with `salon story add {s.slug} URL...`"))


@app.command("add")
def add_cmd(
    slug: SlugArg,
    posts: Annotated[
        list[str] | None,
        typer.Argument(help="Posts to add: uids (x:123, mastodon:<uri>, bluesky:at://...) or pasted URLs."),
    ] = None,
    heading: Annotated[
        list[str] | None, typer.Option("--heading", help="Add a heading (repeatable).")
    ] = None,
    text: Annotated[
        list[str] | None,
        typer.Option("--text", help="Add a Markdown text block (repeatable; '-' reads stdin)."),
    ] = None,
    position: Annotated[
        int | None, typer.Option(help="Insert at this 0-based position instead of at the end.")
    ] = None,
    top: Annotated[
        int,
        typer.Option(
            help="Also add the N posts of the story's campaign with the most engagement (shown ones "
            "only, in time order): a starting point for curating."
        ),
    ] = 0,
    archive: ArchiveOpt = None,
) -> None:
    """Add posts, headings and text blocks (in that order: headings, texts, then posts) to a story."""
    from salon.publish.stories import model

    items = [model.heading(h) for h in heading or []]
    items += [model.text(sys.stdin.read() if t == "-" else t) for t in text or []]
    items += [model.post(p) for p in posts or []]
    if not items and not top:
        fail("nothing to add: give post uids/URLs, --heading, --text or --top")
    with open_archive_or_fail(archive) as arc:
        try:
            if top:
                story = model.get_story(arc, slug)
                if story is None or not story.campaign_slug:
                    fail("--top needs a story made for a campaign (salon story new --campaign)")
                items += [model.post(u) for u in model.top_posts(arc, story.campaign_slug, top)]
            s = model.add_items(arc, slug, items, position=position)
        except model.StoryError as exc:
            fail(str(exc))
    err.print(Text(f"story {slug}: {len(s.items)} items (revision {s.revision})"))


@app.command("list")
def list_cmd(
    archive: ArchiveOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the stories."""
    from salon.publish.stories.model import list_stories

    with open_archive_or_fail(archive) as arc:
        rows = list_stories(arc)
    if as_json:
        print_json(
            [
                {
                    k: r[k]
                    for k in ("slug", "title", "campaign_slug", "chat_slug", "items", "version", "revision")
                }
                for r in rows
            ]
        )
        return
    if not rows:
        note("no stories yet: salon story new SLUG --title ...")
        return
    t = Table("slug", "title", "campaign", "items", "published version")
    for r in rows:
        t.add_row(
            Text(r["slug"]),
            Text(r["title"]),
            Text(r["campaign_slug"] or ""),
            str(r["items"]),
            str(r["version"] or "-"),
        )
    console.print(t)


@app.command("show")
def show_cmd(
    slug: SlugArg,
    archive: ArchiveOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the story (the export's JSON).")] = False,
) -> None:
    """Show a story's items in order, with each post's author and text."""
    from salon.publish.stories.model import StoryError, export_story, get_story

    with open_archive_or_fail(archive) as arc:
        s = get_story(arc, slug)
        if s is None:
            fail(f"no story {slug!r} (see `salon story list`)")
        if as_json:
            try:
                print_json(export_story(arc, slug))
            except StoryError as exc:
                fail(str(exc))
            return
        uids = [i.post_uid for i in s.items if i.kind == "post"]
        posts = {
            r[0]: r[1:]
            for r in arc.query(
                "SELECT p.uid, coalesce(a.handle, p.author_uid), p.text FROM posts p"
                " LEFT JOIN authors a ON a.uid = p.author_uid WHERE p.uid IN (SELECT unnest(?))",
                [uids],
            )
        }
    console.print(Text.assemble((s.title, "bold"), f"  ({s.slug}, revision {s.revision})"))
    t = Table("#", "kind", "content")
    for n, it in enumerate(s.items):
        if it.kind == "post":
            who, body = posts.get(it.post_uid or "", ("?", ""))
            content = Text(f"@{who}: {(body or '')[:100]}\n{it.post_uid}")
        else:
            content = Text((it.body or "")[:120])
        t.add_row(str(n), it.kind, content)
    console.print(t)


@app.command("publish")
def publish_cmd(
    slug: SlugArg,
    out: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--out",
            help="Write here: a folder, or with --single-file a .html file (or a folder for it).",
        ),
    ] = None,
    single_file: Annotated[
        bool,
        typer.Option("--single-file", help="One HTML file with everything inlined (images as data: URIs)."),
    ] = False,
    wacz: Annotated[bool, typer.Option("--wacz", help="Also write a WACZ package beside it.")] = False,
    archive: ArchiveOpt = None,
) -> None:
    """Publish a story: a new version if it changed since the last one; stored for the web app
    (/s/SLUG/) and, with -o, written as files (zero external requests, readable without JavaScript)."""
    from salon.publish.stories.model import StoryError
    from salon.publish.stories.publish import publish

    with open_archive_or_fail(archive) as arc:
        try:
            p = publish(arc, slug, out, single_file=single_file, wacz=wacz, by="cli")
        except StoryError as exc:
            fail(str(exc))
    err.print(Text(f"story {slug}: version {p.version}" + (" (new)" if p.new_version else " (unchanged)")))
    if p.removed:
        note(f"{p.removed} post(s) deleted or opted out are shown as placeholders")
    for kind, path in p.written:
        size = _size(Path(path))
        console.print(Text(f"{kind}: {path} ({size:,} bytes)"))


def _size(p: Path) -> int:
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size if p.exists() else 0


@app.command("republish")
def republish_cmd(
    slug: Annotated[str | None, typer.Argument(help="The story (omit with --all).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every published story.")] = False,
    archive: ArchiveOpt = None,
) -> None:
    """Render published stories again with the archive as it is now: posts deleted at the
    source, taken down or opted out since are dropped from every file (HTML, JSON, Markdown,
    WACZ) and a dated changelog entry says so."""
    from salon.publish.stories.model import StoryError
    from salon.publish.stories.publish import republish

    if not slug and not all_:
        fail("name a story or pass --all")
    with open_archive_or_fail(archive) as arc:
        try:
            done = republish(arc, None if all_ else slug)
        except StoryError as exc:
            fail(str(exc))
    for p in done:
        msg = f"story {p.slug}: {len(p.written)} output(s) rewritten"
        msg += f", {p.removed} post(s) newly removed" if p.removed else ", nothing newly removed"
        console.print(Text(msg))


@app.command("export")
def export_cmd(
    slug: SlugArg,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="File to write (default: stdout).")] = None,
    archive: ArchiveOpt = None,
) -> None:
    """Export a story as JSON (fields, items with each post's uid and URL, changelog), for
    `salon story import` on another Salon instance."""
    from salon.publish.stories.model import StoryError, export_story

    with open_archive_or_fail(archive, read_only=True) as arc:
        try:
            data = export_story(arc, slug)
        except StoryError as exc:
            fail(str(exc))
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(body)
    else:
        out.write_text(body, encoding="utf-8")
        err.print(Text(f"story {slug} written to {out}"))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A JSON file from `salon story export` ('-': stdin).")],
    slug: Annotated[str | None, typer.Option("--slug", help="Import under this slug instead.")] = None,
    archive: ArchiveOpt = None,
) -> None:
    """Import a story exported by another Salon instance; posts this archive lacks are skipped
    (and listed)."""
    from salon.publish.stories.model import StoryError, import_story

    try:
        raw = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        fail(f"{file}: cannot read a story export ({exc})")
    with open_archive_or_fail(archive) as arc:
        try:
            s, missing = import_story(arc, data, slug=slug)
        except StoryError as exc:
            fail(str(exc))
    err.print(Text(f"story {s.slug} imported: {len(s.items)} items"))
    for m in missing:
        note(f"post not in this archive, skipped: {m}")


media_app = typer.Typer(
    help="Media files for published stories (the content-addressed media store).", no_args_is_help=True
)


@media_app.command("fetch")
def media_fetch_cmd(
    target: Annotated[
        str | None,
        typer.Argument(help="A campaign slug or a story slug (default: every post's media)."),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Downloads at a time.")] = 4,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try again media that failed for good (404, not an image).")
    ] = False,
    media: Annotated[
        Path | None,
        typer.Option("--media", help="The media store folder. Default: $SALON_MEDIA or ARCHIVE.media."),
    ] = None,
    avatars: Annotated[bool, typer.Option(help="Also the authors' avatars.")] = True,
    archive: ArchiveOpt = None,
) -> None:
    """Download the images, video posters and avatars posts reference into the content-addressed media
    store (SHA-256), a few at a time, with retries, backoff and 429s waited out; resumable (run
    it again after an interruption). What cannot be fetched stays a placeholder with its alt text."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from salon.collect.media import fetch_media, media_targets
    from salon.store.media import MediaStore, media_dir

    with open_archive_or_fail(archive) as arc:
        campaign = story = None
        if target:
            if arc.scalar("SELECT count(*) FROM stories WHERE slug = ?", [target]):
                story = target
            elif arc.scalar("SELECT count(*) FROM campaigns WHERE slug = ?", [target]):
                campaign = target
            else:
                fail(f"{target!r} is neither a story nor a campaign of this archive")
        targets = media_targets(arc, campaign=campaign, story=story, avatars=avatars)
        store = MediaStore(media or media_dir(arc.path))
        with Progress(
            TextColumn("media"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        ) as bar:
            task = bar.add_task("media", total=len(targets), failed=0)
            failed = 0

            def advance(url: str, outcome: str) -> None:
                nonlocal failed
                failed += outcome == "failed"
                bar.update(task, advance=1, failed=failed)

            rep = fetch_media(
                arc, store, targets, concurrency=concurrency, retry_failed=retry_failed, progress=advance
            )
    console.print(
        Text(
            f"{rep.total} media: {rep.fetched} fetched ({rep.bytes:,} bytes), {rep.already} already there, "
            f"{rep.failed} failed (shown as placeholders with their alt text); store: {store.root}"
        )
    )
    for url, why in rep.errors[:10]:
        note(f"{url}: {why}")
