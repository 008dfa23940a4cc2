"""CLI messages are printed as they are: text from the user or the data (a campaign file's
problem, a format name, a file path, a SQL value) is never read as Rich markup nor emoji codes;
only the label (``error:``, ``warning:``) is styled."""

from __future__ import annotations

from pathlib import Path

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
