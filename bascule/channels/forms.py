"""What the channels' forms share: URL-encoded pairs read as bytes, and a change form's choices as a command.

URL-encoded pairs (a form body, a query string) as the portal and USSD receive them keep their values as bytes.
The usual parsers read a value that is not UTF-8 as replacement characters; here each value keeps its bytes,
so that the text rule (`bascule.kernel.text.decode_text`) refuses it as a bad encoding. A name only tells
which field a value is, so one that is not UTF-8 is read with replacement characters: it names no field.
"""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import unquote_to_bytes

from bascule.catalog.model import Plan
from bascule.evolutions.model import Service
from bascule.evolutions.rules import RequestedChanges

T = TypeVar("T")


def url_encoded_pairs(raw: bytes) -> list[tuple[str, bytes]]:
    """`a=1&b=%C3%A9+x` → [("a", b"1"), ("b", b"\\xc3\\xa9 x")], in order, blank values kept."""
    pairs = []
    for part in raw.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            pairs.append((_unquoted(name).decode("utf-8", "replace"), _unquoted(value)))
    return pairs


def _unquoted(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))


def changed_only(wanted: RequestedChanges, service: Service, plan: Plan) -> RequestedChanges:
    """A change form's choices as the command the API takes: an item left blank or as the line has it is not
    asked for. When nothing is left, the line's own APN is asked for, so that the domain refuses the request,
    in its own words, as one that changes nothing."""

    def changed(value: T, now: T) -> T | None:
        return value if value not in (None, "") and value != now else None

    changes = RequestedChanges(
        plan_id=changed(wanted.plan_id, service.plan_id),
        radio=changed(wanted.radio, plan.radio),
        apn=changed(wanted.apn, service.apn),
        network=changed(wanted.network, service.network),
        ceiling_bytes=changed(wanted.ceiling_bytes, service.ceiling_bytes),
    )
    return changes if changes.as_dict() else RequestedChanges(apn=service.apn)
