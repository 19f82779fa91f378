"""What every TMF API of the facade shares: TMF error bodies, JSON, hrefs, filtering and `fields=`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from bascule.channels.statuses import STATUS, TITLES
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.messages_fr import message
from bascule.kernel.money import Money

JSON_TYPE = "application/json;charset=utf-8"
CONTROL_PARAMETERS = frozenset({"fields", "offset", "limit", "sort", "depth", "expand"})

CATALOG = "/tmf-api/productCatalogManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4"
ORDERING = "/tmf-api/productOrderingManagement/v4"
QUALIFICATION = "/tmf-api/productOfferingQualificationManagement/v1"
BALANCE = "/tmf-api/prepayBalanceManagement/v4"


class TmfError(Exception):
    """A refusal of the facade itself (a malformed TMF body, a read-only catalogue entry)."""

    def __init__(self, status: int, code: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.reason = reason
        self.detail = detail


def bad_request(detail: str) -> TmfError:
    return TmfError(400, ErrorCode.VALIDATION_ERROR.value, "Invalid request", detail)


def tmf_status(code: ErrorCode) -> int:
    """TMF APIs answer a malformed or invalid request with 400 where API v1 says 422."""
    status = STATUS[code]
    return 400 if status == 422 and code is ErrorCode.VALIDATION_ERROR else status


def error_body(status: int, code: str, reason: str, detail: str) -> dict[str, Any]:
    return {"code": code, "reason": reason, "message": detail, "status": str(status), "@type": "Error"}


def error_response(status: int, code: str, reason: str, detail: str) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return TmfJson(error_body(status, code, reason, detail), status_code=status, headers=headers)


def domain_error_body(error: DomainError) -> dict[str, Any]:
    status = tmf_status(error.code)
    return error_body(status, error.code.value, TITLES[error.code], message(error))


def from_domain(error: DomainError) -> Response:
    status = tmf_status(error.code)
    return error_response(status, error.code.value, TITLES[error.code], message(error))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


class TmfJson(JSONResponse):
    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=_plain).encode("utf-8")


def instant(value: datetime) -> str:
    """UTC with a `Z`: no `+` that a query string would turn into a space."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def href(request: Request, api: str, resource: str, resource_id: str) -> str:
    return f"{origin(request)}{api}/{resource}/{resource_id}"


def money(value: Money) -> dict[str, Any]:
    """TMF Money: `unit` and a number `value` (exact decimal in the JSON text)."""
    return {"unit": value.currency, "value": value.amount}


def quantity(amount: Decimal | int, units: str) -> dict[str, Any]:
    return {"amount": amount, "units": units}


# --- lists: attribute filtering and `fields=` ------------------------------------------------------


def _values_at(document: Any, path: list[str]) -> list[Any]:
    if not path:
        return document if isinstance(document, list) else [document]
    if isinstance(document, list):
        return [value for item in document for value in _values_at(item, path)]
    if isinstance(document, dict) and path[0] in document:
        return _values_at(document[path[0]], path[1:])
    return []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float | int | datetime | date):
        return str(_plain(value)) if not isinstance(value, float | int) else str(value)
    return str(value)


def _wanted(raw: str) -> set[str]:
    """A filter value as sent: quotes around it tolerated, `a,b` meaning either, and a `+` that the
    query string turned into a space (MSISDNs) put back."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    candidates = {value, *(part.strip() for part in value.split(","))}
    return candidates | {candidate.replace(" ", "+") for candidate in candidates}


def matches(document: dict[str, Any], filters: dict[str, str]) -> bool:
    for name, raw in filters.items():
        wanted = _wanted(raw)
        found = {_text(value) for value in _values_at(document, name.split("."))}
        if not found & wanted:
            return False
    return True


def filters_of(request: Request, *, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    return {
        name.strip(): value
        for name, value in request.query_params.items()
        if name.strip() not in CONTROL_PARAMETERS and name.strip() not in skip
    }


def _project(document: Any, tree: dict[str, Any]) -> Any:
    if isinstance(document, list):
        return [_project(item, tree) for item in document]
    if not isinstance(document, dict):
        return document
    kept = {}
    for name, subtree in tree.items():
        if name in document:
            kept[name] = _project(document[name], subtree) if subtree else document[name]
    return kept


def projection(request: Request) -> dict[str, Any] | None:
    """`fields=id,state,item.state` as a tree; None without `fields`."""
    raw = request.query_params.get("fields")
    if raw is None or not raw.strip():
        return None
    tree: dict[str, Any] = {}
    for name in raw.split(","):
        parts = [part.strip() for part in name.strip().split(".") if part.strip()]
        node = tree
        for part in parts:
            node = node.setdefault(part, {})
    return tree


def one(
    request: Request, document: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    tree = projection(request)
    body = _project(document, tree) if tree else document
    return TmfJson(body, status_code=status_code, headers=headers)


def many(request: Request, documents: list[dict[str, Any]], *, skip: frozenset[str] = frozenset()) -> Response:
    """A filtered, paged, projected list with X-Total-Count and X-Result-Count."""
    found = [document for document in documents if matches(document, filters_of(request, skip=skip))]
    offset = _count(request, "offset", 0)
    limit = _count(request, "limit", len(found))
    page = found[offset : offset + limit]
    tree = projection(request)
    body = [_project(document, tree) for document in page] if tree else page
    return TmfJson(body, headers={"X-Total-Count": str(len(found)), "X-Result-Count": str(len(page))})


def _count(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise bad_request(f"{name} must be a non-negative integer.")
    return int(raw)


def created(request: Request, document: dict[str, Any]) -> Response:
    """201 with `Location`, spelt so: some kits look the header up by that exact name."""
    response = one(request, document, 201)
    response.raw_headers.append((b"Location", document["href"].encode("latin-1")))
    return response


# --- request bodies ------------------------------------------------------------------------------


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad_request(f"`{name}` is required.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"`{name}` must be a non-empty string.")
    return value.strip()


def ref_id(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """The `id` of a reference such as `"product": {"id": …}`."""
    ref = body.get(name)
    if ref is None:
        if required:
            raise bad_request(f"`{name}.id` is required.")
        return None
    if not isinstance(ref, dict):
        raise bad_request(f"`{name}` must be an object with an `id`.")
    return text_field(ref, "id", required=required) if ref.get("id") is not None or required else None


def object_list(body: dict[str, Any], name: str, *, required: bool = True) -> list[dict[str, Any]]:
    value = body.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(item, dict) for item in value):
        raise bad_request(f"`{name}` must be a non-empty list of objects.")
    return value
