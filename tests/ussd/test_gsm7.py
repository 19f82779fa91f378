"""The GSM 03.38 default alphabet: transliteration of French, and what fits in one screen."""

import pytest

from bascule.channels.ussd.gsm7 import clip, fits, is_gsm7, septets, to_gsm7


@pytest.mark.parametrize(
    ("french", "gsm"),
    [
        ("reçu", "recu"),
        ("être", "etre"),
        ("déjà là, où ? à côté", "déjà là, où ? à coté"),
        ("Île, août, maïs, Noël", "Ile, aout, mais, Noel"),
        ("cœur", "coeur"),
        ("l’offre «Tigre»", "l'offre \"Tigre\""),
        ("2\u202f500 F CFA", "2 500 F CFA"),
        ("ÉÇÄÖÑÜßÆæØøÅåäöñüèéùìò", "ÉÇÄÖÑÜßÆæØøÅåäöñüèéùìò"),
    ],
)
def test_french_is_written_in_the_default_alphabet(french, gsm):
    assert to_gsm7(french) == gsm
    assert is_gsm7(to_gsm7(french))


def test_what_has_no_latin_form_becomes_a_question_mark():
    assert to_gsm7("prix ≈ 3 ✓") == "prix ? 3 ?"


def test_extension_characters_are_kept_and_count_twice():
    assert to_gsm7("10 € [promo]") == "10 € [promo]"
    assert septets("€[]{}\\~^|") == 18
    assert septets("abc") == 3


def test_a_screen_fits_in_182_septets():
    assert fits("a" * 182)
    assert not fits("a" * 183)
    assert not fits("a" * 181 + "€")
    assert not fits("reçu")


def test_clip_cuts_an_overflowing_screen_and_says_so():
    clipped = clip("mot " * 60)
    assert fits(clipped)
    assert clipped.endswith("...")
    assert clip("court") == "court"
