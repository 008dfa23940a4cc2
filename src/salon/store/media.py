"""The content-addressed media store: fetched images, video posters (and, later, avatars) kept
once each under their SHA-256, in a folder beside the archive (``<archive>.media/ab/abcdef...``).

``media_files`` maps each remote URL to its digest; ``salon.collect.media`` fills both. Stories
read them through ``MediaStore.lookup``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salon.store import stories as db
from salon.store.archive import Archive

__all__ = ["EXTENSIONS", "MediaStore", "media_dir"]

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/svg+xml": "svg",
}


def media_dir(archive_path: str) -> Path:
    """``$SALON_MEDIA`` or ``<archive>.media`` (beside the archive file)."""
    env = os.environ.get("SALON_MEDIA")
    return Path(env) if env else Path(str(archive_path) + ".media")


@dataclass
class MediaStore:
    root: Path

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def lookup(self, arc: Archive, urls: list[str]) -> dict[str, dict[str, Any]]:
        """``{url: {"sha256", "mime", "ext", "path"}}`` for each of ``urls`` fetched and still
        in the store (a file removed by hand counts as not fetched)."""
        out = {}
        for r in db.media_rows(arc, sorted({u for u in urls if u})):
            if r["status"] == "done" and r["sha256"] and self.has(r["sha256"]):
                mime = r["mime"] or "application/octet-stream"
                out[r["url"]] = {
                    "sha256": r["sha256"],
                    "mime": mime,
                    "ext": EXTENSIONS.get(mime, "bin"),
                    "path": str(self.path(r["sha256"])),
                }
        return out
