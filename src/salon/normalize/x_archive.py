"""X account archive ``data/tweets.js``: one array element ``{"tweet": {...}}`` per payload (the
file reader strips the ``window.YTD.tweets.part0 = `` prefix). The tweet is a v1.1 status with
numbers written as strings, ``full_text``, ``edit_info`` and no ``user``: every post is the
archive owner's. Retweets are kept as ``RT @handle: ...`` text without the retweeted status, so
they are reposts whose original is unknown (``repost_of_uid`` None).

The owner's account is not in the tweet (it is in ``manifest.js``/``account.js``): it is taken
from the context when the context carries it (an ``account`` Author, or ``account_id`` and
optionally ``account_handle``), else the posts have no author."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from salon.model import Author, Item
from salon.normalize import BadRecord, Context
from salon.normalize.common import as_str
from salon.normalize.x_v1 import status_post

FORMAT = "x-archive"


def sniff(obj: Any) -> bool:
    """A dict whose single key ``tweet`` holds an object with ``id_str`` or ``id``."""
    if not isinstance(obj, dict) or len(obj) != 1:
        return False
    tweet = obj.get("tweet")
    return isinstance(tweet, dict) and ("id_str" in tweet or "id" in tweet)


def archive_owner(ctx: Context) -> Author | None:
    """The archive owner as the context describes it, if it does."""
    account = getattr(ctx, "account", None)
    if isinstance(account, Author):
        return account
    account_id = as_str(getattr(ctx, "account_id", None))
    if account_id is None:
        return None
    handle = as_str(getattr(ctx, "account_handle", None))
    return Author(
        platform="x", native_id=account_id, handle=handle, url=f"https://x.com/{handle}" if handle else None
    )


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """The archived post (a repost when it is a retweet)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("tweet"), dict):
        raise BadRecord('X archive element must be {"tweet": {...}}')
    tweet = obj["tweet"]
    post = status_post(tweet, ctx, author=archive_owner(ctx), context=False)
    if post.text.startswith("RT @"):
        # The archive drops retweeted_status: the original's id and full text are not known.
        post.kind = "repost"
        post.quote_of_uid = None
    yield post
