"""Accounts, users and the principal behind every request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bascule.kernel.errors import DomainError, ErrorCode


class Role(StrEnum):
    MANAGER = "manager"
    VIEWER = "viewer"


class StaffRole(StrEnum):
    """The operator's own people: an agent reads and acts on a customer's behalf; a supervisor also opens
    staff logins, overrides the catalogue and retries failed provisioning jobs."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"


class PrincipalKind(StrEnum):
    OPERATOR = "operator"
    STAFF = "staff"
    USER = "user"
    SUBSCRIBER = "subscriber"
    SYSTEM = "system"


class Channel(StrEnum):
    API = "api"
    PORTAL = "portal"
    USSD = "ussd"
    BACKOFFICE = "backoffice"
    CLI = "cli"
    TMF = "tmf"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    timezone: str
    currency: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BillingAddress:
    """Where an account's invoices are addressed (a French B2B invoice names the customer's address)."""

    line1: str
    postal_code: str
    city: str
    country: str = "FR"
    line2: str | None = None

    def __post_init__(self) -> None:
        if not (self.line1.strip() and self.postal_code.strip() and self.city.strip()):
            raise DomainError(ErrorCode.VALIDATION_ERROR, reason="address-incomplete")
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise DomainError(ErrorCode.VALIDATION_ERROR, reason="country-code")

    def printed(self) -> list[str]:
        """The lines as an envelope shows them; the country only when it is not France."""
        lines = [self.line1, *([self.line2] if self.line2 else []), f"{self.postal_code} {self.city}"]
        return lines if self.country == "FR" else [*lines, self.country]

    def as_dict(self) -> dict[str, str | None]:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country,
        }


@dataclass(frozen=True, slots=True)
class User:
    id: str
    account_id: str
    email: str
    password_hash: str
    role: Role


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: str
    email: str
    name: str
    password_hash: str
    role: StaffRole


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated actor of a request; customers are scoped to their own account or line."""

    kind: PrincipalKind
    id: str
    account_id: str | None = None
    role: Role | None = None
    msisdn: str | None = None
    name: str | None = None  # a staff member's, for the audit trail
    staff_role: StaffRole | None = None

    @property
    def is_operator(self) -> bool:
        return self.kind in (PrincipalKind.OPERATOR, PrincipalKind.STAFF, PrincipalKind.SYSTEM)

    def may_see_account(self, account_id: str) -> bool:
        return self.is_operator or (self.kind is PrincipalKind.USER and self.account_id == account_id)

    def may_see_line(self, msisdn: str) -> bool:
        return self.is_operator or (self.kind is PrincipalKind.SUBSCRIBER and self.msisdn == msisdn)

    def require_account(self, account_id: str) -> None:
        """A customer reaching another account gets not-found, never a hint that it exists."""
        if not self.may_see_account(account_id):
            raise DomainError(ErrorCode.NOT_FOUND)

    def business_scope(self, wanted_account: str | None = None) -> str | None:
        """Which account's business data this principal may list: its own; any (None = all, or the one
        asked for) for the operator; none at all for a prepaid subscriber."""
        if self.is_operator:
            return wanted_account
        if self.kind is PrincipalKind.USER and self.account_id is not None:
            return self.account_id
        raise DomainError(ErrorCode.FORBIDDEN, reason="business-only")

    def require_change_right(self) -> None:
        if self.kind is PrincipalKind.USER and self.role is not Role.MANAGER:
            raise DomainError(ErrorCode.FORBIDDEN, reason="reader-only")

    def require_operator(self) -> None:
        if not self.is_operator:
            raise DomainError(ErrorCode.FORBIDDEN, reason="operator-only")

    def require_supervisor(self) -> None:
        """The machines' operator token and the system may; among the staff, only a supervisor."""
        self.require_operator()
        if self.kind is PrincipalKind.STAFF and self.staff_role is not StaffRole.SUPERVISOR:
            raise DomainError(ErrorCode.FORBIDDEN, reason="supervisor-only")

    @property
    def audit_id(self) -> str:
        return self.id


OPERATOR = Principal(PrincipalKind.OPERATOR, "operator")
SYSTEM = Principal(PrincipalKind.SYSTEM, "system")
