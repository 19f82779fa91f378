"""The GSM 03.38 alphabet (3GPP TS 23.038): French keeps the letters the alphabet has, loses only the others,
and a screen's length is counted in septets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bascule.kernel.gsm0338 import (
    BASIC,
    DEFAULT_ALPHABET,
    EXTENSION,
    TRANSLITERATIONS,
    clip,
    encode,
    fits,
    is_gsm,
    septets,
    to_gsm,
)

quick = settings(database=None, deadline=None)


# --- the tables, as 3GPP TS 23.038 §6.2.1 and §6.2.1.1 give them ---------------------------------------------


def test_the_default_alphabet_has_128_codes_in_the_order_of_the_standard():
    assert len(DEFAULT_ALPHABET) == 128
    assert len(BASIC) == 127  # every code but the escape to the extension table
    codes = {
        "@": 0x00,
        "£": 0x01,
        "è": 0x04,
        "é": 0x05,
        "ù": 0x06,
        "ì": 0x07,
        "ò": 0x08,
        "Ç": 0x09,
        "\n": 0x0A,
        "\r": 0x0D,
        "Δ": 0x10,
        "_": 0x11,
        "Ξ": 0x1A,
        "Æ": 0x1C,
        "æ": 0x1D,
        "ß": 0x1E,
        "É": 0x1F,
        " ": 0x20,
        "¤": 0x24,
        "?": 0x3F,
        "¡": 0x40,
        "A": 0x41,
        "Ä": 0x5B,
        "Ö": 0x5C,
        "Ñ": 0x5D,
        "Ü": 0x5E,
        "§": 0x5F,
        "¿": 0x60,
        "a": 0x61,
        "ä": 0x7B,
        "ö": 0x7C,
        "ñ": 0x7D,
        "ü": 0x7E,
        "à": 0x7F,
    }
    assert {char: encode(char)[0] for char in codes} == codes


def test_the_extension_table_takes_an_escape_and_a_code():
    assert encode("€") == b"\x1b\x65"
    assert encode("\f^{}\\[~]|") == bytes.fromhex("1b0a 1b14 1b28 1b29 1b2f 1b3c 1b3d 1b3e 1b40")
    assert sorted(EXTENSION) == sorted("\f^{}\\[~]|€")
    assert not BASIC & EXTENSION


@pytest.mark.parametrize("char", ["ç", "ê", "â", "À", "«", "’", "\u00a0", "\t", "\x1b", "\x00", "✓"])
def test_a_character_outside_the_alphabet_cannot_be_encoded(char):
    assert not is_gsm(char)
    with pytest.raises(ValueError, match=r"U\+"):
        encode(f"ab{char}")


def test_septets_count_two_for_an_extension_character():
    assert septets("") == 0
    assert septets("Réessayez") == 9
    assert septets("€[]{}\\~^|") == 18
    assert septets("10 € le Go") == 11


# --- French in the alphabet --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "french",
    [
        "Découvrir",
        "conservés",
        "éligible",
        "Réessayez",
        "Désolé",
        "déjà là, où ?",
        "Éléments",
        "ÉÇÄÖÑÜ äöñü àèéìòù ÆæßØøÅå",
        "Ça",
        "Choisissez un profil :",
        "10 € [promo]",
    ],
)
def test_letters_of_the_alphabet_are_kept(french):
    assert to_gsm(french) == french


@pytest.mark.parametrize(
    ("french", "gsm"),
    [
        ("ê ë î ï ô û ç â œ", "e e i i o u c a oe"),
        ("À Â È Ê Ë Î Ï Ô Ù Û Ÿ Œ", "A A E E E I I O U U Y OE"),
        ("reçu, être, âge, maïs, Noël, août, cœur", "recu, etre, age, mais, Noel, aout, coeur"),
        ("déjà là, où ? à côté", "déjà là, où ? à coté"),
        ("l’offre «\u00a0Tigre\u00a0»…", 'l\'offre " Tigre "...'),
        ("2\u202f500 F CFA", "2 500 F CFA"),
        ("Tigre\u202f: 50\u00a0%", "Tigre : 50 %"),
        ("4G–5G — n° 3 ≥ 2", "4G-5G - no 3 >= 2"),
        ("e\u0301te\u0301", "été"),  # decomposed accents, as some keyboards send them, are composed first
        ("ﬁ ½ Ὠ", "fi 1/2 Ω"),  # Unicode's compatibility forms, then the alphabet's letters
        ("prix ≅ 3 ✓ 日本", "prix ? 3 ? ??"),
    ],
)
def test_other_characters_are_written_with_the_nearest_the_alphabet_has(french, gsm):
    assert to_gsm(french) == gsm


def test_every_written_form_is_in_the_alphabet():
    for char, written in TRANSLITERATIONS.items():
        assert not is_gsm(char), char
        assert is_gsm(written), (char, written)


@given(st.text())
@quick
def test_to_gsm_always_gives_an_encodable_text(text):
    gsm = to_gsm(text)
    assert is_gsm(gsm)
    assert len(encode(gsm)) == septets(gsm) >= len(gsm)
    assert septets(gsm) == len(gsm) + sum(char in EXTENSION for char in gsm)
    assert to_gsm(gsm) == gsm


@given(st.text(alphabet=sorted(BASIC | EXTENSION)))
@quick
def test_a_text_already_in_the_alphabet_is_left_as_it_is(text):
    assert to_gsm(text) == text


# --- one screen ---------------------------------------------------------------------------------------------


def test_a_screen_fits_in_182_septets():
    assert fits("a" * 182)
    assert not fits("a" * 183)
    assert not fits("a" * 181 + "€")
    assert fits("a" * 180 + "€")
    assert not fits("reçu")


def test_clip_cuts_an_overflowing_screen_and_says_so():
    clipped = clip("mot " * 60)
    assert fits(clipped)
    assert clipped.endswith("...")
    assert clip("court") == "court"
    assert septets(clip("€" * 100)) <= 182
