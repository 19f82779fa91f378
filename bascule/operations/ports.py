"""What the operator's lists need from storage: pages of requests and audit events, and who is who."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bascule.audit.ports import AuditEvent, AuditUnit
from bascule.catalog.overrides import OfferKind, Override, OverrideField
from bascule.identity.ports import IdentityUnit
from bascule.operations.lists import AuditFilter, RequestFilter, RequestRow


class OperatorLists(Protocol):
    def requests(self, wanted: RequestFilter, after: tuple[datetime, str] | None, limit: int) -> list[RequestRow]: ...
    def audit(self, wanted: AuditFilter, before_id: int | None, limit: int) -> list[AuditEvent]: ...
    def account_names(self, account_ids: set[str]) -> dict[str, str]: ...
    def user_emails(self, user_ids: set[str]) -> dict[str, str]: ...


class OperationsUnit(IdentityUnit, Protocol):
    @property
    def operator_lists(self) -> OperatorLists: ...


class CatalogOverrides(Protocol):
    """The supervisors' overrides of the shipped catalogue, and the stamp that moves with each change."""

    def version(self) -> int: ...
    def bump(self) -> int: ...  # the new version; locks the stamp until the transaction ends
    def all(self) -> list[Override]: ...
    def put(self, override: Override, set_by_id: str) -> None: ...
    def remove(self, kind: OfferKind, entry_id: str, field: OverrideField) -> None: ...


class CatalogueUnit(AuditUnit, Protocol):
    @property
    def catalog_overrides(self) -> CatalogOverrides: ...
