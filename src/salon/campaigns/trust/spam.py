"""Spam rules: each a named function with a reason code and a threshold from the campaign
file's ``[moderation] spam`` table (``salon.campaigns.trust.settings``), each explainable in one
sentence (``RULES[code].explain``).

Spam changes no definition (DESIGN.md, Spam): the tally's ``posts`` still counts every campaign
post; ``spam_part`` (one function, which the tally calls) says what is held, and the public
pages headline the figures with it excluded. What is held, per campaign member, is stored in
``trust_spam`` with every reason that holds it:

- a rule's verdict (``hashtag_stuffing``, ``promotional_link``, ``repeated_text``,
  ``text_cluster``, ``mention_flood``, ``new_account``, ``labeler_spam``), never for a
  registry account or an allowed account;
- a block list (``blocked_account``, ``blocked_word``: ``salon.campaigns.trust.lists``);
- an editor's "spam" decision (``editor``); an editor's "not spam" decision removes every
  other reason (decisions override rules);
- a repost of a held post (``repost_of_held``).

``refresh`` recomputes the table when the campaign's members, its settings, its lists or the
decisions changed (a digest of them is kept in ``trust_state``). The rules are set-based SQL
over the campaign's indexed members, so they cost one pass however many posts there are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.config import Campaign
from salon.campaigns.engine import Engine
from salon.campaigns.trust import lists, log
from salon.campaigns.trust.settings import Moderation, moderation_of
from salon.store.archive import Archive
from salon.store.rawstore import BlockReader

__all__ = [
    "REASONS",
    "RULES",
    "Rule",
    "decide",
    "held_sql",
    "refresh",
    "review_queue",
    "spam_part",
    "state_key",
]

# The members' features the rules read (``domains``: hosts of the links, without the platform's
# own -- a photo or a quoted post links there) (one row per campaign post of the campaign): built once
# per refresh as the temporary table ``_trust_tp``.
_FEATURES = """
INSERT INTO trust_features
WITH m AS (
    SELECT uid, author_uid FROM campaign_posts WHERE campaign_id = $cid AND NOT is_repost
      AND uid NOT IN (SELECT uid FROM trust_features WHERE campaign_id = $cid)
), tg AS (
    SELECT h.uid, count(DISTINCT h.tag_key) AS n_tags,
           sum(length(h.tag_display) + 1) AS tag_chars
    FROM (SELECT DISTINCT uid, tag_key, tag_display FROM post_hashtags WHERE uid IN (SELECT uid FROM m)) h
    GROUP BY h.uid
), mn AS (
    SELECT uid, count(*) AS n_mentions FROM post_mentions WHERE uid IN (SELECT uid FROM m) GROUP BY uid
), ur AS (
    SELECT u.uid, list(DISTINCT u.host) AS domains FROM (
        SELECT uid, lower(regexp_extract(url, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#@]+)', 1)) AS host
        FROM post_urls WHERE uid IN (SELECT uid FROM m)) u JOIN posts p ON p.uid = u.uid
    WHERE u.host <> '' AND u.host NOT IN ('twitter.com', 'x.com', 'mobile.twitter.com', 't.co',
        'pic.twitter.com', 'bsky.app')
      AND u.host <> lower(regexp_extract(coalesce(p.url, ''), '^[a-zA-Z]+://([^/:?#@]+)', 1))
    GROUP BY u.uid
)
SELECT $cid, m.uid, m.author_uid, p.created_at, length(coalesce(p.text, '')),
       coalesce(tg.n_tags, 0), coalesce(tg.tag_chars, 0), coalesce(mn.n_mentions, 0),
       coalesce(ur.domains, []),
       trim(regexp_replace(regexp_replace(lower(coalesce(p.text, '')),
            '(https?://\\S+)|([@#＃]\\S+)', ' ', 'g'), '[^[:alpha:]]+', ' ', 'g'))
FROM m JOIN posts p ON p.uid = m.uid
LEFT JOIN tg ON tg.uid = m.uid LEFT JOIN mn ON mn.uid = m.uid LEFT JOIN ur ON ur.uid = m.uid
"""

# The relation the rules read: the stored features with what may change without the post
# changing (the author's registry match, the account's creation time).
_RULE_INPUT = """
CREATE OR REPLACE TEMP TABLE _trust_tp AS
SELECT f.uid, f.author_uid, cp.participant_id, f.created_at, p.text, f.text_len, f.n_tags, f.tag_chars,
       f.n_mentions, f.domains, f.norm, a.created_at AS author_created_at,
       cp.participant_id IS NULL AND NOT coalesce($allowed, false) AS rules_apply,
       coalesce($blocked, false) AS blocked_account
FROM trust_features f JOIN campaign_posts cp ON cp.campaign_id = f.campaign_id AND cp.uid = f.uid
JOIN posts p ON p.uid = f.uid LEFT JOIN authors a ON a.uid = f.author_uid
WHERE f.campaign_id = $cid
"""

_RULES_VERSION = 5
_FEATURES_VERSION = 1  # bumped when _FEATURES changes: stored features are then recomputed  # bumped when a rule's SQL changes: stored verdicts are then recomputed
_MIN_NORM = 20  # texts shorter than this (after removing links, tags, mentions) are not compared


@dataclass(frozen=True)
class Rule:
    """A spam rule: its reason code, the threshold key of ``[moderation] spam``, a one-sentence
    explanation (``{t}`` is the threshold) and the function giving its SQL."""

    code: str
    threshold: str
    explain: str
    sql: Callable[[Any], str]


def hashtag_stuffing(t: dict[str, Any]) -> str:
    """More than ``max_hashtags`` hashtags, or (with 4 or more) hashtags making up more than
    ``hashtag_ratio`` of the text's characters."""
    conds = []
    if t["max_hashtags"] is not False:
        conds.append(f"n_tags > {int(t['max_hashtags'])}")
    if t["hashtag_ratio"] is not False:
        conds.append(f"(n_tags >= 4 AND tag_chars > {float(t['hashtag_ratio'])} * greatest(text_len, 1))")
    if not conds:
        return ""
    return (
        "SELECT uid, n_tags || ' hashtags, ' || round(100.0 * tag_chars / greatest(text_len, 1)) || '% of the text'"
        f" FROM _trust_tp WHERE {' OR '.join(conds)}"
    )


def _sql_strings(values: list[str] | None) -> str:
    """A rule's list threshold as SQL string literals (``'a', 'b'``), quotes doubled; "" when
    the list is empty (the rule is off)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values or [] if v)


def promotional_link(t: dict[str, Any]) -> str:
    """A link to one of ``promo_domains`` (or a subdomain of one)."""
    lit = _sql_strings(t["promo_domains"])
    if not lit:
        return ""
    return (
        "SELECT uid, 'links to ' || string_agg(DISTINCT d, ', ') FROM (SELECT uid, unnest(domains) AS d FROM _trust_tp)"
        f" WHERE EXISTS (SELECT 1 FROM (SELECT unnest([{lit}]) AS x) WHERE d = x OR ends_with(d, '.' || x))"
        " GROUP BY uid"
    )


def repeated_text(t: dict[str, Any]) -> str:
    """One account posting the same (or nearly the same: links, tags, mentions, digits and
    punctuation aside) text ``flood_same_text`` times or more."""
    n = int(t["flood_same_text"])
    return (
        "SELECT uid, 'same text posted ' || k || ' times by the account' FROM"
        " (SELECT uid, count(*) OVER (PARTITION BY author_uid, norm) AS k FROM _trust_tp"
        f"  WHERE length(norm) >= {_MIN_NORM} AND author_uid IS NOT NULL) WHERE k >= {n}"
    )


def text_cluster(t: dict[str, Any]) -> str:
    """``cluster_same_text`` accounts or more posting the same (or nearly the same) text with a
    link (people echo short phrases -- "Loving all the museum posts this week" -- without links;
    coordinated spam pushes links)."""
    n = int(t["cluster_same_text"])
    return (
        "SELECT tp.uid, 'same text posted by ' || c.k || ' accounts' FROM _trust_tp tp JOIN"
        " (SELECT norm, count(DISTINCT author_uid) AS k FROM _trust_tp"
        f"  WHERE length(norm) >= {_MIN_NORM} AND len(domains) > 0 GROUP BY norm"
        f"  HAVING count(DISTINCT author_uid) >= {n}) c ON c.norm = tp.norm WHERE len(tp.domains) > 0"
    )


def mention_flood(t: dict[str, Any]) -> str:
    """More than ``max_mentions`` mentions in one post."""
    return f"SELECT uid, n_mentions || ' mentions' FROM _trust_tp WHERE n_mentions > {int(t['max_mentions'])}"


def new_account(t: dict[str, Any]) -> str:
    """Posted less than ``new_account_hours`` hours after the account was created (where the
    platform says when: X and Mastodon do, Jetstream does not)."""
    h = float(t["new_account_hours"])
    return (
        "SELECT uid, 'account created ' || round(epoch(created_at - author_created_at) / 3600.0, 1)"
        " || ' h before posting' FROM _trust_tp WHERE author_created_at IS NOT NULL"
        f" AND created_at >= author_created_at AND epoch(created_at - author_created_at) < {h} * 3600"
    )


def labeler_spam(t: dict[str, Any]) -> str:
    """A Bluesky labeler put one of ``labels`` on the post (labels read from collected post
    views)."""
    lit = _sql_strings(t["labels"])
    if not lit:
        return ""
    return (
        "SELECT l.uid, 'labelled ' || string_agg(DISTINCT l.val, ', ') || ' by ' || string_agg(DISTINCT l.src, ', ')"
        f" FROM trust_labels l JOIN _trust_tp tp ON tp.uid = l.uid WHERE l.val IN ({lit}) GROUP BY l.uid"
    )


RULES: dict[str, Rule] = {
    r.code: r
    for r in (
        Rule(
            "hashtag_stuffing",
            "max_hashtags",
            "more than {t} hashtags, or hashtags filling most of the text",
            hashtag_stuffing,
        ),
        Rule("promotional_link", "promo_domains", "links to a promotional domain ({t})", promotional_link),
        Rule(
            "repeated_text",
            "flood_same_text",
            "the same text posted {t} times or more by one account",
            repeated_text,
        ),
        Rule(
            "text_cluster",
            "cluster_same_text",
            "the same text with a link posted by {t} accounts or more",
            text_cluster,
        ),
        Rule("mention_flood", "max_mentions", "more than {t} mentions in one post", mention_flood),
        Rule(
            "new_account",
            "new_account_hours",
            "posted less than {t} hours after the account was created",
            new_account,
        ),
        Rule("labeler_spam", "labels", "a Bluesky labeler labelled it {t}", labeler_spam),
    )
}

REASONS: dict[str, str] = {
    **{code: r.explain for code, r in RULES.items()},
    "blocked_account": "the account is on the campaign's block list",
    "blocked_word": "the text contains a word of the campaign's block list",
    "editor": "an editor marked it as spam",
    "repost_of_held": "it reposts a held post",
}


def explain(code: str, m: Moderation | None = None) -> str:
    """The one-sentence explanation of a reason code (with the campaign's threshold)."""
    r = RULES.get(code)
    if r is None:
        return REASONS.get(code, code)
    t = (m or Moderation()).spam.get(r.threshold)
    return r.explain.format(t=", ".join(t) if isinstance(t, list) else t)


# -- state --------------------------------------------------------------------------------------


def _digest(archive: Archive, c: Campaign, m: Moderation) -> str:
    """What the verdicts depend on, read in one query: the campaign index's state (its members),
    the settings, the newest decision, the lists."""
    cid = int(c.campaign_id)  # type: ignore[arg-type]
    row = archive.query(
        "SELECT (SELECT digest || posts_mark || tombs_mark || snaps_mark || coalesce(authors_mark::VARCHAR, '')"
        "   FROM campaign_index_state WHERE campaign_id = ?),"
        " (SELECT coalesce(max(log_id), 0) FROM moderation_log),"
        " (SELECT count(*) || '/' || coalesce(max(added_at)::VARCHAR, '') FROM moderation_lists WHERE campaign_id = ?)",
        [cid, cid],
    )[0]
    parts = [_RULES_VERSION, *row, m.digest()]
    return hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=12).hexdigest()


def state_key(archive: Archive, c: Campaign) -> Any:
    """What the stored verdicts of ``c`` were computed from (the tally caches on it)."""
    if c.campaign_id is None:
        return None
    return archive.scalar("SELECT digest FROM trust_state WHERE campaign_id = ?", [c.campaign_id])


def refresh(archive: Archive, c: Campaign, *, force: bool = False) -> bool:
    """Bring ``trust_spam`` of stored campaign ``c`` up to date (its index must be fresh).
    Returns whether it was recomputed."""
    if c.campaign_id is None or archive.read_only:
        return False
    m = moderation_of(c)
    cid = int(c.campaign_id)
    dg = _digest(archive, c, m)
    if not force and archive.scalar("SELECT digest FROM trust_state WHERE campaign_id = ?", [cid]) == dg:
        return False
    _scan_labels(archive, cid)  # labels come with new posts, which move the index state
    con = archive.con
    with archive.transaction():
        _update_features(archive, cid)
        has_lists = bool(archive.scalar("SELECT count(*) FROM moderation_lists WHERE campaign_id = ?", [cid]))
        con.execute(
            _RULE_INPUT.replace("$cid", str(cid))
            .replace("$allowed", lists.account_match_sql(cid, "allow_accounts") if has_lists else "false")
            .replace("$blocked", lists.account_match_sql(cid, "block_accounts") if has_lists else "false")
        )
        allowed = "tp.rules_apply"
        parts = []
        for code, rule in RULES.items():
            if not m.on(rule.threshold):
                continue
            sql = rule.sql(m.spam)
            if sql:
                parts.append(
                    f"SELECT r.uid, '{code}' AS reason, r.detail FROM ({sql}) r(uid, detail)"
                    f" JOIN _trust_tp tp ON tp.uid = r.uid WHERE {allowed}"
                )
        if has_lists:
            parts.append("SELECT tp.uid, 'blocked_account', NULL FROM _trust_tp tp WHERE tp.blocked_account")
            parts.append(
                f"SELECT tp.uid, 'blocked_word', NULL FROM _trust_tp tp WHERE {lists.word_match_sql(cid, 'tp.text')}"
            )
        dec = log.current_sql("spam", cid)
        parts.append(
            f"SELECT d.target, 'editor', d.reason FROM {dec} d JOIN _trust_tp tp ON tp.uid = d.target"
            " WHERE d.action = 'spam'"
        )
        con.execute("DELETE FROM trust_spam WHERE campaign_id = ?", [cid])
        con.execute(
            "INSERT INTO trust_spam SELECT ?, h.uid, false, tp.author_uid, h.reason, h.detail"
            f" FROM ({' UNION ALL '.join(parts)}) h(uid, reason, detail) JOIN _trust_tp tp ON tp.uid = h.uid"
            f" WHERE h.reason = 'editor' OR h.uid NOT IN (SELECT target FROM {dec} WHERE action = 'not_spam')",
            [cid],
        )
        # Reposts: of a held post, or by a blocked account.
        con.execute(
            "INSERT INTO trust_spam SELECT ?, cp.uid, true, cp.author_uid, 'repost_of_held', NULL"
            " FROM campaign_posts cp JOIN posts p ON p.uid = cp.uid WHERE cp.campaign_id = ? AND cp.is_repost"
            " AND p.repost_of_uid IN (SELECT uid FROM trust_spam WHERE campaign_id = ? AND NOT is_repost)",
            [cid, cid, cid],
        )
        if has_lists:
            con.execute(
                "INSERT INTO trust_spam SELECT ?, cp.uid, true, cp.author_uid, 'blocked_account', NULL"
                " FROM campaign_posts cp JOIN authors a ON a.uid = cp.author_uid WHERE cp.campaign_id = ?"
                f" AND cp.is_repost AND {lists.account_match_sql(cid, 'block_accounts')}",
                [cid, cid],
            )
        con.execute("DROP TABLE _trust_tp")
        con.execute(
            "INSERT INTO trust_state VALUES (?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE"
            " SET digest = excluded.digest, refreshed_at = excluded.refreshed_at",
            [cid, dg, datetime.now(UTC)],
        )
    return True


def _update_features(archive: Archive, cid: int) -> None:
    """Features of the campaign's posts not computed yet; those of posts changed since (an
    edit: a newer ``collected_at``) or no longer members are dropped and recomputed."""
    con = archive.con
    mark_name = f"features:v{_FEATURES_VERSION}:{cid}"
    mark = archive.scalar("SELECT value FROM trust_marks WHERE name = ?", [mark_name])
    newest = archive.scalar("SELECT max(collected_at)::VARCHAR FROM posts")
    if mark is None:  # never computed, or computed by an older definition
        con.execute("DELETE FROM trust_features WHERE campaign_id = ?", [cid])
    else:
        con.execute(
            "DELETE FROM trust_features WHERE campaign_id = ? AND uid IN"
            " (SELECT uid FROM posts WHERE collected_at > CAST(? AS TIMESTAMPTZ))",
            [cid, mark],
        )
    con.execute(
        "DELETE FROM trust_features WHERE campaign_id = ? AND uid NOT IN"
        " (SELECT uid FROM campaign_posts WHERE campaign_id = ? AND NOT is_repost)",
        [cid, cid],
    )
    con.execute(_FEATURES.replace("$cid", str(cid)))
    con.execute(
        "INSERT INTO trust_marks VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        [mark_name, newest],
    )


def _scan_labels(archive: Archive, cid: int) -> None:
    """Read the labels of Bluesky campaign posts collected as post views (searchPosts and the
    like carry ``labels``; Jetstream records do not), once per post, into ``trust_labels``."""
    con = archive.con
    rows = con.execute(
        "SELECT p.uid, p.uri, r.block_id, r.block_offset, r.block_length FROM campaign_posts cp"
        " JOIN posts p ON p.uid = cp.uid JOIN raw r ON r.raw_id = p.raw_id"
        " WHERE cp.campaign_id = ? AND NOT cp.is_repost AND p.platform = 'bluesky' AND r.format <> 'jetstream'"
        " AND cp.uid NOT IN (SELECT uid FROM trust_labels) ORDER BY r.block_id, r.block_offset",
        [cid],
    ).fetchall()
    if not rows:
        return
    reader = BlockReader(con.cursor())
    found: list[tuple[str, str | None, str | None]] = []
    for uid, uri, block, off, length in rows:
        payload = reader.payload(block, off, length)
        labels: list[tuple[str | None, str | None]] = []
        if b'"labels"' in payload:
            try:
                labels = _labels_of(json.loads(payload), uri)
            except ValueError:
                labels = []
        found += [(uid, s, v) for s, v in labels] or [(uid, None, None)]
    con.executemany("INSERT INTO trust_labels VALUES (?, ?, ?)", found)


def _labels_of(obj: Any, uri: str | None) -> list[tuple[str | None, str | None]]:
    """The labels (src, val) of the post view with this ``uri`` anywhere in a payload."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if o.get("uri") == uri and isinstance(o.get("labels"), list):
                return [
                    (x.get("src"), x.get("val"))
                    for x in o["labels"]
                    if isinstance(x, dict) and isinstance(x.get("val"), str)
                ]
            stack.extend(v for v in o.values() if isinstance(v, dict | list))
        elif isinstance(o, list):
            stack.extend(v for v in o if isinstance(v, dict | list))
    return []


# -- reading ------------------------------------------------------------------------------------


def held_sql(campaign_id: int) -> str:
    """SQL of (uid, is_repost, author_uid, reasons): the members held as spam."""
    return (
        "(SELECT uid, bool_or(is_repost) AS is_repost, any_value(author_uid) AS author_uid,"
        " list(DISTINCT reason ORDER BY reason) AS reasons FROM trust_spam"
        f" WHERE campaign_id = {int(campaign_id)} GROUP BY uid)"
    )


def spam_part(source: Archive | Engine, c: Campaign, members: str | None = None) -> dict[str, Any]:
    """The tally's ``spam`` part: what is held among the members (``members``: an SQL relation
    with uid, is_repost, author_uid, e.g. a tally scope's ``m``; default: the index) and the
    headline figures with it excluded (``shown``).

    ``source`` runs the SQL: the archive, or an engine (``salon.campaigns.engine``; Spark over
    a Parquet export, which carries ``trust_spam``): one text, in a form both dialects accept
    (no ``FILTER`` clause, no list aggregate)."""
    empty = {
        "posts": 0,
        "reposts": 0,
        "participants": 0,
        "by_reason": {},
        "shown": None,
    }
    if c.campaign_id is None:
        return empty
    cid = int(c.campaign_id)
    if members is None:
        members = f"(SELECT uid, is_repost, author_uid FROM campaign_posts WHERE campaign_id = {cid})"
    held = "NOT m.is_repost AND h.uid IS NOT NULL"
    held_r = "m.is_repost AND h.uid IS NOT NULL"
    shown = "NOT m.is_repost AND h.uid IS NULL"
    shown_r = "m.is_repost AND h.uid IS NULL"
    row = source.query(
        f"SELECT count(CASE WHEN {held} THEN 1 END), count(CASE WHEN {held_r} THEN 1 END),"
        f" count(DISTINCT CASE WHEN {held} THEN m.author_uid END),"
        f" count(CASE WHEN {shown} THEN 1 END), count(CASE WHEN {shown_r} THEN 1 END),"
        f" count(DISTINCT CASE WHEN {shown} THEN m.author_uid END)"
        f" FROM {members} m LEFT JOIN (SELECT DISTINCT uid FROM trust_spam WHERE campaign_id = {cid}) h"
        " ON h.uid = m.uid"
    )[0]
    by_reason = {
        r: int(n)
        for r, n in source.query(
            f"SELECT reason, count(DISTINCT s.uid) FROM trust_spam s JOIN {members} m ON m.uid = s.uid"
            " WHERE s.campaign_id = ? AND NOT m.is_repost GROUP BY reason ORDER BY 2 DESC, 1",
            [cid],
        )
    }
    return {
        "posts": int(row[0]),
        "reposts": int(row[1]),
        "participants": int(row[2]),  # authors of held posts
        "by_reason": by_reason,
        "shown": {"posts": int(row[3]), "reposts": int(row[4]), "participants": int(row[5])},
    }


# -- review -------------------------------------------------------------------------------------


def review_queue(
    archive: Archive, c: Campaign, *, status: str = "held", limit: int = 100
) -> list[dict[str, Any]]:
    """Posts for the editors' review, newest first: ``held`` (held now, not reviewed yet),
    ``reviewed`` (an editor decided), ``all`` held now."""
    if c.campaign_id is None:
        return []
    cid = int(c.campaign_id)
    dec = log.current_sql("spam", cid)
    where = {
        "held": "h.uid IS NOT NULL AND d.target IS NULL",
        "reviewed": "d.target IS NOT NULL",
        "all": "h.uid IS NOT NULL",
    }[status]
    rows = archive.dicts(
        "SELECT cp.uid, cp.is_repost, p.text, p.url, p.platform, p.created_at, a.handle, a.display_name,"
        " h.reasons, d.action AS decision, d.by_user AS decided_by, d.at AS decided_at"
        f" FROM campaign_posts cp JOIN posts p ON p.uid = cp.uid LEFT JOIN authors a ON a.uid = cp.author_uid"
        f" LEFT JOIN {held_sql(cid)} h ON h.uid = cp.uid LEFT JOIN {dec} d ON d.target = cp.uid"
        f" WHERE cp.campaign_id = ? AND NOT cp.is_repost AND {where}"
        f" ORDER BY cp.created_at DESC, cp.uid LIMIT {int(limit)}",
        [cid],
    )
    details: dict[str, list[dict[str, Any]]] = {}
    if rows:
        for uid, reason, detail in archive.query(
            "SELECT uid, reason, detail FROM trust_spam WHERE campaign_id = ? AND uid IN (SELECT unnest(?))",
            [cid, [r["uid"] for r in rows]],
        ):
            details.setdefault(uid, []).append(
                {"reason": reason, "detail": detail, "explain": REASONS.get(reason)}
            )
    for r in rows:
        r["why"] = sorted(details.get(r["uid"], []), key=lambda x: x["reason"])
    return rows


def decide(
    archive: Archive, c: Campaign, uid: str, decision: str, *, by: str, note: str | None = None
) -> int:
    """An editor's ``spam`` / ``not_spam`` decision about a campaign post (overrides the rules;
    logged with who and when). The verdicts are recomputed at the next refresh."""
    if c.campaign_id is None:
        raise ValueError("only a stored campaign has decisions")
    if decision not in ("spam", "not_spam"):
        raise ValueError("a decision is 'spam' or 'not_spam'")
    if not archive.query(
        "SELECT 1 FROM campaign_posts WHERE campaign_id = ? AND uid = ?", [c.campaign_id, uid]
    ):
        raise LookupError(f"{uid} is not a post of campaign {c.slug}")
    return log.record(
        archive, family="spam", action=decision, target=uid, by=by, reason=note, campaign_id=c.campaign_id
    )
