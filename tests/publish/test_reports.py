"""`salon report`: the campaign report's numbers equal the tally's, its PDF renders to PNG pages
that are not blank, institution reports carry each institution's own figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.campaigns.institutions import institution_figures
from salon.campaigns.tally import tally
from salon.cli import app
from salon.store.archive import open_archive
from tests.publish.conftest import DEMO_SLUG


def _fig(html: str, fid: str) -> int:
    m = re.search(rf'id="{fid}">(?:<b>)?([\d,]+)</b>', html)
    assert m, fid
    return int(m.group(1).replace(",", ""))


def test_report_numbers_equal_tally_and_pdf_renders(demo_archive: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["report", DEMO_SLUG, "-a", str(demo_archive), "-o", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r" / "report.html").read_text("utf-8")
    with open_archive(str(demo_archive), read_only=True) as arc:
        t = tally(arc, DEMO_SLUG)
    shown = (t.get("spam") or {}).get("shown") or {}
    for key in ("posts", "reposts", "participants", "institutions", "countries"):
        # the headline leaves spam out (DESIGN.md, Spam): the tally's own `shown` figures
        assert _fig(html, f"fig-{key}") == shown.get(key, t[key]), key
    assert f"{shown.get('posts', t['posts']):,} posts carried at least one" in html
    if shown:
        assert f"({t['posts']:,} posts and {t['reposts']:,} reposts in all)" in html
        assert f"hold {t['spam']['posts']:,} posts" in html
    assert f"{t['engagement']['likes']:,} likes" in html
    for name, th in t["themes"].items():
        assert f"<td>{name}</td>" in html and f'<td class="n">{th["posts"]:,}</td>' in html
    assert "impressions" not in html.replace("not impressions", "")  # reach is an estimate, never impressions
    assert "Potential reach (an estimate" in html
    assert "<script" not in html and "http://" not in html.split("<style>")[1].split("</style>")[0]
    pdf = tmp_path / "r" / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) absent: PDF not rendered")
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    from PIL import Image

    for p in pages[:3]:  # every page has ink: charts and tables drawn, not blank
        im = Image.open(p).convert("L")
        dark = sum(1 for v in im.getdata() if v < 200)
        assert dark > 0.01 * im.width * im.height, p.name


def test_institution_reports(demo_archive: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["report", DEMO_SLUG, "-a", str(demo_archive), "-o", str(tmp_path / "i"), "--all-institutions"]
    )
    assert res.exit_code == 0, res.output
    with open_archive(str(demo_archive), read_only=True) as arc:
        figs = institution_figures(arc, DEMO_SLUG)
        t = tally(arc, DEMO_SLUG)
    files = sorted((tmp_path / "i").glob("0*.html"))
    assert len(files) == len(figs) == t["campaign"]["registered_participants"]
    # the institutions' posts add up to the tally's institution posts
    assert sum(f["posts"] + f["spam"]["posts"] for f in figs) == sum(
        v["posts"] for v in t["by_country"].values()
    )
    top = max(figs, key=lambda f: f["posts"])
    assert (
        top["name"] == t["top_institutions"][0]["name"] and top["posts"] == t["top_institutions"][0]["posts"]
    )
    page = next(f for f in files if f.name.startswith(f"{top['participant_id'] + 1:04d}-")).read_text("utf-8")
    assert f'id="inst-posts">{top["posts"]:,}</b>' in page and top["rank_in_country"] == 1
    assert sum(top["by_day"].values()) == top["posts"]
    res = CliRunner().invoke(
        app, ["report", DEMO_SLUG, "-a", str(demo_archive), "-o", str(tmp_path / "j"), "-i", "No Such Museum"]
    )
    assert res.exit_code == 1 and "not in the registry" in res.output


def test_report_map_is_the_web_apps() -> None:
    from salon.publish.reports import charts
    from salon.web import worldmap

    assert (charts.MAP_WIDTH, charts.MAP_HEIGHT) == (worldmap.WIDTH, worldmap.HEIGHT)
    assert charts.country_paths() == worldmap.country_paths()
    svg = charts.world_map({"FR": 3, "JP": 1})
    assert "<title>FR: 3</title>" in svg and "<title>JP: 1</title>" in svg


def test_chat_report_and_chat_export(demo_archive: Path, tmp_path: Path) -> None:
    from salon.campaigns.chat_answers import chat_assignment
    from salon.campaigns.chat_stats import chat_report
    from salon.campaigns.chat_store import all_chats

    with open_archive(str(demo_archive), read_only=True) as arc:
        chat = all_chats(arc)[0]
        s = chat_report(arc, chat)
        a = chat_assignment(arc, chat)
        opted = {u for u, p in a.posts.items() if p.opted_out or p.deleted}
    r = CliRunner()
    res = r.invoke(app, ["report", chat.slug, "-a", str(demo_archive), "-o", str(tmp_path / "c"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "c" / "report.html").read_text("utf-8")
    for key in ("posts", "participants", "answers", "replies", "reposts"):
        assert _fig(html, f"chat-{key}") == s[key], key
    assert html.count('class="q"') == len(s["answers_per_question"])
    res = r.invoke(
        app, ["export", "csv", "-a", str(demo_archive), "-o", str(tmp_path / "c.csv"), "--chat", chat.slug]
    )
    assert res.exit_code == 0, res.output
    import csv

    with open(tmp_path / "c.csv", encoding="utf-8") as fh:
        uids = {row["uid"] for row in csv.DictReader(fh)}
    roles = set(a.question_uids()) | set(a.answers) | set(a.conversation) | set(a.untagged) | set(a.reposts)
    assert uids == roles - opted
    res = r.invoke(app, ["export", "csv", "-a", str(demo_archive), "--chat", "no-such-chat"])
    assert res.exit_code == 1 and "no chat" in res.output


def test_institution_reports_leave_spam_out(demo_archive: Path, tmp_path: Path) -> None:
    """An institution's figures headline its posts with spam excluded, as the campaign report
    does (DESIGN.md, Spam): equal to the tally's spam part (``shown``) over its members."""
    from salon.campaigns.tally import resolve_campaign
    from salon.campaigns.trust import spam

    arc_path = tmp_path / "a.duckdb"
    shutil.copy(demo_archive, arc_path)
    with open_archive(str(arc_path)) as arc:
        c = resolve_campaign(arc, DEMO_SLUG)
        before = {f["participant_id"]: f for f in institution_figures(arc, c)}
        top = max(before.values(), key=lambda f: f["posts"])
        pid = top["participant_id"]
        members = (
            "(SELECT uid, is_repost, author_uid FROM campaign_posts"
            f" WHERE campaign_id = {int(c.campaign_id or 0)} AND participant_id = {pid})"
        )
        uids = [
            r[0] for r in arc.query(f"SELECT uid FROM {members} m WHERE NOT is_repost ORDER BY uid LIMIT 3")
        ]
        held_before = spam.spam_part(arc, c, members)["posts"]
        for u in uids:  # an editor holds three of its posts
            spam.decide(arc, c, u, "spam", by="editor1")
        after = {f["participant_id"]: f for f in institution_figures(arc, c)}
        part = spam.spam_part(arc, c, members)
        t = tally(arc, c)
    inst = after[pid]
    assert part["posts"] == held_before + 3
    assert inst["posts"] == part["shown"]["posts"] == top["posts"] - 3
    assert inst["reposts"] == part["shown"]["reposts"]
    assert inst["spam"] == {"posts": part["posts"], "reposts": part["reposts"]}
    assert sum(inst["by_day"].values()) == inst["posts"]
    assert all(p["uid"] not in uids for p in inst["top_posts"])
    # all institutions together: shown + held = the tally's institution posts
    assert sum(f["posts"] + f["spam"]["posts"] for f in after.values()) == sum(
        v["posts"] for v in t["by_country"].values()
    )
    res = CliRunner().invoke(
        app, ["report", DEMO_SLUG, "-a", str(arc_path), "-o", str(tmp_path / "i"), "-i", inst["name"]]
    )
    assert res.exit_code == 0, res.output
    page = next((tmp_path / "i").glob("0*.html")).read_text("utf-8")
    assert f'id="inst-posts">{inst["posts"]:,}</b>' in page
    assert f'<span id="inst-spam">{inst["spam"]["posts"]:,}</span>' in page
