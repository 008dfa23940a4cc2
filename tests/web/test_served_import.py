"""``salon import`` of many small files while ``salon serve`` holds the archive (issue 15): the
records go through the server in batches across files, one request (and one transaction) each,
each record with its own file and line, each file with its row; a bad file in the middle is
quarantined with its name and line while the others import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from salon.store.archive import open_archive
from salon.web import remote
from salon.web.ingest import read_server_file
from tests.web.conftest import LiveServer
from tests.web.data import build_archive, status


def test_many_small_files_go_through_the_server_in_few_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(100, 160):
        (folder / f"s{n}.jsonl").write_text(json.dumps(status(n, n % 3, n % 4, n)) + "\n", encoding="utf-8")
    bad = folder / "s130-bad.jsonl"
    bad.write_text(json.dumps(status(200, 0, 0, 5)) + "\n{not json\n", encoding="utf-8")
    arc = build_archive(tmp_path)
    server = LiveServer(arc)
    requests: list[str] = []
    real_post = remote._post

    def counting(c: Any, url: str, **kw: Any) -> Any:
        requests.append(url)
        return real_post(c, url, **kw)

    monkeypatch.setattr(remote, "_post", counting)
    try:
        info = read_server_file(str(arc))
        assert info is not None
        rep = remote.remote_import([str(folder)], info)
    finally:
        server.stop()
    # Start, file ids, one batch, the last files' rows, finish: not three requests per file.
    assert len(requests) <= 6, requests
    assert len(rep.files) == 61 and rep.records_new == 61 and rep.records_bad == 1
    assert any(str(p).startswith(f"{bad}:2: malformed JSON") for p in rep.problems)
    with open_archive(arc, read_only=True) as a:
        got = a.query(
            "SELECT r.source, f.path, r.line FROM raw r JOIN import_files f USING (file_id)"
            " WHERE f.import_id = ? ORDER BY 1",
            [rep.import_id],
        )
        assert len(got) == 61 and all(src == path and line == 1 for src, path, line in got)
        assert a.query("SELECT path, line FROM quarantine") == [(str(bad), 2)]
        files = a.query(
            "SELECT status, count(*), sum(records_in), sum(records_new), sum(records_bad) FROM import_files"
            " WHERE import_id = ? GROUP BY 1",
            [rep.import_id],
        )
        assert files == [("done", 61, 62, 61, 1)]
        assert a.query("SELECT status FROM imports WHERE import_id = ?", [rep.import_id]) == [("done",)]
