"""The ``[sources.*]`` tables of a campaign file (DESIGN.md, Campaign file), as dataclasses.

Every URL can point elsewhere (a test server, a self-hosted Jetstream). Options beyond the
design's example, all optional::

    [sources.mastodon]
    instances = ["https://mastodon.social"]
    token_env = "SALON_MASTODON_TOKEN"   # streaming needs it; REST tag timelines do not
    streaming = true                      # default: true when a token is available
    stream_transport = "websocket"        # one WebSocket per instance; "sse": one SSE stream per hashtag
                                          # (a server without WebSocket streaming falls back to SSE)
    streaming_url = "wss://streaming.example.social"  # when the streaming API is not on the instance's host
    poll_seconds = 60                     # REST tag timeline polling interval
    stall_seconds = 90                    # a stream silent this long (no heartbeat either) is reopened

    [sources.bluesky]
    jetstream = "wss://jetstream2.us-east.bsky.network"   # a host; a /subscribe path picks that endpoint
    endpoint = "subscribeEvents"          # or "subscribe" (legacy); a 404 switches to the other
    compress = false                      # zstd frames, dictionary fetched from the server (salon.collect.jetstream)
    zstd_dictionary = "legacy.zdict"      # /subscribe only: the legacy dictionary when the server does not hand it out
    overlap_seconds = 5                   # replay this much before the saved cursor on resume
    replay_window_hours = 24              # what the server still replays: older gaps stay partial
    stall_seconds = 60                    # a connection silent this long is reopened
    appview = "https://api.bsky.app"      # searchPosts backfill (needs a login)
    auth_service = "https://bsky.social"  # where com.atproto.server.createSession goes
    handle_env = "SALON_BSKY_HANDLE"
    password_env = "SALON_BSKY_APP_PASSWORD"
    profiles = "https://public.api.bsky.app"  # names of DIDs by getProfiles, 25 per call ("" = off)
    profiles_seconds = 30                 # how often unnamed authors are looked up
    profiles_refresh_hours = 24           # names older than this are looked up again

    [sources.x]
    api = "https://api.x.com"
    token_env = "SALON_X_BEARER_TOKEN"
    stream = true                         # filtered stream; recent search always runs
    poll_seconds = 60
    stall_seconds = 60                    # a stream silent this long (X sends a heartbeat every 20 s) is reopened
    search_path = "/2/tweets/search/recent"   # or /2/tweets/search/all (full-archive access)
    search_days = 7                       # how far back that endpoint reaches
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salon.campaigns.config import Campaign

__all__ = ["BlueskyConfig", "MastodonConfig", "Sources", "XConfig", "sources_of"]


@dataclass
class MastodonConfig:
    instances: list[str]
    token_env: str | None = "SALON_MASTODON_TOKEN"
    streaming: bool | None = None
    stream_transport: str = "websocket"  # or "sse": server-sent events, one stream per hashtag
    streaming_url: str | None = None  # the WebSocket streaming base, when not the instance's own
    poll_seconds: float = 60.0
    stall_seconds: float = 90.0
    limit: int = 40


@dataclass
class BlueskyConfig:
    jetstream: str | None = "wss://jetstream2.us-east.bsky.network"
    endpoint: str | None = None  # "subscribeEvents" (default) or "subscribe"; see collect.jetstream
    compress: bool = False
    zstd_dictionary: str | None = None
    overlap_seconds: float = 5.0
    # How far back the Jetstream server replays (its retention, hours to days): a gap older than
    # this is not covered by the cursor replay. 24 h is below the public instances' retention.
    replay_window_hours: float = 24.0
    stall_seconds: float = 60.0
    appview: str | None = "https://api.bsky.app"
    auth_service: str = "https://bsky.social"
    handle_env: str | None = "SALON_BSKY_HANDLE"
    password_env: str | None = "SALON_BSKY_APP_PASSWORD"
    batch_events: int = 2000
    batch_seconds: float = 0.2
    # Names of the Bluesky authors by app.bsky.actor.getProfiles (salon.collect.profiles); "": off
    profiles: str | None = "https://public.api.bsky.app"
    profiles_seconds: float = 30.0
    profiles_refresh_hours: float = 24.0
    profiles_per_round: int = 250


@dataclass
class XConfig:
    api: str = "https://api.x.com"
    token_env: str | None = "SALON_X_BEARER_TOKEN"
    stream: bool = True
    search: bool = True
    poll_seconds: float = 60.0
    stall_seconds: float = 60.0
    search_path: str = "/2/tweets/search/recent"
    search_days: float = 7.0


@dataclass
class Sources:
    mastodon: MastodonConfig | None = None
    bluesky: BlueskyConfig | None = None
    x: XConfig | None = None
    problems: list[str] = field(default_factory=list)

    def names(self) -> list[str]:
        return [n for n in ("mastodon", "bluesky", "x") if getattr(self, n) is not None]


def _take(cls: type[Any], table: dict[str, Any], section: str, problems: list[str]) -> Any:
    fields = cls.__dataclass_fields__
    known = {k: v for k, v in table.items() if k in fields}
    for k in table:
        if k not in fields:
            problems.append(f"[sources.{section}] unknown key {k!r} (ignored)")
    try:
        return cls(**known)
    except TypeError as exc:
        problems.append(f"[sources.{section}] {exc}")
        return None


def sources_of(campaign: Campaign) -> Sources:
    """The campaign's sources (``Campaign.extra["sources"]``); relative paths are resolved
    against the campaign file's folder."""
    out = Sources()
    table = campaign.extra.get("sources") or {}
    if not isinstance(table, dict):
        out.problems.append("[sources] must be a table")
        return out
    base = Path(campaign.path).parent if campaign.path else Path(".")
    m = table.get("mastodon")
    if isinstance(m, dict):
        cfg = _take(MastodonConfig, {"instances": [], **m}, "mastodon", out.problems)
        if cfg is not None:
            cfg.instances = [str(i).rstrip("/") for i in cfg.instances]
            if not all("://" in i for i in cfg.instances):
                out.problems.append("[sources.mastodon] instances must be URLs like https://mastodon.social")
            out.mastodon = cfg
    b = table.get("bluesky")
    if isinstance(b, dict):
        cfg = _take(BlueskyConfig, b, "bluesky", out.problems)
        if cfg is not None and cfg.zstd_dictionary:
            cfg.zstd_dictionary = str(base / cfg.zstd_dictionary)
        out.bluesky = cfg
    x = table.get("x")
    if isinstance(x, dict):
        out.x = _take(XConfig, x, "x", out.problems)
    for k in table:
        if k not in ("mastodon", "bluesky", "x"):
            out.problems.append(f"[sources.{k}]: unknown source (known: mastodon, bluesky, x)")
    return out
