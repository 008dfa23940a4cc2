"""A story version as a WACZ package (web archive collection zipped), the format web archives
(Webrecorder's ReplayWeb.page, pywb, national libraries' tools) open.

Each file of the published folder is a WARC ``response`` record (warcio) at
``<base_url><path>``, dated the version's publication time, with a record id derived from its
content (so the WARC is the same bytes for the same version); py-wacz packs the WARC with its
CDX index, ``pages/pages.jsonl`` and ``datapackage.json`` (which ``wacz validate`` checks).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
import uuid
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

__all__ = ["DEFAULT_BASE", "warc_bytes", "write_wacz"]

DEFAULT_BASE = "https://salon.invalid/s/{slug}/"  # .invalid: a name that never resolves (RFC 2606)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
}


def _record_id(url: str, body: bytes) -> str:
    digest = hashlib.sha256(url.encode() + b"\0" + body).digest()[:16]
    return f"<urn:uuid:{uuid.UUID(bytes=digest)}>"


def warc_bytes(data: dict[str, Any], files: dict[str, bytes], base_url: str) -> bytes:
    """The WARC (gzip per record) of a rendered version's folder ``files`` under ``base_url``
    (``data``: the version's story data, for its date, slug and Salon version)."""
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    date = data["published_utc"]
    info = w.create_warcinfo_record(
        "story.warc.gz",
        {"software": f"Salon {data['colophon']['salon_version']}", "format": "WARC File Format 1.1"},
    )
    info.rec_headers.replace_header("WARC-Date", date)
    info.rec_headers.replace_header("WARC-Record-ID", _record_id("warcinfo", data["slug"].encode()))
    w.write_record(info)
    for rel, body in files.items():
        url = base_url + ("" if rel == "index.html" else rel)
        ctype = _TYPES.get(Path(rel).suffix.lower(), "application/octet-stream")
        http = StatusAndHeaders(
            "200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))], protocol="HTTP/1.1"
        )
        rec = w.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": _record_id(url, body)},
        )
        w.write_record(rec)
    return buf.getvalue()


def write_wacz(
    path: Path, data: dict[str, Any], files: dict[str, bytes], *, base_url: str | None = None
) -> None:
    """Write ``path`` (a ``.wacz``) for a rendered version (its story ``data`` and folder
    ``files``); ``base_url`` is where the story is (or would be) online,
    ``https://salon.invalid/s/<slug>/`` by default."""
    from wacz.main import main as wacz_main

    base = (base_url or DEFAULT_BASE).format(slug=data["slug"])
    if not base.endswith("/"):
        base += "/"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="salon-wacz-") as tmp:
        warc = Path(tmp) / f"{data['slug']}.warc.gz"
        warc.write_bytes(warc_bytes(data, files, base))
        out = Path(tmp) / "story.wacz"
        args = [
            "create",
            "-o",
            str(out),
            str(warc),
            "--detect-pages",
            "--url",
            base,
            "--title",
            data["title"],
        ]
        # py-wacz prints its progress on stdout; a library call stays quiet.
        with contextlib.redirect_stdout(io.StringIO()) as said:
            code = wacz_main(args)
        if code not in (0, None) or not out.exists():
            raise RuntimeError(f"wacz create failed: {said.getvalue()[-500:]}")
        tmp_target = path.with_name(f".{path.name}.tmp")
        tmp_target.write_bytes(out.read_bytes())
        tmp_target.replace(path)
