"""The shapes of what API v1 receives: text fields, ids, MSISDNs, periods — each with the constraint the OpenAPI
document states and the code enforces, so that a client (or a fuzzer) reading the document knows what passes.

Free text goes through the one text rule (bascule.kernel.text): a control character, a lone surrogate or an
over-long value is a 422 `validation-error` before anything is looked up or stored; names are trimmed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, Field, WithJsonSchema

from bascule.kernel.errors import DomainError
from bascule.kernel.messages_fr import message
from bascule.kernel.msisdn import DIGITS as MSISDN_DIGITS
from bascule.kernel.msisdn import E164_PATTERN
from bascule.kernel.text import ONE_LINE_PATTERN, clean_text

# Our ids (`svc_0661…`) and the catalogue's (`data-10g-4g`), as they appear in paths and bodies.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ID_MAX = 64
# An E.164 number; in a path its '+' may come URL-encoded (%2B) or not at all.
MSISDN_PATTERN = E164_PATTERN
MSISDN_IN_PATH_PATTERN = rf"^\+?{MSISDN_DIGITS}$"
PERIOD_PATTERN = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"  # YYYY-MM from 2000 on: older zone offsets break day arithmetic
# What the audit trail files events under: a kind of entity, and its id (ours, or a subscriber's MSISDN).
ENTITY_KIND_PATTERN = r"^[a-z][a-z_]{0,31}$"
ENTITY_ID_PATTERN = r"^\+?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
# Text that must hold something once trimmed: at least one character that is neither a space nor forbidden.
_ALLOWED = "[^\\u0000-\\u001f\\u007f]"
FILLED_PATTERN = f"^{_ALLOWED}*[^\\s\\u0000-\\u001f\\u007f]{_ALLOWED}*$"


def _checked(field: str, max_length: int, *, trim: bool, required: bool) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return clean_text(value, field=field, max_length=max_length, trim=trim, required=required)
        except DomainError as refused:
            raise ValueError(message(refused)) from None  # a 422 validation-error naming the field

    return AfterValidator(check)


def _text_schema(max_length: int, *, required: bool) -> WithJsonSchema:
    """The text rule as the OpenAPI document states it."""
    schema: dict[str, Any] = {
        "type": "string",
        "maxLength": max_length,
        "pattern": FILLED_PATTERN if required else ONE_LINE_PATTERN,
    }
    if required:
        schema["minLength"] = 1
    return WithJsonSchema(schema)


Name = Annotated[
    str,
    Field(min_length=1, max_length=200),
    _checked("name", 200, trim=True, required=True),
    _text_schema(200, required=True),
]
# A password is compared, never trimmed; an empty one is a wrong one (401), as the use cases decide.
Password = Annotated[
    str, Field(max_length=200), _checked("password", 200, trim=False, required=False), _text_schema(200, required=True)
]
# The parts of a billing address: each one line of text, trimmed; the country an ISO 3166 alpha-2 code.
AddressLine = Annotated[
    str,
    Field(min_length=1, max_length=200),
    _checked("line1", 200, trim=True, required=True),
    _text_schema(200, required=True),
]
OptionalAddressLine = Annotated[
    str, Field(max_length=200), _checked("line2", 200, trim=True, required=False), _text_schema(200, required=False)
]
PostalCode = Annotated[
    str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{0,15}$", examples=["75011"])
]
City = Annotated[
    str,
    Field(min_length=1, max_length=100),
    _checked("city", 100, trim=True, required=True),
    _text_schema(100, required=True),
]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["FR"])]
# E-mail and MSISDN: their shape is stated here, and checked by the use cases, which word the refusal.
Email = Annotated[
    str,
    Field(max_length=320),
    _checked("email", 320, trim=True, required=False),
    WithJsonSchema({"type": "string", "maxLength": 320, "pattern": EMAIL_PATTERN}),
]
Msisdn = Annotated[
    str,
    Field(max_length=32),
    _checked("msisdn", 32, trim=True, required=False),
    WithJsonSchema({"type": "string", "maxLength": 16, "pattern": MSISDN_PATTERN, "examples": ["+33612345678"]}),
]
CatalogId = Annotated[str, Field(max_length=ID_MAX, pattern=ID_PATTERN)]
RecordId = Annotated[str, Field(min_length=1, max_length=100, pattern=ID_PATTERN.replace("{0,63}", "{0,99}"))]
# The zone is checked against the zone database by the use case (its enum is in the document); here, the text rule.
Timezone = Annotated[
    str, Field(max_length=64, examples=["Europe/Paris"]), _checked("timezone", 64, trim=True, required=True)
]
OneTimeCode = Annotated[str, Field(max_length=12, pattern=r"^[0-9]{4,12}$")]

# Path and query values.
PathId = Annotated[str, Path(max_length=ID_MAX, pattern=ID_PATTERN)]
PathMsisdn = Annotated[str, Path(max_length=16, pattern=MSISDN_IN_PATH_PATTERN, examples=["+2250701020304"])]
QueryId = Annotated[str | None, Query(max_length=ID_MAX, pattern=ID_PATTERN)]
QueryPeriod = Annotated[str | None, Query(pattern=PERIOD_PATTERN, examples=["2026-06"])]
NotificationRecipient = Annotated[
    str | None,
    Query(max_length=320, json_schema_extra={"pattern": ONE_LINE_PATTERN}),
    _checked("to", 320, trim=True, required=False),
]
