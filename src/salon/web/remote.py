"""``salon import`` into an archive a running ``salon serve`` holds: read and split the files
here, stream the raw records to the server (``salon.web.ingest``), which writes them. The report
is the same ``ImportReport`` a direct import returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from salon.importer import DEFAULT_BATCH, BatchOutcome, ImportFiles, ImportReport, Problem, import_arguments
from salon.ingest.pipeline import file_chunks
from salon.sources.files import InputFile, RawRecord, iter_inputs
from salon.store.batch import Origin
from salon.web.ingest import TOKEN_HEADER, ServerFile, encode_records

__all__ = ["RemoteError", "remote_admin", "remote_import", "remote_read"]

# Records per request: small enough that live pages update often during a large import.
REMOTE_BATCH = 5_000


class RemoteError(RuntimeError):
    """The server refused or failed a request."""


def _client(server: ServerFile) -> httpx.Client:
    return httpx.Client(
        base_url=server["url"], headers={TOKEN_HEADER: server["token"]}, timeout=600, trust_env=False
    )


def _post(c: httpx.Client, url: str, **kw: Any) -> Any:
    r = c.post(url, **kw)
    if r.status_code >= 400:
        raise RemoteError(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
    return r.json()


def remote_admin(server: ServerFile, op: dict[str, Any]) -> Any:
    """Run an account operation (``salon.web.accounts``) on the server."""
    with _client(server) as c:
        r = c.post("/api/local/admin", json=op)
        body = r.json()
        if r.status_code >= 400:
            raise RemoteError(body.get("error") or body.get("detail") or r.text)
        return body["result"]


def remote_read(server: ServerFile, op: dict[str, Any]) -> Any:
    """``salon info``, ``salon tally`` or ``salon sql`` answered by the server
    (``salon.web.served``); its refusal (a bad query, an unknown campaign) raises RemoteError."""
    with _client(server) as c:
        r = c.post("/api/local/read", json=op)
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code >= 400:
            raise RemoteError(body.get("error") or body.get("detail") or f"HTTP {r.status_code}")
        return body


def remote_import(
    paths: list[str],
    server: ServerFile,
    *,
    fmt: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
    on_file: Callable[[InputFile], None] | None = None,
) -> ImportReport:
    """Like ``salon.importer.import_paths`` but written by the server: batches run across files
    (``salon.ingest.pipeline.file_chunks``), one request and one transaction each, each record
    with its own file and line, each file's row sent with its first batch."""
    report = ImportReport()
    inputs = list(iter_inputs(paths))
    batch = min(batch_size, REMOTE_BATCH)
    args = import_arguments(paths, fmt)
    with _client(server) as c:
        report.import_id = _post(c, "/api/local/imports", json={"kind": "import", "arguments": args})[
            "import_id"
        ]
        sink = _Sink(c, report.import_id, fmt)
        files = ImportFiles(sink, report, inputs, on_file)
        status = "done"
        try:
            _send_all(sink, files, fmt, batch, progress)
            report.files = files.reports()
            if report.incomplete:
                status = "incomplete"
        except KeyboardInterrupt:
            status = "interrupted"
            report.interrupted = True
            raise
        except BaseException:
            status = "failed"
            raise
        finally:
            if status not in ("done", "incomplete"):
                files.stopped(status)
            report.files = files.reports()
            try:
                sink.send([], [])  # the last files' rows
            finally:
                _post(
                    c,
                    f"/api/local/imports/{report.import_id}/finish",
                    json={"status": status, "counts": report.counts()},
                )
    return report


def _send_all(
    sink: _Sink, files: ImportFiles, fmt: str | None, batch: int, progress: Callable[[int, int], None] | None
) -> None:
    chunks = file_chunks(
        files.inputs,
        files.origins(),
        fmt=fmt,
        fast=False,
        size=batch,
        batch_bytes=None,
        reading=files.reading,
    )
    last = 0
    for chunk in chunks:
        for idx in chunk.started:
            files.start(idx)
        out = sink.send(chunk.records, chunk.origins)
        files.add(out)
        for idx in chunk.ended:
            files.end(idx)
        if progress:
            done = files.read_bytes()
            progress(done - last, out.posts_new)
            last = done


class _Sink:
    """The server side of a remote import's bookkeeping (``salon.importer.FileSink``): file ids
    drawn by the server, rows queued here and sent with the next batch."""

    def __init__(self, c: httpx.Client, import_id: int, fmt: str | None) -> None:
        self.c = c
        self.iid = import_id
        self.fmt = fmt
        self.starts: list[list[Any]] = []
        self.finishes: list[list[Any]] = []
        self.owners: dict[int, Any] = {}

    def new_file_ids(self, n: int) -> list[int]:
        ids: list[int] = _post(self.c, f"/api/local/imports/{self.iid}/file-ids", json={"n": n})["file_ids"]
        return ids

    def queue_file_start(self, import_id: int, file_id: int, path: str, size: int | None) -> None:
        self.starts.append([file_id, path, size])

    def queue_file_finish(
        self, file_id: int, sha256: str | None, fmt: str | None, status: str, counts: dict[str, int]
    ) -> None:
        self.finishes.append([file_id, sha256, fmt, status, counts])

    def send(self, records: list[RawRecord], origins: list[Origin]) -> BatchOutcome:
        """Write one batch (and the queued rows) through the server; what it did, by file."""
        if not (records or self.starts or self.finishes):
            return BatchOutcome()
        files: dict[str, Any] = {}
        for o in origins:
            if str(o.file_id) not in files:
                owner = o.account
                files[str(o.file_id)] = {
                    "path": o.source,
                    "observed_at": o.observed_at.isoformat(),
                    "account": None
                    if owner is None
                    else {
                        "accountId": owner.native_id,
                        "userName": owner.handle,
                        "displayName": owner.display_name,
                    },
                }
        head = {"files": files, "start": self.starts, "finish": self.finishes, "format": self.fmt}
        fids = [int(o.file_id) for o in origins]  # type: ignore[arg-type]
        body = orjson.dumps(head) + b"\n" + encode_records(records, fids)
        out = _post(self.c, f"/api/local/imports/{self.iid}/batch", content=body)
        self.starts, self.finishes = [], []
        return _outcome(out)


def _outcome(d: dict[str, Any]) -> BatchOutcome:
    counted = ("records_in", "records_new", "records_duplicate", "records_bad", "posts_new")
    return BatchOutcome(
        **{k: d[k] for k in counted},
        formats=d["formats"],
        problems=[Problem(p, line, reason) for p, line, reason in d["problems"]],
        by_file={int(k): _outcome(v) for k, v in (d.get("by_file") or {}).items()},
    )
