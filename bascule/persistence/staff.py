"""The operator's staff: agents and supervisors with their own logins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select

from bascule.identity.model import StaffMember, StaffRole
from bascule.persistence import tables as t
from bascule.persistence.statements import _Repository

S = t.staff


def _member(row: Row[Any]) -> StaffMember:
    return StaffMember(
        id=row.id, email=row.email, name=row.name, password_hash=row.password_hash, role=StaffRole(row.role)
    )


class Staff(_Repository):
    def add(self, member: StaffMember, created_at: datetime) -> None:
        self.connection.execute(
            insert(S).values(
                id=member.id,
                email=member.email,
                name=member.name,
                password_hash=member.password_hash,
                role=member.role.value,
                created_at=created_at,
            )
        )

    def get(self, staff_id: str) -> StaffMember | None:
        row = self.connection.execute(select(S).where(S.c.id == staff_id)).first()
        return None if row is None else _member(row)

    def by_email(self, email: str) -> StaffMember | None:
        row = self.connection.execute(select(S).where(S.c.email == email.lower())).first()
        return None if row is None else _member(row)

    def names(self, staff_ids: set[str]) -> dict[str, str]:
        if not staff_ids:
            return {}
        rows = self.connection.execute(select(S.c.id, S.c.name).where(S.c.id.in_(sorted(staff_ids))))
        return {row.id: row.name for row in rows}

    def all(self) -> list[StaffMember]:
        return [_member(row) for row in self.connection.execute(select(S).order_by(S.c.name, S.c.id))]
