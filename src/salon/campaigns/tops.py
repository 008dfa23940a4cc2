"""What a campaign's posts carried and reached, beyond the tally: top hashtags, URLs and media,
languages (as tagged by the platform and as detected from the text), and potential reach.

All over the campaign's posts (``salon.campaigns.tally.scope``: reposts excluded, since they
repeat their original's content), so the report, the web app and a notebook share them.

- **Top hashtags / URLs**: every hashtag key (not only official ones) / expanded URL, counted in
  campaign posts (a post counts once per key or URL).
- **Top media**: campaign posts with an attachment, by engagement received (likes + reposts of
  the latest snapshot), with the first attachment.
- **Languages**: the platform's tag (``posts.lang``; ``und`` when absent) and the language
  detected from the text by py3langid (its model ships inside the wheel: no download), after
  removing URLs, @mentions and #hashtags; texts under 20 letters are ``short``, not guessed.
- **Potential reach** (an *estimate*, never impressions): the sum over campaign posts of their
  author's followers in the latest snapshot: ``sum(followers(author(post)))``. It counts a
  follower once per post and ignores who actually saw it: an upper bound of deliveries to
  timelines, not views.
"""

from __future__ import annotations

import re
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.optout import listable
from salon.campaigns.tally import scope
from salon.store.archive import Archive

__all__ = ["REACH_FORMULA", "detect_language", "languages", "potential_reach", "top_entities"]

REACH_FORMULA = "sum over campaign posts of the author's followers (latest snapshot)"
_STRIP = re.compile(r"https?://\S+|[@#][\w.@-]+")


def top_entities(
    archive: Archive, campaign: Campaign | str, *, top: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """``hashtags``, ``urls`` and ``media`` of the campaign's posts, most frequent (or most
    engaged) first."""
    with scope(archive, campaign) as s:
        posts = f"(SELECT uid, likes, reposts FROM {s.m} m WHERE NOT m.is_repost)"
        tags = s.q(
            f"SELECT h.tag_key, mode(h.tag_display), count(DISTINCT h.uid) AS n FROM post_hashtags h"
            f" WHERE h.uid IN (SELECT uid FROM {posts}) GROUP BY h.tag_key ORDER BY n DESC, h.tag_key LIMIT {int(top)}"
        )
        urls = s.q(
            f"SELECT u.url, count(DISTINCT u.uid) AS n FROM post_urls u WHERE u.uid IN (SELECT uid FROM {posts})"
            f" GROUP BY u.url ORDER BY n DESC, u.url LIMIT {int(top)}"
        )
        media = s.q(
            "SELECT p.uid, p.url, a.handle, md.type, coalesce(md.url, md.preview_url), md.alt_text,"
            " coalesce(m.likes, 0) AS likes, coalesce(m.reposts, 0) AS reposts"
            f" FROM {posts} m JOIN posts p ON p.uid = m.uid LEFT JOIN authors a ON a.uid = p.author_uid"
            " JOIN post_media md ON md.uid = m.uid AND md.position = (SELECT min(position) FROM post_media x WHERE x.uid = m.uid)"
            f" WHERE {listable('p.author_uid')} ORDER BY likes + reposts DESC, p.uid LIMIT {int(top)}"
        )
    return {
        "hashtags": [{"key": k, "display": d, "posts": int(n)} for k, d, n in tags],
        "urls": [{"url": u, "posts": int(n)} for u, n in urls],
        "media": [
            {
                "uid": u,
                "url": url,
                "handle": h,
                "type": t,
                "media_url": mu,
                "alt_text": alt,
                "likes": int(li),
                "reposts": int(r),
            }
            for u, url, h, t, mu, alt, li, r in media
        ],
    }


def detect_language(text: str | None) -> str:
    """ISO 639-1 code detected by py3langid, or ``short`` for texts under 20 letters."""
    clean = _STRIP.sub(" ", text or "")
    if sum(ch.isalpha() for ch in clean) < 20:
        return "short"
    import py3langid

    return str(py3langid.classify(clean)[0])


def languages(archive: Archive, campaign: Campaign | str) -> dict[str, Any]:
    """Campaign posts by the platform's language tag and by detected language, and how often the
    two agree where both exist."""
    with scope(archive, campaign) as s:
        # Rows are fetched while the detector works: DuckDB would draw its progress bar on stdout.
        archive.con.execute("SET enable_progress_bar = false")
        cur = archive.con.execute(
            f"SELECT coalesce(p.lang, 'und'), p.text FROM {s.m} m JOIN posts p ON p.uid = m.uid WHERE NOT m.is_repost"
        )
        tagged: dict[str, int] = {}
        detected: dict[str, int] = {}
        agree = both = 0
        while rows := cur.fetchmany(10_000):
            for lang, text in rows:
                tag = lang.split("-")[0].lower() if lang else "und"
                d = detect_language(text)
                tagged[tag] = tagged.get(tag, 0) + 1
                detected[d] = detected.get(d, 0) + 1
                if d != "short" and tag not in ("und", "zxx", "qme", "qht"):
                    both += 1
                    agree += d == tag
    order = lambda d: dict(sorted(d.items(), key=lambda kv: (-kv[1], kv[0])))  # noqa: E731
    return {
        "tagged": order(tagged),
        "detected": order(detected),
        "agreement": {"both": both, "agree": agree},
        "detector": "py3langid",
    }


def potential_reach(archive: Archive, campaign: Campaign | str) -> dict[str, Any]:
    """The potential reach estimate (see the module docstring) and what it is made of."""
    with scope(archive, campaign) as s:
        row = archive.con.execute(
            f"SELECT count(*), count(a.followers), coalesce(sum(a.followers), 0) FROM {s.m} m"
            " LEFT JOIN authors a ON a.uid = m.author_uid WHERE NOT m.is_repost"
        ).fetchall()[0]
    return {
        "estimate": int(row[2]),
        "posts": int(row[0]),
        "posts_with_followers": int(row[1]),
        "formula": REACH_FORMULA,
        "label": "potential reach (estimate)",
    }
