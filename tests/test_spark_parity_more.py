"""Parity of the figures that reached Spark last: the tally's ``spam`` part (the export's
``trust_spam`` verdicts) and a chat's statistics (``load_chat_posts`` transpiled), computed on the
archive, by DuckDB over the Parquet export and by Spark over it, on the demo of ``salon demo
--sample`` (the bundled synthetic MuseumWeek, with spam, and the #musesocial chat series), with
editors' decisions: a post marked spam, a held post marked not spam, an author hidden.

Marked ``spark`` (skip them locally with ``pytest -m "not spark"``; CI runs them), except the
``--since-last`` test, which needs DuckDB only. One export serves the module; the SparkSession
is the session's (``tests/test_spark_parity.py``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salon.campaigns.chat_stats import chat_report
from salon.campaigns.chat_store import chat_by_slug
from salon.campaigns.spark import campaign_from_export, export_scope, tally_export
from salon.campaigns.spark_chats import chat_stats_export
from salon.campaigns.spark_chats import main as spark_chats_main
from salon.campaigns.tally import resolve_campaign, spam_of_scope, tally
from salon.campaigns.trust import consent, spam
from salon.cli import app
from salon.demo.chats import add_chat_demo
from salon.demo.run import add_campaign, import_demo, sample
from salon.publish.exports.parquet import export_parquet
from salon.store.archive import open_archive
from tests.test_spark_parity import spark  # noqa: F401  (the session's SparkSession fixture)

SLUG = "museumweek-2025-demo"
CHAT = "musesocial-2"  # the series' second chat: its participants are first-time or returning


def _json(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _figures(t: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in _json(t).items() if k not in ("source", "computed_at")}


def _cli(*args: str) -> Any:
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``salon demo --sample``'s archive (the sample campaign and the chat series), with an
    editor's decisions, exported to Parquet (the export refreshes the spam verdicts first)."""
    tmp = tmp_path_factory.mktemp("sparkmore")
    path = tmp / "a.duckdb"
    with sample() as data:
        import_demo(data, str(path))
        with open_archive(path) as arc:
            c = add_campaign(data, arc)
            add_chat_demo(tmp / "chats", arc)
            held = tally(arc, c.slug)["spam"]
            assert held["posts"] > 0 and held["by_reason"]  # the sample's rules hold some posts
            uids = [u for (u,) in arc.query(f"SELECT uid FROM {spam.held_sql(int(c.campaign_id))}")]
            free = arc.query(
                "SELECT uid FROM campaign_posts WHERE campaign_id = ? AND NOT is_repost AND uid NOT IN"
                f" (SELECT uid FROM {spam.held_sql(int(c.campaign_id))}) ORDER BY uid LIMIT 1",
                [c.campaign_id],
            )[0][0]
            spam.decide(arc, c, uids[0], "not_spam", by="cli:test", note="a museum's own offer")
            spam.decide(arc, c, free, "spam", by="cli:test")
            # A chat participant hidden from public surfaces: the stats then name them by uid only.
            top = chat_report(arc, chat_by_slug(arc, CHAT))["top_contributors"]
            who = next(r for r in top if r["handle"] and not r["host"])
            consent.override(arc, who["author_uid"], "hide", reason="asked by email", by="cli:test")
            export_parquet(arc, tmp / "pq")
    return {"path": path, "pq": tmp / "pq", "hidden": who["author_uid"], "tmp": tmp}


@pytest.mark.spark
def test_tally_spam_parity(spark: Any, demo: dict[str, Any]) -> None:  # noqa: F811
    """`salon tally SLUG --json` on the archive equals `--engine duckdb --parquet DIR`, the
    ``spam`` part included, and Spark computes the same ``spam`` part over the export (the whole
    tally on Spark, spam included, is tests/test_spark_parity.py's; a few Spark queries here)."""
    path, pq = str(demo["path"]), str(demo["pq"])
    want = _cli("tally", SLUG, "-a", path)
    sp = want["spam"]
    assert sp["posts"] > 0 and sp["shown"]["posts"] == want["posts"] - sp["posts"]
    assert "editor" in sp["by_reason"]  # the editor's decision is exported with the rules' verdicts
    got = _cli("tally", SLUG, "--engine", "duckdb", "--parquet", pq)
    assert got["source"] == "duckdb" and _figures(got) == _figures(want)
    # tally_export's spam part: its scope's members, then the one function (spam_part) on Spark.
    c = campaign_from_export(pq, SLUG)  # the registry read by DuckDB: no Spark job per table
    with export_scope(pq, c, engine="spark", spark=spark) as s:
        assert s.engine is not None and s.engine.name == "spark"
        assert _json(spam_of_scope(s)) == sp


@pytest.mark.spark
def test_chat_stats_parity(
    spark: Any,  # noqa: F811
    demo: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`salon chat stats CHAT --json` on the archive equals the same over the export, on DuckDB
    and on Spark (``chat_stats_export`` through the ``spark-submit`` entry point, the session
    reused)."""
    want = _cli("chat", "stats", CHAT, "-a", str(demo["path"]))
    assert want["answers"] > 0 and want["untagged"] > 0 and want["participants_series"]["returning"] > 0
    hidden = [r for r in want["top_contributors"] if r["author_uid"] == demo["hidden"]]
    assert hidden and hidden[0]["handle"] is None  # the moderation log is in the export too
    assert _cli("chat", "stats", CHAT, "--engine", "duckdb", "--parquet", str(demo["pq"])) == want
    capsys.readouterr()
    spark_chats_main([str(demo["pq"]), CHAT])
    assert json.loads(capsys.readouterr().out) == want


def test_since_last_carries_changed_verdicts(demo: dict[str, Any], tmp_path: Path) -> None:
    """Verdicts and decisions change in place: ``--since-last`` rewrites those tables whole, so
    the figures over the export follow the archive (DuckDB over the export; the same SQL runs on
    Spark above)."""
    path, pq = tmp_path / "a.duckdb", tmp_path / "pq"
    shutil.copy(demo["path"], path)
    shutil.copytree(demo["pq"], pq)
    with open_archive(path) as arc:
        c = resolve_campaign(arc, SLUG)
        before = tally(arc, SLUG)["spam"]
        held = [u for (u,) in arc.query(f"SELECT uid FROM {spam.held_sql(int(c.campaign_id))}")]
        for uid in held[:2]:  # two held posts released by an editor
            spam.decide(arc, c, uid, "not_spam", by="cli:test")
        consent.override(arc, demo["hidden"], "show", reason="they agreed after all", by="cli:test")
        summary = export_parquet(arc, pq, since_last=True)
        want = tally(arc, SLUG)
        want_chat = chat_report(arc, chat_by_slug(arc, CHAT))
    assert summary["new_posts"] == 0 and summary["rows"]["trust_spam"] > 0
    assert want["spam"]["posts"] == before["posts"] - 2
    got = tally_export(pq, SLUG, engine="duckdb")
    assert _figures(got) == _figures(want)
    shown = [r for r in want_chat["top_contributors"] if r["author_uid"] == demo["hidden"]]
    assert shown and shown[0]["handle"]  # shown again, in the archive and over the export
    assert _json(chat_stats_export(pq, CHAT, engine="duckdb")) == _json(want_chat)
