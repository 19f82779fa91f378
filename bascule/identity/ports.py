"""The repositories of accounts, users and tokens that the identity use cases need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bascule.audit.ports import AuditUnit
from bascule.identity.model import Account, User


@dataclass(frozen=True, slots=True)
class StoredToken:
    principal_kind: str
    principal_id: str
    expires_at: datetime
    revoked_at: datetime | None


class Accounts(Protocol):
    def add(self, account: Account) -> None: ...
    def get(self, account_id: str) -> Account | None: ...
    def all(self) -> list[Account]: ...


class Users(Protocol):
    def add(self, user: User, created_at: datetime) -> None: ...
    def get(self, user_id: str) -> User | None: ...
    def by_email(self, email: str) -> User | None: ...
    def managers_of(self, account_id: str) -> list[User]: ...
    def email_taken(self, email: str) -> bool: ...


class Tokens(Protocol):
    def add(
        self, token_hash: str, kind: str, principal_id: str, created_at: datetime, expires_at: datetime
    ) -> None: ...
    def find(self, token_hash: str) -> StoredToken | None: ...
    def revoke(self, token_hash: str, at: datetime) -> None: ...


class IdentityUnit(AuditUnit, Protocol):
    @property
    def accounts(self) -> Accounts: ...

    @property
    def users(self) -> Users: ...

    @property
    def tokens(self) -> Tokens: ...
