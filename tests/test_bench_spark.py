"""The Spark bench runs end to end on a tiny synthetic archive (its DuckDB half: Spark's own
figures are checked by tests/test_spark_parity.py), so it cannot rot unseen: the export and
DuckDB's COPY are timed, the tally over the archive equals the tally over the export."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import spark_bench


def test_the_spark_bench_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark_bench, "DATA", tmp_path / "data")
    monkeypatch.setattr(spark_bench, "RESULTS", tmp_path / "results")
    doc = spark_bench.main(["--sizes", "5000", "--engines", "duckdb", "--partition", "month"])
    assert doc is not None
    (r,) = doc["results"]
    assert r["posts"] == 5000 and r["members"] > 0
    assert r["engines_agree"] is True  # the archive's tally equals the one over Parquet
    assert r["export"]["rows"]["posts"] == 5000 and r["export"]["files"] > 0
    assert r["copy"]["seconds"] > 0 and r["export_vs_copy"] > 0
    assert r["duckdb"]["peak_rss_mb"] > 0
    assert list((tmp_path / "results").glob("spark-*.json"))
    assert not list((tmp_path / "data").glob("spark-*"))  # removed without --keep


def test_a_run_cut_short_is_resumed_with_reuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 100M run takes hours: each step's measurement is kept beside the archive as it ends, and
    ``--keep --reuse`` carries those over and runs only the steps missing."""
    monkeypatch.setattr(spark_bench, "DATA", tmp_path / "data")
    monkeypatch.setattr(spark_bench, "RESULTS", tmp_path / "results")
    real = spark_bench._run_child
    ran: list[str] = []
    cut = [True]  # the first run only

    def cut_at_the_tally(kind: str, *a: object) -> dict[str, object]:
        ran.append(kind)
        if kind == "duckdb" and cut:
            cut.clear()
            raise SystemExit("the session ended")
        return real(kind, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(spark_bench, "_run_child", cut_at_the_tally)
    args = ["--sizes", "5000", "--engines", "duckdb", "--partition", "month", "--keep"]
    with pytest.raises(SystemExit, match="session ended"):
        spark_bench.main(args)
    assert ran == ["export", "copy", "duckdb"]
    ran.clear()
    doc = spark_bench.main([*args, "--reuse"])
    assert ran == ["duckdb"], "the build, export and COPY measured before were run again"
    assert doc is not None
    (r,) = doc["results"]
    assert r["resumed"] is True and r["build_s"] > 0
    assert r["export"]["rows"]["posts"] == 5000 and r["export_vs_copy"] > 0
    assert r["engines_agree"] is True
