"""The text rule at the facade's edge: every string a TMF request carries goes through `bascule.kernel.text`
before any handler runs — path ids, query parameter names and values (filters, `fields=`), and every member
name and string value of a JSON body, however deep. A refusal is the rule's `validation-error`, answered as
every other one by the facade: a TMF error with status 400, whose message names the member at fault
(`productOrderItem[0].product.productCharacteristic[1].value`).
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from fastapi import Request

from bascule.channels.forms import url_encoded_pairs
from bascule.kernel.text import clean_text, decode_text

FREE_TEXT = frozenset({"description", "text", "cancellationReason"})  # the members that take several lines
LISTS = frozenset({"fields"})  # query parameters listing names, which clients break over lines (the TMF679 kit)
FREE_TEXT_LENGTH = 2000
MEMBER_LENGTHS = {"id": 100, "name": 200}
TEXT_LENGTH = 500  # any other string: hrefs, types, states, characteristic values, filters, `fields=`
NAME_LENGTH = 100  # the name of a member or of a query parameter
ROOT = "body"


async def refuse_bad_text(request: Request) -> None:
    """The facade's dependency: raises the rule's `validation-error` for the first string that breaks it."""
    for name, value in request.path_params.items():
        clean_text(value, field=name, max_length=MEMBER_LENGTHS["id"], trim=False)
    for name, raw in url_encoded_pairs(request.scope["query_string"]):
        clean_text(name, field="nom de paramètre", max_length=NAME_LENGTH, trim=False)
        clean_text(
            decode_text(raw, field=name), field=name, max_length=TEXT_LENGTH, multiline=name in LISTS, trim=False
        )
    document = _json(await request.body())
    if document is not None:
        _check_document(document)


def _json(body: bytes) -> Any:
    """The body as FastAPI reads it; None when there is none or it is not JSON (FastAPI answers that itself)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _check_document(document: Any) -> None:
    """Walks the document breadth first (a deep one cannot exhaust the stack), member names before values."""
    pending: deque[tuple[str, str, Any]] = deque([("", ROOT, document)])  # (member name, where, value)
    while pending:
        member, where, value = pending.popleft()
        if isinstance(value, str):
            _check_string(member, where, value)
        elif isinstance(value, dict):
            for name, item in value.items():
                clean_text(name, field=where, max_length=NAME_LENGTH, trim=False)
                pending.append((name, name if where == ROOT else f"{where}.{name}", item))
        elif isinstance(value, list):
            pending.extend((member, f"{where}[{index}]", item) for index, item in enumerate(value))


def _check_string(member: str, where: str, value: str) -> None:
    if member in FREE_TEXT:
        clean_text(value, field=where, max_length=FREE_TEXT_LENGTH, multiline=True, trim=False)
    else:
        clean_text(value, field=where, max_length=MEMBER_LENGTHS.get(member, TEXT_LENGTH), trim=False)
