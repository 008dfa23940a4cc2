"""Normalisers: pure functions from one parsed raw payload to posts, authors and tombstones.

Each format lives in its own module exposing::

    FORMAT: str                                   # the name users pass to --format
    def sniff(obj: Any) -> bool                   # does this parsed payload look like mine?
    def normalize(obj: Any, ctx: Context) -> Iterator[Item]

No I/O happens here: the store and the sources call these, and the tests call them on the real
payloads in ``../shared/corpora``. A payload that is of the right format but unusable raises
``BadRecord`` with a reason; the importer quarantines it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

from salon.model import Author, Item

__all__ = ["FORMAT_MODULES", "BadRecord", "Context", "formats", "get", "normalize", "sniff"]


class BadRecord(ValueError):
    """A payload of a known format that cannot be normalised (the reason says why)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What a normaliser may know besides the payload itself."""

    # When the payload was retrieved, if the file itself does not say (file mtime, request time).
    observed_at: datetime | None = None
    # The account an X account archive belongs to (from its manifest.js): its tweets' author.
    account: Author | None = None


Normalizer = Callable[[Any, Context], Iterator[Item]]

# Order matters for sniffing: the most specific shapes first.
FORMAT_MODULES: tuple[str, ...] = (
    "x_v2",
    "x_archive",
    "gnip",
    "x_v1",
    "mastodon",
    "jetstream",
    "jetstream_events",
    "bluesky",
    "zeeschuimer",
    "tags_csv",
)

_loaded: dict[str, ModuleType] | None = None


def _modules() -> dict[str, ModuleType]:
    global _loaded
    if _loaded is None:
        mods: dict[str, ModuleType] = {}
        for name in FORMAT_MODULES:
            mod = importlib.import_module(f"salon.normalize.{name}")
            mods[mod.FORMAT] = mod
        _loaded = mods
    return _loaded


def formats() -> list[str]:
    """Names of every format Salon reads (what ``--format`` accepts)."""
    return list(_modules())


_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)
_checked: dict[str, Normalizer] = {}


def _checked_normalizer(fn: Normalizer) -> Normalizer:
    def run(obj: Any, ctx: Context) -> Iterator[Item]:
        try:
            yield from fn(obj, ctx)
        except BadRecord:
            raise
        except _SHAPE_ERRORS as exc:
            # A payload whose shape surprises a normaliser is a bad record (quarantined), never a
            # crash: said once here for every format rather than in each normaliser.
            raise BadRecord(f"unexpected record shape ({type(exc).__name__}: {exc})") from exc

    return run


def get(fmt: str) -> Normalizer:
    """The normaliser of format ``fmt``; it raises nothing but ``BadRecord`` on bad payloads.
    ``KeyError`` names the known formats."""
    if fmt not in _checked:
        try:
            fn = _modules()[fmt].normalize
        except KeyError:
            raise KeyError(f"unknown format {fmt!r}; known: {', '.join(formats())}") from None
        _checked[fmt] = _checked_normalizer(fn)
    return _checked[fmt]


def sniff(obj: Any) -> str | None:
    """The format of a parsed payload, or None when no normaliser recognises it."""
    for fmt, mod in _modules().items():
        if mod.sniff(obj):
            return fmt
    return None


def normalize(obj: Any, ctx: Context | None = None, fmt: str | None = None) -> Iterator[Item]:
    """Normalise one payload, sniffing its format unless ``fmt`` is given."""
    fmt = fmt or sniff(obj)
    if fmt is None:
        raise BadRecord("unknown format: no normaliser recognises this record")
    return get(fmt)(obj, ctx or Context())
