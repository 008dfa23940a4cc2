"""How long a text is for each platform that limits it, as the platform counts it.

- Mastodon: 500 characters (code points), every URL counting 23 and a mention ``@user@server``
  counting as its local part ``@user`` (Mastodon's ``StatusLengthValidator``).
- Bluesky: 300 graphemes (extended grapheme clusters, Unicode UAX #29: ``é`` written as ``e`` +
  combining accent is one, a family emoji is one).
- X: 280 *weighted* characters, by the twitter-text 3 configuration: the text is NFC-normalised,
  each code point in the ranges below weighs 1 (scale 100, weight 100), every other weighs 2
  (default weight 200), an emoji sequence weighs 2 however many code points it has, and a URL
  weighs 23 (``transformedURLLength``).
"""

from __future__ import annotations

import re
import unicodedata

import regex

__all__ = ["LIMITS", "bluesky_length", "length_for", "mastodon_length", "x_weighted_length"]

LIMITS = {"mastodon": 500, "bluesky": 300, "x": 280}

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_MASTODON_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w", re.UNICODE)
# twitter-text v3 ranges of weight 100 (Latin, general punctuation, ...).
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_URL_WEIGHT = 23
# An emoji grapheme (twitter-text counts each emoji sequence as one weight-200 unit).
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them (URLs 23, remote mentions by their local part)."""
    text = _URL.sub("x" * 23, text)
    text = _MASTODON_MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(text)


def bluesky_length(text: str) -> int:
    """Graphemes (extended grapheme clusters), as Bluesky's 300 limit counts."""
    return len(regex.findall(r"\X", text))


def _x_char_weight(cp: int) -> int:
    return 1 if any(lo <= cp <= hi for lo, hi in _X_LIGHT) else 2


def x_weighted_length(text: str) -> int:
    """The twitter-text weighted length of ``text`` (X's 280 limit)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    pos = 0
    for m in _URL.finditer(text):
        total += _x_plain(text[pos : m.start()]) + _URL_WEIGHT
        pos = m.end()
    return total + _x_plain(text[pos:])


def _x_plain(text: str) -> int:
    total = 0
    for g in regex.findall(r"\X", text):
        if _EMOJI.search(g):
            total += 2
        else:
            total += sum(_x_char_weight(ord(ch)) for ch in g)
    return total


def length_for(platform: str, text: str) -> int:
    """The length of ``text`` as ``platform`` counts it against ``LIMITS[platform]``."""
    if platform == "mastodon":
        return mastodon_length(text)
    if platform == "bluesky":
        return bluesky_length(text)
    if platform == "x":
        return x_weighted_length(text)
    raise ValueError(f"unknown platform {platform!r}")
