"""The plan written in the platforms' own formats, each payload built with the field set and
nesting of the real payloads in ``shared/corpora`` (``tests/test_demo_generator.py`` checks it),
one module per platform:

- ``x``: X API v2 search pages as twarc2 writes them (``data``, ``includes.users``/``tweets``/
  ``media``, ``meta``, ``__twarc``), and compliance-job lines for deleted tweets; entity offsets
  in code points;
- ``mastodon``: Mastodon statuses (REST entities) as one server (``mastodon.social``) serves
  them: federated statuses carry that server's ids, their origin's uri and url;
- ``bluesky``: Bluesky Jetstream commit events (post and repost creates, post deletes); facet
  offsets in UTF-8 bytes, record keys in the order Jetstream writes them.
"""
