"""Accounts and users (operator), logins and bearer tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bascule.audit.trail import record
from bascule.context import Context
from bascule.identity.model import (
    OPERATOR,
    Account,
    BillingAddress,
    Channel,
    Principal,
    PrincipalKind,
    Role,
    StaffMember,
    StaffRole,
    User,
)
from bascule.identity.passwords import hash_password, verify_password
from bascule.identity.ports import IdentityUnit as Unit
from bascule.kernel.calendar import zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.ids import new_id

Ctx = Context[Unit]  # the context as these use cases see it: their ports, no database

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


def create_account(ctx: Ctx, actor: Principal, channel: Channel, name: str, timezone: str | None) -> Account:
    actor.require_operator()
    tz_name = timezone or ctx.catalog.b2b.timezone
    try:
        zone(tz_name)
    except ValueError:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="unknown-time-zone", time_zone=tz_name) from None
    if not name.strip():
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="account-name-missing")
    now = ctx.clock.now()
    account = Account(new_id("acc"), name.strip(), tz_name, ctx.catalog.b2b.currency, now)
    with ctx.uow() as uow:
        uow.accounts.add(account)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("account", account.id),
            action="account.created",
            after={"name": account.name, "timezone": tz_name},
        )
        uow.commit()
    return account


@dataclass(frozen=True, slots=True)
class AccountDetails:
    account: Account
    billing_address: BillingAddress | None


def account_details(ctx: Context, actor: Principal, account_id: str) -> AccountDetails:
    """An account and its billing address: the operator's, or a customer's own."""
    with ctx.uow(write=False) as uow:
        account = uow.accounts.get(account_id)
        if account is None or not actor.may_see_account(account_id):
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        return AccountDetails(account, uow.accounts.billing_address(account_id))


def set_billing_address(
    ctx: Context, actor: Principal, channel: Channel, account_id: str, address: BillingAddress | None
) -> AccountDetails:
    """The operator sets (or, with None, removes) where an account's invoices are addressed."""
    actor.require_operator()
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        before = uow.accounts.billing_address(account_id)
        uow.accounts.set_billing_address(account_id, address)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("account", account_id),
            action="account.billing_address_changed",
            before={"billing_address": None if before is None else before.as_dict()},
            after={"billing_address": None if address is None else address.as_dict()},
        )
        uow.commit()
    return AccountDetails(account, address)


def create_user(
    ctx: Ctx, actor: Principal, channel: Channel, account_id: str, email: str, password: str, role: Role
) -> User:
    actor.require_operator()
    email = _checked_login(email, password)
    user = User(new_id("usr"), account_id, email, hash_password(password), role)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if uow.accounts.get(account_id) is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        if uow.users.email_taken(email):
            raise DomainError(ErrorCode.CONFLICT, reason="email-taken")
        uow.users.add(user, now)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("user", user.id),
            action="user.created",
            after={"email": email, "role": role.value, "account_id": account_id},
        )
        uow.commit()
    return user


def _checked_login(email: str, password: str) -> str:
    """The e-mail as stored (trimmed, lower case), once it and the password are acceptable for a login."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="email-invalid")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="password-too-short", min_length=MIN_PASSWORD_LENGTH)
    return email


def create_staff(
    ctx: Ctx, actor: Principal, channel: Channel, email: str, name: str, password: str, role: StaffRole
) -> StaffMember:
    """A login for one of the operator's agents or supervisors; only a supervisor (or the operator's own
    machines) may open one."""
    actor.require_supervisor()
    email = _checked_login(email, password)
    if not name.strip():
        raise DomainError(ErrorCode.VALIDATION_ERROR, reason="name-missing")
    member = StaffMember(new_id("stf"), email, name.strip(), hash_password(password), role)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if uow.staff.by_email(email) is not None:
            raise DomainError(ErrorCode.CONFLICT, reason="email-taken")
        uow.staff.add(member, now)
        record(
            uow,
            at=now,
            actor=actor,
            channel=channel,
            entity=("staff", member.id),
            action="staff.created",
            after={"email": email, "name": member.name, "role": role.value},
        )
        uow.commit()
    return member


def staff_principal(member: StaffMember) -> Principal:
    return Principal(PrincipalKind.STAFF, member.id, name=member.name, staff_role=member.role)


def issue_token(uow: Unit, ctx: Ctx, kind: PrincipalKind, principal_id: str) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    expires_at = now + timedelta(hours=ctx.token_ttl_hours)
    uow.tokens.add(token_digest(token), kind.value, principal_id, now, expires_at)
    return IssuedToken(token, expires_at)


def open_operator_session(ctx: Ctx, operator_id: str, address: str) -> IssuedToken:
    """A back-office session for whoever proved to hold the operator's secret (checked by the channel)."""
    with ctx.uow() as uow:
        issued = issue_token(uow, ctx, PrincipalKind.OPERATOR, operator_id)
        record(
            uow,
            at=ctx.clock.now(),
            actor=OPERATOR,
            channel=Channel.BACKOFFICE,
            entity=("operator", "operator"),
            action="operator.logged_in",
            after={"address": address},
        )
        uow.commit()
    return issued


