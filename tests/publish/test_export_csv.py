"""`salon export csv` / `xlsx`: the twarc layout against twarc-csv itself (header and every value,
on real twarc2 files), ids read back exactly by pandas, the Excel safeguards, pseudonyms, filters."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salon.cli import app
from salon.importer import import_paths
from salon.publish.exports import Filters, export_csv, export_xlsx
from salon.publish.exports.csvfile import excel_cell, write_csv
from salon.publish.exports.table import COLUMNS
from salon.publish.exports.twarc import TWARC_COLUMNS
from salon.store.archive import open_archive
from tests.conftest import twarc
from tests.publish.conftest import DEMO_SLUG

# Real twarc2 files: pages with includes, retweets, quotes, replies, media, polls, places,
# withheld, edits; a stream file (matching_rules).
TWARC_FILES = [
    "2sets.jsonl",
    "geo_tweets.jsonl",
    "media_policy_violation_off.jsonl",
    "withheld.jsonl",
    "edited.jsonl",
]


def test_twarc_header_is_twarc_csvs() -> None:
    dfc = pytest.importorskip("dataframe_converter", reason="twarc-csv is not installed")
    assert list(TWARC_COLUMNS) == list(dfc.DEFAULT_TWEET_COLUMNS)


def _twarc_csv(path: Path, out: Path) -> list[dict[str, str]]:
    """twarc-csv's own output for ``path`` (``twarc2 csv`` with its defaults), written to ``out``."""
    csv_writer = pytest.importorskip("csv_writer", reason="twarc-csv is not installed")
    pd = pytest.importorskip("pandas")
    if int(pd.__version__.split(".")[0]) >= 3:
        pytest.skip("twarc-csv 0.7 needs pandas < 3 (DataFrame.applymap)")
    with open(path, encoding="utf-8") as fh, open(out, "w", encoding="utf-8") as oh:
        csv_writer.CSVConverter(fh, oh, hide_progress=True).process()
    with open(out, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _same(ours: str, theirs: str) -> bool:
    if ours == theirs:
        return True
    # twarc-csv writes 12.0 when another tweet of its batch lacks the field (pandas floats).
    try:
        return float(ours) == float(theirs) and theirs.endswith(".0")
    except ValueError:
        return False


@pytest.mark.parametrize("name", TWARC_FILES)
def test_twarc_rows_equal_twarc_csvs(needs_shared: Path, tmp_path: Path, name: str) -> None:
    src = twarc(name)
    theirs = _twarc_csv(src, tmp_path / "twarc-csv.csv")
    arc_path = tmp_path / "a.duckdb"
    import_paths([str(src)], str(arc_path))
    out = tmp_path / "t.csv"
    with open_archive(str(arc_path), read_only=True) as arc:
        res = export_csv(arc, out, layout="twarc")
    with open(out, encoding="utf-8", newline="") as fh:
        ours = list(csv.DictReader(fh))
    assert res.rows == len(ours)
    assert [r["id"] for r in ours] == [r["id"] for r in theirs]
    diffs = [
        (r["id"], c, o[c], r[c])
        for o, r in zip(ours, theirs, strict=True)
        for c in TWARC_COLUMNS
        if not _same(o[c], r[c])
    ]
    assert diffs == []


def test_default_layout_ids_exact_in_pandas(demo_archive: Path, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    out = tmp_path / "p.csv"
    with open_archive(str(demo_archive), read_only=True) as arc:
        res = export_csv(arc, out)
        want = {
            r[0]: r
            for r in arc.query(
                "SELECT uid, native_id, uri, author_uid, reply_to_uid, root_uid, quote_of_uid, repost_of_uid"
                " FROM posts WHERE deleted_at IS NULL AND uid NOT IN (SELECT p.uid FROM posts p JOIN authors a"
                " ON a.uid = p.author_uid WHERE a.indexable = FALSE)"
            )
        }
        platforms = {r[0] for r in arc.query("SELECT DISTINCT platform FROM posts")}
    df = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(df.columns) == list(COLUMNS)
    assert res.rows == len(df) == len(want) > 300
    assert set(df["platform"]) == platforms == {"x", "mastodon", "bluesky"}
    cols = [
        "uid",
        "native_id",
        "uri",
        "author_uid",
        "reply_to_uid",
        "root_uid",
        "quote_of_uid",
        "repost_of_uid",
    ]
    for row in df[cols].itertuples(index=False):
        assert tuple(v or None for v in row) == want[row[0]]
    assert res.left_out.get("opted_out", 0) > 0  # the sample has opted-out authors: never exported


def test_excel_safeguards(tmp_path: Path) -> None:
    assert excel_cell("=1+1") == "'=1+1"
    assert excel_cell("+33 1 23") == "'+33 1 23"
    assert excel_cell("-2") == "'-2"
    assert excel_cell("@SUM(A1)") == "'@SUM(A1)"
    assert excel_cell("\t=cmd") == "'\t=cmd"
    assert excel_cell("plain") == "plain"
    assert excel_cell("1394735776701816833", is_id=True) == '="1394735776701816833"'
    rows = [["1394735776701816833", '=HYPERLINK("http://x")', i] for i in range(7)]
    n, files = write_csv(
        rows, ["id", "text", "n"], tmp_path / "e.csv", id_columns=["id"], excel=True, max_rows=3
    )
    assert n == 7 and [f.name for f in files] == ["e.csv", "e-2.csv", "e-3.csv", "e-4.csv"]
    first = files[0].read_bytes()
    assert first.startswith(b"\xef\xbb\xbfid,text,n\r\n")  # the BOM, then the header in every part
    assert (
        files[3].read_bytes()
        == b'\xef\xbb\xbfid,text,n\r\n"=""1394735776701816833""","\'=HYPERLINK(""http://x"")",6\r\n'
    )
    got = [r for f in files for r in list(csv.reader(io.StringIO(f.read_text("utf-8-sig"))))[1:]]
    assert [r[2] for r in got] == [str(i) for i in range(7)]


def test_xlsx_ids_as_text(demo_archive: Path, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "p.xlsx"
    with open_archive(str(demo_archive), read_only=True) as arc:
        res = export_xlsx(arc, out, filters=Filters(platforms=("x",)))
        ids = [
            r[0] for r in arc.query("SELECT native_id FROM posts WHERE platform = 'x' AND deleted_at IS NULL")
        ]
    ws = openpyxl.load_workbook(out, read_only=True)["posts"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == COLUMNS and len(rows) - 1 == res.rows
    col = COLUMNS.index("native_id")
    got = [r[col] for r in rows[1:]]
    assert all(isinstance(v, str) for v in got) and set(got) <= set(ids)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_pseudonymise_both_layouts(demo_archive: Path, tmp_path: Path) -> None:
    with open_archive(str(demo_archive), read_only=True) as arc:
        handles = {r[0].lower() for r in arc.query("SELECT handle FROM authors WHERE handle IS NOT NULL")}
        export_csv(arc, tmp_path / "p.csv", pseudonymise=True, salt="s1")
        export_csv(arc, tmp_path / "q.csv", pseudonymise=True, salt="s1")
        export_csv(arc, tmp_path / "t.csv", layout="twarc", pseudonymise=True, salt="s1")
    assert (tmp_path / "p.csv").read_bytes() == (
        tmp_path / "q.csv"
    ).read_bytes()  # same salt, same pseudonyms
    posts = _rows(tmp_path / "p.csv")
    tw = _rows(tmp_path / "t.csv")
    for r in posts:
        assert r["author_handle"] == "" or r["author_handle"].startswith("u_")
        assert r["author_uid"].startswith("u_")
        assert all(m.startswith("u_") for m in r["mentions"].split())
        assert not any("@" + h in r["text"].lower().split() for h in handles if h)
    for r in tw:
        assert r["author.username"] == "" or r["author.username"].startswith("u_")
        assert r["author_id"].startswith("u_")
        assert r["author.description"] == "" and r["author.location"] == ""
        assert r["author.username"].lower() not in handles
    # the same account gets the same pseudonym in both layouts' handle columns
    assert {r["author.username"] for r in tw} <= {r["author_handle"] for r in posts}


def test_cli_filters(demo_archive: Path, tmp_path: Path) -> None:
    r = CliRunner()
    out = tmp_path / "c.csv"
    res = r.invoke(
        app,
        [
            "export",
            "csv",
            "-a",
            str(demo_archive),
            "-o",
            str(out),
            "-c",
            DEMO_SLUG,
            "-p",
            "mastodon",
            "--since",
            "2025-05-12",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert rows and {x["platform"] for x in rows} == {"mastodon"}
    assert min(x["created_at"] for x in rows) >= "2025-05-12"
    assert all(x["institution"] or x["kind"] for x in rows)
    with open_archive(str(demo_archive), read_only=True) as arc:
        from salon.campaigns.tally import tally

        t: dict[str, Any] = tally(arc, DEMO_SLUG)
    res = r.invoke(app, ["export", "csv", "-a", str(demo_archive), "-o", str(out), "-c", DEMO_SLUG])
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    # the campaign's posts and reposts, less those of opted-out authors (counted, never exported)
    assert len(rows) <= t["posts"] + t["reposts"]
    assert sum(1 for x in rows if x["kind"] != "repost") <= t["posts"]
    res = r.invoke(app, ["export", "csv", "-a", str(demo_archive), "--excel"])
    assert res.exit_code == 2


def test_twarc_layout_for_x_posts_of_other_formats(needs_shared: Path, tmp_path: Path) -> None:
    """X v1.1 posts (no v2 payload) get rows from the normalised tables."""
    from tests.conftest import corpus_path

    src = corpus_path("twitterdev-tweet_parser/test/tweet_payload_examples/original_format_examples.json")
    arc_path = tmp_path / "v1.duckdb"
    import_paths([str(src)], str(arc_path))
    out = tmp_path / "t.csv"
    with open_archive(str(arc_path), read_only=True) as arc:
        res = export_csv(arc, out, layout="twarc")
        want = {
            r[0]: r[1:]
            for r in arc.query(
                "SELECT p.native_id, p.text, a.handle FROM posts p LEFT JOIN authors a ON a.uid = p.author_uid"
                " WHERE p.platform = 'x' AND NOT p.is_context AND p.deleted_at IS NULL"
            )
        }
    rows = _rows(out)
    assert res.rows == len(rows) == len(want) > 0
    for r in rows:
        text, handle = want[r["id"]]
        assert r["text"] == (text or "").replace("\r", "").replace("\n", "\\n")
        assert r["author.username"] == (handle or "")
        assert r["created_at"].endswith("Z")


def test_spam_marked_or_excluded(demo_archive: Path, tmp_path: Path) -> None:
    """Posts held as spam are exported marked (`spam`: the reason codes) in the default layout and
    xlsx, never in the twarc layout; `--exclude-spam` leaves them out and says how many."""
    import shutil

    from salon.campaigns.tally import resolve_campaign, tally
    from salon.campaigns.trust import spam

    arc_path = tmp_path / "a.duckdb"
    shutil.copy(demo_archive, arc_path)
    with open_archive(str(arc_path)) as arc:
        c = resolve_campaign(arc, DEMO_SLUG)
        uid = arc.query(
            "SELECT uid FROM campaign_posts WHERE campaign_id = ? AND NOT is_repost ORDER BY uid LIMIT 1",
            [c.campaign_id],
        )[0][0]
        spam.decide(arc, c, uid, "spam", by="editor1")
        t = tally(arc, c)  # refreshes the verdicts
        held = {
            u: r for u, r in arc.query(f"SELECT uid, reasons FROM {spam.held_sql(int(c.campaign_id or 0))}")
        }
    assert "editor" in held[uid] and t["spam"]["posts"] >= 1
    r = CliRunner()
    res = r.invoke(
        app, ["export", "csv", "-a", str(arc_path), "-c", DEMO_SLUG, "-o", str(tmp_path / "all.csv")]
    )
    assert res.exit_code == 0, res.output
    rows = {row["uid"]: row for row in _rows(tmp_path / "all.csv")}
    assert rows[uid]["spam"] == " ".join(held[uid])
    marked = {u for u, row in rows.items() if row["spam"]}
    assert marked == set(held) & set(rows)
    res = r.invoke(
        app,
        [
            "export",
            "csv",
            "-a",
            str(arc_path),
            "-c",
            DEMO_SLUG,
            "-o",
            str(tmp_path / "clean.csv"),
            "--exclude-spam",
        ],
    )
    assert res.exit_code == 0, res.output
    clean = {row["uid"] for row in _rows(tmp_path / "clean.csv")}
    assert clean == set(rows) - marked and uid not in clean
    assert f"{len(marked):,} posts left out (spam)" in res.output
    # the twarc layout keeps exactly twarc-csv's columns
    res = r.invoke(
        app,
        ["export", "csv", "-a", str(arc_path), "-c", DEMO_SLUG, "-l", "twarc", "-o", str(tmp_path / "t.csv")],
    )
    assert res.exit_code == 0, res.output
    with open(tmp_path / "t.csv", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == list(TWARC_COLUMNS)
    openpyxl = pytest.importorskip("openpyxl")
    with open_archive(str(arc_path), read_only=True) as arc:
        export_xlsx(arc, tmp_path / "p.xlsx", filters=Filters(campaign=DEMO_SLUG))
    xrows = list(
        openpyxl.load_workbook(tmp_path / "p.xlsx", read_only=True)["posts"].iter_rows(values_only=True)
    )
    i_uid, i_spam = COLUMNS.index("uid"), COLUMNS.index("spam")
    assert {r[i_uid] for r in xrows[1:] if r[i_spam]} == marked


def test_pseudonym_of_mastodon_short_mention_is_the_accounts(demo_archive: Path, tmp_path: Path) -> None:
    """Mastodon writes `@user` in the text and `user@instance` in the mention list (and the author
    table): the pseudonym in the text is the mentioned account's, the one its own posts carry."""
    from salon.publish.exports.pseudo import Pseudonymiser

    ps = Pseudonymiser("s1")
    text = ps.text(
        "@awmuseum Precioso @other and @Twin", ["awmuseum@mastodon.social", "twin@a.b", "twin@c.d"]
    )
    assert text is not None
    words = text.split()
    assert words[0] == "@" + str(ps.handle("awmuseum@mastodon.social"))
    assert words[2] == "@" + str(ps.handle("other"))  # not listed: keyed by what is written
    assert words[4] == "@" + str(ps.handle("twin"))  # two accounts of that name: ambiguous, left as written
    with open_archive(str(demo_archive), read_only=True) as arc:
        export_csv(
            arc, tmp_path / "p.csv", pseudonymise=True, salt="s1", filters=Filters(platforms=("mastodon",))
        )
        expected = {
            uid: {"@" + str(ps.handle(h)) for h in hs}
            for uid, hs in arc.query(
                "SELECT p.uid, list(m.handle) FROM posts p JOIN post_mentions m ON m.uid = p.uid"
                " WHERE p.platform = 'mastodon' AND p.text LIKE '@%' GROUP BY p.uid"
            )
        }
        authors = {
            str(ps.handle(h)) for (h,) in arc.query("SELECT handle FROM authors WHERE platform = 'mastodon'")
        }
    rows = {r["uid"]: r for r in _rows(tmp_path / "p.csv")}
    checked = 0
    for uid, want in expected.items():
        if uid not in rows:
            continue
        in_text = {w for w in rows[uid]["text"].split() if w.startswith("@u_")}
        assert in_text and in_text <= want, uid  # the text's pseudonyms are the listed accounts'
        assert {m for m in rows[uid]["mentions"].split()} == {w[1:] for w in want}
        checked += 1
        if any(w[1:] in authors for w in in_text):
            checked += 1_000  # at least one mentioned account also posts: same pseudonym as its posts
    assert checked > 1_000
