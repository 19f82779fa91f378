"""The text rule every channel applies to what it receives."""

from __future__ import annotations

import re

import pytest

from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message, short_message
from bascule.kernel.text import (
    ONE_LINE_PATTERN,
    SEVERAL_LINES_PATTERN,
    clean_text,
    decode_text,
    has_forbidden_character,
)


def test_a_name_is_trimmed_and_kept():
    assert clean_text("  Acme Télécom \u00a0", field="name", max_length=200) == "Acme Télécom"


@pytest.mark.parametrize("value", ["a\x00b", "tab\there", "line\nbreak", "c\rr", "\x1b[31m", "del\x7f", "\ud800x"])
def test_a_single_line_field_refuses_control_characters_and_lone_surrogates(value):
    with pytest.raises(DomainError) as refused:
        clean_text(value, field="name", max_length=200)
    assert refused.value.code is ErrorCode.VALIDATION_ERROR
    assert refused.value.params["fault"] == "control-character"
    assert message(refused.value) == "Le champ « name » contient un caractère non permis (caractère de contrôle)."
    assert short_message(refused.value) == "Saisie invalide : caractère non permis."


def test_a_multiline_field_takes_tab_and_newlines_but_not_nul():
    assert clean_text("a\tb\r\nc", field="note", max_length=20, multiline=True) == "a\tb\r\nc"
    with pytest.raises(DomainError):
        clean_text("a\x00b", field="note", max_length=20, multiline=True)


def test_an_over_long_value_is_refused_with_its_limit():
    with pytest.raises(DomainError) as refused:
        clean_text("x" * 201, field="name", max_length=200)
    assert message(refused.value) == "Le champ « name » dépasse 200 caractères."
    assert clean_text("x" * 200, field="name", max_length=200) == "x" * 200


def test_a_required_field_left_blank_is_refused():
    with pytest.raises(DomainError) as refused:
        clean_text("   ", field="name", max_length=200, required=True)
    assert message(refused.value) == "Le champ « name » est vide."


def test_bytes_off_the_wire_are_read_as_utf8():
    assert decode_text("Télécom 😀".encode(), field="name") == "Télécom 😀"


@pytest.mark.parametrize("raw", [b"\xed\xa0\x80", b"a\xffb", b"\xc3"])  # a lone surrogate's bytes, a stray byte, a cut
def test_bytes_that_are_not_utf8_are_refused_as_a_bad_encoding(raw):
    with pytest.raises(DomainError) as refused:
        decode_text(raw, field="name")
    assert refused.value.code is ErrorCode.VALIDATION_ERROR
    assert refused.value.params["fault"] == "bad-encoding"
    assert message(refused.value) == "Le champ « name » n'est pas du texte valide (encodage UTF-8 attendu)."
    assert short_message(refused.value) == "Saisie invalide : encodage inconnu."


def test_a_password_is_not_trimmed():
    assert clean_text(" secret ", field="password", max_length=200, trim=False) == " secret "


@pytest.mark.parametrize(
    ("value", "multiline"),
    [("é€😀", False), ("a\x00", False), ("a\tb", False), ("a\tb\n", True), ("a\x0bb", True), ("\x7f", True)],
)
def test_the_openapi_patterns_say_the_same_rule_as_the_code(value, multiline):
    """For characters: a lone surrogate is none, and only the code refuses it (see bascule.kernel.text)."""
    pattern = SEVERAL_LINES_PATTERN if multiline else ONE_LINE_PATTERN
    python_form = pattern.encode().decode("unicode_escape")  # \\uXXXX as JSON Schema writes it
    assert (re.fullmatch(python_form, value) is None) == has_forbidden_character(value, multiline=multiline)
