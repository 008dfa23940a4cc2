"""One transcript JSON on every surface: ``salon chat transcript --format json`` and
``/chats/SLUG/transcript.json`` come from the same function, and a deleted, opted-out or hidden
post keeps its place as a placeholder without its uid (DESIGN.md, Opted out / Deleted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from salon.cli import app
from salon.web.app import create_app
from tests.chats.conftest import chats_around_now


@pytest.fixture(scope="module")
def archive_with_gaps(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], dict[str, str]]:
    """The served series with one answer hidden by an editor and one answerer opted out."""
    from salon.campaigns.chat_store import hide_post
    from salon.store.archive import open_archive

    path, truth = chats_around_now(tmp_path_factory.mktemp("chatjson"))
    answers = [
        u
        for u, t in truth["posts"].items()
        if t["chat"] == "musesocial-1" and t["role"] == "answer" and not t["deleted"]
    ]
    with open_archive(path) as arc:
        hidden = answers[0]
        authors = dict(
            arc.query("SELECT uid, author_uid FROM posts WHERE uid IN (SELECT unnest(?))", [answers])
        )
        other = next(u for u in answers[1:] if authors[u] != authors[hidden])
        arc.con.execute("UPDATE authors SET indexable = false WHERE uid = ?", [authors[other]])
        hide_post(arc, "musesocial-1", hidden, "ed")
    return path, truth, {"hidden": hidden, "opted_out": other}


def test_cli_and_web_publish_the_same_json_with_placeholders(archive_with_gaps: Any) -> None:
    path, truth, picked = archive_with_gaps
    r = CliRunner().invoke(app, ["chat", "transcript", "musesocial-1", "-a", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.output)
    with TestClient(create_app(str(path))) as c:
        web = c.get("/chats/musesocial-1/transcript.json").json()
    assert cli == web  # one function: they cannot disagree

    listed = [x for q in cli["questions"] for x in q["answers"]]
    uids = {x["uid"] for x in listed} | set(cli["conversation"]) | set(cli["untagged"])
    deleted = {u for u, t in truth["posts"].items() if t["deleted"] and t["chat"] == "musesocial-1"}
    assert not uids & deleted, "a deleted post's uid is published"
    assert picked["hidden"] not in uids and picked["opted_out"] not in uids
    codes = [x.get("placeholder") for x in listed]
    assert "hidden" in codes and "opted_out" in codes
    assert all(x["uid"] is None for x in listed if x.get("placeholder"))
    assert all(set(x) == {"uid", "rule", "flag"} for x in listed if not x.get("placeholder"))
    # Placeholders keep their place: as many answers as the assignment has.
    from salon.campaigns.chat_answers import chat_assignment
    from salon.campaigns.chat_store import chat_by_slug
    from salon.store.archive import open_archive

    with open_archive(path, read_only=True) as arc:
        chat = chat_by_slug(arc, "musesocial-1")
        assert chat is not None
        full = chat_assignment(arc, chat).to_json()
    assert [len(q["answers"]) for q in full["questions"]] == [len(q["answers"]) for q in cli["questions"]]
    assert len(full["conversation"]) == len(cli["conversation"])
    if any(
        t["deleted"] and t["role"] == "answer" for t in truth["posts"].values() if t["chat"] == "musesocial-1"
    ):
        assert "deleted" in codes
