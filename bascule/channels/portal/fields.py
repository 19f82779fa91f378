"""The text rule at the portal's edge: every value a page takes — path segments, query string, form fields —
goes through `bascule.kernel.text` before the page looks anything up or writes anything.

A refusal is the rule's `validation-error`, which `PortalRoute` renders as it renders every refusal: the
portal's error page, in French, with status 422. Each field has the French name its message quotes and its
longest length; a field no page reads is held to a default length under its own name, checked first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request

from bascule.channels.forms import url_encoded_pairs
from bascule.kernel.text import clean_text, decode_text


@dataclass(frozen=True, slots=True)
class PortalField:
    label: str
    max_length: int


ID_LENGTH = 100

FIELDS: dict[str, PortalField] = {
    # logins
    "email": PortalField("adresse e-mail", 320),
    "password": PortalField("mot de passe", 200),
    "token": PortalField("jeton opérateur", 500),
    "msisdn": PortalField("numéro", 40),
    "code": PortalField("code", 40),  # the one-time code, or the code dialled on the USSD simulator
    "suite": PortalField("page demandée", 2000),
    "csrf_token": PortalField("jeton du formulaire", 200),
    # change forms and choices
    "volume": PortalField("volume", 20),
    "radio": PortalField("radio", 16),
    "apn": PortalField("APN", 64),
    "network": PortalField("réseau", 32),
    "ceiling_go": PortalField("plafond", 20),
    "profil": PortalField("profil", 64),
    "service": PortalField("service", ID_LENGTH),
    "periode": PortalField("période", 20),
    "q": PortalField("recherche", 100),
    # the USSD simulator
    "session_id": PortalField("session USSD", 100),
    "history": PortalField("saisies précédentes", 400),
    "reponse": PortalField("réponse", 40),
    # ids in addresses
    "service_id": PortalField("service", ID_LENGTH),
    "request_id": PortalField("demande", ID_LENGTH),
    "invoice_id": PortalField("facture", ID_LENGTH),
    "migration_id": PortalField("changement de profil", ID_LENGTH),
    "account_id": PortalField("compte", ID_LENGTH),
    "rest": PortalField("adresse", 2000),
}
DEFAULT_LENGTH = 200
NAME_LENGTH = 100
URL_ENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


async def refuse_bad_text(request: Request) -> None:
    """Raises the rule's `validation-error` for the first value of this request that breaks it."""
    for name, value in request.path_params.items():
        _check(name, value)
    for name, raw in url_encoded_pairs(request.scope["query_string"]):
        _check(name, raw)
    for name, posted in await _posted(request):
        _check(name, posted)


async def _posted(request: Request) -> Sequence[tuple[str, bytes | str]]:
    """The form's fields as sent. A URL-encoded value keeps its bytes (so a bad encoding is seen); a multipart
    part comes decoded by Starlette, which never yields a lone surrogate."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == URL_ENCODED:
        return url_encoded_pairs(await request.body())
    if media_type == MULTIPART:
        form = await request.form()
        return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    return []


def _check(name: str, value: str | bytes) -> None:
    field = _field(name)
    text = decode_text(value, field=field.label) if isinstance(value, bytes) else value
    clean_text(text, field=field.label, max_length=field.max_length, trim=False)


def _field(name: str) -> PortalField:
    known = FIELDS.get(name)
    if known is not None:
        return known
    return PortalField(clean_text(name, field="nom de champ", max_length=NAME_LENGTH, trim=False), DEFAULT_LENGTH)
