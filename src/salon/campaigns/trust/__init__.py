"""Trust and safety rules of a campaign (docs/trust.md), one concern a module:

- ``settings``: the campaign file's ``[moderation]`` table;
- ``spam``: the spam rules, what they hold, the tally's ``spam`` part, editors' review;
- ``lists``: block and allow lists of accounts and words;
- ``moderation``: the wall's modes (``auto`` / ``pre``), approvals and the trash;
- ``consent``: opted-out authors;
- ``visibility``: what a public surface may show (``publicly_visible``) -- the one function
  exports, stories and chats call;
- ``takedown``: deletions on request and account status events at the source;
- ``lookalikes``: accounts imitating registry accounts (UTS #39 skeletons);
- ``verify``: registry verification signals (Bluesky domain handles, Mastodon verified links);
- ``log``: the moderation log (every action with who and when).
"""

from __future__ import annotations

from salon.campaigns.config import Campaign
from salon.campaigns.trust._compat import campaign_index
from salon.store.archive import Archive

__all__ = ["refresh"]


def refresh(archive: Archive, c: Campaign) -> None:
    """Bring stored campaign ``c`` up to date: account events at the source first (they may
    tombstone posts), then the campaign index, then the spam verdicts."""
    from salon.campaigns.trust import lookalikes, spam, takedown

    if c.campaign_id is None or archive.read_only:
        return
    takedown.scan_account_events(archive)
    campaign_index().refresh(archive, c)
    if spam.refresh(archive, c):  # the members, settings or decisions changed
        lookalikes.refresh(archive, c)
