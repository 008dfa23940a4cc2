"""A campaign's ``[moderation]`` table (DESIGN.md, Campaign file) as typed settings.

```toml
[moderation]
mode = "auto"                        # auto: shown unless held; pre: only approved posts show
block_accounts = "blocklist.csv"     # CSV files beside the campaign file (also block_words,
allow_accounts = "allowlist.csv"     # allow_accounts); imported with `salon moderation import`
spam = { max_hashtags = 5, flood_same_text = 5 }   # each rule's threshold; false turns a rule off
```

Every rule of ``salon.campaigns.trust.spam`` has a threshold here with the default below; a
rule set to ``false`` is off. Unknown keys are refused (a typo must not silently keep a default).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from salon.campaigns.config import Campaign

__all__ = ["DEFAULT_SPAM", "MODES", "Moderation", "ModerationError", "moderation_of"]

MODES = ("auto", "pre")

# Each rule's threshold (docs/trust.md explains every one in a sentence).
DEFAULT_SPAM: dict[str, Any] = {
    "max_hashtags": 8,  # hashtag_stuffing: more hashtags than this ...
    "hashtag_ratio": 0.6,  # ... or hashtags making up more than this share of the text (>= 4 tags)
    "promo_domains": [],  # promotional_link: links to these domains (and their subdomains)
    "flood_same_text": 5,  # repeated_text: one account posting the same text this many times
    "cluster_same_text": 5,  # text_cluster: this many accounts posting the same text
    "max_mentions": 10,  # mention_flood: more mentions than this
    "new_account_hours": 24,  # new_account: account created less than this many hours before posting
    "labels": ["spam"],  # labeler_spam: Bluesky labels with these values on the post
}


class ModerationError(ValueError):
    """The ``[moderation]`` table is invalid."""


@dataclass(frozen=True)
class Moderation:
    """The moderation settings of one campaign."""

    mode: str = "auto"
    spam: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SPAM))
    files: dict[str, str] = field(default_factory=dict)  # list name -> CSV path as written

    def on(self, rule: str) -> bool:
        """Whether the rule with this threshold key is on (a threshold of false turns it off)."""
        v = self.spam.get(rule)
        return v is not False and v is not None and v != []

    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.mode, self.spam], sort_keys=True).encode()).hexdigest()[:16]


def moderation_of(c: Campaign) -> Moderation:
    """The campaign's ``[moderation]`` settings with defaults for what it does not say."""
    raw = c.extra.get("moderation") if isinstance(c.extra, dict) else None
    if raw is None:
        return Moderation()
    if not isinstance(raw, dict):
        raise ModerationError("[moderation] must be a table")
    unknown = set(raw) - {"mode", "spam", "block_accounts", "allow_accounts", "block_words"}
    if unknown:
        raise ModerationError(f"[moderation]: unknown key(s) {', '.join(sorted(unknown))}")
    mode = raw.get("mode", "auto")
    if mode not in MODES:
        raise ModerationError(f"[moderation] mode must be one of {', '.join(MODES)}, not {mode!r}")
    spam = dict(DEFAULT_SPAM)
    given = raw.get("spam", {})
    if not isinstance(given, dict):
        raise ModerationError("[moderation] spam must be a table of thresholds")
    for k, v in given.items():
        if k not in DEFAULT_SPAM:
            raise ModerationError(
                f"[moderation] spam: unknown rule threshold {k!r} (known: {', '.join(DEFAULT_SPAM)})"
            )
        default = DEFAULT_SPAM[k]
        if v is False:
            spam[k] = False
        elif isinstance(default, list):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ModerationError(f"[moderation] spam.{k} must be a list of strings")
            spam[k] = [x.lower().strip() for x in v]
        elif isinstance(v, bool) or not isinstance(v, int | float) or v <= 0:
            raise ModerationError(f"[moderation] spam.{k} must be a positive number or false")
        else:
            spam[k] = v
    files = {k: str(raw[k]) for k in ("block_accounts", "allow_accounts", "block_words") if k in raw}
    return Moderation(mode=mode, spam=spam, files=files)
