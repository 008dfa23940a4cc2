"""The campaign `salon chat run` tests post from (``salon chat run`` and the editors' button):
chat ``ms-kill`` started a minute ago, two questions due at once, posting to Mastodon, Bluesky
and X at the URLs of local stand-ins (tests/chats/post_servers.py), with the credentials the
stand-ins accept in the environment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from salon.campaigns.config import parse_campaign
from salon.campaigns.stored import save_campaign
from salon.store.archive import open_archive

CAMPAIGN = """\
[campaign]
name = "Run"
slug = "run"
timezone = "UTC"
start = {day}
end = {end}
hashtags = ["musesocial"]

[[chats]]
slug = "ms-kill"
hashtag = "musesocial"
start = {start}
minutes = 60
hosts = ["x:erinhost", "mastodon:erin@museum.example", "bluesky:erin.test"]
questions = ["Première question, café ☕ ?", "Second question?"]
question_minutes = [0, 0]
post_questions = ["mastodon", "bluesky", "x"]

[sources.mastodon]
post_instance = "{m}"

[sources.bluesky]
auth_service = "{b}"

[sources.x]
api = "{x}"
"""

# What the stand-ins accept; SALON_CREDENTIALS points at a file that does not exist.
TOKENS = {
    "SALON_MASTODON_TOKEN": "m-token",
    "SALON_BSKY_HANDLE": "erin.test",
    "SALON_BSKY_APP_PASSWORD": "app-pass",
    "SALON_X_USER_TOKEN": "x-user-token",
}


def posting_env(tmp_path: Path) -> dict[str, str]:
    """The environment a run needs: the stand-ins' tokens and no credentials file."""
    return {"SALON_CREDENTIALS": str(tmp_path / "none.toml"), **TOKENS}


def run_archive(tmp_path: Path, m: str, b: str, x: str) -> Path:
    """A new archive holding the campaign, its chat posting to the Mastodon, Bluesky and X
    URLs ``m``, ``b``, ``x``."""
    now = datetime.now(UTC).replace(microsecond=0)
    text = CAMPAIGN.format(
        day=now.date() - timedelta(days=1),
        end=now.date() + timedelta(days=2),
        start=(now - timedelta(minutes=1)).isoformat(),
        m=m,
        b=b,
        x=x,
    )
    archive = tmp_path / "a.duckdb"
    with open_archive(archive, create=True) as arc:
        save_campaign(arc, parse_campaign(text))
    return archive
