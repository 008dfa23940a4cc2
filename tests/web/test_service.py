"""The archive service's writer thread: read-only jobs do not cause a refresh."""

from __future__ import annotations

import time
from pathlib import Path

from tests.web.data import SLUG


def test_unknown_tally_does_not_refresh(archive: Path) -> None:
    from salon.web.service import ArchiveService

    svc = ArchiveService(str(archive))
    svc.start()
    try:
        version = svc.version
        svc.cache["page"] = "kept"
        assert svc.tally("nope") is None
        assert svc.tally("nope-again") is None
        # jobs run in order: had the tally jobs marked the archive dirty, their refresh would have
        # run (bumping the version, clearing the cache) before this no-op read finishes
        svc.submit(lambda a, w: None, changes=False).result()
        assert svc.version == version and svc.cache == {"page": "kept"}
        assert svc.tally(SLUG) is not None
        # a job that may write still refreshes (right after it, or within REFRESH_EVERY)
        svc.submit(lambda a, w: None).result()
        deadline = time.monotonic() + 5
        while "page" in svc.cache and time.monotonic() < deadline:  # the refresh's last step
            time.sleep(0.01)
        assert svc.version == version + 1 and svc.cache == {}
    finally:
        svc.close()


def test_refresh_search_counts_what_it_folds(archive: Path) -> None:
    from salon.store.archive import open_archive
    from salon.web.explorer import refresh_search

    arc = open_archive(str(archive))
    try:
        posts = arc.con.execute("SELECT count(*) FROM posts").fetchone()[0]  # type: ignore[index]
        assert posts > 0
        assert refresh_search(arc) == posts
        assert arc.con.execute("SELECT count(*) FROM post_search").fetchone()[0] == posts  # type: ignore[index]
        assert refresh_search(arc) == 0  # nothing new since
    finally:
        arc.close()
