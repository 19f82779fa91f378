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
    User,
)
from bascule.identity.passwords import hash_password, verify_password
from bascule.kernel.calendar import zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.persistence.repositories import new_id
from bascule.persistence.uow import UnitOfWork

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


def create_account(ctx: Context, actor: Principal, channel: Channel, name: str, timezone: str | None) -> Account:
    actor.require_operator()
    tz_name = timezone or ctx.catalog.b2b.timezone
    try:
        zone(tz_name)
    except ValueError:
        raise DomainError(ErrorCode.VALIDATION_ERROR, f"Fuseau horaire inconnu : {tz_name}.") from None
    if not name.strip():
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Le nom du compte est obligatoire.")
    now = ctx.clock.now()
    account = Account(new_id("acc"), name.strip(), tz_name, ctx.catalog.b2b.currency, now)
    with ctx.uow() as uow:
        uow.accounts.add(account)
        record(uow, at=now, actor=actor, channel=channel, entity=("account", account.id), action="account.created",
               after={"name": account.name, "timezone": tz_name})
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


def set_billing_address(ctx: Context, actor: Principal, channel: Channel, account_id: str,
                        address: BillingAddress | None) -> AccountDetails:
    """The operator sets (or, with None, removes) where an account's invoices are addressed."""
    actor.require_operator()
    now = ctx.clock.now()
    with ctx.uow() as uow:
        account = uow.accounts.get(account_id)
        if account is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        before = uow.accounts.billing_address(account_id)
        uow.accounts.set_billing_address(account_id, address)
        record(uow, at=now, actor=actor, channel=channel, entity=("account", account_id),
               action="account.billing_address_changed",
               before={"billing_address": None if before is None else before.as_dict()},
               after={"billing_address": None if address is None else address.as_dict()})
        uow.commit()
    return AccountDetails(account, address)


def create_user(
    ctx: Context, actor: Principal, channel: Channel, account_id: str, email: str, password: str, role: Role
) -> User:
    actor.require_operator()
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Adresse e-mail invalide.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            ErrorCode.VALIDATION_ERROR, f"Le mot de passe doit faire au moins {MIN_PASSWORD_LENGTH} caractères."
        )
    user = User(new_id("usr"), account_id, email, hash_password(password), role)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if uow.accounts.get(account_id) is None:
            raise DomainError(ErrorCode.NOT_FOUND, what="account")
        if uow.users.email_taken(email):
            raise DomainError(ErrorCode.CONFLICT, "Cette adresse e-mail est déjà utilisée.")
        uow.users.add(user, now)
        record(uow, at=now, actor=actor, channel=channel, entity=("user", user.id), action="user.created",
               after={"email": email, "role": role.value, "account_id": account_id})
        uow.commit()
    return user


def issue_token(uow: UnitOfWork, ctx: Context, kind: PrincipalKind, principal_id: str) -> IssuedToken:
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    expires_at = now + timedelta(hours=ctx.token_ttl_hours)
    uow.tokens.add(token_digest(token), kind.value, principal_id, now, expires_at)
    return IssuedToken(token, expires_at)


def open_operator_session(ctx: Context, operator_id: str, address: str) -> IssuedToken:
    """A back-office session for whoever proved to hold the operator's secret (checked by the channel)."""
    with ctx.uow() as uow:
        issued = issue_token(uow, ctx, PrincipalKind.OPERATOR, operator_id)
        record(uow, at=ctx.clock.now(), actor=OPERATOR, channel=Channel.BACKOFFICE, entity=("operator", "operator"),
               action="operator.logged_in", after={"address": address})
        uow.commit()
    return issued


def login_user(ctx: Context, email: str, password: str, channel: Channel = Channel.API) -> IssuedToken:
    with ctx.uow(write=False) as uow:
        user = uow.users.by_email(email.strip().lower())
    if user is None or not verify_password(user.password_hash, password):
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Identifiant ou mot de passe incorrect.")
    with ctx.uow() as uow:
        issued = issue_token(uow, ctx, PrincipalKind.USER, user.id)
        record(uow, at=ctx.clock.now(), actor=Principal(PrincipalKind.USER, user.id, user.account_id, user.role),
               channel=channel, entity=("user", user.id), action="user.logged_in")
        uow.commit()
    return issued


def authenticate(ctx: Context, token: str) -> Principal:
    """The principal behind a customer bearer token (the operator token is checked by the channel)."""
    with ctx.uow(write=False) as uow:
        stored = uow.tokens.find(token_digest(token))
        if stored is None or stored.revoked_at is not None or stored.expires_at <= ctx.clock.now():
            raise DomainError(ErrorCode.UNAUTHENTICATED, "Jeton absent, expiré ou révoqué.")
        if stored.principal_kind == PrincipalKind.USER.value:
            user = uow.users.get(stored.principal_id)
            if user is None:
                raise DomainError(ErrorCode.UNAUTHENTICATED)
            return Principal(PrincipalKind.USER, user.id, user.account_id, user.role)
        resolver = ctx.extras.get("principal_resolvers", {}).get(stored.principal_kind)
        if resolver is None:
            raise DomainError(ErrorCode.UNAUTHENTICATED)
        principal: Principal = resolver(uow, stored.principal_id)
        return principal


def revoke_token(ctx: Context, token: str) -> None:
    with ctx.uow() as uow:
        uow.tokens.revoke(token_digest(token), ctx.clock.now())
        uow.commit()


def confirm_identity(ctx: Context, principal: Principal, password: str | None) -> None:
    """Re-entry of the acting user's password; the operator's token is its own confirmation."""
    if principal.is_operator:
        return
    if principal.kind is not PrincipalKind.USER or not password:
        raise DomainError(ErrorCode.IDENTITY_NOT_CONFIRMED)
    with ctx.uow(write=False) as uow:
        user = uow.users.get(principal.id)
    if user is None or not verify_password(user.password_hash, password):
        raise DomainError(ErrorCode.IDENTITY_NOT_CONFIRMED)


__all__ = ["OPERATOR", "authenticate", "confirm_identity", "create_account", "create_user", "login_user",
           "open_operator_session"]
