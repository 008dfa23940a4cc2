"""How ``salon info`` shows what an archive holds (also used by ``salon demo``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from salon.commands.common import printable

__all__ = ["print_info"]


def print_info(data: dict[str, Any], console: Console) -> None:
    """Print ``salon.info.archive_info`` output: totals, posts by platform and kind, top
    hashtags, imports and quarantine. Values from the archive (its path, hashtags, quarantined
    files' paths and reasons) are printed literally, never read as Rich markup."""
    console.print(Text(printable(data["archive"]), style="bold"))
    console.print(
        f"{data['posts']:,} posts ({data['context_posts']:,} more seen only as context, "
        f"{data['deleted_posts']:,} deleted) by {data['authors']:,} authors, "
        f"{data['first_post_at'] or '-'} → {data['last_post_at'] or '-'}"
    )
    console.print(
        f"{data['raw_records']:,} raw records, {data['engagement_snapshots']:,} engagement snapshots, "
        f"{data['tombstones']:,} tombstones, {data['quarantined']:,} quarantined"
    )
    t = Table(title="Posts by platform and kind")
    for col in ("platform", "kind", "posts"):
        t.add_column(col, justify="right" if col == "posts" else "left")
    for row in data["by_platform_kind"]:
        t.add_row(Text(row["platform"]), Text(row["kind"]), f"{row['posts']:,}")
    console.print(t)
    if data["top_hashtags"]:
        t = Table(title="Top hashtags")
        t.add_column("hashtag")
        t.add_column("posts", justify="right")
        for row in data["top_hashtags"]:
            t.add_row(Text("#" + row["display"]), f"{row['posts']:,}")
        console.print(t)
    t = Table(title="Imports")
    for col in ("id", "started", "status", "records", "new", "duplicate", "bad", "new posts"):
        t.add_column(col)
    for row in data["imports"]:
        t.add_row(
            str(row["import_id"]),
            (row["started_at"] or "")[:19],
            Text(row["status"] or ""),
            f"{row['records_in']:,}",
            f"{row['records_new']:,}",
            f"{row['records_duplicate']:,}",
            f"{row['records_bad']:,}",
            f"{row['posts_new']:,}",
        )
    console.print(t)
    if data["quarantine"]:
        t = Table(title=f"Quarantine ({data['quarantined']:,} records)")
        t.add_column("where")
        t.add_column("reason")
        for row in data["quarantine"]:
            t.add_row(Text(printable(f"{row['path']}:{row['line']}")), Text(printable(row["reason"])))
        console.print(t)
