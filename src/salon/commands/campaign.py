"""``salon campaign ...``, ``salon tally`` and ``salon compare``: thin Typer commands over
``salon.campaigns``."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from salon.commands.common import (
    ArchiveOpt,
    ask_server,
    console,
    fail_issues,
    open_archive_or_fail,
    print_json,
    served,
)
from salon.commands.common import fail as _fail

app = typer.Typer(
    help="Define campaigns (TOML + participants CSV) and store them in the archive.",
    no_args_is_help=True,
)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
EngineOpt = Annotated[
    str,
    typer.Option(
        help="duckdb, or spark (PySpark local[2] over --parquet DIR; the 'spark' extra and Java 17)."
    ),
]
ParquetOpt = Annotated[
    Path | None,
    typer.Option(help="Compute over this Parquet export (salon export parquet) instead of the archive."),
]


def _load(file: str) -> Any:
    from salon.campaigns.config import CampaignError, load_campaign

    try:
        return load_campaign(file)
    except CampaignError as exc:
        fail_issues(exc.issues)


def _resolve(arc: Any, campaign: str) -> Any:
    from salon.campaigns.config import CampaignError
    from salon.campaigns.tally import CampaignNotFound, resolve_campaign

    try:
        return resolve_campaign(arc, campaign)
    except CampaignNotFound as exc:
        _fail(str(exc))
    except CampaignError as exc:
        fail_issues(exc.issues)


# -- campaign new -------------------------------------------------------------------------------


@app.command("new")
def new_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Where to write <slug>.toml and participants.csv.")
    ] = Path("."),
    name: Annotated[str | None, typer.Option(help="Campaign name, e.g. 'MuseumWeek 2015'.")] = None,
    slug: Annotated[str | None, typer.Option(help="Short id (default: from the name).")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone of the window.")] = None,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last, YYYY-MM-DD (exclusive).")] = None,
    hashtag: Annotated[
        list[str] | None, typer.Option("--hashtag", "-t", help="Official hashtag (repeat).")
    ] = None,
    series: Annotated[str | None, typer.Option(help="Series of editions, e.g. 'MuseumWeek'.")] = None,
    day: Annotated[
        list[str] | None,
        typer.Option(help="Theme day DATE=THEME:TAG[,TAG] (repeat), e.g. 2015-03-23=Secrets:SecretsMW."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Scaffold a campaign file and an empty participants CSV (asks for what is missing when
    run on a terminal), then check it."""
    import re

    from salon.campaigns.config import Campaign, CampaignError, Day, parse_campaign
    from salon.campaigns.export import participants_csv, to_toml

    interactive = sys.stdin.isatty() and console.is_terminal

    def ask(label: str, value: str | None, default: str | None = None) -> str:
        if value:
            return value
        if not interactive:
            if default is not None:
                return default
            _fail(f"--{label} is required (or run on a terminal to be asked)", 2)
        return typer.prompt(label, default=default) if default is not None else typer.prompt(label)

    name = ask("name", name)
    slug = ask("slug", slug, re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-"))
    timezone = ask("timezone", timezone, "UTC")
    start = ask("start", start)
    end_default = None
    try:
        end_default = (date.fromisoformat(start) + timedelta(days=7)).isoformat()
    except ValueError:
        _fail(f"--start: {start!r} is not a date (YYYY-MM-DD)", 2)
    end = ask("end", end, end_default)
    tags = list(hashtag or [])
    if not tags:
        tags = [t.strip() for t in ask("hashtags (comma-separated)", None, "").split(",") if t.strip()]
    days: list[Day] = []
    for spec in day or []:
        m = re.match(r"^(\d{4}-\d{2}-\d{2})=([^:]*):(.+)$", spec)
        if not m:
            _fail(f"--day {spec!r}: expected DATE=THEME:TAG[,TAG]", 2)
        try:
            d = date.fromisoformat(m.group(1))
        except ValueError:
            _fail(f"--day {spec!r}: {m.group(1)!r} is not a date", 2)
        days.append(Day(d, m.group(2) or None, [t.strip() for t in m.group(3).split(",") if t.strip()]))
    if not day and interactive:
        try:
            d0, d1 = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            d0 = d1 = date.min
        d = d0
        while d < d1:
            theme = typer.prompt(f"theme of {d} (blank: none)", default="", show_default=False)
            if theme:
                dt = typer.prompt(f"hashtags of {theme} (comma-separated)")
                days.append(Day(d, theme, [t.strip() for t in dt.split(",") if t.strip()]))
            d += timedelta(days=1)
    try:
        draft = Campaign(
            name=name,
            slug=slug,
            timezone=timezone,
            start=date.fromisoformat(start),
            end=date.fromisoformat(end),
            hashtags=tags,
            days=days,
            series=series,
            participants_file="participants.csv",
        )
    except ValueError as exc:
        _fail(str(exc), 2)
    text = to_toml(draft).replace(
        "[participants]",
        "# name,country,city,kind,x,mastodon,bluesky (ISO 3166-1 alpha-2 country)\n[participants]",
    )
    if "[participants]" not in text:
        text += '\n[participants]\nfile = "participants.csv"\n'
    try:
        parse_campaign(text, path=f"{slug}.toml", participants_csv=participants_csv(draft))
    except CampaignError as exc:
        fail_issues(exc.issues)
    directory.mkdir(parents=True, exist_ok=True)
    toml_path, csv_path = directory / f"{slug}.toml", directory / "participants.csv"
    for p in (toml_path, csv_path):
        if p.exists() and not force and not (p == csv_path and p.stat().st_size > 0):
            _fail(f"{p} exists (use --force to overwrite)")
    toml_path.write_text(text, encoding="utf-8")
    if not csv_path.exists() or force:
        csv_path.write_text(participants_csv(draft), encoding="utf-8")
    console.print(
        Text.assemble(
            "wrote ",
            (str(toml_path), "bold"),
            f" and {csv_path}; add participants, then `salon campaign add {toml_path}`",
        )
    )


# -- check / add / list / export ----------------------------------------------------------------


def _cells(*values: object) -> list[Text]:
    """Table cells shown literally (names, handles, themes: not Rich markup); None as empty."""
    return [Text("" if v is None else str(v)) for v in values]


def _describe(c: Any) -> Text:
    """One line on a campaign, its name in bold; printed literally (a name such as ``[x] Week``
    is not Rich markup)."""
    tags = ", ".join("#" + t for t, _, _ in c.official_tags())
    return Text.assemble(
        (c.name, "bold"),
        f" ({c.slug}): {c.start} → {c.end} (exclusive) {c.timezone}, "
        f"UTC {c.start_utc:%Y-%m-%d %H:%M} → {c.end_utc:%Y-%m-%d %H:%M}; {len(c.official_tags())} official hashtags "
        f"({tags}); {len(c.days)} theme days; {len(c.participants)} participants"
        f" in {len({p.country for p in c.participants if p.country})} countries",
    )


@app.command("check")
def check_cmd(
    file: Annotated[str, typer.Argument(help="Campaign file (TOML).")], as_json: JsonOpt = False
) -> None:
    """Validate a campaign file and its participants CSV; every problem is listed with file,
    line and field. Exit code 1 when there is any."""
    c = _load(file)
    if as_json:
        print(json.dumps({"ok": True, "slug": c.slug, "official_hashtags": c.official_keys()}))
        return
    console.print(Text.assemble(("ok", "green"), " ", _describe(c)))


@app.command("add")
def add_cmd(
    file: Annotated[str, typer.Argument(help="Campaign file (TOML).")], archive: ArchiveOpt = None
) -> None:
    """Store a campaign in the archive (adding it again updates it; learned account ids are
    kept), and build its tally index."""
    from salon.campaigns.index import refresh
    from salon.campaigns.stored import save_campaign

    c = _load(file)
    arc = open_archive_or_fail(archive, read_only=False)
    try:
        _cid, created = save_campaign(arc, c, Path(file).read_text(encoding="utf-8"))
        refresh(arc, c)
    finally:
        arc.close()
    console.print(Text.assemble(f"{'added' if created else 'updated'} ", _describe(c)))


@app.command("list")
def list_cmd(archive: ArchiveOpt = None, as_json: JsonOpt = False) -> None:
    """Campaigns stored in the archive."""
    from salon.campaigns.stored import list_campaigns

    arc = open_archive_or_fail(archive, read_only=True)
    try:
        rows = list_campaigns(arc)
    except Exception as exc:
        if "campaigns" not in str(exc):
            raise
        rows = []
    arc.close()
    if as_json:
        print_json(rows, ensure_ascii=True)  # as it always printed: non-ASCII as \u escapes
        return
    if not rows:
        console.print("no campaigns (add one with `salon campaign add FILE`)")
        return
    t = Table()
    for col in ("slug", "name", "series", "edition", "window", "zone", "hashtags", "participants"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            *_cells(
                r["slug"],
                r["name"],
                r["series"],
                r["edition"],
                f"{r['start']} → {r['end']}",
                r["timezone"],
                r["official_hashtags"],
                r["participants"],
            )
        )
    console.print(t)


@app.command("export")
def export_cmd(
    slug: Annotated[str, typer.Argument(help="Stored campaign slug.")],
    archive: ArchiveOpt = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory to write <slug>.toml and the CSV into.")
    ] = Path("."),
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Write a stored campaign back as a campaign file and participants CSV."""
    from salon.campaigns.export import participants_csv, to_toml
    from salon.campaigns.stored import get_campaign

    arc = open_archive_or_fail(archive, read_only=True)
    c = get_campaign(arc, slug)
    arc.close()
    if c is None:
        _fail(f"no campaign {slug!r} (see `salon campaign list`)")
    csv_name = f"{c.slug}-participants.csv"
    out.mkdir(parents=True, exist_ok=True)
    toml_path, csv_path = out / f"{c.slug}.toml", out / csv_name
    for p in (toml_path, csv_path):
        if p.exists() and not force:
            _fail(f"{p} exists (use --force to overwrite)")
    toml_path.write_text(to_toml(c, csv_name if c.participants else None), encoding="utf-8")
    if c.participants:
        csv_path.write_text(participants_csv(c), encoding="utf-8")
    console.print(Text(f"wrote {toml_path}" + (f" and {csv_path}" if c.participants else "")))


@app.command("remove")
def remove_cmd(
    slug: Annotated[str, typer.Argument(help="Stored campaign slug.")], archive: ArchiveOpt = None
) -> None:
    """Remove a stored campaign (posts stay in the archive)."""
    from salon.campaigns.stored import remove_campaign

    arc = open_archive_or_fail(archive, read_only=False)
    ok = remove_campaign(arc, slug)
    arc.close()
    if not ok:
        _fail(f"no campaign {slug!r}")
    console.print(Text(f"removed {slug}"))


@app.command("participants")
def participants_cmd(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug or campaign file.")],
    archive: ArchiveOpt = None,
    silent: Annotated[
        bool, typer.Option("--silent", help="Only registered participants with no posts yet.")
    ] = False,
    candidates: Annotated[
        bool, typer.Option("--candidates", help="Frequent campaign authors not in the registry.")
    ] = False,
    min_posts: Annotated[int, typer.Option(help="With --candidates: at least this many posts.")] = 3,
    limit: Annotated[int, typer.Option(help="With --candidates: at most this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The registry against the archive: posts per participant, the silent ones, or candidates
    to add."""
    from salon.campaigns import registry

    arc = open_archive_or_fail(archive, read_only=False, fallback=True)
    c = _resolve(arc, campaign)
    if candidates:
        rows = registry.candidates(arc, c, min_posts=min_posts, limit=limit)
    elif silent:
        rows = registry.silent_participants(arc, c)
    else:
        rows = registry.participant_activity(arc, c)
    arc.close()
    if as_json:
        print_json(rows)
        return
    t = Table(title="Candidates: frequent authors not registered" if candidates else "Participants")
    if candidates:
        for col in ("author", "handle", "name", "posts", "reposts", "followers"):
            t.add_column(col, justify="right" if col in ("posts", "reposts", "followers") else "left")
        for r in rows:
            t.add_row(
                *_cells(r["author_uid"], r["handle"], r["display_name"]),
                f"{r['posts']:,}",
                f"{r['reposts']:,}",
                "" if r["followers"] is None else f"{r['followers']:,}",
            )
    else:
        for col in ("name", "country", "accounts", "posts", "reposts"):
            t.add_column(col, justify="right" if col in ("posts", "reposts") else "left")
        for r in rows:
            acc = " ".join(
                f"{a['platform']}:{a['handle']}" + ("✓" if a["account_uid"] else "") for a in r["accounts"]
            )
            t.add_row(*_cells(r["name"], r["country"], acc), f"{r['posts']:,}", f"{r['reposts']:,}")
    console.print(t)
    if not candidates:
        console.print("✓ = account id known (matched by id from now on)", style="dim")


# -- tally ---------------------------------------------------------------------------------------


def _parse_at(value: str, tz: Any) -> datetime:
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--at {value!r}: expected an ISO time, e.g. 2015-03-25T18:00 (campaign zone) or ...+00:00", 2)
    if d.tzinfo is None:
        d = d.replace(tzinfo=tz)
    return d


def _bar(n: int, top: int, width: int = 30) -> str:
    return "█" * (round(width * n / top) if top else 0)


_SPARK = " ▁▂▃▄▅▆▇█"


def _spark(values: list[int]) -> str:
    top = max(values or [0])
    return "".join(_SPARK[min(8, round(8 * v / top))] if top else " " for v in values)


def render_tally(t: dict[str, Any]) -> Group:
    """A Rich layout of a tally."""
    c = t["campaign"]
    head = Text()
    head.append(f"{c['name']}", style="bold")
    head.append(f"  {c['start']} → {c['end']} ({c['timezone']}, end exclusive)")
    if t["at"]:
        head.append(f"  as at {t['at']}", style="yellow")
    figures = Table.grid(padding=(0, 3))
    keys = ("posts", "reposts", "participants", "institutions", "countries")
    for _ in keys:
        figures.add_column(justify="right")
    # Headline figures with spam excluded, the held count beside them (DESIGN.md, Spam).
    shown = {**t, **((t.get("spam") or {}).get("shown") or {})}
    figures.add_row(*[Text(f"{shown[k]:,}", style="bold cyan") for k in keys])
    figures.add_row(*keys)
    e = t["engagement"]
    eng = Text(
        f"engagement (latest snapshots): {e['likes']:,} likes · {e['reposts']:,} reposts · "
        f"{e['replies']:,} replies · {e['quotes']:,} quotes",
        style="dim",
    )
    held = Text("")
    sp = t.get("spam") or {}
    if sp.get("posts") or sp.get("reposts"):
        why = ", ".join(f"{r} {n:,}" for r, n in sp["by_reason"].items())
        held = Text(
            f"{sp['posts']:,} posts held as spam ({why}); {sp['reposts']:,} reposts held."
            f" With them: {t['posts']:,} posts, {t['reposts']:,} reposts, {t['participants']:,} participants.",
            style="yellow",
        )
    parts: list[Any] = [Panel(Group(head, Text(""), figures, held, eng), expand=False)]

    days = Table(title="By day")
    days.add_column("date")
    days.add_column("theme")
    days.add_column("posts", justify="right")
    days.add_column("reposts", justify="right")
    days.add_column("")
    theme_of = {d: name for name, th in t["themes"].items() for d in th["dates"]}
    top = max(t["by_day"].values() or [0])
    for d, n in t["by_day"].items():
        days.add_row(
            *_cells(d, theme_of.get(d)), f"{n:,}", f"{t['reposts_by_day'].get(d, 0):,}", _bar(n, top)
        )
    parts.append(days)

    if t["themes"]:
        th = Table(title="Themes")
        for col in ("theme", "hashtags", "posts", "on the day"):
            th.add_column(col, justify="right" if col in ("posts", "on the day") else "left")
        for name, v in t["themes"].items():
            th.add_row(
                *_cells(name, " ".join("#" + h for h in v["hashtags"])),
                f"{v['posts']:,}",
                f"{v['on_the_day']:,}",
            )
        parts.append(th)

    ht = Table(title="Official hashtags")
    ht.add_column("hashtag")
    ht.add_column("posts", justify="right")
    for k, n in t["by_hashtag"].items():
        ht.add_row(Text("#" + t["hashtag_display"].get(k, k)), f"{n:,}")
    pl = Table(title="By platform")
    for col in ("platform", "posts", "reposts"):
        pl.add_column(col, justify="left" if col == "platform" else "right")
    for k, v in t["by_platform"].items():
        pl.add_row(Text(k), f"{v['posts']:,}", f"{v['reposts']:,}")
    side = Table.grid(padding=(0, 4))
    side.add_row(ht, pl)
    parts.append(side)

    if t["top_institutions"]:
        ti = Table(title="Top institutions")
        for col in ("institution", "country", "posts", "reposts"):
            ti.add_column(col, justify="right" if col in ("posts", "reposts") else "left")
        for r in t["top_institutions"]:
            ti.add_row(*_cells(r["name"], r["country"]), f"{r['posts']:,}", f"{r['reposts']:,}")
        co = Table(title="By country")
        for col in ("country", "institutions", "posts"):
            co.add_column(col, justify="left" if col == "country" else "right")
        for k, v in list(t["by_country"].items())[:10]:
            co.add_row(Text(k), f"{v['institutions']:,}", f"{v['posts']:,}")
        g = Table.grid(padding=(0, 4))
        g.add_row(ti, co)
        parts.append(g)
    hours = [h["posts"] for h in t["hourly"]]
    if hours:
        parts.append(Text(f"hourly posts ({len(hours)} h, max {max(hours):,}/h):", style="bold"))
        for i in range(0, len(hours), 96):
            parts.append(Text(_spark(hours[i : i + 96]), style="cyan"))
    return Group(*parts)


def tally_cmd(
    campaign: Annotated[str, typer.Argument(help="Stored campaign slug, or a campaign file (TOML).")],
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
    at: Annotated[
        str | None,
        typer.Option(
            help="Tally as it stood at this moment (ISO time; without offset: the campaign's zone). "
            "Counts posts created before it and not deleted by then."
        ),
    ] = None,
    basis: Annotated[
        str,
        typer.Option(help="With --at: 'created' (platform time) or 'collected' (also collected by then)."),
    ] = "created",
    top: Annotated[int, typer.Option(help="How many institutions to list.")] = 10,
    engine: EngineOpt = "duckdb",
    parquet: ParquetOpt = None,
) -> None:
    """The campaign's exact figures: posts, reposts, engagement, participants, institutions,
    countries, per hashtag, day, theme, platform and country, top institutions, hourly."""
    from salon.campaigns.tally import tally

    if basis not in ("created", "collected"):
        _fail("--basis is created or collected", 2)
    if parquet is not None or engine != "duckdb":
        from salon.commands.engines import tally_over_export

        t = tally_over_export(campaign, engine, parquet, at, basis, top, _parse_at)
    elif (server := served(archive)) is not None:  # the server holds the archive: it tallies
        from pathlib import Path

        where = str(Path(campaign).resolve()) if Path(campaign).is_file() else campaign
        t = ask_server(server, {"op": "tally", "campaign": where, "at": at, "basis": basis, "top": top})
    else:
        arc = open_archive_or_fail(archive, read_only=False, fallback=True)
        c = _resolve(arc, campaign)
        at_dt = _parse_at(at, c.tz) if at else None
        try:
            t = tally(arc, c, at_dt, basis=basis, top=top)
        finally:
            arc.close()
    if as_json:
        print_json(t)
        return
    console.print(render_tally(t))


def compare_cmd(
    a: Annotated[str, typer.Argument(help="Earlier edition: stored slug or campaign file.")],
    b: Annotated[str, typer.Argument(help="Later edition: stored slug or campaign file.")],
    archive: ArchiveOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "duckdb",
    parquet: ParquetOpt = None,
) -> None:
    """Two editions year over year: figures, new and returning institutions, matching themes."""
    from salon.campaigns.compare import compare

    if parquet is not None or engine != "duckdb":
        from salon.commands.engines import compare_over_export

        r = compare_over_export(a, b, engine, parquet)
    else:
        arc = open_archive_or_fail(archive, read_only=False, fallback=True)
        ca, cb = _resolve(arc, a), _resolve(arc, b)
        try:
            r = compare(arc, ca, cb)
        finally:
            arc.close()
    if as_json:
        print_json(r)
        return

    def pct(d: dict[str, Any]) -> str:
        if d["pct"] is None:
            return ""
        return f"[{'green' if d['change'] >= 0 else 'red'}]{d['pct']:+.1f}%[/]"

    t = Table(title=Text(f"{r['a']['name']} → {r['b']['name']}", style="table.title"))
    for col in ("", r["a"]["edition"] or r["a"]["slug"], r["b"]["edition"] or r["b"]["slug"], "change", ""):
        t.add_column(Text(str(col)), justify="right")
    for k, d in {**r["figures"], **{f"engagement {k}": v for k, v in r["engagement"].items()}}.items():
        t.add_row(k, f"{d['a']:,}", f"{d['b']:,}", f"{d['change']:+,}", pct(d))
    inst = r["institutions"]
    t.add_row("new institutions", "", f"{len(inst['new']):,}", "", "")
    t.add_row("returning institutions", "", f"{len(inst['returning']):,}", "", "")
    t.add_row("institutions not back", f"{len(inst['lost']):,}", "", "", "")
    console.print(t)
    if r["themes"]:
        th = Table(title="Themes in both editions")
        for col in ("theme", "posts A", "posts B", "change", "on the day A", "on the day B"):
            th.add_column(col, justify="left" if col == "theme" else "right")
        for x in r["themes"]:
            th.add_row(
                Text(x["theme"]),
                f"{x['posts']['a']:,}",
                f"{x['posts']['b']:,}",
                pct(x["posts"]),
                f"{x['on_the_day']['a']:,}",
                f"{x['on_the_day']['b']:,}",
            )
        console.print(th)
    if r["countries_new"]:
        console.print(Text("new countries: " + ", ".join(r["countries_new"])))
