"""Parity: the campaign figures computed by Spark (PySpark ``local[2]``) over the Parquet export
equal DuckDB's over the archive (the tally through the campaign index, the tally as of a moment,
editions compared), on the bundled synthetic sample and on real X API v2 pages.

One SparkSession for the whole test session. Marked ``spark``: skip them locally with
``pytest -m "not spark"``; CI runs them (``make test`` installs PySpark and Java 17)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from salon.campaigns.compare import compare
from salon.campaigns.config import parse_campaign
from salon.campaigns.spark import main as spark_main
from salon.campaigns.spark import tally_export, to_spark_sql
from salon.campaigns.stored import save_campaign
from salon.campaigns.tally import resolve_campaign, tally
from salon.cli import app
from salon.demo.run import add_campaign, sample
from salon.importer import import_paths
from salon.publish.exports.parquet import export_parquet
from salon.store.archive import open_archive
from tests.campaigns.twarc_corpus import BREXIT, import_twarc

SLUG = "museumweek-2025-demo"
# ``spam`` (held posts by trust rule) is compared too: the export carries the trust_spam verdicts.
DROP = ("source", "computed_at")


def same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert {k: v for k, v in a.items() if k not in DROP} == {k: v for k, v in b.items() if k not in DROP}


def test_transpiled_sql() -> None:
    """The two rules Salon adds to sqlglot's DuckDB → Spark dialect."""
    sql = to_spark_sql(
        "SELECT GROUPING(k.a, k.b), count(DISTINCT CASE WHEN d IN (CAST(? AS DATE)) THEN u END)"
        " FROM k WHERE t IN (?) AND c >= TIMESTAMPTZ '2015-03-22 23:00:00+00:00'"
        " GROUP BY GROUPING SETS ((k.a), (k.b))",
        [datetime(2015, 3, 23, tzinfo=UTC).date(), "museumweek"],
    )
    assert "GROUPING_ID(k.a, k.b)" in sql
    assert "'2015-03-23'" in sql and "'museumweek'" in sql and "?" not in sql
    assert "CAST('2015-03-22 23:00:00+00:00' AS TIMESTAMP)" in sql


# A few hundred posts: Spark's cost is the JVM's start and each job's planning and code, not data.
# The JVM's quick compiler alone (C1) and the serial collector spend about half the CPU of the
# default (C2, G1) on that; one shuffle partition is enough.
TEST_CONF = {
    "spark.driver.extraJavaOptions": "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto",
    "spark.sql.shuffle.partitions": "1",
}


