"""The synthetic chat series end to end: generated in the platforms' formats, imported through
the normal import path, assigned, and compared with the generator's ground truth post by post;
then the CLI over it (list, show, transcript in every format, stats)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salon.campaigns.chat_answers import chat_assignment
from salon.campaigns.chat_stats import chat_report
from salon.campaigns.chat_store import chat_by_slug
from salon.campaigns.config import load_campaign
from salon.campaigns.stored import save_campaign
from salon.cli import app
from salon.demo.chats import assignment_accuracy, generate_chats
from salon.importer import import_paths
from salon.store.archive import open_archive


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("chats")
    truth = generate_chats(folder)
    path = folder / "archive.duckdb"
    with open_archive(path, create=True) as arc:
        report = import_paths([str(folder / "data")], arc)
        assert report.records_bad == 0
        save_campaign(arc, load_campaign(folder / "musesocial.toml"))
    return path, truth


def test_generator_covers_every_case(demo: tuple[Path, dict[str, Any]]) -> None:
    _, truth = demo
    kinds = Counter((t["role"], t["rule"], t["flag"]) for t in truth["posts"].values())
    for k in [
        ("question", None, None),
        ("answer", "thread", None),
        ("answer", "marker", None),
        ("answer", "thread", "thread-marker-disagree"),
        ("untagged", None, None),
        ("conversation", None, None),
        ("repost", None, None),
        ("none", None, None),
    ]:
        assert kinds[k] > 0, k
    assert len(truth["chats"]) == 3
    assert 30 <= truth["accounts"] <= 50
    assert {t["platform"] for t in truth["posts"].values()} == {"x", "mastodon", "bluesky"}
    assert any(t["deleted"] for t in truth["posts"].values())
    assert sum(1 for t in truth["posts"].values() if t["role"] == "question") == 3 * 5 * 3


def test_assignment_matches_ground_truth(demo: tuple[Path, dict[str, Any]]) -> None:
    path, truth = demo
    with open_archive(path, read_only=True) as arc:
        acc = assignment_accuracy(arc, truth)
    assert acc["thread_accuracy"] == 1.0, acc["wrong"]
    assert acc["accuracy"] >= 0.99, acc["wrong"]
    assert acc["unexpected"] == []
    assert acc["posts"] > 500


def test_stats_agree_with_truth(demo: tuple[Path, dict[str, Any]]) -> None:
    path, truth = demo
    with open_archive(path, read_only=True) as arc:
        chat = chat_by_slug(arc, "musesocial-2")
        assert chat is not None
        s = chat_report(arc, chat)
        a = chat_assignment(arc, chat)
    mine = {u: t for u, t in truth["posts"].items() if t["chat"] == "musesocial-2"}
    per_q = Counter(t["n"] for t in mine.values() if t["role"] == "answer" and not t["deleted"])
    assert {q["n"]: q["answers"] for q in s["answers_per_question"]} == {n: per_q[n] for n in range(1, 6)}
    assert s["reposts"] == sum(1 for t in mine.values() if t["role"] == "repost")
    listed = sum(
        1 for t in mine.values() if t["role"] in ("question", "answer", "conversation") and not t["deleted"]
    )
    assert s["posts"] == listed
    assert sum(s["platforms"].values()) == listed
    ps = s["participants_series"]
    assert ps["returning"] > 0 and ps["first_time"] + ps["returning"] == s["participants"]
    assert s["top_contributors"][0]["posts"] >= s["top_contributors"][-1]["posts"]
    assert s["institutions"], "participants matched to the registry"
    assert s["replies"] > 0
    assert len(a.questions) == 5 and all(len(q.uids) == 3 for q in a.questions)


def test_cli_over_the_series(demo: tuple[Path, dict[str, Any]]) -> None:
    path, truth = demo
    run = CliRunner()
    r = run.invoke(app, ["chat", "list", "-a", str(path), "--json"])
    assert r.exit_code == 0, r.output
    assert [c["slug"] for c in json.loads(r.output)] == ["musesocial-1", "musesocial-2", "musesocial-3"]
    r = run.invoke(app, ["chat", "transcript", "musesocial-1", "-a", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    j = json.loads(r.output)
    assert set(j) == {"chat", "questions", "conversation", "untagged"} and j["chat"] == "musesocial-1"
    q1 = j["questions"][0]
    assert set(q1) == {"n", "uid", "text", "answers"} and q1["n"] == 1 and q1["text"].startswith(("Q1", "#"))
    assert all(
        set(x) == {"uid", "rule", "flag"} or (x["uid"] is None and x["placeholder"])
        for q in j["questions"]
        for x in q["answers"]
    )
    for q in j["questions"]:
        for x in q["answers"]:
            if x["uid"] is None:  # a deleted post's placeholder
                assert x["placeholder"] == "deleted"
                continue
            t = truth["posts"][x["uid"]]
            assert (t["n"], t["rule"], t["flag"]) == (q["n"], x["rule"], x["flag"])
    assert all(truth["posts"][u]["role"] == "untagged" for u in j["untagged"] if u is not None)
    r = run.invoke(app, ["chat", "transcript", "musesocial-1", "-a", str(path)])
    assert (
        r.exit_code == 0 and "## Q1 · " in r.output and "## Conversation" in r.output and "(host)" in r.output
    )
    assert "deleted post" in r.output or not any(
        t["deleted"] and t["chat"] == "musesocial-1" and t["role"] == "answer"
        for t in truth["posts"].values()
    )
    r = run.invoke(
        app, ["chat", "transcript", "musesocial-1", "-a", str(path), "--by", "time", "--format", "csv"]
    )
    rows = list(csv.DictReader(io.StringIO(r.output)))
    assert rows[0]["role"] in ("conversation", "question")
    assert [row["created_at"] for row in rows] == sorted(row["created_at"] for row in rows)
    r = run.invoke(app, ["chat", "transcript", "musesocial-1", "-a", str(path), "--format", "html"])
    assert '<section class="question" id="q5">' in r.output
    r = run.invoke(app, ["chat", "stats", "musesocial-3", "-a", str(path)])
    assert r.exit_code == 0 and "returning" in r.output
    r = run.invoke(app, ["chat", "show", "musesocial-3", "-a", str(path), "--json"])
    assert json.loads(r.output)["questions"][0]["uids"]
    r = run.invoke(app, ["chat", "show", "nope", "-a", str(path)])
    assert r.exit_code == 1 and "no chat 'nope'" in r.output
