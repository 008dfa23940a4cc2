"""Where the campaign index and stored campaigns live (the house refactor moves them from
``salon.store`` to ``salon.campaigns``; both places work)."""

from __future__ import annotations

from types import ModuleType

__all__ = ["campaign_index", "stored_campaigns"]


def campaign_index() -> ModuleType:
    try:
        from salon.campaigns import index  # type: ignore[attr-defined]

        return index  # type: ignore[no-any-return]
    except ImportError:
        from salon.store import campaign_index as ci

        return ci


def stored_campaigns() -> ModuleType:
    try:
        from salon.campaigns import stored  # type: ignore[attr-defined]

        return stored  # type: ignore[no-any-return]
    except ImportError:
        from salon.store import campaigns as sc

        return sc