@pytest.fixture(scope="session")
def spark() -> Any:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PySpark not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI"):
            pytest.fail("Java 17 missing: make system installs openjdk-17-jre-headless")
        pytest.skip("no Java (openjdk-17-jre-headless)")
    from salon.campaigns.spark import spark_session

    s = spark_session("local[2]", TEST_CONF)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled sample with its campaign and a second edition (a day later, same registry),
    exported to Parquet in two steps: X and Mastodon, then (``--since-last``) Bluesky and X's
    compliance file, whose deletions of posts exported before are tombstone rows the engines
    apply."""
    tmp = tmp_path_factory.mktemp("spark")
    path = tmp / "a.duckdb"
    with sample() as data:
        files = sorted(str(f) for f in (data.folder / "data").rglob("*.gz"))
        later = [f for f in files if "compliance" in f or "bluesky" in f]
        import_paths([f for f in files if f not in later], str(path))
        with open_archive(path) as arc:
            c = add_campaign(data, arc)
            b = dataclasses.replace(
                c,
                slug="museumweek-2025-demo-b",
                name="MuseumWeek 2025 (later)",
                edition="b",
                start=c.start + timedelta(days=1),
                campaign_id=None,
            )
            save_campaign(arc, b)
            export_parquet(arc, tmp / "pq")
        import_paths(later, str(path))
        with open_archive(path) as arc:
            tally(arc, c.slug)
            tally(arc, b.slug)  # learn the registry's account ids, as any tally does
            assert export_parquet(arc, tmp / "pq", since_last=True)["rows"]["post_deletions"] > 0
    return path, tmp / "pq"


@pytest.mark.spark
def test_tally_parity_sample(spark: Any, sample_export: tuple[Path, Path]) -> None:
    path, pq = sample_export
    with open_archive(path, read_only=True) as arc:
        want = tally(arc, SLUG)
        c = resolve_campaign(arc, SLUG)
        at = c.start_utc + timedelta(days=2, hours=13)
        want_at = tally(arc, c, at)
    assert want["posts"] > 0 and want["institutions"] > 0 and want["reposts"] > 0
    # The command: `salon tally SLUG --engine spark --parquet DIR` (the session is reused).
    r = CliRunner().invoke(app, ["tally", SLUG, "--engine", "spark", "--parquet", str(pq), "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["source"] == "spark"
    same(got, json.loads(json.dumps(want, default=str)))
    # As the counter stood at a moment (deletions after it still count, engagement observed by then).
    same(tally_export(pq, SLUG, engine="spark", spark=spark, at=at), want_at)


@pytest.mark.spark
def test_compare_parity_sample(
    spark: Any, sample_export: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Editions compared, through the spark-submit entry point (``python .../spark.py DIR A B``;
    the test session's SparkSession is reused)."""
    path, pq = sample_export
    with open_archive(path, read_only=True) as arc:
        want = compare(arc, SLUG, "museumweek-2025-demo-b")
    assert want["institutions"]["returning"]
    spark_main([str(pq), SLUG, "museumweek-2025-demo-b"])
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(want, default=str))


@pytest.mark.spark
def test_tally_parity_real_corpus(spark: Any, tmp_path: Path) -> None:
    """Real X API v2 pages (docnow twarc-csv test data), three registered authors."""
    path = import_twarc(tmp_path / "a.duckdb", ["brexit.jsonl", "2sets.jsonl"])  # skips without ../shared
    with open_archive(path) as arc:
        c0 = parse_campaign(BREXIT)
        sql = (
            "SELECT a.handle FROM posts p JOIN post_hashtags h USING (uid) JOIN authors a ON a.uid = p.author_uid"
            " WHERE h.tag_key = 'brexit' AND p.kind <> 'repost' GROUP BY a.handle ORDER BY count(*) DESC, a.handle LIMIT 3"
        )
        handles = [r[0] for r in arc.query(sql)]
        reg = "name,country,city,kind,x\n" + "".join(
            f"Inst {i},{cc},,museum,{h.upper() if i == 0 else h}\n"
            for i, (h, cc) in enumerate(zip(handles, ["FR", "FR", "DE"], strict=False))
        )
        c = parse_campaign(BREXIT, participants_csv=reg)
        assert c.slug == c0.slug
        save_campaign(arc, c)
        want = tally(arc, c.slug)
        export_parquet(arc, tmp_path / "pq")
    assert want["posts"] > 0 and want["institutions"] > 0
    same(tally_export(tmp_path / "pq", c.slug, engine="spark", spark=spark), want)


def test_shuffle_partitions_one_per_core_on_local_masters_only() -> None:
    """On local[N] the shuffle has one partition per core; on a cluster's master Spark keeps its
    own (200, coalesced by adaptive execution): two there made each task sort half the data."""
    import os

    from salon.campaigns.spark import SPARK_CONF, local_cores

    assert "spark.sql.shuffle.partitions" not in SPARK_CONF
    assert [
        local_cores(m) for m in ("local", "local[2]", "local[8, 3]", "yarn", "spark://h:7077", "k8s://x")
    ] == [
        1,
        2,
        8,
        None,
        None,
        None,
    ]
    assert local_cores("local[*]") == (os.cpu_count() or 1)
