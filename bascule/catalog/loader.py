"""Reads and validates a catalogue file (YAML) into the pure model; `bascule catalog check` uses it."""

from __future__ import annotations

import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bascule.catalog.model import (
    Apn,
    B2BPolicies,
    Bonus,
    BonusKind,
    BonusTrigger,
    Catalog,
    DataPack,
    Fee,
    Network,
    Plan,
    PlanKind,
    PrepaidPolicies,
    Profile,
    Radio,
    Seller,
)
from bascule.kernel.calendar import zone
from bascule.kernel.money import Money, Rounding, minor_units

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)\s*$", re.IGNORECASE)
_POWERS = {"B": 0, "KB": 1, "MB": 2, "GB": 3, "TB": 4}
_ID = r"^[a-z0-9][a-z0-9._-]{0,62}$"
ChangeItem = Literal["plan_id", "radio", "apn", "network", "ceiling_bytes"]


class CatalogError(ValueError):
    """The file is not a valid catalogue; the message lists every problem."""


def parse_size(text: str | int) -> int:
    """ "10 GB" → 10 × 1024³ bytes (the catalogue's GB is 1024³)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size such as '10 GB' or '500 MB'")
    value = Decimal(match.group(1)) * (1024 ** _POWERS[match.group(2).upper()])
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number of bytes")
    return int(value)


Size = Annotated[int, Field(gt=0)]
Amount = Annotated[Decimal, Field(allow_inf_nan=False, ge=0, lt=10**9)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Sized(_Strict):
    @field_validator(
        "data",
        "unit",
        "default_ceiling",
        "ceiling_step",
        "max_ceiling",
        "size",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _size(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("a size is a number of bytes or a text such as '10 GB', not a boolean")
        if value is None or isinstance(value, int):
            return value
        return parse_size(str(value))


class PlanFile(_Sized):
    id: str = Field(pattern=_ID)
    name: str
    kind: PlanKind
    radio: Radio
    price: Amount
    data: Size | None = None
    unit_price: Amount | None = None
    unit: Size | None = None
    default_ceiling: Size | None = None
    ceiling_step: Size | None = None
    max_ceiling: Size | None = None
    on_sale: bool = True

    @model_validator(mode="after")
    def _fits_kind(self) -> PlanFile:
        if self.kind is PlanKind.BUNDLE:
            if self.data is None or self.unit_price is not None or self.unit is not None:
                raise ValueError(f"bundle {self.id} needs `data` and no metered fields")
        else:
            needed = (self.unit_price, self.unit, self.default_ceiling)
            if any(value is None for value in needed) or self.data is not None:
                raise ValueError(f"metered {self.id} needs unit_price, unit and default_ceiling, and no `data`")
        return self


class NamedFile(_Strict):
    id: str = Field(pattern=_ID)
    name: str


class FeeFile(NamedFile):
    amount: Amount


class PackFile(_Sized):
    id: str = Field(pattern=_ID)
    name: str
    size: Size
    price: Amount
    on_sale: bool = True


class BonusFile(_Sized):
    kind: BonusKind
    trigger: BonusTrigger
    validity_days: int = Field(gt=0, le=366)
    label: str = ""
    amount: Amount | None = None
    size: Size | None = None
    minutes: int | None = Field(default=None, gt=0)
    count: int | None = Field(default=None, gt=0)
    percent_of_recharge: int | None = Field(default=None, gt=0, le=500)
    min_recharge: Amount | None = None

    @model_validator(mode="after")
    def _one_size(self) -> BonusFile:
        given = [
            name
            for name in ("amount", "size", "minutes", "count", "percent_of_recharge")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(f"a bonus gives exactly one of amount/size/minutes/count/percent, got {given}")
        expected = {
            BonusKind.CREDIT: {"amount", "percent_of_recharge"},
            BonusKind.DATA: {"size"},
            BonusKind.VOICE: {"minutes"},
            BonusKind.SMS: {"count"},
        }[self.kind]
        if given[0] not in expected:
            raise ValueError(f"a {self.kind} bonus is sized by {sorted(expected)}, not {given[0]}")
        if self.percent_of_recharge is not None and self.trigger is not BonusTrigger.RECHARGE:
            raise ValueError("a percentage of the recharge needs trigger: recharge")
        return self


class ProfileFile(NamedFile):
    description: str = ""
    min_consumption_last_month: Amount | None = None
    bonuses: list[BonusFile] = Field(default_factory=list)
    on_sale: bool = True


class SellerFile(_Strict):
    name: str
    address: str
    siren: str = Field(pattern=r"^\d{9}$")
    vat_number: str = Field(pattern=r"^FR\d{11}$")
    payment_days: int = Field(ge=0, le=60)
    late_penalty: str
    recovery_fee: str


class B2BFile(_Strict):
    currency: str
    timezone: str
    monthly_change_limit: int = Field(ge=1, le=31)
    credit_on_radio_downgrade: bool
    rounding: Rounding = Rounding.HALF_UP
    item_fees: dict[ChangeItem, str] = Field(default_factory=dict)
    reboot_notice: str
    vat_percent: int = Field(default=20, ge=0, le=100)
    at_exhaustion: Literal["bar", "throttle"] = "bar"
    seller: SellerFile | None = None  # invoices need it; a catalogue used only for quoting may omit it


class PrepaidFile(_Strict):
    currency: str
    timezone: str
    monthly_migration_limit: int = Field(ge=1, le=100)


class CatalogFile(_Strict):
    version: Literal[1]
    b2b: B2BFile
    prepaid: PrepaidFile
    plans: list[PlanFile] = Field(min_length=1)
    networks: list[NamedFile] = Field(min_length=1)
    apns: list[NamedFile] = Field(min_length=1)
    fees: list[FeeFile] = Field(default_factory=list)
    topups: list[PackFile] = Field(default_factory=list)
    extensions: list[PackFile] = Field(default_factory=list)
    profiles: list[ProfileFile] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> CatalogFile:
        problems: list[str] = []
        for section in ("plans", "networks", "apns", "fees", "topups", "extensions", "profiles"):
            ids = [entry.id for entry in getattr(self, section)]
            duplicates = sorted({entry for entry in ids if ids.count(entry) > 1})
            if duplicates:
                problems.append(f"{section}: duplicate ids {duplicates}")
        for line, policy in (("b2b", self.b2b), ("prepaid", self.prepaid)):
            try:
                minor_units(policy.currency)
                zone(policy.timezone)
            except ValueError as error:
                problems.append(f"{line}: {error}")
        fee_ids = {fee.id for fee in self.fees}
        for item, fee_id in self.b2b.item_fees.items():
            if fee_id not in fee_ids:
                problems.append(f"b2b.item_fees.{item}: no fee {fee_id!r}")
        keys = [(p.kind, p.radio, p.data if p.kind is PlanKind.BUNDLE else p.unit) for p in self.plans]
        if len(set(keys)) != len(keys):
            problems.append("plans: two plans share kind, radio and volume, so a radio change is ambiguous")
        if not any(plan.on_sale for plan in self.plans):
            problems.append("plans: at least one plan must be on sale")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money.of(amount, currency)


def _plan(entry: PlanFile, currency: str) -> Plan:
    return Plan(
        id=entry.id,
        name=entry.name,
        kind=entry.kind,
        radio=entry.radio,
        price=Money.of(entry.price, currency),
        data_bytes=entry.data,
        unit_price=_money(entry.unit_price, currency),
        unit_bytes=entry.unit,
        default_ceiling_bytes=entry.default_ceiling,
        ceiling_step_bytes=entry.ceiling_step,
        max_ceiling_bytes=entry.max_ceiling,
        on_sale=entry.on_sale,
    )


def _bonus(entry: BonusFile, currency: str) -> Bonus:
    quantity = entry.size or entry.minutes or entry.count
    return Bonus(
        kind=entry.kind,
        trigger=entry.trigger,
        validity_days=entry.validity_days,
        amount=_money(entry.amount, currency),
        quantity=quantity,
        percent_of_recharge=entry.percent_of_recharge,
        min_recharge=_money(entry.min_recharge, currency),
        label=entry.label,
    )


def _pack(entry: PackFile, currency: str) -> DataPack:
    return DataPack(entry.id, entry.name, entry.size, Money.of(entry.price, currency), entry.on_sale)


def build(document: CatalogFile) -> Catalog:
    eur = document.b2b.currency
    xof = document.prepaid.currency
    return Catalog(
        b2b=B2BPolicies(
            currency=eur,
            timezone=document.b2b.timezone,
            monthly_change_limit=document.b2b.monthly_change_limit,
            credit_on_radio_downgrade=document.b2b.credit_on_radio_downgrade,
            rounding=document.b2b.rounding,
            item_fees={str(item): fee for item, fee in document.b2b.item_fees.items()},
            reboot_notice=document.b2b.reboot_notice,
            vat_percent=document.b2b.vat_percent,
            at_exhaustion=document.b2b.at_exhaustion,
            seller=Seller(**document.b2b.seller.model_dump()) if document.b2b.seller else None,
        ),
        prepaid=PrepaidPolicies(xof, document.prepaid.timezone, document.prepaid.monthly_migration_limit),
        plans=tuple(_plan(entry, eur) for entry in document.plans),
        networks=tuple(Network(entry.id, entry.name) for entry in document.networks),
        apns=tuple(Apn(entry.id, entry.name) for entry in document.apns),
        fees=tuple(Fee(entry.id, entry.name, Money.of(entry.amount, eur)) for entry in document.fees),
        topups=tuple(_pack(entry, eur) for entry in document.topups),
        extensions=tuple(_pack(entry, eur) for entry in document.extensions),
        profiles=tuple(
            Profile(
                id=entry.id,
                name=entry.name,
                bonuses=tuple(_bonus(bonus, xof) for bonus in entry.bonuses),
                min_consumption_last_month=_money(entry.min_consumption_last_month, xof),
                description=entry.description,
                on_sale=entry.on_sale,
            )
            for entry in document.profiles
        ),
    )


def parse(text: str, origin: str = "<catalogue>") -> Catalog:
    return parse_document(read_document(text, origin), origin)


def read_document(text: str, origin: str = "<catalogue>") -> Any:
    """The file as YAML data, not yet checked (overrides are applied to it, then it is checked whole)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{origin}: not YAML: {error}") from None


def parse_document(raw: Any, origin: str = "<catalogue>") -> Catalog:
    """The checks of `bascule catalog check`, on YAML data."""
    try:
        return build(CatalogFile.model_validate(raw))
    except ValidationError as error:
        lines = [f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors()]
        raise CatalogError(f"{origin}:\n  " + "\n  ".join(lines)) from None
    except ValueError as error:  # Money rejects an amount finer than the currency's minor unit
        raise CatalogError(f"{origin}: {error}") from None


def load(path: Path | None) -> Catalog:
    """The catalogue at `path`, or the shipped default."""
    return parse_document(*load_document(path))


def load_document(path: Path | None) -> tuple[Any, str]:
    """The catalogue file at `path` (or the shipped default) as YAML data, and where it came from."""
    if path is None:
        text = resources.files("bascule.catalog").joinpath("default.yaml").read_text("utf-8")
        return read_document(text, "default catalogue"), "default catalogue"
    return read_document(Path(path).read_text("utf-8"), str(path)), str(path)
