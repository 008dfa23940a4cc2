"""Lookalike accounts: UTS #39 skeletons (Greek capital Mu for M, "rn" for "m"), small edit
distances and copied display names flag an account with the registry entry it imitates; a
genuine registry account is never flagged."""

from __future__ import annotations

from pathlib import Path

from salon.campaigns.tally import resolve_campaign, tally
from salon.campaigns.trust import lookalikes
from salon.campaigns.trust.lookalikes import handle_name, match_key, skeleton
from salon.store.archive import open_archive
from tests.trust.data import SLUG, Builder


def test_skeletons() -> None:
    assert skeleton("\u039c") == skeleton("M")  # GREEK CAPITAL LETTER MU reads as M
    assert skeleton("rn") == skeleton("m")  # "rn" reads as "m"
    assert match_key("\u039cusee_Louvre") == match_key("museelouvre") == match_key("rnusee-louvre")
    assert match_key("pr\u0430do") == match_key("prado")  # Cyrillic a
    assert match_key("British1Museum") == match_key("britishlmuseum")
    assert match_key("prado") != match_key("pradera")
    assert handle_name("mastodon", "Louvre@mastodon.example") == "Louvre"
    assert handle_name("bluesky", "louvre.bsky.social") == "louvre"


def test_flags_with_evidence_and_never_the_genuine_account(tmp_path: Path) -> None:
    b = Builder(tmp_path)
    b.post("Bienvenue au musée", user="louvre", name="Musée du Louvre")  # genuine (registry)
    b.post("Welcome to our museum", user="britishmuseum", name="British Museum")  # genuine
    b.post(
        "Welcome to the museum", user="\u039cusee_louvre".replace("_", ""), name="Louvre fan"
    )  # skeleton: no
    b.post("Come to our galleries", user="l\u043euvre", name="Art lover")  # Cyrillic o: confusable
    b.post("Tickets here", user="britishrnuseum", name="Tickets")  # rn for m
    b.post("Visit us", user="prad0", name="Museo")  # 0 for o: skeleton of 0 is o
    b.post("Our collection", user="britishmuseumm", name="BM")  # one edit
    b.post("Hello", user="art_visitor", name="Museo del Prado")  # copied display name
    b.post("Hello", user="visitor", name="A Visitor")  # nothing
    b.post("Shop", user="British\u039cuseum", name="Shop")  # Greek capital Mu for the M
    path = b.build()
    with open_archive(path) as arc:
        tally(arc, SLUG)
        c = resolve_campaign(arc, SLUG)
        flags = {f["handle"].split("@")[0]: f for f in lookalikes.flagged(arc, c)}
        assert "louvre" not in flags and "britishmuseum" not in flags  # genuine accounts
        assert "visitor" not in flags and "\u039cuseelouvre".lower() not in flags
        assert flags["l\u043euvre"]["imitated"] == "mastodon:louvre@mastodon.example"
        assert flags["l\u043euvre"]["evidence"][0]["signal"] == "confusable_handle"
        assert flags["britishrnuseum"]["name"] == "British Museum"
        assert flags["britishrnuseum"]["evidence"][0]["signal"] == "confusable_handle"
        assert flags["prad0"]["imitated"] == "mastodon:prado@mastodon.example"
        assert [e["signal"] for e in flags["britishmuseumm"]["evidence"]] == ["similar_handle"]
        assert [e["signal"] for e in flags["art_visitor"]["evidence"]] == ["copied_display_name"]
        assert flags["art_visitor"]["name"] == "Museo del Prado"
        mu = flags["British\u039cuseum"]
        assert mu["name"] == "British Museum" and mu["evidence"][0]["signal"] == "confusable_handle"
        assert len(flags) == 6
