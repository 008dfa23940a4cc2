"""``salon import`` into an archive a running ``salon serve`` holds: read and split the files
here, stream the raw records to the server (``salon.web.ingest``), which writes them. The report
is the same ``ImportReport`` a direct import returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from salon.importer import DEFAULT_BATCH, BatchOutcome, FileReport, ImportReport, Problem, import_arguments
from salon.sources.files import (
    InputFile,
    RawRecord,
    iter_inputs,
    observation_time,
    read_records,
    x_archive_owner,
)
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
    """Like ``salon.importer.import_paths`` but written by the server."""
    report = ImportReport()
    inputs = list(iter_inputs(paths))
    batch = min(batch_size, REMOTE_BATCH)
    args = import_arguments(paths, fmt)
    with _client(server) as c:
        report.import_id = _post(c, "/api/local/imports", json={"kind": "import", "arguments": args})[
            "import_id"
        ]
        status = "done"
        try:
            for inp in inputs:
                if on_file:
                    on_file(inp)
                report.files.append(_file(c, report, inp, fmt, batch, progress))
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
            _post(
                c,
                f"/api/local/imports/{report.import_id}/finish",
                json={"status": status, "counts": report.counts()},
            )
    return report


def _file(
    c: httpx.Client,
    report: ImportReport,
    inp: InputFile,
    fmt: str | None,
    batch: int,
    progress: Callable[[int, int], None] | None,
) -> FileReport:
    fr = FileReport(inp.label)
    iid = report.import_id
    fid = _post(c, f"/api/local/imports/{iid}/files", json={"path": inp.label, "size": inp.size})["file_id"]
    observed = observation_time(inp)
    owner = x_archive_owner(inp)
    params = {"source": inp.label, "observed_at": observed.isoformat()}
    if fmt:
        params["format"] = fmt
    if owner:
        params["account"] = orjson.dumps(owner).decode()
    formats: dict[str, int] = {}
    status, last = "failed", 0
    chunk: list[RawRecord] = []

    def send() -> None:
        nonlocal last
        out = _post(
            c, f"/api/local/imports/{iid}/files/{fid}/records", params=params, content=encode_records(chunk)
        )
        counted = ("records_in", "records_new", "records_duplicate", "records_bad", "posts_new")
        outcome = BatchOutcome(
            **{k: out[k] for k in counted},
            formats=out["formats"],
            problems=[Problem(p, line, reason) for p, line, reason in out["problems"]],
        )
        fr.add(outcome, report.problems, formats)
        if progress:
            progress(inp.bytes_read - last, out["posts_new"])
            last = inp.bytes_read
        chunk.clear()

    try:
        for rec in read_records(inp, fmt):
            chunk.append(rec)
            if len(chunk) >= batch:
                send()
        if chunk:
            send()
        status = "done"
    finally:
        counts = fr.close(inp, report.problems, formats)
        if status == "done" and fr.incomplete:
            status = "incomplete"
        _post(
            c,
            f"/api/local/imports/{iid}/files/{fid}/finish",
            json={"sha256": inp.sha256, "format": fr.format, "status": status, "counts": counts},
        )
    return fr
