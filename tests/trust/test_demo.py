"""The demo campaign (the bundled sample the generator writes) shows each trust part: spam held
in the tally and off the wall (no genuine post held: the false positives are measured here), the
impostor flagged with the registry entry it imitates (and nobody else), opted-out authors
counted but absent from public surfaces."""

from __future__ import annotations

import json
from pathlib import Path

from salon.campaigns.config import load_campaign
from salon.campaigns.stored import save_campaign
from salon.campaigns.tally import resolve_campaign, tally
from salon.campaigns.trust import lookalikes
from salon.campaigns.trust.consent import opted_out_sql
from salon.campaigns.trust.lookalikes import match_key
from salon.campaigns.trust.visibility import publicly_visible
from salon.demo import world as W
from salon.demo.impostor import lookalike_username
from salon.importer import import_paths
from salon.store.archive import open_archive
from salon.web.explorer import campaign_latest

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "salon" / "data" / "sample"


def test_demo_trust_parts(tmp_path: Path) -> None:
    truth = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))
    c = load_campaign(SAMPLE / "museumweek.toml")
    with open_archive(tmp_path / "demo.duckdb") as arc:
        save_campaign(arc, c, (SAMPLE / "museumweek.toml").read_text(encoding="utf-8"))
        import_paths([str(SAMPLE / "data")], arc)
        t = tally(arc, c.slug)
        assert t["posts"] > 0 and truth["posts"]["total"] > 0
        sp = t["spam"]
        # Spam: held, by its reasons; every held post is one the generator wrote as spam.
        assert sp["posts"] > 0 and sp["shown"]["posts"] == t["posts"] - sp["posts"]
        spam_texts = tuple(W.SPAM_TEXTS)
        held = arc.query(
            "SELECT p.text FROM trust_spam s JOIN posts p USING (uid) WHERE NOT s.is_repost GROUP BY p.uid, p.text"
        )
        false_positives = [x for (x,) in held if not (x or "").startswith(spam_texts)]
        assert false_positives == []
        spam_members = arc.scalar(
            "SELECT count(*) FROM campaign_posts cp JOIN posts p USING (uid) WHERE NOT cp.is_repost AND ("
            + " OR ".join("starts_with(p.text, ?)" for _ in spam_texts)
            + ")",
            list(spam_texts),
        )
        assert sp["posts"] == spam_members  # every spam post held (recall 100 % on the demo)
        wall = {p["uid"] for p in campaign_latest(arc, c.slug, limit=10_000)}
        assert not any(
            (p or "").startswith(spam_texts)
            for (p,) in arc.query("SELECT text FROM posts WHERE uid IN (SELECT unnest(?))", [list(wall)])
        )
        # The impostor, and nobody else, is flagged, with the registry entry it imitates.
        stored = resolve_campaign(arc, c.slug)
        flags = lookalikes.flagged(arc, stored)
        assert len(flags) == 1
        f = flags[0]
        imitated_user = f["imitated"].split(":", 1)[1].split("@")[0]
        handle_user = f["handle"].split("@")[0]
        assert handle_user.lower() == lookalike_username(imitated_user.lower())
        assert (
            match_key(handle_user) == match_key(imitated_user)
            and handle_user.lower() != imitated_user.lower()
        )
        assert {e["signal"] for e in f["evidence"]} == {"confusable_handle", "copied_display_name"}
        # Opted-out authors: counted, never public.
        rows = arc.query(
            "SELECT cp.uid FROM campaign_posts cp JOIN authors a ON a.uid = cp.author_uid"
            f" WHERE NOT cp.is_repost AND {opted_out_sql('a')}"
        )
        opted = [r[0] for r in rows]
        assert opted, "the demo has opted-out authors with campaign posts"
        assert publicly_visible(arc, opted) == set()
        assert not set(opted) & wall
