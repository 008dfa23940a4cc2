"""Hashtag keys (DESIGN.md, Definitions) and hashtag parsing for formats without entities."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["hashtags_in_text", "tag_key", "tag_norm"]


@lru_cache(maxsize=65536)
def tag_norm(tag: str) -> str:
    """NFKC + casefold, accents kept (the key of an ``accent_sensitive`` campaign)."""
    return unicodedata.normalize("NFKC", tag.lstrip("#＃")).casefold()


@lru_cache(maxsize=65536)
def tag_key(tag: str) -> str:
    """The hashtag key: NFKC, casefold, accents folded (é→e). ``#MuséeDuLouvre``,
    ``#MuseeDuLouvre`` and ``#MUSEEDULOUVRE`` share one key."""
    norm = tag_norm(tag)
    decomposed = unicodedata.normalize("NFKD", norm)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", folded)


# A hashtag starts after a non-word character (or the start) that is not part of a URL or an
# e-mail-like token, and is made of letters, marks, digits and underscores, not digits alone.
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_TAG = re.compile(r"(?:(?<=^)|(?<=[^\w&/#＃]))[#＃]([\w\u00b7\u200c\u0300-\u036f]+)", re.UNICODE)


def hashtags_in_text(text: str) -> list[str]:
    """Hashtags (display form, without #) written in plain text, skipping those inside URLs
    (``https://example.org/page#section`` carries no hashtag) and all-digit tags (``#1``)."""
    if not text or ("#" not in text and "＃" not in text):
        return []
    stripped = _URL.sub(lambda m: " " * len(m.group(0)), text)
    out = []
    for m in _TAG.finditer(stripped):
        tag = m.group(1).rstrip("_") or m.group(1)
        if tag.isdigit():
            continue
        out.append(tag)
    return out
