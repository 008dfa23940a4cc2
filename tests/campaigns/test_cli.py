"""`salon tally`, `salon compare` and `salon campaign participants` end to end (on the commands
module itself, as salon.cli registers it)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from salon.commands import campaign as cmd
from salon.importer import import_paths
from tests.conftest import twarc

app = typer.Typer()
app.add_typer(cmd.app, name="campaign")
app.command("tally")(cmd.tally_cmd)
app.command("compare")(cmd.compare_cmd)

CAMPAIGN = """
[campaign]
name = "Brexit {year}"
slug = "brexit-{year}"
series = "Brexit"
timezone = "Europe/London"
start = {start}
end = {end}
hashtags = ["Brexit"]

[[days]]
date = {theme_day}
theme = "Johnson"
hashtags = ["JohnsonOut"]

[participants]
file = "p.csv"
"""


def test_tally_compare_participants(tmp_path: Path) -> None:
    arc = str(tmp_path / "a.duckdb")
    import_paths([str(twarc("brexit.jsonl"))], arc)
    (tmp_path / "p.csv").write_text("name,country,x\nNobody,FR,nobody_here_\n", encoding="utf-8")
    a = tmp_path / "a.toml"
    a.write_text(
        CAMPAIGN.format(year="a", start="2021-09-14", end="2021-09-22", theme_day="2021-09-21"),
        encoding="utf-8",
    )
    b = tmp_path / "b.toml"
    b.write_text(
        CAMPAIGN.format(year="b", start="2021-09-22", end="2021-09-23", theme_day="2021-09-22"),
        encoding="utf-8",
    )
    r = CliRunner()
    for f in (a, b):
        res = r.invoke(app, ["campaign", "add", str(f), "-a", arc])
        assert res.exit_code == 0, res.output
    res = r.invoke(app, ["tally", "brexit-b", "-a", arc, "--json"])
    assert res.exit_code == 0, res.output
    t = json.loads(res.output)
    assert t["posts"] > 0 and t["source"] == "index"
    res = r.invoke(app, ["tally", str(b), "-a", arc, "--json", "--at", "2021-09-22T12:00"])
    early = json.loads(res.output)
    assert early["at"] == "2021-09-22T11:00:00+00:00" and early["posts"] < t["posts"]
    res = r.invoke(app, ["tally", "brexit-b", "-a", arc])
    assert res.exit_code == 0 and "posts" in res.output and "By day" in res.output
    res = r.invoke(app, ["tally", "nope", "-a", arc])
    assert res.exit_code == 1
    res = r.invoke(app, ["compare", "brexit-a", "brexit-b", "-a", arc, "--json"])
    assert res.exit_code == 0, res.output
    cmp = json.loads(res.output)
    assert cmp["figures"]["posts"]["b"] == t["posts"]
    assert [x["theme"] for x in cmp["themes"]] == ["Johnson"]
    res = r.invoke(app, ["compare", "brexit-a", "brexit-b", "-a", arc])
    assert res.exit_code == 0 and "returning institutions" in res.output
    res = r.invoke(app, ["campaign", "participants", "brexit-b", "-a", arc, "--silent", "--json"])
    assert [p["name"] for p in json.loads(res.output)] == ["Nobody"]
    res = r.invoke(
        app, ["campaign", "participants", "brexit-b", "-a", arc, "--candidates", "--min-posts", "1"]
    )
    assert res.exit_code == 0 and "Candidates" in res.output
