"""The stored form of a Mastodon status or streaming event, shared by the REST, server-sent
events and WebSocket paths (``salon.collect.mastodon``, ``salon.collect.mastodon_ws``)::

    {"instance": "<serving host>", "event": "update" | "status.update" | "delete",
     "payload": "<the status JSON text, or the deleted id, exactly as received>"}
"""

from __future__ import annotations

import orjson

__all__ = ["envelope"]


def envelope(instance: str, event: str, payload: str) -> bytes:
    """The stored form of a status or streaming event (see ``salon.collect.mastodon``)."""
    return orjson.dumps({"instance": instance, "event": event, "payload": payload})
