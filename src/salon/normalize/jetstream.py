"""Bluesky Jetstream v1 event lines: ``{"did", "time_us", "kind": "commit" | "identity" |
"account", "commit": {"operation", "collection", "rkey", "record", "cid"}}``.

A post create or update is a Post (its record through ``bluesky.record_to_post``; ``indexed_at``
is the event's ``time_us``, and an update's ``edited_at`` too); a repost create is a repost Post
with empty text, created at the record's ``createdAt``; a post or repost delete is a Tombstone at
``time_us``. An identity event naming a handle (``identity.handle``, as the upstream
``com.atproto.sync.subscribeRepos#identity`` carries it) is an ``Author`` snapshot of the DID
with that handle. Every other event (likes, follows, blocks, profiles, identity events without
a handle, account, other collections) yields nothing: its raw record is still kept by the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from salon.model import Author, Item, Post, Tombstone, make_uid
from salon.normalize import BadRecord, Context
from salon.normalize.bluesky import PLATFORM, POST, REPOST, record_to_post, split_uri
from salon.normalize.common import parse_time

FORMAT = "jetstream"
KINDS = ("commit", "identity", "account")


def sniff(obj: Any) -> bool:
    """A Jetstream event: ``did``, ``time_us`` and a known ``kind``."""
    return isinstance(obj, dict) and "did" in obj and "time_us" in obj and obj.get("kind") in KINDS


def _repost(did: str, uri: str, record: dict[str, Any], seen: Any) -> Post:
    subject = record.get("subject")
    target = subject.get("uri") if isinstance(subject, dict) else None
    if not isinstance(target, str) or split_uri(target) is None:
        raise BadRecord("repost record without an at:// subject uri")
    try:
        created = parse_time(record.get("createdAt"))
    except BadRecord:
        created = None
    return Post(
        platform=PLATFORM,
        native_id=uri,
        created_at=created or seen,
        text="",
        kind="repost",
        author=Author(platform=PLATFORM, native_id=did),
        uri=uri,
        repost_of_uid=make_uid(PLATFORM, target),
        indexed_at=seen,
    )


def identity_author(did: Any, identity: Any) -> Iterator[Author]:
    """The author snapshot an identity event gives: the DID's handle, when it names one (the
    store dates it by the record's retrieval time)."""
    if not isinstance(did, str) or not did.startswith("did:"):
        raise BadRecord(f"Jetstream identity event with a bad did: {did!r}")
    handle = identity.get("handle") if isinstance(identity, dict) else None
    if isinstance(handle, str) and handle:
        yield Author(platform=PLATFORM, native_id=did, handle=handle)


def normalize(obj: Any, ctx: Context) -> Iterator[Item]:
    """Posts, reposts and tombstones of one Jetstream event; an author of an identity event."""
    if not sniff(obj):
        raise BadRecord("not a Jetstream event")
    if obj["kind"] == "identity":
        yield from identity_author(obj.get("did"), obj.get("identity"))
        return
    if obj["kind"] != "commit":
        return
    did, commit = obj["did"], obj.get("commit")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise BadRecord(f"Jetstream event with a bad did: {did!r}")
    if not isinstance(commit, dict):
        raise BadRecord("Jetstream commit event without commit")
    collection, op, rkey = commit.get("collection"), commit.get("operation"), commit.get("rkey")
    if collection not in (POST, REPOST):
        return
    if not isinstance(rkey, str) or not rkey or "/" in rkey:
        raise BadRecord(f"Jetstream {collection} commit with a bad rkey: {rkey!r}")
    time_us = obj.get("time_us")
    if not isinstance(time_us, int) or isinstance(time_us, bool):
        raise BadRecord(f"Jetstream event with a bad time_us: {time_us!r}")
    seen = parse_time(time_us / 1_000_000)
    uri = f"at://{did}/{collection}/{rkey}"
    if op == "delete":
        yield Tombstone(PLATFORM, uri, seen)
        return
    if op not in ("create", "update"):
        raise BadRecord(f"unknown Jetstream operation {op!r}")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise BadRecord(f"Jetstream {op} of {collection} without record")
    if collection == POST:
        yield record_to_post(record, uri, indexed_at=seen, edited_at=seen if op == "update" else None)
    elif op == "create":
        yield _repost(did, uri, record, seen)
    # a repost "update" does not exist in the app; nothing to record beyond the raw event
