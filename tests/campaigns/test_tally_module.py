"""``salon.campaigns.tally`` exports what it defines, and no longer the per-figure functions
nothing called (``tally`` computes every figure in one pass)."""

from __future__ import annotations

import salon.campaigns.tally as tally_module


def test_all_names_exist() -> None:
    for name in tally_module.__all__:
        assert hasattr(tally_module, name), name


def test_unused_per_figure_functions_are_gone() -> None:
    for name in ("posts", "reposts", "engagement", "participants", "institutions", "countries", "_agg"):
        assert not hasattr(tally_module, name), name
    assert set(tally_module.__all__) == {
        "CampaignNotFound",
        "Scope",
        "resolve_campaign",
        "scan_scope",  # the members computed by any engine (DuckDB, or Spark over Parquet)
        "scope",
        "spam_of_scope",  # the spam part of a scope, by its engine (the archive's, or Spark's)
        "tally",
        "tally_of_scope",
    }
