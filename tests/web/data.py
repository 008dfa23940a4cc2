"""A tiny campaign for the web tests: a campaign file, a participants CSV and Mastodon statuses
written as JSON lines (one file per batch, so a test can import more while the server runs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

SLUG = "museumweek-test"
START = datetime(2015, 3, 23, 9, 0, tzinfo=UTC)

CAMPAIGN = f"""[campaign]
name = "MuseumWeek Test"
slug = "{SLUG}"
timezone = "Europe/Paris"
start = 2015-03-23
end = 2015-03-30
hashtags = ["MuseumWeek"]

[[days]]
date = 2015-03-23
theme = "Secrets"
hashtags = ["SecretsMW"]

[[days]]
date = 2015-03-24
theme = "Souvenirs"
hashtags = ["SouvenirsMW"]

[participants]
file = "participants.csv"
"""

PARTICIPANTS = """name,country,city,kind,x,mastodon,bluesky
Musée du Louvre,FR,Paris,museum,,louvre@mastodon.example,
British Museum,GB,London,museum,,britishmuseum@mastodon.example,
Museo del Prado,ES,Madrid,museum,,prado@mastodon.example,
"""

ACCOUNTS = [
    ("1", "louvre", "Musée du Louvre"),
    ("2", "britishmuseum", "British Museum"),
    ("3", "prado", "Museo del Prado"),
    ("4", "visitor", "A Visitor"),
]

TEXTS = [
    (
        "Bienvenue au Musée du Louvre pour la #MuseumWeek ! Les secrets de nos réserves. #SecretsMW",
        "fr",
        ["MuseumWeek", "SecretsMW"],
    ),
    ("Our favourite museum memories #MuseumWeek #SouvenirsMW", "en", ["MuseumWeek", "SouvenirsMW"]),
    ("El MUSEO guarda secretos #SecretsMW", "es", ["SecretsMW"]),
    ("Visiting the museum today with the kids #MuseumWeek", "en", ["MuseumWeek"]),
    ("Ce soir le musee reste ouvert tard #MuseumWeek", "fr", ["MuseumWeek"]),
]


def status(n: int, account: int, text_i: int, minutes: int) -> dict:
    aid, user, name = ACCOUNTS[account]
    text, lang, tags = TEXTS[text_i]
    created = START + timedelta(minutes=minutes)
    sid = str(100000 + n)
    return {
        "id": sid,
        "uri": f"https://mastodon.example/users/{user}/statuses/{sid}",
        "url": f"https://mastodon.example/@{user}/{sid}",
        "created_at": created.isoformat().replace("+00:00", ".000Z"),
        "content": f"<p>{text} (n°{n})</p>",
        "language": lang,
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "replies_count": 0,
        "reblogs_count": n % 3,
        "favourites_count": n % 5,
        "account": {
            "id": aid,
            "username": user,
            "acct": user,
            "display_name": name,
            "url": f"https://mastodon.example/@{user}",
            "followers_count": 10 * (account + 1),
            "following_count": 1,
            "statuses_count": 5,
            "bot": False,
            "created_at": "2014-01-01T00:00:00.000Z",
            "note": "",
        },
        "tags": [{"name": t.lower(), "url": f"https://mastodon.example/tags/{t.lower()}"} for t in tags],
        "mentions": [],
        "media_attachments": (
            [
                {
                    "id": f"m{n}",
                    "type": "image",
                    "url": f"https://files.example/{n}.jpg",
                    "description": "Une œuvre cachée",
                }
            ]
            if n % 4 == 0
            else []
        ),
    }


def write_batch(path: Path, first: int, count: int) -> Path:
    """Statuses ``first`` .. ``first + count - 1`` as JSON lines."""
    with path.open("w", encoding="utf-8") as fh:
        for n in range(first, first + count):
            fh.write(
                json.dumps(status(n, n % len(ACCOUNTS), n % len(TEXTS), n * 7), ensure_ascii=False) + "\n"
            )
    return path


def write_campaign(folder: Path) -> Path:
    (folder / "participants.csv").write_text(PARTICIPANTS, encoding="utf-8")
    p = folder / "campaign.toml"
    p.write_text(CAMPAIGN, encoding="utf-8")
    return p


def build_archive(folder: Path, posts: int = 40) -> Path:
    """An archive with the campaign stored and ``posts`` statuses imported."""
    from salon.campaigns.config import load_campaign
    from salon.campaigns.stored import save_campaign
    from salon.importer import import_paths
    from salon.store.archive import open_archive

    arc_path = folder / "web.duckdb"
    toml = write_campaign(folder)
    batch = write_batch(folder / "batch0.jsonl", 0, posts)
    with open_archive(arc_path) as arc:
        save_campaign(arc, load_campaign(toml), toml.read_text(encoding="utf-8"))
        import_paths([str(batch)], arc)
    return arc_path
