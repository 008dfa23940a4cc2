"""Run the collectors in a thread against the test servers, and read the archive meanwhile."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from salon.collect.credentials import Credentials
from salon.collect.runner import RunReport, run
from salon.collect.status import StatusBoard
from salon.store.archive import open_archive
from salon.store.rawstore import iter_payloads

from .servers import eventually


def campaign_file(
    tmp: Path,
    hashtags: list[str],
    sources: str,
    slug: str = "live-test",
    start: str = "2016-01-01",
    end: str = "2027-01-01",
) -> Path:
    p = tmp / f"{slug}.toml"
    tags = ", ".join(f'"{t}"' for t in hashtags)
    p.write_text(
        f'[campaign]\nname = "Live test"\nslug = "{slug}"\ntimezone = "UTC"\nstart = {start}\nend = {end}\n'
        f"hashtags = [{tags}]\n\n{sources}\n",
        encoding="utf-8",
    )
    return p


class Collector:
    """``salon.collect.run`` in a thread, stopped by ``stop()``."""

    def __init__(
        self,
        archive: Path,
        campaign: Path | str,
        sources: list[str] | None = None,
        env: dict[str, str] | None = None,
        creds_file: Path | None = None,
    ) -> None:
        self.arc = open_archive(archive)
        self.stop_event = threading.Event()
        self.board = StatusBoard()
        self.report: RunReport | None = None
        self.error: BaseException | None = None
        creds = Credentials(path=creds_file or archive.parent / "no-credentials.toml", env=env or {})

        def go() -> None:
            try:
                self.report = run(
                    self.arc,
                    str(campaign),
                    sources=sources,
                    stop_event=self.stop_event,
                    board=self.board,
                    credentials=creds,
                )
            except BaseException as exc:  # surfaced by stop()
                self.error = exc

        self.thread = threading.Thread(target=go, daemon=True)
        self.reader = self.arc.con.cursor()

    def __enter__(self) -> Collector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def q(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.reader.execute(sql, params or []).fetchall()

    def n(self, sql: str, params: list[Any] | None = None) -> int:
        return int(self.q(sql, params)[0][0])

    def payloads(self, fmt: str | None = None) -> list[bytes]:
        """The raw payloads stored so far (of one format), decompressed."""
        where, params = ("format = ?", [fmt]) if fmt else ("", [])
        return [p for _rid, p in iter_payloads(self.reader, where, params)]

    def wait(self, sql: str, expected: int, timeout: float = 15.0) -> int:
        """Wait until ``sql`` counts at least ``expected``; a timeout fails the test."""
        seen: list[int] = []

        def reached() -> bool:
            seen.append(self.n(sql))
            return seen[-1] >= expected

        eventually(
            reached, timeout, what=lambda: f"{sql!r} >= {expected} (last saw {seen[-1] if seen else None})"
        )
        return self.n(sql)

    def stop(self) -> RunReport | None:
        if not self.thread.is_alive() and self.arc is None:
            return self.report
        self.stop_event.set()
        self.thread.join(20)
        assert not self.thread.is_alive(), "collector did not stop"
        self.reader.close()
        self.arc.close()
        if self.error is not None:
            raise self.error
        return self.report
