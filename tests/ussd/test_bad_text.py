"""Bad text in the gateway's form: what the subscriber dialled or typed ends the session with a short screen;
a broken field of the gateway's own is a bad call (400). Either way nothing runs and no session is kept."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tests.rows import row_counts
from tests.ussd.conftest import GATEWAY, MSISDN, Gateway, add_subscriber, screen_of

FORM = {
    "sessionId": "ATUid_bad_text",
    "serviceCode": "#121#",
    "phoneNumber": MSISDN,
    "networkCode": "61201",
    "text": "",
}
NOT_UTF8 = "%ED%A0%80"  # what a lone surrogate would be written as: not UTF-8


def post(http: httpx.Client, **changed: str) -> httpx.Response:
    """The gateway's form with some fields changed; each value is sent as given (already URL-encoded)."""
    fields = {name: quote(value, safe="") for name, value in FORM.items()} | changed
    body = "&".join(f"{name}={value}" for name, value in fields.items())
    return http.post(
        "/ussd", content=body.encode(), headers={"Content-Type": "application/x-www-form-urlencoded", **GATEWAY}
    )


@pytest.mark.parametrize("field", ["text", "serviceCode"])
@pytest.mark.parametrize(
    ("value", "screen"),
    [
        ("1%00", "Saisie invalide : caractère non permis."),
        ("%1B1", "Saisie invalide : caractère non permis."),
        ("1" + NOT_UTF8, "Saisie invalide : encodage inconnu."),
    ],
    ids=["nul", "escape", "not-utf8"],
)
def test_what_the_subscriber_typed_or_dialled_with_a_bad_character_ends_with_a_short_screen(
    http, ctx, field, value, screen
):
    add_subscriber(http)
    before = row_counts(ctx)
    assert screen_of(post(http, **{field: value})) == ("END", screen)
    assert row_counts(ctx) == before


@pytest.mark.parametrize(("field", "length"), [("text", 501), ("serviceCode", 41)])
def test_what_the_subscriber_typed_or_dialled_too_long_ends_with_a_short_screen(http, ctx, field, length):
    add_subscriber(http)
    before = row_counts(ctx)
    assert screen_of(post(http, **{field: "1" * length})) == ("END", "Saisie trop longue.")
    assert row_counts(ctx) == before


@pytest.mark.parametrize("field", ["sessionId", "phoneNumber", "networkCode"])
@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("%2B225%000701020304", "control-character"),
        ("%2B2250701020304%1B", "control-character"),
        ("%2B2250701020304" + NOT_UTF8, "bad-encoding"),
    ],
    ids=["nul", "escape", "not-utf8"],
)
def test_a_broken_field_of_the_gateways_is_a_bad_call(http, ctx, field, value, fault):
    add_subscriber(http)
    before = row_counts(ctx)
    response = post(http, **{field: value})
    assert (response.status_code, response.text) == (400, f"Bad request: {field}: {fault}")
    assert response.headers["content-type"].startswith("text/plain")
    assert row_counts(ctx) == before


@pytest.mark.parametrize(("field", "length"), [("sessionId", 101), ("phoneNumber", 21), ("networkCode", 11)])
def test_an_over_long_field_of_the_gateways_is_a_bad_call(http, ctx, field, length):
    add_subscriber(http)
    before = row_counts(ctx)
    response = post(http, **{field: "2" * length})
    assert (response.status_code, response.text) == (400, f"Bad request: {field}: too-long")
    assert row_counts(ctx) == before


def test_a_refused_input_mid_session_keeps_the_session_as_it_was(http, ctx):
    add_subscriber(http)
    gateway = Gateway(http)
    menu = gateway.dial()
    before = row_counts(ctx)
    refused = gateway.post("1\x00")
    assert screen_of(refused) == ("END", "Saisie invalide : caractère non permis.")
    assert row_counts(ctx) == before
    assert gateway.repeat() == menu  # the stored session still answers its last screen
