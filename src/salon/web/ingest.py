"""Writing while serving: the server's ingest endpoints and the file that advertises them.

While ``salon serve`` holds the archive, ``<archive>.serve.json`` (mode 0600) says where it
listens and carries a random token. ``salon import`` on the same archive finds it, reads and
splits the files itself, and streams the raw records here (``salon.web.remote``); the server
checks, normalises and writes them on its writer thread with ``salon.ingest.batches.ingest_batch``,
the path file imports and live collectors share, so the archive ends up exactly as a direct
import would leave it, and live pages update as batches land.

Records travel framed: for each record a JSON header line ``{"n": bytes, "line": int, "hint":
str|null, "error": str|null, "obj": ..., "fid": int}`` then the ``n`` payload bytes and a newline.
``obj`` is sent only when the parse is not the payload's JSON (TAGS CSV rows); otherwise the
server parses the payload again. ``fid`` (the record's file) is sent to ``/imports/{iid}/batch``,
whose batches run across files as a direct import's do: a JSON line first says the files of its
records (``files``: file id -> path, observation time, X archive owner), the ``import_files``
rows to start (``start``: ``[file_id, path, size]``) and to finish (``finish``: ``[file_id,
sha256, format, status, counts]``), all written in the batch's one transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import Response

from salon.campaigns.index import refresh_after_import
from salon.ingest.batches import BatchOutcome, ingest_batch, prepare_batch, write_batch
from salon.model import Author
from salon.sources.files import RawRecord
from salon.store.archive import Archive
from salon.store.batch import Origin, raw_id
from salon.store.writer import Writer
from salon.web import accounts, auth
from salon.web.deps import svc
from salon.web.serverfile import (
    PROBE_TIMEOUT,
    TOKEN_HEADER,
    ServerFile,
    read_server_file,
    remove_server_file,
    server_file_path,
    write_server_file,
)

__all__ = [
    "PROBE_TIMEOUT",
    "TOKEN_HEADER",
    "ServerFile",
    "decode_records",
    "encode_records",
    "outcome_dict",
    "read_server_file",
    "remove_server_file",
    "router",
    "server_file_path",
    "write_server_file",
]

router = APIRouter(prefix="/api/local", include_in_schema=False)
JsonBody = Annotated[dict[str, Any], Body()]


def encode_records(records: list[RawRecord], fids: list[int] | None = None) -> bytes:
    """Frame records for the server (see the module's docstring); ``fids``: each one's file."""
    parts = []
    for i, r in enumerate(records):
        head: dict[str, Any] = {"n": len(r.payload), "line": r.line, "hint": r.hint, "error": r.error}
        if r.error is None and r.hint == "tags-csv":
            head["obj"] = r.obj
        if fids is not None:
            head["fid"] = fids[i]
        parts.append(orjson.dumps(head))
        parts.append(b"\n")
        parts.append(r.payload)
        parts.append(b"\n")
    return b"".join(parts)


def decode_records(body: bytes, fids: list[int] | None = None) -> Iterator[RawRecord]:
    """The records framed in ``body``; ``fids``, when given, receives each one's file."""
    pos = 0
    while pos < len(body):
        nl = body.index(b"\n", pos)
        head = orjson.loads(body[pos:nl])
        if fids is not None:
            fids.append(int(head["fid"]))
        start = nl + 1
        payload = body[start : start + int(head["n"])]
        pos = start + int(head["n"]) + 1
        line, hint, error = int(head.get("line") or 0), head.get("hint"), head.get("error")
        if error is not None:
            yield RawRecord(payload, line, hint=hint, error=error)
        elif "obj" in head:
            yield RawRecord(payload, line, head["obj"], hint)
        else:
            try:
                yield RawRecord(payload, line, orjson.loads(payload), hint)
            except orjson.JSONDecodeError as exc:
                yield RawRecord(payload, line, hint=hint, error=f"malformed JSON: {exc}")


def outcome_dict(o: BatchOutcome) -> dict[str, Any]:
    d = asdict(o)
    d["problems"] = [[p.path, p.line, p.reason] for p in o.problems]
    d["by_file"] = {str(fid): outcome_dict(part) for fid, part in o.by_file.items()}
    return d


def _check(request: Request) -> None:
    """The local token (loopback only) or an API token with the ``ingest`` scope."""
    s = svc(request)
    local = getattr(request.app.state, "local_token", None)
    given = request.headers.get(TOKEN_HEADER, "")
    if given:
        host = request.client.host if request.client else ""
        if local and auth.same(given, local) and host in ("127.0.0.1", "::1", "localhost", "testclient"):
            return
        raise HTTPException(403, "wrong local token")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and "ingest" in auth.token_scopes(s.reader(), header[7:].strip()):
        return
    raise HTTPException(401, "ingest needs the server's local token or an API token with the ingest scope")


@router.get("/ping")
async def ping(request: Request) -> dict[str, Any]:
    """Whether this is the server ``<archive>.serve.json`` advertises (see ``read_server_file``)."""
    _check(request)
    return {"archive": svc(request).path, "pid": os.getpid()}


@router.post("/imports")
async def start_import(request: Request, body: JsonBody) -> dict[str, int]:
    _check(request)
    kind, args = str(body.get("kind", "import")), str(body.get("arguments", ""))
    iid = await svc(request).write(lambda a, w: w.start_import(kind, args))
    return {"import_id": iid}


@router.post("/imports/{iid}/files")
async def start_file(request: Request, iid: int, body: JsonBody) -> dict[str, int]:
    _check(request)
    if not isinstance(body.get("path"), str) or not isinstance(body.get("size", 0), int | None):
        raise HTTPException(400, "a file needs a path (string) and a size (integer)")
    path, size = str(body["path"]), body.get("size")
    fid = await svc(request).write(lambda a, w: w.start_file(iid, path, size))
    return {"file_id": fid}


@router.post("/imports/{iid}/files/{fid}/records")
async def records(request: Request, iid: int, fid: int) -> Response:
    _check(request)
    q = request.query_params
    body = await request.body()
    try:
        recs = list(decode_records(body))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise HTTPException(400, f"bad record framing: {exc}") from None
    try:
        observed = datetime.fromisoformat(q["observed_at"]) if q.get("observed_at") else None
        account = None
        if q.get("account"):
            acc = orjson.loads(q["account"])
            account = Author(
                "x", str(acc["accountId"]), handle=acc.get("userName"), display_name=acc.get("displayName")
            )
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise HTTPException(400, f"bad observed_at or account parameter: {exc}") from None
    out = await svc(request).write(
        lambda a, w: ingest_batch(
            w,
            recs,
            source=q.get("source", "remote"),
            fmt=q.get("format") or None,
            observed_at=observed,
            file_id=fid,
            import_id=iid,
            account=account,
        )
    )
    return Response(orjson.dumps(outcome_dict(out)), media_type="application/json")


@router.post("/imports/{iid}/file-ids")
async def file_ids(request: Request, iid: int, body: JsonBody) -> dict[str, list[int]]:
    """Ids for a remote import's files, drawn at once (``Writer.new_file_ids``)."""
    _check(request)
    n = body.get("n")
    if not isinstance(n, int) or not 0 <= n <= MAX_FILE_IDS:
        raise HTTPException(400, f"n must be an integer from 0 to {MAX_FILE_IDS}")
    return {"file_ids": await svc(request).write(lambda a, w: w.new_file_ids(n), changes=False)}


MAX_FILE_IDS = 10_000_000


@router.post("/imports/{iid}/batch")
async def batch(request: Request, iid: int) -> Response:
    """One batch of a remote import, across files (see the module's docstring): its files'
    rows and its records written in one transaction; the outcome says each file's part."""
    _check(request)
    body = await request.body()
    fids: list[int] = []
    try:
        nl = body.index(b"\n") if body else 0
        head = orjson.loads(body[:nl]) if body else {}
        origins_of = {int(k): _origin(k, f) for k, f in dict(head.get("files") or {}).items()}
        starts = [(int(f), str(p), None if z is None else int(z)) for f, p, z in head.get("start") or []]
        finishes = [
            (int(f), None if h is None else str(h), None if m is None else str(m), str(st), dict(c))
            for f, h, m, st, c in head.get("finish") or []
        ]
        recs = list(decode_records(body[nl + 1 :], fids)) if body else []
        origins = [origins_of[f] for f in fids]
        fmt = head.get("format") or None
    except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError) as exc:
        raise HTTPException(400, f"bad batch: {exc}") from None

    def job(a: Archive, w: Writer) -> BatchOutcome:
        for f, p, z in starts:
            w.queue_file_start(iid, f, p, z)
        for f, h, m, st, c in finishes:
            w.queue_file_finish(f, h, m, st, c)
        ids = [raw_id(r.payload) for r in recs]
        prepared, out = prepare_batch(
            recs,
            ids,
            w.existing_raw_ids(ids),
            source="remote",
            fmt=fmt,
            observed_at=datetime.now(UTC),
            import_id=iid,
            origins=origins,
        )
        return write_batch(w, prepared, out, iid)  # the queued rows go in its transaction

    out = await svc(request).write(job)
    return Response(orjson.dumps(outcome_dict(out)), media_type="application/json")