def login_user(ctx: Ctx, email: str, password: str, channel: Channel = Channel.API) -> IssuedToken:
    with ctx.uow(write=False) as uow:
        user = uow.users.by_email(email.strip().lower())
    found = (
        None
        if user is None
        else (user.password_hash, Principal(PrincipalKind.USER, user.id, user.account_id, user.role))
    )
    return _log_in(ctx, found, password, channel, "user")


def login_staff(ctx: Ctx, email: str, password: str, channel: Channel = Channel.BACKOFFICE) -> IssuedToken:
    """An agent's or a supervisor's login, checked as a customer's is (argon2id; the channel throttles)."""
    with ctx.uow(write=False) as uow:
        member = uow.staff.by_email(email.strip().lower())
    found = None if member is None else (member.password_hash, staff_principal(member))
    return _log_in(ctx, found, password, channel, "staff")


def _log_in(
    ctx: Ctx, found: tuple[str, Principal] | None, password: str, channel: Channel, entity_kind: str
) -> IssuedToken:
    if found is None or not verify_password(found[0], password):
        raise DomainError(ErrorCode.UNAUTHENTICATED, reason="wrong-credentials")
    principal = found[1]
    with ctx.uow() as uow:
        issued = issue_token(uow, ctx, principal.kind, principal.id)
        record(
            uow,
            at=ctx.clock.now(),
            actor=principal,
            channel=channel,
            entity=(entity_kind, principal.id),
            action=f"{entity_kind}.logged_in",
        )
        uow.commit()
    return issued


def authenticate(ctx: Ctx, token: str) -> Principal:
    """The principal behind a customer bearer token (the operator token is checked by the channel)."""
    with ctx.uow(write=False) as uow:
        stored = uow.tokens.find(token_digest(token))
        if stored is None or stored.revoked_at is not None or stored.expires_at <= ctx.clock.now():
            raise DomainError(ErrorCode.UNAUTHENTICATED, reason="token-unknown")
        if stored.principal_kind == PrincipalKind.USER.value:
            user = uow.users.get(stored.principal_id)
            if user is None:
                raise DomainError(ErrorCode.UNAUTHENTICATED)
            return Principal(PrincipalKind.USER, user.id, user.account_id, user.role)
        if stored.principal_kind == PrincipalKind.STAFF.value:
            member = uow.staff.get(stored.principal_id)
            if member is None:
                raise DomainError(ErrorCode.UNAUTHENTICATED)
            return staff_principal(member)
        resolver = ctx.features.principal_resolvers.get(stored.principal_kind)
        if resolver is None:
            raise DomainError(ErrorCode.UNAUTHENTICATED)
        principal = resolver(uow, stored.principal_id)
        if not isinstance(principal, Principal):
            raise TypeError(f"the resolver of {stored.principal_kind!r} tokens gave {principal!r}, not a Principal")
        return principal


def revoke_token(ctx: Ctx, token: str) -> None:
    with ctx.uow() as uow:
        uow.tokens.revoke(token_digest(token), ctx.clock.now())
        uow.commit()


def confirm_identity(ctx: Ctx, principal: Principal, password: str | None) -> None:
    """Re-entry of the acting user's password; the operator's token is its own confirmation."""
    if principal.is_operator:
        return
    if principal.kind is not PrincipalKind.USER or not password:
        raise DomainError(ErrorCode.IDENTITY_NOT_CONFIRMED)
    with ctx.uow(write=False) as uow:
        user = uow.users.get(principal.id)
    if user is None or not verify_password(user.password_hash, password):
        raise DomainError(ErrorCode.IDENTITY_NOT_CONFIRMED)


__all__ = [
    "OPERATOR",
    "authenticate",
    "confirm_identity",
    "create_account",
    "create_staff",
    "create_user",
    "login_staff",
    "login_user",
    "open_operator_session",
]
