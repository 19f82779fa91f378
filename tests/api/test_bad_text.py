"""API v1 refuses bad text at its edge (422 validation-error) on both databases, and keeps nothing of it."""

from __future__ import annotations

import json

import pytest

from tests.api.helpers import OPERATOR, ok
from tests.rows import row_counts


@pytest.mark.parametrize("entity_kind", ["service\x00", "ser\x1bvice", "x" * 33])
def test_an_audit_query_with_control_characters_or_too_long_is_a_422(http, entity_kind):
    response = http.get(
        "/api/v1/admin/audit", params={"entity_kind": entity_kind, "entity_id": "svc_1"}, headers=OPERATOR
    )
    assert response.status_code == 422, response.text  # PostgreSQL answered 500 to a NUL here
    assert response.json()["code"] == "validation-error"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Acme\x00", "Le champ « name » contient un caractère non permis (caractère de contrôle)."),
        ("Ac\u001bme", "Le champ « name » contient un caractère non permis (caractère de contrôle)."),
        ("\ud800Acme", "Input should be a valid string, unable to parse raw data as a unicode string"),  # the parser
        ("   ", "Le champ « name » est vide."),
    ],
)
def test_an_account_name_with_a_control_character_or_a_lone_surrogate_is_refused_and_nothing_stored(
    http, ctx, name, message
):
    before = row_counts(ctx)
    body = json.dumps({"name": name})  # escaped, as a JSON client sends it: \u0000, \ud800
    response = http.post(
        "/api/v1/admin/accounts", content=body.encode(), headers={**OPERATOR, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-error"
    assert message in [error["msg"].removeprefix("Value error, ") for error in response.json()["errors"]]
    assert row_counts(ctx) == before


def test_an_account_name_is_stored_trimmed(http):
    account = ok(http.post("/api/v1/admin/accounts", json={"name": "  Acme Télécom  "}, headers=OPERATOR), 201)
    assert account["name"] == "Acme Télécom"


def test_a_path_id_with_a_control_character_is_a_422_not_a_500(http):
    response = http.get("/api/v1/services/svc%00x", headers=OPERATOR)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation-error"
