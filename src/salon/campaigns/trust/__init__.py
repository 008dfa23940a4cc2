"""Trust and safety rules of a campaign (docs/trust.md), one concern a module:

- ``settings``: the campaign file's ``[moderation]`` table;
- ``spam``: the spam rules, what they hold, the tally's ``spam`` part, editors' review;
- ``lists``: block and allow lists of accounts and words;
- ``moderation``: the wall's modes (``auto`` / ``pre``), approvals and the trash;
- ``consent``: opted-out authors;
- ``posts``: posts an editor hid (one post off every public surface, a chat room's "hide");
- ``visibility``: what a public surface may show (``publicly_visible``) -- the one function
  exports, stories and chats call;
- ``takedown``: deletions on request and account status events at the source;
- ``lookalikes``: accounts imitating registry accounts (UTS #39 skeletons);
- ``verify``: registry verification signals (Bluesky domain handles, Mastodon verified links);
- ``log``: the moderation log (every action with who and when);
- ``pipeline``: ``refresh``, bringing a campaign's derived trust tables up to date.
"""
