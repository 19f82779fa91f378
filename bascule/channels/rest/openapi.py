"""The OpenAPI document says what the server really does: the catalogue's ids as enums, the zones a line may
live in, the problems each operation can answer, and the links from a created resource to what acts on it
(so that a client, or a fuzzer following links, goes from a created request to its confirmation).

The catalogue is data, so the enums are read from the catalogue the server runs with, not written here.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from bascule.catalog.model import Catalog
from bascule.kernel.money import minor_units

# Body fields that name a catalogue entry, and the catalogue group each one names.
_CATALOGUE_FIELDS = {
    "plan_id": "plans",
    "network": "networks",
    "apn": "apns",
    "topup_id": "topups",
    "extension_id": "extensions",
    "profile_id": "profiles",
}

_ID = "$response.body#/id"
# (method, path, status) → the operations a client goes on to, with where each parameter comes from.
_LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/api/v1/admin/accounts", "201"): {
        "AddUser": ("post", "/api/v1/admin/accounts/{account_id}/users", {"account_id": _ID}),
        "ReadAccount": ("get", "/api/v1/admin/accounts/{account_id}", {"account_id": _ID}),
        "SetBillingAddress": ("patch", "/api/v1/admin/accounts/{account_id}", {"account_id": _ID}),
        "ReadCharges": ("get", "/api/v1/accounts/{account_id}/charges", {"account_id": _ID}),
        "ListInvoices": ("get", "/api/v1/accounts/{account_id}/invoices", {"account_id": _ID}),
    },
    ("post", "/api/v1/admin/services", "201"): {
        "ReadService": ("get", "/api/v1/services/{service_id}", {"service_id": _ID}),
        "Quote": ("post", "/api/v1/services/{service_id}/quotes", {"service_id": _ID}),
        "RequestChange": ("post", "/api/v1/services/{service_id}/change-requests", {"service_id": _ID}),
        "BuyTopup": ("post", "/api/v1/services/{service_id}/topups", {"service_id": _ID}),
        "BuyExtension": ("post", "/api/v1/services/{service_id}/extensions", {"service_id": _ID}),
        "RecordUsage": ("post", "/api/v1/admin/services/{service_id}/usage", {"service_id": _ID}),
    },
    ("post", "/api/v1/services/{service_id}/change-requests", "201"): {
        "ReadRequest": ("get", "/api/v1/change-requests/{request_id}", {"request_id": _ID}),
        "Confirm": ("post", "/api/v1/change-requests/{request_id}/confirm", {"request_id": _ID}),
        "Cancel": ("post", "/api/v1/change-requests/{request_id}/cancel", {"request_id": _ID}),
    },
    ("post", "/api/v1/change-requests/{request_id}/confirm", "200"): {
        "ReadRequest": ("get", "/api/v1/change-requests/{request_id}", {"request_id": _ID}),
        "Cancel": ("post", "/api/v1/change-requests/{request_id}/cancel", {"request_id": _ID}),
    },
    ("post", "/api/v1/change-batches", "201"): {
        "ReadBatch": ("get", "/api/v1/change-batches/{batch_id}", {"batch_id": _ID}),
        "ConfirmBatch": ("post", "/api/v1/change-batches/{batch_id}/confirm", {"batch_id": _ID}),
        "CancelBatch": ("post", "/api/v1/change-batches/{batch_id}/cancel", {"batch_id": _ID}),
    },
    ("post", "/api/v1/admin/bill-runs", "201"): {
        "ReadInvoice": ("get", "/api/v1/invoices/{invoice_id}", {"invoice_id": "$response.body#/invoices/0/id"}),
        "InvoicePdf": ("get", "/api/v1/invoices/{invoice_id}/pdf", {"invoice_id": "$response.body#/invoices/0/id"}),
    },
    ("get", "/api/v1/accounts/{account_id}/invoices", "200"): {
        "ReadInvoice": ("get", "/api/v1/invoices/{invoice_id}", {"invoice_id": "$response.body#/0/id"}),
        "InvoicePdf": ("get", "/api/v1/invoices/{invoice_id}/pdf", {"invoice_id": "$response.body#/0/id"}),
    },
    ("post", "/api/v1/admin/subscribers", "201"): {
        "ReadSubscriber": ("get", "/api/v1/subscribers/{msisdn}", {"msisdn": "$response.body#/msisdn"}),
        "Recharge": ("post", "/api/v1/admin/subscribers/{msisdn}/recharges", {"msisdn": "$response.body#/msisdn"}),
        "Consume": ("post", "/api/v1/admin/subscribers/{msisdn}/consumptions", {"msisdn": "$response.body#/msisdn"}),
        "ProfileOptions": ("get", "/api/v1/subscribers/{msisdn}/profile-options", {"msisdn": "$response.body#/msisdn"}),
        "Migrate": ("post", "/api/v1/subscribers/{msisdn}/profile-migrations", {"msisdn": "$response.body#/msisdn"}),
        "ListMigrations": (
            "get",
            "/api/v1/subscribers/{msisdn}/profile-migrations",
            {"msisdn": "$response.body#/msisdn"},
        ),
    },
    ("post", "/simulated-networks/{network}/work-orders", "201"): {
        "ReadWorkOrder": (
            "get",
            "/simulated-networks/{network}/work-orders/{work_order_id}",
            {"network": "$request.path.network", "work_order_id": _ID},
        ),
    },
}


def describe(schema: dict[str, Any], catalog: Catalog, networks: list[str]) -> dict[str, Any]:
    """The document FastAPI built, completed with what only the running server knows."""
    _catalogue_enums(schema, catalog)
    _zones(schema)
    _prepaid_amounts(schema, minor_units(catalog.prepaid.currency))
    _simulated_networks(schema, networks)
    _links(schema)
    return schema


def _string_branches(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """The string schema of a property, whether it is plain or optional (anyOf with null)."""
    if prop.get("type") == "string":
        return [prop]
    return [branch for branch in prop.get("anyOf", []) if branch.get("type") == "string"]


def _catalogue_enums(schema: dict[str, Any], catalog: Catalog) -> None:
    ids = {group: sorted(entry.id for entry in getattr(catalog, group)) for group in set(_CATALOGUE_FIELDS.values())}
    for model in schema.get("components", {}).get("schemas", {}).values():
        if not model.get("title", "").endswith("In"):
            continue  # only what clients send: answers may carry entries a catalogue change retired
        for name, prop in model.get("properties", {}).items():
            if (group := _CATALOGUE_FIELDS.get(name)) is not None:
                for branch in _string_branches(prop):
                    branch.pop("pattern", None)
                    branch["enum"] = ids[group]


def _zones(schema: dict[str, Any]) -> None:
    zones = sorted(available_timezones())
    for model in schema.get("components", {}).get("schemas", {}).values():
        prop = model.get("properties", {}).get("timezone")
        if prop is not None and model.get("title", "").endswith("In"):
            for branch in _string_branches(prop):
                branch.pop("pattern", None)
                branch["enum"] = zones


def _prepaid_amounts(schema: dict[str, Any], decimals: int) -> None:
    """A prepaid amount as a string holds exactly the digits the line's currency allows."""
    amount = schema.get("components", {}).get("schemas", {}).get("AmountIn", {}).get("properties", {}).get("amount")
    fraction = f"(\\.[0-9]{{1,{decimals}}})?" if decimals else ""
    for branch in _string_branches(amount or {}):
        branch["pattern"] = f"^[1-9][0-9]{{0,11}}{fraction}$"


def _simulated_networks(schema: dict[str, Any], networks: list[str]) -> None:
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/simulated-networks/"):
            continue
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "network" and parameter.get("in") == "path":
                    parameter["schema"] = {"type": "string", "enum": sorted(networks)}


def _links(schema: dict[str, Any]) -> None:
    paths = schema.get("paths", {})
    for (method, path, status), targets in _LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue  # a channel that is not installed
        response["links"] = {
            name: {"operationId": paths[target][target_method]["operationId"], "parameters": parameters}
            for name, (target_method, target, parameters) in targets.items()
            if target_method in paths.get(target, {})
        }
