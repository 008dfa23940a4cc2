"""Reading a served archive: ``salon info``, ``salon tally`` and ``salon sql`` while ``salon
serve`` holds the archive (DuckDB lets one process open it) are answered here, with the same
library functions a direct run calls, so both give the same figures (``salon.web.remote``
sends the requests; the local token of ``<archive>.serve.json`` guards them)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import Response

from salon.campaigns.config import CampaignError
from salon.campaigns.tally import CampaignNotFound, resolve_campaign, tally
from salon.info import archive_info
from salon.store.query import QueryError, read_query
from salon.web.deps import svc
from salon.web.ingest import TOKEN_HEADER, _check

__all__ = ["parse_at", "router"]

router = APIRouter(prefix="/api/local", include_in_schema=False)


def parse_at(value: str, tz: Any) -> datetime:
    """``--at``: an ISO time, in the campaign's zone ``tz`` when it has no offset."""
    d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return d if d.tzinfo is not None else d.replace(tzinfo=tz)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status, media_type="application/json")


@router.post("/read")
async def read(request: Request, body: Annotated[dict[str, Any], Body()]) -> Response:
    """``{"op": "info", "top": n}``, ``{"op": "sql", "query": q}`` or ``{"op": "tally",
    "campaign": slug-or-file, "at": iso|null, "basis": ..., "top": n}``; errors come back as
    ``{"error": message}`` with status 400."""
    if not request.headers.get(TOKEN_HEADER):
        raise HTTPException(401, "local token required")
    _check(request)
    s = svc(request)
    op = body.get("op")
    if op == "info":
        top = int(body.get("top", 10))
        return _json(await asyncio.to_thread(lambda: archive_info(s.reader(), top=top)))
    if op == "sql":
        query = str(body.get("query", ""))
        try:
            names, rows = await asyncio.to_thread(lambda: read_query(s.reader().con, query))
        except QueryError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"names": names, "rows": rows})
    if op == "tally":
        return await _tally(s, body)
    raise HTTPException(400, f"unknown op {op!r}")


async def _tally(s: Any, body: dict[str, Any]) -> Response:
    def run(arc: Any, _w: Any) -> dict[str, Any]:
        c = resolve_campaign(arc, str(body["campaign"]))
        at = parse_at(str(body["at"]), c.tz) if body.get("at") else None
        return tally(arc, c, at, basis=str(body.get("basis", "created")), top=int(body.get("top", 10)))

    try:
        return _json(await s.write(run, changes=False))
    except CampaignNotFound as exc:
        return _json({"error": str(exc)}, 400)
    except CampaignError as exc:
        return _json({"error": "; ".join(str(i) for i in exc.issues)}, 400)
    except ValueError as exc:
        return _json({"error": f"--at: {exc}"}, 400)
