"""``salon tally``, ``salon compare`` and ``salon chat stats`` over a Parquet export (``--parquet
DIR``), on DuckDB or on Spark (``--engine spark``): the figures of ``salon.campaigns.spark`` and
``salon.campaigns.spark_chats``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from salon.commands.common import err
from salon.commands.common import fail as _fail

__all__ = ["chat_stats_over_export", "compare_over_export", "tally_over_export"]


def _check(engine: str, parquet: Path | None) -> Path:
    from salon.campaigns.spark import ENGINES

    if engine not in ENGINES:
        _fail(f"--engine is one of {', '.join(ENGINES)}", 2)
    if parquet is None:
        _fail("--engine spark reads a Parquet export: give --parquet DIR (salon export parquet -o DIR)", 2)
    return parquet


def _spark(engine: str) -> Any:
    if engine != "spark":
        return None
    from salon.campaigns.spark import spark_session

    err.print("starting Spark (local[2], UTC) ...", style="dim")
    try:
        return spark_session()
    except ImportError:
        _fail("PySpark is not installed: pip install 'salon[spark]' (and Java 17: openjdk-17-jre-headless)")


def _campaign(directory: Path, campaign: str) -> Any:
    from salon.campaigns.config import CampaignError
    from salon.campaigns.spark import campaign_from_export
    from salon.campaigns.tally import CampaignNotFound
    from salon.commands.common import fail_issues
    from salon.store.parquet import ExportError

    try:
        return campaign_from_export(directory, campaign)
    except (CampaignNotFound, ExportError) as exc:
        _fail(str(exc))
    except CampaignError as exc:
        fail_issues(exc.issues)


def tally_over_export(
    campaign: str,
    engine: str,
    parquet: Path | None,
    at: str | None,
    basis: str,
    top: int,
    parse_at: Callable[[str, Any], datetime],
) -> dict[str, Any]:
    """The tally of ``campaign`` over the export ``parquet`` by ``engine``."""
    from salon.campaigns.spark import tally_export

    directory = _check(engine, parquet)
    c = _campaign(directory, campaign)
    at_dt = parse_at(at, c.tz) if at else None
    return tally_export(directory, c, engine=engine, spark=_spark(engine), at=at_dt, basis=basis, top=top)


def compare_over_export(a: str, b: str, engine: str, parquet: Path | None) -> dict[str, Any]:
    """Editions ``a`` and ``b`` compared over the export ``parquet`` by ``engine``."""
    from salon.campaigns.spark import compare_export

    directory = _check(engine, parquet)
    ca, cb = _campaign(directory, a), _campaign(directory, b)
    return compare_export(directory, ca, cb, engine=engine, spark=_spark(engine))


def chat_stats_over_export(chat: str, engine: str, parquet: Path | None) -> dict[str, Any]:
    """The statistics of chat ``chat`` over the export ``parquet`` by ``engine``."""
    from salon.campaigns.spark_chats import ChatNotFound, chat_stats_export
    from salon.store.parquet import ExportError

    directory = _check(engine, parquet)
    try:
        return chat_stats_export(directory, chat, engine=engine, spark=_spark(engine))
    except (ChatNotFound, ExportError) as exc:
        _fail(str(exc))
