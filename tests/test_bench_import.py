"""The import benchmark runs end to end on a tiny generated file (the real one, 900 MB, stays out
of CI): Salon, the scan and the three parts of the floor are measured and reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import import_bench


def test_the_import_bench_measures_salon_the_scan_and_the_floor(
    needs_shared: Path,  # the bench's generator copies the twarc pages of ../shared
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(import_bench, "DATA", tmp_path / "data")
    monkeypatch.setattr(import_bench, "RESULTS", tmp_path / "results")
    r = import_bench.main(["--size-mb", "1", "--skip-peer"])

    salon, floor = r["salon"], r["floor"]
    assert salon["records_bad"] == 0 and salon["tables"]["posts"] > 0
    # The write part copied every row Salon stored, through the archive's own tables.
    copied = floor["rows_written_by_table"]
    assert {t: copied[t] for t in salon["tables"] if t != "data_posts"} == {
        t: n for t, n in salon["tables"].items() if t != "data_posts"
    }
    assert copied["imports"] == copied["import_files"] == 1 and copied["author_snapshots"] > 0
    assert floor["rows_written"] == sum(copied.values())
    assert floor["data_tweets_parsed"] > 0 and floor["raw_bytes_compressed"] > 0
    parts = ("parse_seconds_one_thread", "keep_seconds_one_thread", "write_seconds_one_thread")
    assert all(floor[p] > 0 for p in parts)
    cpus = r["machine"]["cpus"]
    assert floor["seconds_on_all_cpus"] == pytest.approx(sum(floor[p] for p in parts) / cpus)
    ra = r["ratios"]
    assert ra["floor_time_over_scan_time"] == pytest.approx(
        floor["seconds_on_all_cpus"] / r["duckdb_scan"]["seconds"]
    )
    assert ra["salon_time_over_floor_time"] == pytest.approx(salon["seconds"] / floor["seconds_on_all_cpus"])

    # The JSON written is the result returned; the archives made on the way are gone.
    (written,) = (tmp_path / "results").glob("import-*.json")
    assert json.loads(written.read_text())["floor"] == floor
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["x-v2-1mb.jsonl", "x-v2-1mb.meta.json"]
    out = capsys.readouterr().out
    assert "floor (parse" in out and "salon time / scan time" in out
