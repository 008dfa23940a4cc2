"""Pseudonyms for ``--pseudonymise``: authors and @mentions replaced by salted hashes.

A pseudonym is ``u_`` + the first 16 hex digits of HMAC-SHA256(salt, key). Handles are keyed
case-insensitively (``@Louvre`` in a text and the author ``louvre`` get the same pseudonym) and
account ids by their own value, so a network or a table keeps who talks to whom without saying
who. The salt is random unless given: two exports with the same salt can be joined, with
different salts they cannot. Post ids stay (they are how X datasets are shared), so whoever
re-hydrates them learns the authors again: a pseudonymised export is for sharing analyses, not
for hiding from the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

__all__ = ["Pseudonymiser"]

# @user, @user@instance (Mastodon), @handle.bsky.social (Bluesky): what a mention looks like in text.
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_][A-Za-z0-9_.\-]*(?:@[A-Za-z0-9.\-]+[A-Za-z0-9])?)")


class Pseudonymiser:
    """Salted hashes of handles and account ids (``salt``: text; random when None)."""

    def __init__(self, salt: str | None = None) -> None:
        self.key = (salt if salt is not None else secrets.token_hex(16)).encode()
        self._cache: dict[str, str] = {}

    def _hash(self, value: str) -> str:
        hit = self._cache.get(value)
        if hit is None:
            hit = "u_" + hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:16]
            if len(self._cache) < 1_000_000:
                self._cache[value] = hit
        return hit

    def handle(self, handle: str | None) -> str | None:
        """The pseudonym of a handle (with or without its leading @), case-insensitive."""
        if handle is None or handle == "":
            return handle
        return self._hash("h:" + handle.lstrip("@").lower())

    def account(self, uid: str | None) -> str | None:
        """The pseudonym of an account id (``x:123``, ``bluesky:did:...``, a bare X user id)."""
        if uid is None or uid == "":
            return uid
        return self._hash("a:" + uid)

    def text(self, text: str | None, mentions: Iterable[str] | None = None) -> str | None:
        """``text`` with every @mention replaced by ``@`` + the handle's pseudonym.

        ``mentions``: the post's own mention list. Mastodon writes a mention ``@user`` in the
        text while the list (and the author table) holds the account as ``user@instance``; a
        short mention whose name matches exactly one listed account is keyed as that account,
        so both get the same pseudonym."""
        if not text:
            return text
        full = _full_handles(mentions)

        def sub(m: re.Match[str]) -> str:
            h = m.group(1)
            if "@" not in h:
                h = full.get(h.lower(), h)
            return "@" + str(self.handle(h))

        return MENTION.sub(sub, text)


def _full_handles(mentions: Iterable[str] | None) -> dict[str, str]:
    """{name: user@instance} for the names of ``mentions`` that stand for exactly one account
    with an instance (two ``user@a`` and ``user@b`` in one post: neither, it is ambiguous)."""
    by_name: dict[str, set[str]] = {}
    for m in mentions or ():
        h = m.lstrip("@").lower()
        name, sep, _ = h.partition("@")
        if sep:
            by_name.setdefault(name, set()).add(h)
    return {name: next(iter(v)) for name, v in by_name.items() if len(v) == 1}
