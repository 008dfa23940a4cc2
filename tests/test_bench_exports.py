"""The exports bench's GEXF part runs end to end on a small graph (the full bench is not for CI):
Salon's writer and networkx's write the same nodes and edges, and Salon's file is schema-valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_path


def test_gexf_bench_small(needs_shared: Path) -> None:
    pytest.importorskip("networkx")
    pytest.importorskip("lxml")
    shared_path("formats", "gexf", "1.3", "gexf.xsd")
    from bench.exports_bench import bench_gexf

    r = bench_gexf(2000)
    assert r["edges"] == 2000 and r["nodes"] == 200
    assert r["salon_valid"] is True
    assert r["salon_seconds"] > 0 and r["ratio_networkx_over_salon"] > 0
