"""Small helpers shared by the normalisers: reading untrusted JSON values (``as_dict``,
``as_list``, ``as_str``), parsing timestamps, ints and bools, undoing X's text escaping and
taking the host of a URL."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from salon.normalize import BadRecord


def parse_time(value: Any) -> datetime | None:
    """See ``_parse_time``; anything unreadable raises ``BadRecord``."""
    try:
        return _parse_time(value)
    except (ValueError, OverflowError, OSError) as exc:
        if isinstance(exc, BadRecord):
            raise
        raise BadRecord(f"unreadable timestamp {value!r}") from None


def _parse_time(value: Any) -> datetime | None:
    """A timestamp as UTC-aware datetime: ISO 8601 (``2021-05-18T19:24:56.000Z``), X v1.1's
    ``Wed Oct 10 20:19:24 +0000 2018``, epoch seconds/milliseconds. None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        secs = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(secs, UTC)
    if not isinstance(value, str):
        raise BadRecord(f"unreadable timestamp {value!r}")
    s = value.strip()
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
    except ValueError:
        try:
            dt = datetime.strptime(s, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            try:
                dt = parsedate_to_datetime(s)
            except (TypeError, ValueError):
                raise BadRecord(f"unreadable timestamp {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_int(value: Any) -> int | None:
    """An int from a number or numeric string (X archives write numbers as strings)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def to_bool(value: Any) -> bool | None:
    """A bool from a bool or ``"true"``/``"false"`` string."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is an object, else an empty one (payloads are untrusted)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is an array, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def unescape_x(text: str) -> str:
    """X escapes exactly ``&``, ``<`` and ``>`` in post text (all API versions, v1.1 and v2
    alike); undo only those, ``&amp;`` last so ``&amp;lt;`` stays ``&lt;``."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def url_host(url: Any) -> str | None:
    """The lower-cased host (and port) of an absolute URL (``https://Mastodon.Social/@a`` →
    ``mastodon.social``); None for anything that is not a string with ``://`` or has no host."""
    if not isinstance(url, str) or "://" not in url:
        return None
    return urlsplit(url).netloc.lower() or None
