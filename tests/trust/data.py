"""Small archives for the trust tests: the web tests' campaign (tests/web/data.py) with
Mastodon statuses shaped like the real ones (REST entities), varied per test."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.web.data import SLUG, START, status, write_campaign

__all__ = ["SLUG", "Builder"]

_ids = itertools.count(900000)


class Builder:
    """Collects statuses, then writes and imports them into an archive with the campaign."""

    def __init__(self, folder: Path, moderation: str = "") -> None:
        self.folder = folder
        self.statuses: list[dict[str, Any]] = []
        self.moderation = moderation

    def post(
        self,
        text: str,
        *,
        user: str = "visitor",
        name: str | None = None,
        tags: tuple[str, ...] = ("MuseumWeek",),
        links: tuple[str, ...] = (),
        mentions: int = 0,
        minutes: int = 10,
        account_created: str = "2014-01-01T00:00:00.000Z",
        account: dict[str, Any] | None = None,
    ) -> str:
        """Add a status by ``user`` and return its post uid."""
        n = next(_ids)
        s = copy.deepcopy(status(n, 3, 3, minutes))
        sid = s["id"]
        s["uri"] = f"https://mastodon.example/users/{user}/statuses/{sid}"
        s["url"] = f"https://mastodon.example/@{user}/{sid}"
        s["created_at"] = (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", ".000Z")
        html = text + "".join(f' <a href="{u}" rel="nofollow">{u}</a>' for u in links)
        html += "".join(
            f' <a href="https://mastodon.example/tags/{t.lower()}" class="mention hashtag">#<span>{t}</span></a>'
            for t in tags
        )
        s["content"] = f"<p>{html}</p>"
        s["tags"] = [{"name": t.lower(), "url": f"https://mastodon.example/tags/{t.lower()}"} for t in tags]
        s["mentions"] = [
            {"id": str(k), "username": f"u{k}", "acct": f"u{k}", "url": f"https://mastodon.example/@u{k}"}
            for k in range(mentions)
        ]
        s["media_attachments"] = []
        acc = s["account"]
        acc.update(
            {
                "id": f"acc-{user}",
                "username": user,
                "acct": user,
                "display_name": name or user.title(),
                "url": f"https://mastodon.example/@{user}",
                "uri": f"https://mastodon.example/users/{user}",
                "created_at": account_created,
            }
        )
        if account:
            acc.update(account)
        self.statuses.append(s)
        return f"mastodon:{s['uri']}"

    def build(self) -> Path:
        from salon.campaigns.config import load_campaign
        from salon.campaigns.stored import save_campaign
        from salon.importer import import_paths
        from salon.store.archive import open_archive

        toml = write_campaign(self.folder)
        if self.moderation:
            toml.write_text(toml.read_text(encoding="utf-8") + "\n" + self.moderation, encoding="utf-8")
        batch = self.folder / "trust.jsonl"
        batch.write_text(
            "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in self.statuses), encoding="utf-8"
        )
        path = self.folder / "trust.duckdb"
        with open_archive(path) as arc:
            save_campaign(arc, load_campaign(toml), toml.read_text(encoding="utf-8"))
            import_paths([str(batch)], arc)
        return path
