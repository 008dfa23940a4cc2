"""Post ids and URIs per platform, for re-hydration: how X datasets may be shared (X's terms allow
sharing ids, not content), and how anyone re-fetches the public posts that still exist.

``export_ids(arc, DIR)`` writes, for the selected posts, oldest first:
- ``x-ids.txt``: X post ids, one per line (``twarc2 hydrate x-ids.txt out.jsonl``);
- ``mastodon-uris.txt``: Mastodon status URIs (ActivityPub ids; fetch with
  ``Accept: application/activity+json``, or search them on any instance);
- ``bluesky-uris.txt``: Bluesky ``at://`` URIs (``app.bsky.feed.getPosts?uris=...``);
- ``ids.csv``: ``platform,native_id,uri,url,created_at`` for all of them.
A platform with no selected post gets no file. Deleted posts and opted-out authors are left out
(``salon.publish.exports.select``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from salon.publish.exports.select import Filters, selection
from salon.store.archive import Archive

__all__ = ["ID_FILES", "export_ids"]

ID_FILES = {"x": "x-ids.txt", "mastodon": "mastodon-uris.txt", "bluesky": "bluesky-uris.txt"}


def export_ids(
    archive: Archive,
    folder: str | Path,
    *,
    filters: Filters | None = None,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the id files into ``folder`` (created). Returns counts per platform and the files.
    ``on_start`` is called with the posts selected, ``progress`` with each batch written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    handles: dict[str, Any] = {}
    files: list[Path] = []
    with selection(archive, filters) as sel:
        if on_start is not None:
            on_start(sel.count)
        cur = sel.con.execute(
            f"SELECT p.platform, p.native_id, p.uri, p.url, p.created_at FROM {sel.uids} s JOIN posts p ON p.uid = s.uid"
            " ORDER BY p.platform, p.created_at, p.uid"
        )
        csv_path = out / "ids.csv"
        try:
            with open(csv_path, "w", encoding="utf-8", newline="") as table:
                w = csv.writer(table, lineterminator="\n")
                w.writerow(["platform", "native_id", "uri", "url", "created_at"])
                while rows := cur.fetchmany(10_000):
                    for platform, native_id, uri, url, created in rows:
                        if platform not in handles:
                            path = out / ID_FILES[platform]
                            handles[platform] = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
                            files.append(path)
                            counts[platform] = 0
                        handles[platform].write((native_id if platform == "x" else uri or native_id) + "\n")
                        counts[platform] += 1
                        w.writerow(
                            [platform, native_id, uri, url, created.isoformat().replace("+00:00", "Z")]
                        )
                    if progress is not None:
                        progress(len(rows))
        finally:
            for fh in handles.values():
                fh.close()
        files.append(csv_path)
        return {"by_platform": counts, "files": [str(f) for f in files], "left_out": sel.left_out}