def _origin(fid: str, f: Any) -> Origin:
    """A file's ``Origin`` as a remote import sends it (``/imports/{iid}/batch``)."""
    acc = f.get("account")
    account = (
        Author("x", str(acc["accountId"]), handle=acc.get("userName"), display_name=acc.get("displayName"))
        if acc
        else None
    )
    return Origin(int(fid), str(f["path"]), datetime.fromisoformat(str(f["observed_at"])), account)


@router.post("/imports/{iid}/files/{fid}/finish")
async def finish_file(request: Request, iid: int, fid: int, body: JsonBody) -> dict[str, bool]:
    _check(request)
    await svc(request).write(
        lambda a, w: w.finish_file(
            fid,
            body.get("sha256"),
            body.get("format"),
            str(body.get("status", "done")),
            body.get("counts", {}),
        )
    )
    return {"ok": True}


@router.post("/imports/{iid}/finish")
async def finish_import(request: Request, iid: int, body: JsonBody) -> dict[str, bool]:
    _check(request)
    status = str(body.get("status", "done"))

    def finish(a: Archive, w: Writer) -> None:
        w.finish_import(iid, status, body.get("counts", {}))
        if status == "done":  # the store knows no campaigns: their indexes are refreshed here
            refresh_after_import(a)

    await svc(request).write(finish)
    return {"ok": True}


@router.post("/admin")
async def admin(request: Request, body: JsonBody) -> Response:
    """``salon users`` and ``salon tokens`` while the server holds the archive (local token only)."""
    if not request.headers.get(TOKEN_HEADER):
        raise HTTPException(401, "local token required")
    _check(request)
    try:
        result = await svc(request).write(lambda a, w: accounts.run(a, body))
    except auth.AuthError as exc:
        return Response(orjson.dumps({"error": str(exc)}), status_code=400, media_type="application/json")
    return Response(orjson.dumps({"result": result}, default=str), media_type="application/json")
