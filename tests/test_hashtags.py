"""Hashtag keys and text parsing (DESIGN.md, Definitions)."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from salon.hashtags import hashtags_in_text, tag_key, tag_norm


def test_accent_and_case_variants_share_a_key() -> None:
    assert tag_key("MuséeDuLouvre") == tag_key("MuseeDuLouvre") == tag_key("MUSEEDULOUVRE") == "museedulouvre"
    assert tag_key("#SecretsMW") == "secretsmw"


def test_accent_sensitive_norm_keeps_accents() -> None:
    assert tag_norm("MuséeDuLouvre") == "muséedulouvre"
    assert tag_norm("MuséeDuLouvre") != tag_norm("MuseeDuLouvre")


def test_nfkc_forms_fold_together() -> None:
    # Full-width letters and a decomposed é are the same hashtag as their plain forms.
    assert tag_key("ＭｕｓｅｕｍＷｅｅｋ") == tag_key("MuseumWeek")
    assert tag_key(unicodedata.normalize("NFD", "Musée")) == tag_key("Musée") == "musee"
    assert tag_key("Straße") == tag_key("STRASSE")  # casefold, not lower


def test_hashtags_in_text_skips_urls_and_numbers() -> None:
    text = "Visit https://example.org/page#section and #MuséeDuLouvre #1 #Art_2024 x#nope"
    assert hashtags_in_text(text) == ["MuséeDuLouvre", "Art_2024"]


@given(st.text())
def test_tag_key_is_idempotent(s: str) -> None:
    assert tag_key(tag_key(s)) == tag_key(s)
