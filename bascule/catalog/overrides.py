"""Overrides of the shipped catalogue: a supervisor withdraws an offer from sale or changes a price, without a
redeploy. An override names one value of one entry; the effective catalogue is the shipped file with every
override written into it, then checked whole by the same checks as `bascule catalog check`."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from bascule.catalog.loader import CatalogError, parse_document
from bascule.catalog.model import Catalog
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import minor_units


class OfferKind(StrEnum):
    PLAN = "plan"
    TOPUP = "topup"
    EXTENSION = "extension"
    PROFILE = "profile"
    FEE = "fee"


class OverrideField(StrEnum):
    ON_SALE = "on_sale"
    PRICE = "price"
    UNIT_PRICE = "unit_price"
    AMOUNT = "amount"


SECTION = {
    OfferKind.PLAN: "plans",
    OfferKind.TOPUP: "topups",
    OfferKind.EXTENSION: "extensions",
    OfferKind.PROFILE: "profiles",
    OfferKind.FEE: "fees",
}
ALLOWED = {
    OfferKind.PLAN: (OverrideField.ON_SALE, OverrideField.PRICE, OverrideField.UNIT_PRICE),
    OfferKind.TOPUP: (OverrideField.ON_SALE, OverrideField.PRICE),
    OfferKind.EXTENSION: (OverrideField.ON_SALE, OverrideField.PRICE),
    OfferKind.PROFILE: (OverrideField.ON_SALE,),
    OfferKind.FEE: (OverrideField.AMOUNT,),
}
KIND_FR = {
    OfferKind.PLAN: "offre",
    OfferKind.TOPUP: "recharge",
    OfferKind.EXTENSION: "extension",
    OfferKind.PROFILE: "profil",
    OfferKind.FEE: "frais",
}
MAX_AMOUNT = Decimal(10) ** 9


@dataclass(frozen=True, slots=True)
class Override:
    """One value of one catalogue entry, as a supervisor set it. `value`: "true"/"false", or an amount."""

    kind: OfferKind
    entry_id: str
    field: OverrideField
    value: str
    set_at: datetime | None = None
    set_by: str | None = None  # the supervisor's name, as it was then

    @property
    def key(self) -> tuple[OfferKind, str, OverrideField]:
        return (self.kind, self.entry_id, self.field)


def parse_kind(kind: str, field: str) -> tuple[OfferKind, OverrideField]:
    try:
        offer, wanted = OfferKind(kind), OverrideField(field)
    except ValueError:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="override-unknown") from None
    if wanted not in ALLOWED[offer]:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="override-not-for-kind", kind=KIND_FR[offer])
    return offer, wanted


def entry_of(document: Any, kind: OfferKind, entry_id: str) -> dict[str, Any]:
    for entry in document.get(SECTION[kind]) or []:
        if entry.get("id") == entry_id:
            return dict(entry)
    raise DomainError(ErrorCode.NO_SUCH_PLAN, reason="override-no-entry", kind=KIND_FR[kind], entry_id=entry_id)


def currency_of(document: Any, kind: OfferKind) -> str:
    return str(document["prepaid" if kind is OfferKind.PROFILE else "b2b"]["currency"])


def canonical(document: Any, kind: OfferKind, field: OverrideField, text: str) -> str:
    """The value as it is stored: "true"/"false" for sale, an amount with the currency's decimals; a value
    that is neither is refused in French."""
    if field is OverrideField.ON_SALE:
        if text not in ("true", "false"):
            raise DomainError(ErrorCode.VALIDATION_ERROR, reason="override-on-sale-choice")
        return text
    currency = currency_of(document, kind)
    places = minor_units(currency)
    try:
        amount = Decimal(text.strip().replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="override-amount-unreadable", text=text.strip()) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="override-amount-negative")
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise DomainError(
            ErrorCode.VALIDATION_ERROR,
            reason="override-amount-places",
            places=places,
            currency=currency,
            text=text.strip(),
        )
    return f"{amount:.{places}f}"


def shipped_value(document: Any, kind: OfferKind, entry_id: str, field: OverrideField) -> str | None:
    """The value in the shipped file, in the stored form (None: the file does not set it)."""
    value = entry_of(document, kind, entry_id).get(field.value)
    if field is OverrideField.ON_SALE:
        return "false" if value is False else "true"
    if value is None:
        return None
    return canonical(document, kind, field, str(value))


def with_overrides(document: Any, overrides: Iterable[Override]) -> Any:
    """The shipped YAML data with the overrides written in (the shipped data is left as it was)."""
    changed = copy.deepcopy(document)
    for override in overrides:
        for entry in changed.get(SECTION[override.kind]) or []:
            if entry.get("id") == override.entry_id:
                value: object = override.value == "true" if override.field is OverrideField.ON_SALE else override.value
                entry[override.field.value] = value
    return changed


def effective(document: Any, overrides: Iterable[Override], origin: str = "catalogue") -> Catalog:
    """The catalogue in force, checked as `bascule catalog check` checks a file: a refusal in French when the
    overrides would make it invalid."""
    try:
        return parse_document(with_overrides(document, overrides), origin)
    except CatalogError as error:
        problems = str(error).split("\n", 1)[-1].strip()
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="override-invalid-catalogue", problems=problems) from None


def applicable(document: Any, overrides: Iterable[Override]) -> tuple[Catalog, list[Override]]:
    """The catalogue with every override that still fits the shipped file (a new file may have dropped an
    entry or changed what an override assumed); the ones left out are returned to be reported."""
    kept: list[Override] = []
    left_out: list[Override] = []
    for override in overrides:
        try:
            entry_of(document, override.kind, override.entry_id)
            effective(document, [*kept, override])
        except DomainError:
            left_out.append(override)
            continue
        kept.append(override)
    return effective(document, kept), left_out
