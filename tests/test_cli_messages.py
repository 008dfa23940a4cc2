"""CLI messages are printed as they are: text from the user or the data (a campaign file's
problem, a format name, a file path, a SQL value) is never read as Rich markup nor emoji codes;
only the label (``error:``, ``warning:``) is styled."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from salon.cli import app
from salon.store.archive import open_archive


def test_a_campaign_file_without_its_campaign_table_says_so_literally(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[[days]]\ndate = 2021-09-21\ntheme = "x"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["campaign", "check", str(f)])
    assert res.exit_code == 1
    assert res.stderr.strip() == f"error: {f}: campaign: missing [campaign] table", res.stderr


def test_fail_prints_markup_and_emoji_codes_as_they_are() -> None:
    res = CliRunner().invoke(app, ["import", "-", "--format", "[bold]x:thumbs_up:"])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: unknown format '[bold]x:thumbs_up:'; known: "), res.stderr


def test_import_warnings_show_a_bracketed_path(tmp_path: Path) -> None:
    d = tmp_path / "[red]dir"
    d.mkdir()
    (d / "[x].jsonl").write_bytes(b"{not json\n")
    res = CliRunner().invoke(app, ["import", str(d / "[x].jsonl"), "-a", str(tmp_path / "a.duckdb"), "-q"])
    assert f"warning: {d / '[x].jsonl'}:1: " in res.stderr, res.stderr


def test_sql_table_shows_values_and_names_as_they_are(tmp_path: Path) -> None:
    a = tmp_path / "a.duckdb"
    open_archive(a).close()
    res = CliRunner().invoke(app, ["sql", """SELECT '[campaign] :smile:' AS "[b]c" """, "-a", str(a)])
    assert res.exit_code == 0, res.output
    assert "[campaign] :smile:" in res.stdout and "[b]c" in res.stdout, res.stdout


def test_only_the_label_is_styled() -> None:
    from salon.commands.common import labelled

    t = labelled("error", "bold red", "[b]x[/b] :smile:")
    assert t.plain == "error: [b]x[/b] :smile:"
    assert [(s.start, s.end, str(s.style)) for s in t.spans] == [(0, 6, "bold red")]


def test_info_shows_the_archive_and_quarantined_paths_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths: short enough for one table line
    Path("b[x].jsonl").write_bytes(b"{not json\n")
    r = CliRunner()
    r.invoke(app, ["import", "b[x].jsonl", "-a", "[b]a.duckdb", "-q"])
    res = r.invoke(app, ["info", "-a", "[b]a.duckdb"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "[b]a.duckdb", res.stdout
    assert "│ b[x].jsonl:1 │" in res.stdout, res.stdout


CAMPAIGN = """
[campaign]
name = "[x] Week"
slug = "xweek"
timezone = "UTC"
start = 2021-09-14
end = 2021-09-22
hashtags = ["Brexit"]

[participants]
file = "p.csv"
"""


def test_a_bracketed_campaign_name_is_shown_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("name,country,x\n[b]Nobody,FR,nobody_here_\n", encoding="utf-8")
    f = tmp_path / "c.toml"
    f.write_text(CAMPAIGN, encoding="utf-8")
    a = str(tmp_path / "a.duckdb")
    r = CliRunner()
    res = r.invoke(app, ["campaign", "check", str(f)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("ok [x] Week (xweek): "), res.stdout
    res = r.invoke(app, ["campaign", "add", str(f), "-a", a])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("added [x] Week (xweek): "), res.stdout
    res = r.invoke(app, ["campaign", "list", "-a", a])
    assert res.exit_code == 0, res.output
    assert "│ [x] Week " in res.stdout, res.stdout
    res = r.invoke(app, ["campaign", "participants", "xweek", "-a", a])
    assert res.exit_code == 0, res.output
    assert "│ [b]Nobody " in res.stdout, res.stdout
    res = r.invoke(app, ["tally", "xweek", "-a", a])
    assert res.exit_code == 0, res.output
    assert "[x] Week" in res.stdout, res.stdout


def test_user_names_are_shown_as_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALON_PASSWORD", "a long enough password")
    a = str(tmp_path / "a.duckdb")
    open_archive(a).close()
    r = CliRunner()
    res = r.invoke(app, ["users", "add", "[b]ann", "-a", a])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("user [b]ann (editor) created"), res.stdout
    res = r.invoke(app, ["users", "list", "-a", a])
    assert res.exit_code == 0, res.output
    assert "[b]ann" in res.stdout, res.stdout


def test_warnings_of_an_import_into_a_served_archive_show_a_bracketed_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import salon.web.remote
    import salon.web.serverfile

    report = SimpleNamespace(problems=["dir/[x].jsonl:1: bad :smile:"], ok=True)
    monkeypatch.setattr(salon.web.serverfile, "read_server_file", lambda path: {"pid": 1, "url": "http://x"})
    monkeypatch.setattr(salon.web.remote, "remote_import", lambda *a, **kw: report)
    res = CliRunner().invoke(app, ["import", "in.jsonl", "-a", str(tmp_path / "a.duckdb"), "-q"])
    assert res.exit_code == 0, res.output
    assert res.stderr == "warning: dir/[x].jsonl:1: bad :smile:\n", res.stderr
