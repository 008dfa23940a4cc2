"""The demo's lookalike account: one invented account imitating a registered institution's
account, as impostors on these platforms do -- its user name reads the same ("rn" for "m", "0"
for "o", as user names must stay ASCII) and its display name is copied, with a Cyrillic "о" in
place of a Latin "o" where it has one (display names may be any Unicode). It posts a few times
in the campaign, so the trust rules (``salon.campaigns.trust.lookalikes``) flag it with the
registry entry it imitates. Everything about it is invented, like the rest of the demo.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from salon.demo.ids import digest
from salon.demo.model import Account

__all__ = ["add_impostor", "lookalike_username"]

_TEXTS = (
    "Official: tickets at half price this week only, book now",
    "We are giving away 50 annual passes, follow us and share",
    "Our new online shop is open, the museum's favourite gifts",
)


def lookalike_username(name: str) -> str:
    """A user name that reads as ``name``: "rn" for "m", else "0" for "o", else "I" for "l",
    else a doubled last letter."""
    for a, b in (("m", "rn"), ("o", "0"), ("l", "I")):
        if a in name:
            return name.replace(a, b, 1)
    return name + name[-1:]


def add_impostor(plan: Any, posts: int = 3) -> Account | None:
    """Add the impostor (role ``public``) and its campaign posts to the plan (a
    ``salon.demo.plan.Planner``); None when no active institution has an account on an allowed
    platform to imitate."""
    allowed = [p for p in ("mastodon", "x") if p in plan.cfg.platforms]
    target = next(
        (a for p in allowed for i in plan.active for a in i.accounts if a.platform == p),
        None,
    )
    if target is None:
        return None
    inst = target.institution
    display = target.display_name.replace("o", "\u043e", 1)  # Cyrillic small o: looks the same
    n = int.from_bytes(digest("impostor", target.native_id)[:7], "big")
    acc = Account(
        target.platform,
        lookalike_username(target.username),
        display,
        str(n),
        "public",
        target.lang,
        target.tz,
        target.created_at.replace(year=max(target.created_at.year, plan.cfg.start.year - 1)),
        plan.rng.randrange(5, 80),
        plan.rng.randrange(100, 900),
        plan.rng.randrange(10, 60),
        target.bio,
        target.host,
        None,
        target.location,
        None,
        True,
        target.country,
    )
    plan.world.public.append(acc)
    for k in range(posts):
        day = plan.pick_day()
        created = plan.local_time(acc, day) + timedelta(minutes=7 * k)
        tags = plan.official_pieces(day, mw=1.0, theme_p=0.5)
        p = plan.new_post(acc.platform, acc, "original", created, "en")
        p.pieces = plan.compose(_TEXTS[k % len(_TEXTS)] + (f" ({inst.name})" if inst else ""), tags)
        p.media = []
        p.theme = day
    return acc
