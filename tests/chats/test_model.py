"""Chats' model: [[chats]] parsing and validation (file, line, field), question lengths as each
platform counts them, storage with the campaign and export back to TOML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.campaigns.chats import chats_of, parse_chats, question_text
from salon.campaigns.config import CampaignError, parse_campaign
from salon.campaigns.export import to_toml
from salon.campaigns.stored import get_campaign, save_campaign
from salon.campaigns.textlength import bluesky_length, mastodon_length, x_weighted_length
from salon.cli import app
from salon.store.archive import open_archive

BASE = """\
[campaign]
name = "Musesocial"
slug = "musesocial-2026"
timezone = "America/New_York"
start = 2026-03-01
end = 2026-04-01
hashtags = ["musesocial"]
"""

CHAT = """
[[chats]]
slug = "musesocial-1"
title = "Social media in museums"
hashtag = "musesocial"
start = 2026-03-05T19:00:00
minutes = 60
hosts = ["x:erinblasco", "mastodon:erin@museum.social", "bluesky:erin.bsky.social"]
questions = ["What do you know about social media in museums now?", "Which platform works best?"]
question_minutes = [0, 30]
post_questions = ["mastodon", "bluesky"]
"""


def test_parse_chat_fields_and_times() -> None:
    c = parse_campaign(BASE + CHAT)
    (chat,) = chats_of(c)
    assert chat.slug == "musesocial-1"
    assert chat.hashtags == ["musesocial"]
    # A local start is in the campaign's zone (New York, EST in early March): 19:00 -> 00:00 UTC.
    assert chat.start_utc == datetime(2026, 3, 6, 0, 0, tzinfo=UTC)
    assert chat.end_utc == datetime(2026, 3, 6, 1, 0, tzinfo=UTC)
    assert [t.minute for t in chat.question_times()] == [0, 30]
    assert chat.host_accounts()[1] == ("mastodon", "erin@museum.social")
    assert question_text(chat, 2) == "Q2 Which platform works best? #musesocial"


def test_default_question_times_evenly_spaced() -> None:
    chats, problems = parse_chats(
        [
            {
                "slug": "c",
                "hashtag": "x",
                "start": "2026-01-01T10:00:00+00:00",
                "minutes": 60,
                "hosts": ["x:a"],
                "questions": list("abcde"),
            }
        ]
    )
    assert problems == []
    assert [int((t - chats[0].start_utc).total_seconds() // 60) for t in chats[0].question_times()] == [
        0,
        12,
        24,
        36,
        48,
    ]


def test_problems_name_line_and_field() -> None:
    bad = BASE + CHAT.replace('hosts = ["x:erinblasco"', 'hosts = ["myspace:erin"').replace(
        "question_minutes = [0, 30]", "question_minutes = [0, 90]"
    )
    with pytest.raises(CampaignError) as exc:
        parse_campaign(bad, path="c.toml")
    msgs = [str(i) for i in exc.value.issues]
    lines = bad.splitlines()
    hosts_line = next(i for i, s in enumerate(lines, 1) if s.startswith("hosts"))
    qm_line = next(i for i, s in enumerate(lines, 1) if s.startswith("question_minutes"))
    assert any(m.startswith(f"c.toml:{hosts_line}: chats[1].hosts:") and "myspace:erin" in m for m in msgs)
    assert any(m.startswith(f"c.toml:{qm_line}: chats[1].question_minutes:") for m in msgs)


def test_question_too_long_per_platform() -> None:
    # 290 ASCII characters: fine on Mastodon (500), too long on Bluesky with "Q1 " and the tag.
    long_q = "a" * 290
    toml = BASE + CHAT.replace('"Which platform works best?"', f'"{long_q}"')
    with pytest.raises(CampaignError) as exc:
        parse_campaign(toml, path="c.toml")
    (issue,) = exc.value.issues
    assert issue.field == "chats[1].questions[2]"
    assert "bluesky" in issue.message and "305 graphemes" in issue.message
    # Only platforms where Salon posts are checked: without bluesky it is fine.
    parse_campaign(toml.replace('post_questions = ["mastodon", "bluesky"]', 'post_questions = ["mastodon"]'))
    # X: 140 CJK characters weigh 280, plus "Q1 " and " #musesocial" -> too long.
    cjk = "美" * 140
    toml_x = BASE + CHAT.replace('"Which platform works best?"', f'"{cjk}"').replace(
        'post_questions = ["mastodon", "bluesky"]', 'post_questions = ["x"]'
    )
    with pytest.raises(CampaignError) as exc:
        parse_campaign(toml_x)
    assert "x: 295 weighted characters" in exc.value.issues[0].message


def test_lengths_as_platforms_count() -> None:
    assert x_weighted_length("café") == 4
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("👨‍👩‍👧 ok") == 5  # an emoji sequence weighs 2
    assert x_weighted_length("see https://example.org/a/very/long/path/indeed/yes") == 4 + 23
    assert x_weighted_length("cafe\u0301") == 4  # NFC first
    assert bluesky_length("cafe\u0301 👨‍👩‍👧") == 6
    assert mastodon_length("@erin@museum.social hi https://example.org/" + "x" * 40) == len("@erin hi ") + 23


def test_stored_and_exported_back(tmp_path: Path) -> None:
    c = parse_campaign(BASE + CHAT)
    with open_archive(tmp_path / "a.duckdb", create=True) as arc:
        save_campaign(arc, c)
        assert arc.query("SELECT slug, series_key FROM chats") == [("musesocial-1", "musesocial")]
        assert [r[0] for r in arc.query("SELECT n FROM chat_questions ORDER BY n")] == [1, 2]
        back = get_campaign(arc, "musesocial-2026")
    assert back is not None
    again = parse_campaign(to_toml(back))
    assert [ch.to_dict() for ch in chats_of(again)] == [ch.to_dict() for ch in chats_of(c)]


def test_campaign_check_reports_chat_problem(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(BASE + CHAT.replace('"Which platform works best?"', '"' + "é" * 299 + '"'), encoding="utf-8")
    r = CliRunner().invoke(app, ["campaign", "check", str(f)])
    assert r.exit_code == 1
    assert "chats[1].questions[2]: too long for bluesky" in r.output
