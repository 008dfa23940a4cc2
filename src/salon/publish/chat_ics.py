"""Calendar files (RFC 5545 ``.ics``) for chats: one event per chat, with its questions in the
description and its public page as URL, so people add a chat (or a whole series) to a calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from salon.campaigns.chats import Chat

__all__ = ["chats_ics"]


def _esc(s: str) -> str:
    return (
        s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continuation lines starting with a space (RFC 5545 3.1)."""
    out: list[str] = []
    cur = b""
    for ch in line:
        b = ch.encode()
        if len(cur) + len(b) > (75 if not out else 74):
            out.append(cur.decode())
            cur = b""
        cur += b
    out.append(cur.decode())
    return [out[0]] + [" " + x for x in out[1:]]


def _ts(d: datetime) -> str:
    return d.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def chats_ics(chats: Sequence[Chat], base_url: str, *, now: datetime | None = None) -> str:
    """A VCALENDAR with one VEVENT per chat (UTC times; the page URL under ``base_url``)."""
    stamp = _ts(now or datetime.now(UTC))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Salon//chats//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for c in chats:
        url = f"{base_url.rstrip('/')}/chats/{c.slug}"
        qs = "\n".join(f"Q{i}. {q}" for i, q in enumerate(c.questions, 1))
        desc = f"#{c.hashtag} · hosts: {', '.join(c.hosts)}\n\n{qs}\n\n{url}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:{c.slug}@salon-chats",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ts(c.start_utc)}",
            f"DTEND:{_ts(c.end_utc)}",
            f"SUMMARY:{_esc(c.title or '#' + c.hashtag + ' chat')}",
            f"DESCRIPTION:{_esc(desc)}",
            f"URL:{url}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(x for line in lines for x in _fold(line)) + "\r\n"
