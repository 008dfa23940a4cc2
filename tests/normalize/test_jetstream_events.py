"""The ``jetstream-events`` normaliser (subscribeEvents frames) on the recorded Jetstream events
of ../shared, each wrapped as the lexicon's message frame: it reads exactly what the v1 event says;
identity events naming a handle are author snapshots; helpers of the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest

from salon.collect import jetstream_wire as wire
from salon.model import Author
from salon.normalize import BadRecord, Context, normalize, sniff
from tests.collect.jetstream_server import FIRST_SEQ, xrpc_frame
from tests.conftest import corpus_path

EVENTS = ("bluesky-jetstream", "internal", "corpus", "testdata", "expected_v1.jsonl")


def recorded() -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in corpus_path(*EVENTS).read_text("utf-8").splitlines() if ln.strip()]


def test_every_frame_reads_as_its_v1_event(needs_shared: object) -> None:
    for i, ev in enumerate(recorded()):
        frame = json.loads(xrpc_frame(ev, FIRST_SEQ + i))
        assert sniff(frame) == "jetstream-events" and sniff(ev) == "jetstream"
        assert list(normalize(frame, Context())) == list(normalize(ev, Context()))
        parsed = wire.parse_event(frame)
        assert (parsed.kind, parsed.did, parsed.seq, parsed.time_us) == (
            ev["kind"],
            ev["did"],
            FIRST_SEQ + i,
            ev["time_us"],
        )
        if ev["kind"] == "commit":
            c = ev["commit"]
            assert (parsed.collection, parsed.operation, parsed.rkey) == (
                c["collection"],
                c["operation"],
                c["rkey"],
            )


def test_identity_with_a_handle_is_an_author_snapshot(needs_shared: object) -> None:
    ident = next(e for e in recorded() if e["kind"] == "identity")
    assert list(normalize(ident, Context())) == []  # the recorded one names no handle
    # subscribeRepos#identity carries the new handle in ``handle`` when there is one
    ident["identity"]["handle"] = "museum.example.org"
    want = [Author(platform="bluesky", native_id=ident["did"], handle="museum.example.org")]
    assert list(normalize(ident, Context())) == want
    assert list(normalize(json.loads(xrpc_frame(ident, FIRST_SEQ)), Context())) == want


def test_info_error_and_broken_frames() -> None:
    info = {"$type": "message", "payload": {"$type": f"{wire.NSID_EVENTS}#info", "name": "OutdatedCursor"}}
    assert sniff(info) == "jetstream-events" and list(normalize(info, Context())) == []
    assert wire.parse_event(info).kind == "info" and wire.parse_event(info).name == "OutdatedCursor"
    err = wire.parse_event({"$type": "error", "error": "ConsumerTooSlow", "message": "m"})
    assert (err.kind, err.name, err.message) == ("error", "ConsumerTooSlow", "m")
    no_time = {"$type": "message", "payload": {"$type": f"{wire.NSID_EVENTS}#commit", "did": "did:plc:x"}}
    with pytest.raises(BadRecord):
        list(normalize(no_time, Context()))


def test_endpoint_of_urls_and_dictionary_ids(needs_shared: object) -> None:
    assert wire.endpoint_of("wss://h.example", None) == ("wss://h.example", "subscribeEvents")
    assert wire.endpoint_of("wss://h.example/subscribe", None) == ("wss://h.example", "subscribe")
    assert wire.endpoint_of("wss://h.example/subscribe", "subscribeEvents") == (
        "wss://h.example",
        "subscribeEvents",
    )
    url = "wss://h.example/xrpc/network.bsky.jetstream.subscribeEvents"
    assert wire.endpoint_of(url, None) == ("wss://h.example", "subscribeEvents")
    with pytest.raises(ValueError):
        wire.endpoint_of("wss://h.example", "firehose")
    folder = corpus_path("bluesky-jetstream", "dictionaries")
    # the ids PROVENANCE.md gives, read from the dictionaries themselves
    assert wire.dictionary_id((folder / "legacy_subscribe.zdict").read_bytes()) == 1612007021
    assert wire.dictionary_id((folder / "subscribe_events_20260811.zdict").read_bytes()) == 20260811
    assert wire.dictionary_id(b"{not a dictionary}") is None
    assert wire.time_us_of("2026-05-25T14:23:29.132431Z") == 1779719009132431
