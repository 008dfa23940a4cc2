"""Fuzzing the importers (hypothesis): real records mixed with bad ones (garbage, bytes that are
not UTF-8, nesting deeper than any parser's limit, truncated JSON, objects of no known format),
in JSON lines, a JSON array or a pretty-printed one, plain, gzip, zstd or zip, UTF-8 (with or without BOM) or UTF-16,
sometimes cut short. Whatever comes: no exception, every good record before a cut imported,
every bad one quarantined, and what the archive held before is unchanged."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salon.importer import import_paths
from tests.conftest import twarc

DEEP = b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}"
# Bad records that stand alone, as a line or as an array element; the second value says
# whether it is still text (UTF-16 can carry it).
BAD_ANYWHERE = [(DEEP, True), (b'{"text": "caf\xe9"}', False), (b"42", True), (b'{"foo": 1}', True)]
BAD_LINE_ONLY = [(b"{oops", True), (b'{"data": {"id": "1"', True), (b"\x00\x01\xff garbage", False)]


def _lines() -> list[bytes]:
    return [ln for ln in twarc("flat.jsonl").read_bytes().split(b"\n") if ln.strip()]


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, object]:
    n = len(_LINES)
    good = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=25))
    layout = draw(st.sampled_from(["lines", "array", "pretty"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-bom", "utf-16"]))
    # Malformed objects too in arrays: each quarantined alone, the next elements read; a line of
    # garbage right after one would be quarantined with it (docs/import.md), so not there.
    pool = BAD_ANYWHERE + (BAD_LINE_ONLY if layout == "lines" else BAD_LINE_ONLY[:2])
    if encoding == "utf-16":
        pool = [b for b in pool if b[1]]
    bad = draw(st.lists(st.sampled_from(range(len(pool))), max_size=4))
    lines = [_pretty(_LINES[i]) for i in good] if layout == "pretty" else [_LINES[i] for i in good]
    records = [(ln, True) for ln in lines] + [(pool[j][0], False) for j in bad]
    order = draw(st.permutations(range(len(records))))
    container = draw(st.sampled_from(["plain", "gzip", "zstd", "zip"]))
    cut = draw(st.one_of(st.none(), st.floats(0.05, 0.95)))
    return {
        "records": [records[i] for i in order],
        "layout": layout,
        "encoding": encoding,
        "container": container,
        "cut": cut,
    }


def _pretty(line: bytes) -> bytes:
    """A record pretty-printed as an element of an array indented by 2 (its bytes there)."""
    return json.dumps(json.loads(line), indent=2, ensure_ascii=False).replace("\n", "\n  ").encode()


def _encode(case: dict[str, object]) -> bytes:
    recs: list[tuple[bytes, bool]] = case["records"]  # type: ignore[assignment]
    if case["layout"] == "lines":
        body = b"\n".join(r for r, _ in recs) + b"\n"
    elif case["layout"] == "array":  # the first element on the array's line, then one a line
        body = b"[" + b",\n".join(r for r, _ in recs) + b"]"
    else:
        body = b"[\n" + b",\n".join(b"  " + r for r, _ in recs) + b"\n]\n"
    if case["encoding"] == "utf-8-bom":
        body = b"\xef\xbb\xbf" + body
    elif case["encoding"] == "utf-16":
        body = body.decode("utf-8").encode("utf-16")
    if case["container"] == "gzip":
        body = gzip.compress(body)
    elif case["container"] == "zstd":
        body = zstandard.ZstdCompressor().compress(body)
    elif case["container"] == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("data.jsonl", body)
        body = buf.getvalue()
    if case["cut"] is not None:
        body = body[: int(len(body) * float(case["cut"]))]
    return body


def _state(arc: Path) -> tuple[set[str], int, set[str]]:
    con = duckdb.connect(str(arc), read_only=True)
    try:
        raw = {r[0] for r in con.execute("SELECT raw_id FROM raw").fetchall()}
        bad = int(con.execute("SELECT count(*) FROM quarantine").fetchone()[0])  # type: ignore[index]
        posts = {r[0] for r in con.execute("SELECT uid FROM posts").fetchall()}
    finally:
        con.close()
    return raw, bad, posts


_LINES: list[bytes] = []


@pytest.fixture(scope="module")
def prior(tmp_path_factory: pytest.TempPathFactory, needs_shared: Path) -> Path:
    """An archive holding some of the records already (the fuzzed imports must not change it)."""
    _LINES[:] = _lines()
    folder = tmp_path_factory.mktemp("fuzz")
    f = folder / "prior.jsonl"
    f.write_bytes(b"\n".join(_LINES[::4]) + b"\n")
    arc = folder / "prior.duckdb"
    import_paths([str(f)], arc)
    return arc


@settings(
    # Small in CI (a few seconds); SALON_FUZZ_EXAMPLES=500 for a longer search.
    max_examples=int(os.environ.get("SALON_FUZZ_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=inputs())
def test_fuzzed_inputs_never_break_the_import(
    prior: Path, tmp_path_factory: pytest.TempPathFactory, case: dict[str, object]
) -> None:
    from salon.store.batch import raw_id

    folder = tmp_path_factory.mktemp("case")
    arc = folder / "a.duckdb"
    shutil.copy(prior, arc)
    before_raw, before_bad, before_posts = _state(arc)
    f = folder / "input.bin"
    f.write_bytes(_encode(case))
    report = import_paths([str(f)], arc)  # no exception, whatever the input
    raw, bad, posts = _state(arc)
    assert before_raw <= raw and before_posts <= posts  # nothing of the prior archive lost
    recs: list[tuple[bytes, bool]] = case["records"]  # type: ignore[assignment]
    good_ids = {raw_id(r) for r, ok in recs if ok}
    assert raw - before_raw <= good_ids  # only good records stored, nothing invented
    if case["cut"] is None:
        assert good_ids <= raw, "a good record was lost"
        # Each bad record is quarantined, once per occurrence: the same bad bytes twice are two
        # records at two lines, whichever path reads them (docs/import.md, "Bad records").
        bad_all = [r for r, ok in recs if not ok]
        assert bad - before_bad == len(bad_all), report.problems
        assert bad - before_bad == report.records_bad
        assert not report.incomplete
    else:
        assert report.incomplete or report.records_bad >= 1 or good_ids <= raw
