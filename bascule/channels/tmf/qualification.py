"""TMF679 Product Offering Qualification v1: "may this line move to that offering now?"

Answered by the same rules as every other channel: a prepaid line's profile options (eligibility and
the month's migrations), a Line A service's quote (the offering exists and applies) and the month's
change limit as the service view counts it. Nothing is changed; the qualification is kept so that it
can be read again (store kind `productOfferingQualification`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from bascule.channels.security import principal
from bascule.channels.tmf.common import QUALIFICATION, bad_request, created, href, instant, many, object_list, one
from bascule.channels.tmf.ordering import CHARACTERISTICS
from bascule.channels.tmf.products import Line, LineA, find_line
from bascule.channels.tmf.store import Document, Documents
from bascule.commands.runner import run_on_unit
from bascule.context import Context
from bascule.evolutions.rules import RequestedChanges
from bascule.evolutions.usecases import quote_change
from bascule.identity.model import Principal
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id
from bascule.kernel.messages_fr import message
from bascule.prepaid.usecases import profile_options

router = APIRouter(prefix="/productOfferingQualificationManagement/v1")
KIND = "productOfferingQualification"
RESOURCE = "productOfferingQualification"


def _context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


def _reason(error: DomainError) -> list[dict[str, str]]:
    return [{"code": error.code.value, "label": message(error)}]


def _line_of(ctx: Context, actor: Principal, item: dict[str, Any], body: dict[str, Any]) -> Line:
    """The line to qualify: the item's product, else a customer party that is itself a line (an MSISDN)."""
    product = item.get("product")
    if isinstance(product, dict) and isinstance(product.get("id"), str):
        return find_line(ctx, actor, product["id"])
    for party in body.get("relatedParty") or []:
        if isinstance(party, dict) and party.get("role") == "customer" and isinstance(party.get("id"), str):
            return find_line(ctx, actor, party["id"])
    raise DomainError(ErrorCode.NOT_FOUND, what="product")


def _changes(item: dict[str, Any], offering_id: str | None) -> RequestedChanges:
    changes: dict[str, Any] = {} if offering_id is None else {"plan_id": offering_id}
    product = item.get("product") if isinstance(item.get("product"), dict) else {}
    for characteristic in (product or {}).get("productCharacteristic") or []:
        if isinstance(characteristic, dict) and characteristic.get("name") in CHARACTERISTICS:
            changes[CHARACTERISTICS[characteristic["name"]]] = characteristic.get("value")
    if not changes:
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Nothing to qualify: name a productOffering.")
    try:
        return RequestedChanges.from_dict(changes)
    except ValueError as error:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"Invalid characteristic: {error}.") from None


def _verdict(ctx: Context, actor: Principal, line: Line, item: dict[str, Any]) -> DomainError | None:
    """None when the line may move to the offering now; else the refusal every channel would give."""
    offering = item.get("productOffering")
    offering_id = offering.get("id") if isinstance(offering, dict) else None
    if isinstance(line, LineA):
        service_id = line.view.service.id
        quote_change(ctx, actor, service_id, _changes(item, offering_id))
        return line.view.month_refusal
    for option in profile_options(ctx, actor, line.summary.subscriber.msisdn):
        if option.profile.id == offering_id:
            if option.eligible:
                return None
            return option.error or DomainError(option.code or ErrorCode.NOT_ELIGIBLE, option.reason)
    return DomainError(ErrorCode.NO_SUCH_PLAN, reason="not-a-profile")


def _qualify(ctx: Context, actor: Principal, item: dict[str, Any], body: dict[str, Any], index: int) -> dict[str, Any]:
    result = {**item, "id": str(item.get("id") or index), "@type": "ProductOfferingQualificationItem", "state": "done"}
    try:
        refusal = _verdict(ctx, actor, _line_of(ctx, actor, item, body), item)
    except DomainError as error:
        if error.code in (ErrorCode.FORBIDDEN, ErrorCode.UNAUTHENTICATED):
            raise
        refusal = error
    result["qualificationItemResult"] = "qualified" if refusal is None else "unqualified"
    if refusal is not None:
        result["eligibilityUnavailabilityReason"] = _reason(refusal)
    return result


def _qualification(request: Request, document: Document) -> dict[str, Any]:
    body = {name: value for name, value in document.body.items() if not name.startswith("_")}
    return {"id": document.id, "href": href(request, QUALIFICATION, RESOURCE, document.id), **body}


def _visible(actor: Principal, document: Document) -> bool:
    owner = document.body.get("_owner", {})
    return actor.is_operator or (owner.get("kind") == actor.kind.value and owner.get("id") == actor.id)


@router.post(f"/{RESOURCE}", status_code=201)
def create_qualification(request: Request, body: Any = Body(...), actor: Principal = Depends(principal)) -> Response:
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    ctx = _context(request)
    items = object_list(body, "productOfferingQualificationItem")
    for item in items:
        if not isinstance(item.get("productOffering") or item.get("category") or item.get("product"), dict):
            raise bad_request("Each productOfferingQualificationItem names a productOffering.")
    answered = [_qualify(ctx, actor, item, body, index) for index, item in enumerate(items, start=1)]
    results = {item["qualificationItemResult"] for item in answered}
    now = ctx.clock.now()
    stored = {
        **{name: value for name, value in body.items() if name not in ("id", "href")},
        "@type": "ProductOfferingQualification",
        "state": "done",
        "productOfferingQualificationDateTime": instant(now),
        "effectiveQualificationDate": instant(now),
        "qualificationResult": "qualified" if results == {"qualified"} else "unqualified",
        "relatedParty": body.get("relatedParty") or [],
        "productOfferingQualificationItem": answered,
        "_owner": {"kind": actor.kind.value, "id": actor.id},
    }
    document_id = new_id("poq")
    run_on_unit(ctx, lambda uow: Documents(uow.connection).add(KIND, document_id, stored, now))
    return created(request, _qualification(request, Document(KIND, document_id, stored, now, now)))


@router.get(f"/{RESOURCE}")
@router.get(f"/{RESOURCE}/", include_in_schema=False)
def list_qualifications(request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    with ctx.uow(write=False) as uow:
        documents = [d for d in Documents(uow.connection).of_kind(KIND) if _visible(actor, d)]
    return many(request, [_qualification(request, document) for document in documents])


@router.get(f"/{RESOURCE}/{{qualification_id}}")
def get_qualification(qualification_id: str, request: Request, actor: Principal = Depends(principal)) -> Response:
    ctx = _context(request)
    with ctx.uow(write=False) as uow:
        document = Documents(uow.connection).get(KIND, qualification_id)
    if document is None or not _visible(actor, document):
        raise DomainError(ErrorCode.NOT_FOUND, what=RESOURCE)
    return one(request, _qualification(request, document))
