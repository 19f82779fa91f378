"""The supervisors' overrides of the catalogue, and the stamp every process checks (one row, one integer)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from bascule.catalog.overrides import OfferKind, Override, OverrideField
from bascule.persistence import tables as t
from bascule.persistence.statements import _Repository

OVERRIDES = t.catalog_overrides
STAMP = t.catalog_stamp


class CatalogOverrides(_Repository):
    def version(self) -> int:
        found = self.connection.execute(select(STAMP.c.version).where(STAMP.c.id == 1)).scalar()
        return 0 if found is None else int(found)

    def bump(self) -> int:
        """The next version, taken by an UPDATE: two supervisors' changes take turns on this row."""
        moved = self.connection.execute(update(STAMP).where(STAMP.c.id == 1).values(version=STAMP.c.version + 1))
        if moved.rowcount == 0:  # the migration's row was deleted (a wiped database): it starts again at 1
            self.connection.execute(insert(STAMP).values(id=1, version=1))
        return self.version()

    def all(self) -> list[Override]:
        c = OVERRIDES.c
        rows = self.connection.execute(select(OVERRIDES).order_by(c.kind, c.entry_id, c.field))
        return [
            Override(
                OfferKind(row.kind), row.entry_id, OverrideField(row.field), row.value, row.set_at, row.set_by_name
            )
            for row in rows
        ]

    def put(self, override: Override, set_by_id: str) -> None:
        self.remove(*override.key)
        self.connection.execute(
            insert(OVERRIDES).values(
                kind=override.kind.value,
                entry_id=override.entry_id,
                field=override.field.value,
                value=override.value,
                set_at=override.set_at,
                set_by_id=set_by_id,
                set_by_name=override.set_by,
            )
        )

    def remove(self, kind: OfferKind, entry_id: str, field: OverrideField) -> None:
        c = OVERRIDES.c
        self.connection.execute(
            delete(OVERRIDES).where(c.kind == kind.value, c.entry_id == entry_id, c.field == field.value)
        )
