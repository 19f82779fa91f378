"""The catalogue as pure values. No rule here names an entry: everything is looked up by data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money, Rounding

GIB = 1024**3


class PlanKind(StrEnum):
    BUNDLE = "bundle"
    METERED = "metered"


class Radio(StrEnum):
    G4 = "4G"
    G5 = "5G"


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    kind: PlanKind
    radio: Radio
    price: Money
    data_bytes: int | None = None
    unit_price: Money | None = None
    unit_bytes: int | None = None
    default_ceiling_bytes: int | None = None
    ceiling_step_bytes: int | None = None
    max_ceiling_bytes: int | None = None
    on_sale: bool = True  # False: withdrawn from sale; the lines already on it keep it

    @property
    def volume_key(self) -> tuple[PlanKind, int | None]:
        """What "the same kind and volume" means when only the radio changes."""
        if self.kind is PlanKind.BUNDLE:
            return (self.kind, self.data_bytes)
        return (self.kind, self.unit_bytes)


def require_on_sale(entry: Plan | DataPack | Profile) -> None:
    """A withdrawn offer is kept by whoever has it, and sold to nobody more."""
    if not entry.on_sale:
        raise DomainError(ErrorCode.NO_SUCH_PLAN, reason="withdrawn", name=entry.name)


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Apn:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Fee:
    id: str
    name: str
    amount: Money


@dataclass(frozen=True, slots=True)
class DataPack:
    """A top-up (bundles) or an extension (metered ceiling): a one-off purchase."""

    id: str
    name: str
    data_bytes: int
    price: Money
    on_sale: bool = True


class BonusKind(StrEnum):
    CREDIT = "credit"
    DATA = "data"
    VOICE = "voice"
    SMS = "sms"


class BonusTrigger(StrEnum):
    RECHARGE = "recharge"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Bonus:
    """A systematic bonus of a profile. Exactly one of `amount`, `quantity` and `percent_of_recharge`."""

    kind: BonusKind
    trigger: BonusTrigger
    validity_days: int
    amount: Money | None = None
    quantity: int | None = None
    percent_of_recharge: int | None = None
    min_recharge: Money | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    name: str
    bonuses: tuple[Bonus, ...]
    min_consumption_last_month: Money | None
    description: str = ""
    on_sale: bool = True


@dataclass(frozen=True, slots=True)
class Seller:
    """Who issues the invoices, with the mentions a French B2B invoice must carry."""

    name: str
    address: str
    siren: str
    vat_number: str
    payment_days: int
    late_penalty: str
    recovery_fee: str


@dataclass(frozen=True, slots=True)
class B2BPolicies:
    currency: str
    timezone: str
    monthly_change_limit: int
    credit_on_radio_downgrade: bool
    rounding: Rounding
    item_fees: dict[str, str] = field(default_factory=dict)
    reboot_notice: str = ""
    vat_percent: int = 20
    seller: Seller | None = None
    at_exhaustion: str = "bar"  # what a used-up bundle gets: "bar" or "throttle" (a metered ceiling always bars)


@dataclass(frozen=True, slots=True)
class PrepaidPolicies:
    currency: str
    timezone: str
    monthly_migration_limit: int


@dataclass(frozen=True, slots=True)
class Catalog:
    b2b: B2BPolicies
    prepaid: PrepaidPolicies
    plans: tuple[Plan, ...]
    networks: tuple[Network, ...]
    apns: tuple[Apn, ...]
    fees: tuple[Fee, ...]
    topups: tuple[DataPack, ...]
    extensions: tuple[DataPack, ...]
    profiles: tuple[Profile, ...]

    def plans_on_sale(self) -> tuple[Plan, ...]:
        return tuple(plan for plan in self.plans if plan.on_sale)

    def topups_on_sale(self) -> tuple[DataPack, ...]:
        return tuple(pack for pack in self.topups if pack.on_sale)

    def extensions_on_sale(self) -> tuple[DataPack, ...]:
        return tuple(pack for pack in self.extensions if pack.on_sale)

    def profiles_on_sale(self) -> tuple[Profile, ...]:
        return tuple(profile for profile in self.profiles if profile.on_sale)

    def plan(self, plan_id: str) -> Plan:
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise DomainError(ErrorCode.NO_SUCH_PLAN, plan_id=plan_id)

    def plan_by_volume(self, kind: PlanKind, volume: int | None, radio: Radio) -> Plan:
        """The plan of this kind and volume (`Plan.volume_key`) on this radio."""
        for plan in self.plans:
            if plan.radio is radio and plan.volume_key == (kind, volume):
                return plan
        raise DomainError(ErrorCode.NO_SUCH_PLAN, reason="no-plan-on-radio", kind=kind.value, radio=radio.value)

    def plan_on_radio(self, current: Plan, radio: Radio) -> Plan:
        """The plan of the same kind and volume on another radio."""
        return self.plan_by_volume(*current.volume_key, radio)

    def network(self, network_id: str) -> Network:
        for network in self.networks:
            if network.id == network_id:
                return network
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="unknown-network", network_id=network_id)

    def apn(self, apn_id: str) -> Apn:
        for apn in self.apns:
            if apn.id == apn_id:
                return apn
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="unknown-apn", apn_id=apn_id)

    def fee(self, fee_id: str) -> Fee:
        for fee in self.fees:
            if fee.id == fee_id:
                return fee
        raise KeyError(fee_id)

    def fee_for_item(self, item: str) -> Fee | None:
        fee_id = self.b2b.item_fees.get(item)
        return None if fee_id is None else self.fee(fee_id)

    def topup(self, topup_id: str) -> DataPack:
        for pack in self.topups:
            if pack.id == topup_id:
                return pack
        raise DomainError(ErrorCode.NO_SUCH_PLAN, reason="unknown-topup", topup_id=topup_id)

    def extension(self, extension_id: str) -> DataPack:
        for pack in self.extensions:
            if pack.id == extension_id:
                return pack
        raise DomainError(ErrorCode.NO_SUCH_PLAN, reason="unknown-extension", extension_id=extension_id)

    def profile(self, profile_id: str) -> Profile:
        for profile in self.profiles:
            if profile.id == profile_id:
                return profile
        raise DomainError(ErrorCode.NO_SUCH_PLAN, reason="unknown-profile", profile_id=profile_id)
