"""The real X API v2 pages of the docnow twarc-csv test data as a campaign archive: the files,
campaigns over them, and the import. Shared by the tally tests that check figures on a real
corpus (tests/campaigns/test_tally_corpus.py); the Spark parity test can take the same."""

from __future__ import annotations

from pathlib import Path

from salon.importer import import_paths
from tests.conftest import twarc

FILES = ["brexit.jsonl", "kpop.jsonl", "2sets.jsonl"]


def import_twarc(path: Path, files: list[str] = FILES) -> Path:
    """An archive at ``path`` holding ``files`` of the twarc test data (skips without ../shared)."""
    report = import_paths([str(twarc(f)) for f in files], str(path))
    assert report.posts_new > 0
    return path


BREXIT = """
[campaign]
name = "Brexit week"
slug = "brexit-2021"
series = "Politics"
timezone = "Europe/London"
start = 2021-09-14
end = 2021-09-23
hashtags = ["Brexit"]

[[days]]
date = 2021-09-21
theme = "Johnson"
hashtags = ["JohnsonOut", "BorisJohnson"]

[[days]]
date = 2021-09-22
theme = "Liar"
hashtags = ["BorisTheLiar"]
"""

KPOP = """
[campaign]
name = "K-pop days"
slug = "kpop-2021"
timezone = "Asia/Seoul"
start = 2021-09-21
end = 2021-09-23
hashtags = ["kpop", "BLACKPINK"]

[[days]]
date = 2021-09-22
theme = "Lisa"
hashtags = ["LISA", "LALISA"]
"""
