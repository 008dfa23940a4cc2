"""Takedowns and account events at the source (DESIGN.md, Deleted).

- ``takedown(archive, target, reason=..., by=...)``: a takedown request for a post (its uid, URL
  or URI) or a whole account (its author uid, handle or profile URL) tombstones the posts; they
  leave every public surface and the figures at the next refresh, the tombstone stays, and the
  request is logged (``takedowns`` and the moderation log).
- ``scan_account_events(archive)``: Bluesky Jetstream ``account`` events kept in ``raw``
  (``{"kind": "account", "account": {"active": false, "status": "takendown" | "deleted" |
  "deactivated" | "suspended" | ...}}``): an account taken down or deleted has its posts
  tombstoned; one that is otherwise inactive (deactivated, suspended) is hidden from public
  surfaces while it stays inactive (``account_status``), and shown again when it comes back.

Post deletions at the source (Mastodon ``delete`` events, Jetstream deletes, X compliance files)
are tombstones written by the importer; nothing more is needed for them here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from salon.campaigns.trust import log
from salon.store.archive import Archive
from salon.store.rawstore import iter_payloads
from salon.store.takedowns import tombstone_posts

__all__ = ["DELETING_STATUSES", "Takedown", "resolve_target", "scan_account_events", "takedown"]

# Account statuses that delete the account's posts (others only hide them while inactive).
DELETING_STATUSES = ("takendown", "deleted")


@dataclass(frozen=True)
class Takedown:
    """What a takedown removed."""

    target: str
    kind: str  # post | account
    uid: str  # the post or author uid it resolved to
    posts: int  # posts tombstoned now


def resolve_target(archive: Archive, target: str) -> tuple[str, str] | None:
    """(kind, uid) of a post (uid, url, uri, alias) or an account (uid, handle, profile url)."""
    t = target.strip()
    row = archive.query(
        "SELECT uid FROM posts WHERE uid = ? OR url = ? OR uri = ? OR uid IN"
        " (SELECT uid FROM post_aliases WHERE alias_uid = ?) LIMIT 1",
        [t, t, t, t],
    )
    if row:
        return "post", row[0][0]
    h = t.lstrip("@").lower()
    if ":" in h and not h.startswith(("http:", "https:", "at:")):  # platform:handle
        platform, _, handle = h.partition(":")
        row = archive.query(
            "SELECT uid FROM authors WHERE (platform = ? AND lower(handle) = ?) OR uid = ? LIMIT 1",
            [platform, handle, t],
        )
    else:
        row = archive.query(
            "SELECT uid FROM authors WHERE uid = ? OR lower(handle) = ? OR url = ? LIMIT 1", [t, h, t]
        )
    if row:
        return "account", row[0][0]
    return None


def takedown(archive: Archive, target: str, *, reason: str, by: str) -> Takedown:
    """Carry out a takedown request (logged). Raises LookupError for an unknown target."""
    if not reason or not reason.strip():
        raise ValueError("a takedown needs a reason (--reason)")
    found = resolve_target(archive, target)
    if found is None:
        raise LookupError(f"no post or account {target!r} in the archive")
    kind, uid = found
    if kind == "post":
        uids = [uid]
    else:
        uids = [r[0] for r in archive.query("SELECT uid FROM posts WHERE author_uid = ?", [uid])]
    with archive.transaction():
        n = tombstone_posts(archive.con, uids)
        archive.con.execute(
            "INSERT INTO takedowns VALUES (?, ?, ?, ?, ?, ?)",
            [target, kind, reason.strip(), by, datetime.now(UTC), n],
        )
        log.record(archive, family="takedown", action="takedown", target=uid, by=by, reason=reason.strip())
    return Takedown(target, kind, uid, n)


def scan_account_events(archive: Archive) -> int:
    """Read the Jetstream account events received since the last scan (see the module doc).
    Returns how many events were applied."""
    if archive.read_only:
        return 0
    con = archive.con
    mark = archive.scalar("SELECT value FROM trust_marks WHERE name = 'account_events'")
    # Only the end of `raw` past the mark is read (zone maps on received_at skip the rest).
    newest = archive.scalar(
        "SELECT max(received_at)::VARCHAR FROM raw WHERE format IN ('jetstream', 'jetstream-events')"
        + (" AND received_at > CAST(? AS TIMESTAMPTZ)" if mark is not None else ""),
        [mark] if mark is not None else [],
    )
    if newest is None:
        return 0
    if newest is None or newest == mark:
        return 0
    where = "format IN ('jetstream', 'jetstream-events') AND received_at <= CAST(? AS TIMESTAMPTZ)" + (
        " AND received_at > CAST(? AS TIMESTAMPTZ)" if mark is not None else ""
    )
    params = [newest] + ([mark] if mark is not None else [])
    events: dict[str, tuple[bool, str | None, datetime]] = {}
    for _rid, payload in iter_payloads(con, where, params):
        if b'"account"' not in payload:
            continue
        try:
            ev = json.loads(payload)
        except ValueError:
            continue
        acc = _account_event(ev)
        if acc is None:
            continue
        did = acc.get("did") or ev.get("did")
        if not isinstance(did, str):
            continue
        t = ev.get("time_us")
        seen = datetime.fromtimestamp(t / 1e6, UTC) if isinstance(t, int) else _time(acc.get("time"))
        status = acc.get("status") if isinstance(acc.get("status"), str) else None
        events[f"bluesky:{did}"] = (acc["active"], status, seen)  # the latest event of each account wins
    with archive.transaction():
        for author, (active, status, seen) in events.items():
            con.execute(
                "INSERT INTO account_status VALUES (?, ?, ?, ?) ON CONFLICT (author_uid) DO UPDATE"
                " SET active = excluded.active, status = excluded.status, seen_at = excluded.seen_at",
                [author, active, status, seen],
            )
            if not active and status in DELETING_STATUSES:
                uids = [
                    r[0]
                    for r in con.execute("SELECT uid FROM posts WHERE author_uid = ?", [author]).fetchall()
                ]
                tombstone_posts(con, uids, seen)
        con.execute(
            "INSERT INTO trust_marks VALUES ('account_events', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [newest],
        )
    return len(events)


def _account_event(ev: Any) -> dict[str, Any] | None:
    """The account part of a Jetstream v1 ``account`` event (``{"kind": "account", "account":
    {...}}``) or of a subscribeEvents ``#account`` frame (``{"$type": "message", "payload":
    {"$type": "...#account", "seq", "did", "time", "account": {"active", "status", ...}}}``);
    None for anything else."""
    if not isinstance(ev, dict):
        return None
    acc = ev.get("account") if ev.get("kind") == "account" else None
    if acc is None and ev.get("$type") == "message":
        p = ev.get("payload")
        if (
            isinstance(p, dict)
            and str(p.get("$type", "")).endswith("#account")
            and isinstance(p.get("account"), dict)
        ):
            # the upstream #account event, wrapped verbatim; Jetstream's own witnessed time
            acc = {**p["account"], "did": p["account"].get("did") or p.get("did"), "time": p.get("time")}
    if not isinstance(acc, dict) or not isinstance(acc.get("active"), bool):
        return None
    return acc


def _time(value: Any) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)
