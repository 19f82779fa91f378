"""The SQL of identity: accounts (and their billing address), users, login tokens. Nothing here commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from bascule.identity.model import Account, BillingAddress, Role, User
from bascule.identity.ports import StoredToken
from bascule.persistence import tables as t
from bascule.persistence.statements import _by_id, _fields, _Repository

# Built once (see `statements._by_id` for why).
_MANAGERS = (
    select(t.users.c.email)
    .where(t.users.c.account_id == bindparam("account_id"), t.users.c.role == Role.MANAGER.value)
    .order_by(t.users.c.email)
)


def manager_emails_of(account_id: Any) -> Any:
    """The managers' addresses of an account as one column (space-separated: an address holds no space), for
    a statement that reads a request or completes it to bring them along (`Users.remember_managers`)."""
    return (
        select(func.aggregate_strings(t.users.c.email, " "))
        .where(t.users.c.account_id == account_id, t.users.c.role == Role.MANAGER.value)
        .scalar_subquery()
    )


_KNOWN_ACCOUNTS: dict[str, Account] = {}
_KNOWN_ACCOUNTS_AT_MOST = 200_000


class Accounts(_Repository):
    """An account never changes once created (no use case updates one), so a process reads each one once:
    its zone is wanted by every rule of a change."""

    def add(self, account: Account) -> None:
        self.connection.execute(insert(t.accounts).values(**_fields(account)))

    def get(self, account_id: str) -> Account | None:
        if (known := _KNOWN_ACCOUNTS.get(account_id)) is not None:
            return known
        row = self._run(_by_id(t.accounts), {"id": account_id}).first()
        return None if row is None else remember_account(row)

    def all(self) -> list[Account]:
        rows = self.connection.execute(select(t.accounts).order_by(t.accounts.c.created_at, t.accounts.c.id))
        return [_account(row) for row in rows]

    def billing_address(self, account_id: str) -> BillingAddress | None:
        """Read afresh each time (unlike the account itself, the address may change)."""
        row = self.connection.execute(select(*_BILLING.values()).where(t.accounts.c.id == account_id)).first()
        if row is None or row.billing_line1 is None:
            return None
        return BillingAddress(**{field: getattr(row, column.name) for field, column in _BILLING.items()})

    def set_billing_address(self, account_id: str, address: BillingAddress | None) -> None:
        values = {
            column.name: None if address is None else getattr(address, field) for field, column in _BILLING.items()
        }
        self.connection.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(**values))


_BILLING = {
    "line1": t.accounts.c.billing_line1,
    "line2": t.accounts.c.billing_line2,
    "postal_code": t.accounts.c.billing_postal_code,
    "city": t.accounts.c.billing_city,
    "country": t.accounts.c.billing_country,
}


_ACCOUNT_FIELDS = ("id", "name", "timezone", "currency", "created_at")
# An account's columns for a statement that reads a line with its account (`remember_account(row, ACCOUNT_PREFIX)`);
# the prefix keeps them apart from the line's own `account_id`.
ACCOUNT_PREFIX = "account__"
ACCOUNT_COLUMNS = tuple(t.accounts.c[name].label(f"{ACCOUNT_PREFIX}{name}") for name in _ACCOUNT_FIELDS)


def _account(row: Row[Any], prefix: str = "") -> Account:
    return Account(*(getattr(row, prefix + name) for name in _ACCOUNT_FIELDS))


def remember_account(row: Row[Any], prefix: str = "") -> Account:
    """The account of `row` (its columns under `prefix`), kept for this process's next `Accounts.get`."""
    if len(_KNOWN_ACCOUNTS) >= _KNOWN_ACCOUNTS_AT_MOST:
        _KNOWN_ACCOUNTS.clear()
    account = _KNOWN_ACCOUNTS[getattr(row, prefix + "id")] = _account(row, prefix)
    return account


def _user(row: Row[Any]) -> User:
    return User(row.id, row.account_id, row.email, row.password_hash, Role(row.role))


class Users(_Repository):
    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._managers: dict[str, list[str]] = {}  # read once per unit of work (a batch notifies per line)

    def add(self, user: User, created_at: datetime) -> None:
        self._managers.clear()
        values = _fields(user) | {"role": user.role.value, "created_at": created_at}
        self.connection.execute(insert(t.users).values(**values))

    def get(self, user_id: str) -> User | None:
        row = self.connection.execute(select(t.users).where(t.users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def by_email(self, email: str) -> User | None:
        row = self.connection.execute(select(t.users).where(t.users.c.email == email.lower())).first()
        return None if row is None else _user(row)

    def manager_emails(self, account_id: str) -> list[str]:
        if account_id not in self._managers:
            self._managers[account_id] = list(self._run(_MANAGERS, {"account_id": account_id}).scalars())
        return list(self._managers[account_id])

    def remember_managers(self, account_id: str, emails: str | None) -> None:
        """What `manager_emails_of` read beside another row in this unit of work: the next `manager_emails` of the
        account answers from it, as from its own read."""
        self._managers[account_id] = sorted(emails.split(" ")) if emails else []

    def email_taken(self, email: str) -> bool:
        return self.by_email(email) is not None


class Tokens(_Repository):
    def add(self, token_hash: str, kind: str, principal_id: str, created_at: datetime, expires_at: datetime) -> None:
        self.connection.execute(
            insert(t.auth_tokens).values(
                token_hash=token_hash,
                principal_kind=kind,
                principal_id=principal_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )

    def find(self, token_hash: str) -> StoredToken | None:
        row = self.connection.execute(select(t.auth_tokens).where(t.auth_tokens.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return StoredToken(row.principal_kind, row.principal_id, row.expires_at, row.revoked_at)

    def revoke(self, token_hash: str, at: datetime) -> None:
        self.connection.execute(
            update(t.auth_tokens)
            .where(t.auth_tokens.c.token_hash == token_hash, t.auth_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
