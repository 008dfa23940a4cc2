"""`salon export network`: GEXF 1.3 valid against the official XSD and loaded by networkx,
GraphML loaded by networkx, Gephi CSVs; weights equal the posts they count."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.cli import app
from salon.publish.exports import Filters
from salon.publish.exports.network import export_network
from salon.store.archive import open_archive
from tests.conftest import shared_path
from tests.publish.conftest import DEMO_SLUG


def _schema() -> object:
    """The official GEXF 1.3 schema (``../shared/formats/gexf/1.3``)."""
    xsd = shared_path("formats", "gexf", "1.3", "gexf.xsd")
    etree = pytest.importorskip("lxml.etree")
    return etree.XMLSchema(etree.parse(str(xsd)))


@pytest.mark.parametrize("network", ["interactions", "co-hashtag", "user-hashtag"])
@pytest.mark.parametrize("dynamic", [False, True])
def test_gexf_valid_and_loads(
    needs_shared: Path, demo_archive: Path, tmp_path: Path, network: str, dynamic: bool
) -> None:
    schema = _schema()
    nx = pytest.importorskip("networkx")
    from lxml import etree

    out = tmp_path / "n.gexf"
    with open_archive(str(demo_archive), read_only=True) as arc:
        res = export_network(arc, out, network=network, dynamic=dynamic, filters=Filters(campaign=DEMO_SLUG))
    schema.assertValid(etree.parse(str(out)))  # type: ignore[attr-defined]
    g = nx.read_gexf(out, version="1.3")
    assert g.number_of_nodes() == res["nodes"] > 10
    assert g.number_of_edges() == res["edges"] > 10
    assert g.is_directed() == (network != "co-hashtag")
    text = out.read_text("utf-8")
    assert ' type="' not in text.split("<edges>")[1]  # the kind is `interaction`, never `type`


def test_interaction_weights_count_posts(demo_archive: Path, tmp_path: Path) -> None:
    nx = pytest.importorskip("networkx")
    out = tmp_path / "n.graphml"
    with open_archive(str(demo_archive), read_only=True) as arc:
        export_network(arc, out, fmt="graphml")
        # reposts of a stored post by another author, from the posts table itself
        want = arc.scalar(
            "SELECT count(*) FROM posts r JOIN posts o ON o.uid = r.repost_of_uid WHERE r.kind = 'repost'"
            " AND r.deleted_at IS NULL AND r.author_uid <> o.author_uid AND r.author_uid NOT IN"
            " (SELECT uid FROM authors WHERE indexable = FALSE)"
        )
        handles = dict(arc.query("SELECT uid, handle FROM authors WHERE handle IS NOT NULL"))
    g = nx.read_graphml(out)
    reposts = sum(d["weight"] for _, _, d in g.edges(data=True) if d["interaction"] == "repost")
    assert reposts == want > 0
    kinds = {d["interaction"] for _, _, d in g.edges(data=True)}
    assert kinds == {"reply", "mention", "repost", "quote"}
    for n, d in g.nodes(data=True):
        if n in handles:
            assert d["handle"] == handles[n]
        assert d["platform"] in ("x", "mastodon", "bluesky")


def test_institutions_on_nodes_and_gephi_csv(demo_archive: Path, tmp_path: Path) -> None:
    r = CliRunner()
    base = tmp_path / "net.csv"
    res = r.invoke(
        app,
        [
            "export",
            "network",
            "-a",
            str(demo_archive),
            "-o",
            str(base),
            "-f",
            "gephi-csv",
            "-c",
            DEMO_SLUG,
            "--dynamic",
        ],
    )
    assert res.exit_code == 0, res.output
    with open(tmp_path / "net.nodes.csv", encoding="utf-8") as fh:
        nodes = list(csv.DictReader(fh))
    with open(tmp_path / "net.edges.csv", encoding="utf-8") as fh:
        edges = list(csv.DictReader(fh))
    assert list(nodes[0])[:2] == ["Id", "Label"] and "Interval" in nodes[0]
    assert {e["Type"] for e in edges} == {"Directed"}
    insts = {n["institution"] for n in nodes if n["institution"]}
    assert len(insts) > 5
    ids = {n["Id"] for n in nodes}
    assert all(e["Source"] in ids and e["Target"] in ids for e in edges)
    assert all(e["Interval"].startswith("<[2025-05-") for e in edges)
    res = r.invoke(app, ["export", "network", "-a", str(demo_archive), "-o", str(base), "-i", "nothing"])
    assert res.exit_code == 1 and "unknown interaction" in res.output


def test_ids_per_platform(demo_archive: Path, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    res = CliRunner().invoke(app, ["export", "ids", "-a", str(demo_archive), "-o", str(tmp_path / "ids")])
    assert res.exit_code == 0, res.output
    with open_archive(str(demo_archive), read_only=True) as arc:
        want = {
            p: {
                r[0]
                for r in arc.query(
                    f"SELECT {'native_id' if p == 'x' else 'uri'} FROM posts p WHERE platform = ?"
                    " AND deleted_at IS NULL AND author_uid NOT IN (SELECT uid FROM authors WHERE indexable = FALSE)",
                    [p],
                )
            }
            for p in ("x", "mastodon", "bluesky")
        }
    for p, name in (("x", "x-ids.txt"), ("mastodon", "mastodon-uris.txt"), ("bluesky", "bluesky-uris.txt")):
        got = (tmp_path / "ids" / name).read_text("utf-8").split()
        assert len(got) == len(set(got)) and set(got) == want[p]
    df = pd.read_csv(tmp_path / "ids" / "ids.csv", dtype=str)
    assert set(df[df.platform == "x"].native_id) == want["x"]  # 19-digit ids exactly, as text


@pytest.mark.parametrize("kind", ["network", "ids"])
def test_network_and_ids_progress(
    demo_archive: Path, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`salon export network` and `ids` drive a progress bar: the total announced is the rows
    written (nodes + edges; posts) and the advances add up to it; on a terminal the bar shows."""
    import io

    from rich.console import Console

    from salon.commands import export as export_cmds
    from salon.publish.exports.ids import export_ids

    totals: list[int] = []
    done: list[int] = []
    with open_archive(str(demo_archive), read_only=True) as arc:
        if kind == "network":
            res = export_network(
                arc,
                tmp_path / "n.gexf",
                filters=Filters(campaign=DEMO_SLUG),
                on_start=totals.append,
                progress=done.append,
            )
            written = res["nodes"] + res["edges"]
        else:
            res = export_ids(
                arc,
                tmp_path / "ids",
                filters=Filters(campaign=DEMO_SLUG),
                on_start=totals.append,
                progress=done.append,
            )
            written = sum(res["by_platform"].values())
    assert written > 0 and totals == [written] and sum(done) == written
    term = io.StringIO()
    monkeypatch.setattr(export_cmds, "err", Console(file=term, force_terminal=True, width=100))
    out = str(tmp_path / ("cli.gexf" if kind == "network" else "cli-ids"))
    r = CliRunner().invoke(app, ["export", kind, "-a", str(demo_archive), "-c", DEMO_SLUG, "-o", out])
    assert r.exit_code == 0, r.output
    label = "writing network" if kind == "network" else "exporting ids"
    assert label in term.getvalue() and f"{written}/{written}" in term.getvalue()
