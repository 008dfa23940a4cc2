"""Networks as files Gephi, networkx, igraph and R read: GEXF 1.3 (written here, streaming, valid
against the official schema), GraphML, and Gephi's spreadsheet CSVs (nodes and edges).

The edges are the definitions of ``salon.campaigns.networks`` over an export's selection:
``interactions`` (user to user by reply, mention, repost, quote: directed, weighted by posts,
the kind in the attribute ``interaction`` and in GEXF's edge ``kind``, so Gephi keeps a reply
and a mention between the same two accounts as two edges), ``co-hashtag`` (undirected) and
``user-hashtag`` (directed, author to hashtag). Accounts carry ``handle``, ``platform``,
``institution`` and ``country`` (the campaign's registry, when a campaign is given), ``posts``
(selected posts, reposts excluded) and ``followers`` (latest snapshot). ``dynamic`` adds spells
by day (consecutive days merged), for Gephi's timeline.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from salon import __version__
from salon.campaigns.definitions import author_match_sql
from salon.campaigns.index_build import accounts_table
from salon.campaigns.networks import (
    INTERACTIONS,
    NETWORKS,
    cohashtag_edges_sql,
    day_sql,
    interaction_edges_sql,
    user_hashtag_edges_sql,
)
from salon.publish.exports.pseudo import Pseudonymiser
from salon.publish.exports.select import Filters, Selection, selection
from salon.store.archive import Archive

__all__ = ["FORMATS", "NODE_ATTRS", "export_network"]

FORMATS = ("gexf", "graphml", "gephi-csv")
# (name, GEXF type, GraphML type)
NODE_ATTRS = (
    ("kind", "string", "string"),
    ("handle", "string", "string"),
    ("platform", "string", "string"),
    ("institution", "string", "string"),
    ("country", "string", "string"),
    ("posts", "integer", "int"),
    ("followers", "long", "long"),
)
_BATCH = 10_000


@dataclass
class _Graph:
    directed: bool
    nodes_sql: str
    edges_sql: str
    dynamic: bool
    ids_sql: str = ""  # the nodes' ids (how many rows the nodes will write: the progress total)


def _spells(days: list[date] | None) -> list[tuple[str, str]]:
    """Consecutive days merged into (start, end) intervals, both inclusive (GEXF ``date``)."""
    out: list[tuple[str, str]] = []
    for d in sorted(set(days or ())):
        if out and date.fromisoformat(out[-1][1]) + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d.isoformat())
        else:
            out.append((d.isoformat(), d.isoformat()))
    return out


def _prepare(sel: Selection, network: str, interactions: tuple[str, ...], dynamic: bool) -> _Graph:
    """Register the edges (aggregated over days) and return the node and edge queries."""
    con = sel.con
    day = day_sql(sel.campaign, "p.created_at")
    if network == "interactions":
        raw = interaction_edges_sql(sel.uids, day, interactions)
        kind_col = "interaction"
    elif network == "co-hashtag":
        raw, kind_col = cohashtag_edges_sql(sel.uids, day), "'co-hashtag'"
    elif network == "user-hashtag":
        raw, kind_col = user_hashtag_edges_sql(sel.uids, day), "'user-hashtag'"
    else:
        raise ValueError(f"unknown network {network!r}; one of {', '.join(NETWORKS)}")
    days = ", list(DISTINCT day ORDER BY day) AS days" if dynamic else ", NULL AS days"
    edges = con.sql(
        f"SELECT source, target, {kind_col} AS interaction, sum(weight) AS weight{days} FROM ({raw})"
        " GROUP BY ALL ORDER BY source, target, interaction"
    ).to_arrow_table()
    con.register("_x_net_edges", edges)
    tag_nodes = network in ("co-hashtag", "user-hashtag")
    # Node days: when the node was an end of an edge.
    node_days = (
        "(SELECT id, list(DISTINCT d ORDER BY d) AS days FROM (SELECT source AS id, unnest(days) AS d FROM"
        " _x_net_edges UNION ALL SELECT target, unnest(days) FROM _x_net_edges) GROUP BY id)"
        if dynamic
        else "(SELECT NULL AS id, NULL AS days)"
    )
    posts = (
        f"(SELECT p.author_uid AS id, count(*) AS n FROM posts p WHERE p.uid IN (SELECT uid FROM {sel.uids})"
        " AND p.kind <> 'repost' GROUP BY p.author_uid)"
    )
    tagposts = (
        f"(SELECT h.tag_key AS id, count(DISTINCT h.uid) AS n, mode(h.tag_display) AS display FROM post_hashtags h"
        f" JOIN posts p ON p.uid = h.uid WHERE p.kind <> 'repost' AND p.uid IN (SELECT uid FROM {sel.uids})"
        " GROUP BY h.tag_key)"
    )
    if network == "co-hashtag":
        ids = "SELECT source AS id, 'hashtag' AS kind FROM _x_net_edges UNION SELECT target, 'hashtag' FROM _x_net_edges"
    elif network == "user-hashtag":
        ids = "SELECT source AS id, 'account' AS kind FROM _x_net_edges UNION SELECT target, 'hashtag' FROM _x_net_edges"
    else:
        ids = "SELECT source AS id, 'account' AS kind FROM _x_net_edges UNION SELECT target, 'account' FROM _x_net_edges"
    inst = "NULL AS participant_id"
    join_inst = ""
    if sel.campaign is not None and sel.campaign.participants:
        con.register("_x_net_acc", accounts_table(sel.campaign))
        con.register(
            "_x_net_match",
            con.sql(
                author_match_sql(
                    "(SELECT id AS author_uid FROM (" + ids + ") WHERE kind = 'account')", "_x_net_acc"
                )
            ).to_arrow_table(),
        )
        inst = "mt.participant_id"
        join_inst = " LEFT JOIN _x_net_match mt ON mt.author_uid = n.id"
    nodes_sql = (
        f"SELECT n.id, n.kind, a.handle, a.platform, a.followers, {inst}, pc.n AS posts, tp.n AS tag_posts,"
        f" tp.display, nd.days FROM ({ids}) n LEFT JOIN authors a ON a.uid = n.id AND n.kind = 'account'"
        f" LEFT JOIN {posts} pc ON pc.id = n.id AND n.kind = 'account'"
        f" LEFT JOIN {tagposts} tp ON tp.id = n.id AND n.kind = 'hashtag'"
        f" LEFT JOIN {node_days} nd ON nd.id = n.id{join_inst} ORDER BY n.kind, n.id"
    )
    del tag_nodes
    return _Graph(network != "co-hashtag", nodes_sql, "SELECT * FROM _x_net_edges", dynamic, ids)


def _advancing(
    rows: Iterator[dict[str, Any]], progress: Callable[[int], None] | None
) -> Iterator[dict[str, Any]]:
    """``rows``, calling ``progress`` every 1,000 rows and at the end."""
    if progress is None:
        yield from rows
        return
    n = 0
    for r in rows:
        yield r
        n += 1
        if n == 1_000:
            progress(n)
            n = 0
    if n:
        progress(n)


def _iter(con: Any, sql: str) -> Iterator[tuple[Any, ...]]:
    cur = con.execute(sql)
    while rows := cur.fetchmany(_BATCH):
        yield from rows


def _node_rows(sel: Selection, g: _Graph, ps: Pseudonymiser | None) -> Iterator[dict[str, Any]]:
    reg = sel.campaign.participants if sel.campaign is not None else []
    for nid, kind, handle, platform, followers, pid, posts, tag_posts, display, days in _iter(
        sel.con, g.nodes_sql
    ):
        if kind == "hashtag":
            yield {
                "id": "#" + nid,
                "label": "#" + (display or nid),
                "kind": "hashtag",
                "posts": int(tag_posts or 0),
                "days": days,
            }
            continue
        if handle is None and ":@" in nid:  # a mentioned account never stored: platform:@handle
            platform, handle = nid.split(":@", 1)
        p = reg[pid] if pid is not None and pid < len(reg) else None
        node = {
            "id": nid,
            "label": ("@" + handle) if handle else nid,
            "kind": "account",
            "handle": handle,
            "platform": platform or nid.split(":", 1)[0],
            "institution": p.name if p else None,
            "country": p.country if p else None,
            "posts": int(posts or 0),
            "followers": followers,
            "days": days,
        }
        if ps is not None:
            node["id"] = ps.account(nid)
            node["handle"] = ps.handle(handle) if handle else None
            node["label"] = node["handle"] or node["id"]
        yield node


def _edge_rows(sel: Selection, g: _Graph, network: str, ps: Pseudonymiser | None) -> Iterator[dict[str, Any]]:
    for src, dst, kind, weight, days in _iter(sel.con, g.edges_sql):
        if network != "interactions":
            dst = "#" + dst
            if network == "co-hashtag":
                src = "#" + src
        if ps is not None:
            src = src if src.startswith("#") else ps.account(src)
            dst = dst if dst.startswith("#") else ps.account(dst)
        yield {"source": src, "target": dst, "interaction": kind, "weight": int(weight), "days": days}


# -- writers ----------------------------------------------------------------------------------


def _write_gexf(
    fh: IO[str], nodes: Iterator[dict[str, Any]], edges: Iterator[dict[str, Any]], g: _Graph
) -> tuple[int, int]:
    w = fh.write
    w('<?xml version="1.0" encoding="UTF-8"?>\n')
    w('<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
    w(' xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n')
    w(f"  <meta><creator>Salon {escape(__version__)}</creator></meta>\n")
    mode = ' mode="dynamic" timeformat="date"' if g.dynamic else ' mode="static"'
    w(f'  <graph defaultedgetype="{"directed" if g.directed else "undirected"}"{mode}>\n')
    w('    <attributes class="node">\n')
    for i, (name, typ, _) in enumerate(NODE_ATTRS):
        w(f'      <attribute id="{i}" title="{name}" type="{typ}"/>\n')
    w("    </attributes>\n")
    w(
        '    <attributes class="edge">\n      <attribute id="0" title="interaction" type="string"/>\n    </attributes>\n'
    )

    def spells(days: Any) -> str:
        if not g.dynamic or not days:
            return ""
        inner = "".join(f'<spell start="{a}" end="{b}"/>' for a, b in _spells(days))
        return f"<spells>{inner}</spells>"

    w("    <nodes>\n")
    n_nodes = 0
    for n in nodes:
        vals = "".join(
            f'<attvalue for="{i}" value={quoteattr(str(n[name]))}/>'
            for i, (name, _, _) in enumerate(NODE_ATTRS)
            if n.get(name) is not None
        )
        w(f"      <node id={quoteattr(n['id'])} label={quoteattr(n['label'])}>{spells(n['days'])}")
        w(f"<attvalues>{vals}</attvalues></node>\n")
        n_nodes += 1
    w("    </nodes>\n    <edges>\n")
    n_edges = 0
    for e in edges:
        w(
            f'      <edge id="{n_edges}" source={quoteattr(e["source"])} target={quoteattr(e["target"])}'
            f' weight="{e["weight"]}" kind={quoteattr(e["interaction"])}>{spells(e["days"])}'
            f'<attvalues><attvalue for="0" value={quoteattr(e["interaction"])}/></attvalues></edge>\n'
        )
        n_edges += 1
    w("    </edges>\n  </graph>\n</gexf>\n")
    return n_nodes, n_edges


def _write_graphml(
    fh: IO[str], nodes: Iterator[dict[str, Any]], edges: Iterator[dict[str, Any]], g: _Graph
) -> tuple[int, int]:
    w = fh.write
    w('<?xml version="1.0" encoding="UTF-8"?>\n')
    w(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    )
    w(
        ' xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    w('  <key id="label" for="node" attr.name="label" attr.type="string"/>\n')
    for name, _, typ in NODE_ATTRS:
        w(f'  <key id="{name}" for="node" attr.name="{name}" attr.type="{typ}"/>\n')
    w('  <key id="interaction" for="edge" attr.name="interaction" attr.type="string"/>\n')
    w('  <key id="weight" for="edge" attr.name="weight" attr.type="long"/>\n')
    if g.dynamic:
        w('  <key id="days" for="all" attr.name="days" attr.type="string"/>\n')
    w(f'  <graph id="G" edgedefault="{"directed" if g.directed else "undirected"}">\n')

    def days(v: Any) -> str:
        if not g.dynamic or not v:
            return ""
        return f'<data key="days">{" ".join(d.isoformat() for d in v)}</data>'

    n_nodes = n_edges = 0
    for n in nodes:
        vals = f'<data key="label">{escape(n["label"])}</data>' + "".join(
            f'<data key="{name}">{escape(str(n[name]))}</data>'
            for name, _, _ in NODE_ATTRS
            if n.get(name) is not None
        )
        w(f"    <node id={quoteattr(n['id'])}>{vals}{days(n['days'])}</node>\n")
        n_nodes += 1
    for e in edges:
        w(
            f"    <edge source={quoteattr(e['source'])} target={quoteattr(e['target'])}>"
            f'<data key="interaction">{escape(e["interaction"])}</data><data key="weight">{e["weight"]}</data>'
            f"{days(e['days'])}</edge>\n"
        )
        n_edges += 1
    w("  </graph>\n</graphml>\n")
    return n_nodes, n_edges


def _interval(days: Any) -> str:
    return "<" + "; ".join(f"[{a}, {b}]" for a, b in _spells(days)) + ">" if days else ""


def _write_gephi_csv(
    base: Path, nodes: Iterator[dict[str, Any]], edges: Iterator[dict[str, Any]], g: _Graph
) -> tuple[int, int, list[Path]]:
    npath = base.with_name(base.stem + ".nodes.csv")
    epath = base.with_name(base.stem + ".edges.csv")
    n_nodes = n_edges = 0
    extra = ["Interval"] if g.dynamic else []
    with open(npath, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["Id", "Label", *(a[0] for a in NODE_ATTRS), *extra])
        for n in nodes:
            w.writerow(
                [n["id"], n["label"], *("" if n.get(a[0]) is None else n[a[0]] for a in NODE_ATTRS)]
                + ([_interval(n["days"])] if g.dynamic else [])
            )
            n_nodes += 1
    with open(epath, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        # Gephi's column "Type" says directed or not; the kind of interaction is its own column.
        w.writerow(["Source", "Target", "Type", "Weight", "interaction", *extra])
        kind = "Directed" if g.directed else "Undirected"
        for e in edges:
            w.writerow(
                [e["source"], e["target"], kind, e["weight"], e["interaction"]]
                + ([_interval(e["days"])] if g.dynamic else [])
            )
            n_edges += 1
    return n_nodes, n_edges, [npath, epath]


def export_network(
    archive: Archive,
    out: str | Path,
    *,
    network: str = "interactions",
    fmt: str = "gexf",
    interactions: tuple[str, ...] = INTERACTIONS,
    dynamic: bool = False,
    filters: Filters | None = None,
    pseudonymise: bool = False,
    salt: str | None = None,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write ``network`` of the selected posts to ``out`` in ``fmt`` (``gephi-csv``: two files
    beside ``out``, ``STEM.nodes.csv`` and ``STEM.edges.csv``). Returns nodes, edges, files.
    ``on_start`` is called with the rows to write (nodes + edges), ``progress`` with how many
    were written since (a progress bar's total and advance)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown network format {fmt!r}; one of {', '.join(FORMATS)}")
    for k in interactions:
        if k not in INTERACTIONS:
            raise ValueError(f"unknown interaction {k!r}; one of {', '.join(INTERACTIONS)}")
    ps = Pseudonymiser(salt) if pseudonymise else None
    path = Path(out)
    with selection(archive, filters) as sel:
        g = _prepare(sel, network, interactions, dynamic)
        try:
            if on_start is not None:
                on_start(
                    int(sel.con.execute(f"SELECT count(*) FROM ({g.ids_sql})").fetchall()[0][0])
                    + int(sel.con.execute("SELECT count(*) FROM _x_net_edges").fetchall()[0][0])
                )
            nodes = _advancing(_node_rows(sel, g, ps), progress)
            edges = _advancing(_edge_rows(sel, g, network, ps), progress)
            if fmt == "gephi-csv":
                n, e, files = _write_gephi_csv(path, nodes, edges, g)
            else:
                with open(path, "w", encoding="utf-8") as fh:
                    n, e = (_write_gexf if fmt == "gexf" else _write_graphml)(fh, nodes, edges, g)
                files = [path]
        finally:
            for name in ("_x_net_edges", "_x_net_acc", "_x_net_match"):
                with contextlib.suppress(Exception):  # not registered (no campaign): nothing to drop
                    sel.con.unregister(name)
    return {
        "nodes": n,
        "edges": e,
        "files": [str(f) for f in files],
        "selected": sel.count,
        "left_out": sel.left_out,
    }
