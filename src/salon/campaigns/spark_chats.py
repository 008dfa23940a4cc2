"""A chat's statistics over a Parquet export, on Apache Spark (or on DuckDB, the reference).

>>> from salon.campaigns.spark_chats import chat_stats_export
>>> s = chat_stats_export("export/", "musesocial-2", engine="spark")   # doctest: +SKIP

The figures are ``salon.campaigns.chat_stats.chat_report``'s: the chat's posts are read by the
one query ``salon.campaigns.chat_answers.load_chat_posts`` (DuckDB's SQL, transpiled to Spark
SQL by ``salon.campaigns.spark.SparkEngine``), then assigned and counted by the same Python as
on the archive (a chat is a few hundred posts). The chat's definition comes from its campaign in
the export's registry; the export carries what the query reads besides posts: the questions
Salon posted (``chat_post_intents``), tombstones, the moderation log and account statuses (who
may be shown).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from salon.campaigns.chat_stats import chat_report
from salon.campaigns.chat_store import chat_by_slug
from salon.campaigns.engine import DuckDBEngine
from salon.campaigns.spark import ENGINES, SparkEngine, registry_archive, spark_session

__all__ = ["ChatNotFound", "chat_stats_export", "main"]


class ChatNotFound(LookupError):
    """No campaign of the export has a chat with this slug."""


def chat_stats_export(
    directory: str | Path, chat: str, *, engine: str = "spark", spark: Any = None
) -> dict[str, Any]:
    """``salon chat stats CHAT --json`` over a Parquet export, computed by ``engine`` (``spark``
    or ``duckdb``); the chat is a slug of a campaign stored in the export."""
    if engine not in ENGINES:
        raise ValueError(f"engine is one of {', '.join(ENGINES)}")
    eng = (
        SparkEngine(spark if spark is not None else spark_session(), directory) if engine == "spark" else None
    )
    with registry_archive(directory, eng) as arc:
        c = chat_by_slug(arc, chat)
        if c is None:
            raise ChatNotFound(f"no chat {chat!r} in the export {directory} (its campaigns' [[chats]])")
        # Without Spark, the registry archive holds every table of the export as a DuckDB view.
        return chat_report(arc, c, eng if eng is not None else DuckDBEngine(arc.con))


def main(argv: list[str] | None = None) -> None:
    """``spark-submit .../salon/campaigns/spark_chats.py DIR CHAT``: the chat's statistics as
    JSON on stdout, on the cluster spark-submit names (``DIR`` may be on object storage)."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="salon-spark-chat", description=main.__doc__)
    ap.add_argument("directory")
    ap.add_argument("chat")
    ap.add_argument("--master", default=None, help="Default: what spark-submit set.")
    args = ap.parse_args(argv)
    out = chat_stats_export(args.directory, args.chat, spark=spark_session(args.master))
    sys.stdout.write(json.dumps(out, default=str, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
