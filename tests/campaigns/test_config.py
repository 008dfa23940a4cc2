"""Campaign files: parsing, validation messages (file, line, field), export round trip, CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salon.campaigns.config import CampaignError, load_campaign, parse_campaign, parse_participants
from salon.campaigns.export import participants_csv, to_toml
from salon.campaigns.stored import get_campaign, list_campaigns, save_campaign
from salon.cli import app
from salon.store.archive import open_archive

MW = """\
[campaign]
name = "MuseumWeek 2015"
slug = "museumweek-2015"
series = "MuseumWeek"
timezone = "Europe/Paris"
start = 2015-03-23
end = 2015-03-30          # exclusive
hashtags = ["MuseumWeek"]

[[days]]
date = 2015-03-23
theme = "Secrets"
hashtags = ["SecretsMW"]

[[days]]
date = 2015-03-24
theme = "Souvenirs"
hashtags = ["SouvenirsMW"]

[participants]
file = "participants.csv"

[[chats]]
slug = "musesocial-1"
hashtag = "musesocial"
start = 2012-03-08T19:00:00-05:00
minutes = 60
hosts = ["x:erinblasco"]

[sources.mastodon]
instances = ["https://mastodon.social"]
token_env = "SALON_MASTODON_TOKEN"
"""

CSV = """\
name,country,city,kind,x,mastodon,bluesky
Musée du Louvre,FR,Paris,museum,MuseeLouvre,louvre@mastodon.social,
British Museum,GB,London,museum,britishmuseum bm_tech,,britishmuseum.bsky.social
MoMA,US,New York,museum,MuseumModernArt,,did:plc:abc123
"""


def write(tmp_path: Path, toml: str = MW, csv: str = CSV) -> Path:
    (tmp_path / "participants.csv").write_text(csv, encoding="utf-8")
    p = tmp_path / "mw.toml"
    p.write_text(toml, encoding="utf-8")
    return p


def issues(tmp_path: Path, toml: str = MW, csv: str = CSV) -> list[str]:
    with pytest.raises(CampaignError) as exc:
        load_campaign(write(tmp_path, toml, csv))
    return [str(i) for i in exc.value.issues]


def test_parse_valid(tmp_path: Path) -> None:
    c = load_campaign(write(tmp_path))
    assert c.slug == "museumweek-2015" and c.series == "MuseumWeek" and c.edition == "2015"
    assert c.start_utc == datetime(2015, 3, 22, 23, tzinfo=UTC)
    # DST starts in Paris on 2015-03-29: the window ends at 22:00 UTC.
    assert c.end_utc == datetime(2015, 3, 29, 22, tzinfo=UTC)
    assert c.official_keys() == ["museumweek", "secretsmw", "souvenirsmw"]
    assert [p.name for p in c.participants] == ["Musée du Louvre", "British Museum", "MoMA"]
    bm = c.participants[1]
    assert [(a.platform, a.handle) for a in bm.accounts] == [
        ("x", "britishmuseum"),
        ("x", "bm_tech"),
        ("bluesky", "britishmuseum.bsky.social"),
    ]
    assert c.participants[2].accounts[1].account_uid == "bluesky:did:plc:abc123"
    bounds = c.day_bounds()
    assert len(bounds) == 7
    d, lo, hi = bounds[-1]
    assert d == date(2015, 3, 29) and (hi - lo).total_seconds() == 23 * 3600


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("start = 2015-03-23", "start = 2015-02-30", ":6: Invalid date"),
        ("start = 2015-03-23", 'start = "23/03/2015"', ":6: campaign.start: '23/03/2015' is not a date"),
        (
            'timezone = "Europe/Paris"',
            'timezone = "Europe/Pariss"',
            ":5: campaign.timezone: unknown time zone",
        ),
        ("end = 2015-03-30", "end = 2015-03-20", ":7: campaign.end: end 2015-03-20 is not after start"),
        (
            "date = 2015-03-24",
            "date = 2015-04-24",
            ":16: days[2].date: 2015-04-24 is outside the campaign window",
        ),
        ('name = "MuseumWeek 2015"', 'name = ""', ":2: campaign.name: required"),
    ],
)
def test_toml_errors_name_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in MW
    found = issues(tmp_path, MW.replace(old, new, 1))
    assert any(expected in i for i in found), found


def test_csv_errors(tmp_path: Path) -> None:
    bad = CSV + "Tate,UK,London,museum,Tate,,\nOther,XX,,museum,britishmuseum,,\n,FR,,,,,\n"
    found = issues(tmp_path, csv=bad)
    assert any("participants.csv:5: country: unknown country code 'UK'" in i and "GB" in i for i in found)
    assert any("participants.csv:6: country: unknown country code 'XX'" in i for i in found)
    assert any(
        "participants.csv:6: x: duplicate handle 'britishmuseum' (already on line 3)" in i for i in found
    )
    assert any("participants.csv:7: name: empty name" in i for i in found)


def test_duplicate_handle_case_insensitive() -> None:
    with pytest.raises(CampaignError) as exc:
        parse_participants("name,country,x\nA,FR,Foo\nB,FR,FOO\n")
    assert "duplicate handle 'FOO' (already on line 2)" in str(exc.value)


def test_export_round_trip(tmp_path: Path) -> None:
    c = load_campaign(write(tmp_path))
    text = to_toml(c)
    c2 = parse_campaign(text, path="x.toml", participants_csv=participants_csv(c))
    assert c2.definition() == c.definition()
    assert c2.extra == c.extra and c2.series == c.series and c2.days == c.days


def test_store_add_update_keeps_learned_ids(tmp_path: Path) -> None:
    c = load_campaign(write(tmp_path))
    with open_archive(tmp_path / "a.duckdb") as arc:
        cid, created = save_campaign(arc, c)
        assert created
        arc.con.execute(
            "UPDATE participant_accounts SET account_uid = 'x:42' WHERE handle_norm = 'museelouvre'"
        )
        c.name = "MuseumWeek 2015 (fixed)"
        cid2, created2 = save_campaign(arc, c)
        assert (cid2, created2) == (cid, False)
        got = get_campaign(arc, "museumweek-2015")
        assert got is not None and got.name == "MuseumWeek 2015 (fixed)"
        assert got.participants[0].accounts[0].account_uid == "x:42"
        assert got.definition() == c.definition() | {"accounts": got.definition()["accounts"]}
        assert [r["slug"] for r in list_campaigns(arc)] == ["museumweek-2015"]


def test_cli_check_add_list_export(tmp_path: Path) -> None:
    runner = CliRunner()
    f = write(tmp_path)
    arc = str(tmp_path / "a.duckdb")
    r = runner.invoke(app, ["campaign", "check", str(f)])
    assert r.exit_code == 0, r.output
    bad = write(tmp_path, MW.replace('"Europe/Paris"', '"Mars/Olympus"'))
    r = runner.invoke(app, ["campaign", "check", str(bad)])
    assert r.exit_code == 1
    f = write(tmp_path)
    assert runner.invoke(app, ["import", "-q", "-a", arc, "/dev/null"]).exit_code in (0, 1)
    r = runner.invoke(app, ["campaign", "add", str(f), "-a", arc])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["campaign", "add", str(f), "-a", arc])
    assert r.exit_code == 0 and "updated" in r.output
    r = runner.invoke(app, ["campaign", "list", "-a", arc, "--json"])
    assert r.exit_code == 0 and '"museumweek-2015"' in r.output
    out = tmp_path / "out"
    r = runner.invoke(app, ["campaign", "export", "museumweek-2015", "-a", arc, "-o", str(out)])
    assert r.exit_code == 0, r.output
    back = load_campaign(out / "museumweek-2015.toml")
    assert back.definition() == load_campaign(f).definition()


def test_cli_new_with_flags(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app,
        [
            "campaign",
            "new",
            str(tmp_path),
            "--name",
            "MuseumWeek 2016",
            "--timezone",
            "Europe/Paris",
            "--start",
            "2016-03-28",
            "--hashtag",
            "MuseumWeek",
            "--series",
            "MuseumWeek",
            "--day",
            "2016-03-28=Secrets:SecretsMW",
        ],
    )
    assert r.exit_code == 0, r.output
    c = load_campaign(tmp_path / "museumweek-2016.toml")
    assert c.end == date(2016, 4, 4) and c.official_keys() == ["museumweek", "secretsmw"]
