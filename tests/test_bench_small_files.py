"""The many-small-files benchmark runs end to end on a few files (5,000 stay out of CI): both
imports measured, the same rows in both archives, the ratio reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import small_files_bench


def test_the_small_files_bench_compares_a_folder_with_one_file(
    needs_shared: Path,  # the x records come from the twarc corpus of ../shared
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(small_files_bench, "DATA", tmp_path / "data")
    monkeypatch.setattr(small_files_bench, "RESULTS", tmp_path / "results")
    r = small_files_bench.main(["--files", "30"])
    assert r["same_counts"], (r["folder"]["tables"], r["one_file"]["tables"])
    assert r["folder"]["files"] == 30 and r["one_file"]["files"] == 1
    assert r["folder"]["records_new"] == r["one_file"]["records_new"] == 30
    assert r["folder"]["tables"]["import_files"] == 30
    assert r["ratio"] == pytest.approx(r["folder"]["seconds"] / r["one_file"]["seconds"])
    assert len(list((tmp_path / "results").glob("small-files-*.json"))) == 1
