"""The audit trail as people read it: who (a staff member's name, a user's e-mail), on whose behalf (the
account's name or the line), and what changed, before → after, in French."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bascule.audit.ports import AuditEvent
from bascule.catalog.model import Catalog
from bascule.channels.portal import formatting as f
from bascule.context import Context
from bascule.kernel.calendar import zone
from bascule.operations.usecases import Names, names_of

ACTION = {
    **f.ACTION,
    "staff.created": "Accès back-office créé",
    "staff.logged_in": "Connexion au back-office",
    "job.retried": "Travail réseau relancé",
    "service.restored": "Service remis en état",
    "service.topup": "Recharge ponctuelle",
    "service.extension": "Extension",
    "change_batch.created": "Demande groupée créée",
    "change_batch.confirmed": "Demande groupée confirmée",
    "change_batch.cancelled": "Demande groupée annulée",
    "profile.provisioned": "Profil appliqué par le système de taxation",
    "profile.provisioning_failed": "Échec du profil au système de taxation",
}
ROLE = {**f.ROLE, "agent": "agent", "supervisor": "superviseur"}
FIELD = {
    "status": "Statut",
    "plan_id": "Offre",
    "network": "Opérateur réseau",
    "apn": "APN",
    "ceiling_bytes": "Plafond",
    "profile_id": "Profil",
    "from_profile_id": "Profil",
    "to_profile_id": "Nouveau profil",
    "name": "Nom",
    "email": "E-mail",
    "role": "Rôle",
    "timezone": "Fuseau",
    "amount": "Montant",
    "balance": "Solde",
    "account_id": "Compte",
    "address": "Adresse",
    "expires_at": "Expire le",
    "job_id": "Travail",
    "operation": "Opération",
    "error": "Erreur",
    "at": "Date",
    "radio": "Radio",
    "data_bytes": "Volume",
    "price": "Prix",
    "valid_until": "Valable jusqu'au",
    "msisdn": "Ligne",
    "lines": "Lignes",
    "currency": "Devise",
    "from_bonus": "Pris sur les bonus",
    "from_main": "Pris sur le crédit",
}
HIDDEN = {"entry_id", "items", "bonuses", "pack_id", "quoted", "consumption_id", "buckets", "migration_id", "period"}
STAFF_ROLE = {"agent": "agent", "supervisor": "superviseur"}


@dataclass(frozen=True, slots=True)
class ReadableEvent:
    id: int
    at: datetime
    action: str
    action_label: str
    who: str
    on_behalf: str | None  # the customer, when the operator's people acted for them
    customer: str | None
    channel: str
    entity: str
    changes: list[str]


class Reader:
    """Turns audit events into sentences, with the names looked up once per page."""

    def __init__(self, catalog: Catalog, names: Names) -> None:
        self.catalog = catalog
        self.names = names
        self.tz = zone(catalog.b2b.timezone)

    @classmethod
    def of(cls, ctx: Context, events: list[AuditEvent]) -> Reader:
        return cls(
            ctx.catalog,
            names_of(
                ctx,
                {e.customer_id for e in events if e.customer_kind == "account" and e.customer_id}
                | {str(v) for e in events for v in _values(e, "account_id")},
                {e.actor_id for e in events if e.actor_kind == "user"},
                {e.actor_id for e in events if e.actor_kind == "staff" and not e.actor_name},
            ),
        )

    def read(self, event: AuditEvent) -> ReadableEvent:
        # Instants in the details read in the customer's zone (a line's, else the business zone).
        self.tz = zone(
            self.catalog.prepaid.timezone if event.customer_kind == "subscriber" else self.catalog.b2b.timezone
        )
        customer = self.customer(event)
        acted_for = event.actor_kind in ("staff", "operator") and customer is not None
        return ReadableEvent(
            event.id,
            event.at,
            event.action,
            ACTION.get(event.action, event.action),
            self.who(event),
            customer if acted_for else None,
            customer,
            f.CHANNEL.get(event.channel, event.channel),
            f"{event.entity_kind} {event.entity_id}",
            self.changes(event.before or {}, event.after or {}),
        )

    def who(self, event: AuditEvent) -> str:
        if event.actor_kind == "staff":
            return event.actor_name or self.names.staff.get(event.actor_id, "Agent")
        if event.actor_kind == "user":
            return self.names.users.get(event.actor_id, "Utilisateur")
        if event.actor_kind == "subscriber":
            return f"Abonné {event.actor_id.removeprefix('sub:')}"
        if event.actor_kind == "operator":
            return "Opérateur (jeton)"
        return "Système"

    def customer(self, event: AuditEvent) -> str | None:
        if event.customer_kind == "account" and event.customer_id:
            return self.names.accounts.get(event.customer_id, event.customer_id)
        if event.customer_kind == "subscriber" and event.customer_id:
            return f"Ligne {event.customer_id}"
        return None

    def changes(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
        lines: list[str] = []
        for key in [*before, *[k for k in after if k not in before]]:
            if key in HIDDEN:
                continue
            if key == "changes" and isinstance(after.get(key), Mapping):
                lines.extend(f"{line} (demandé)" for line in self.changes({}, after[key]))
                continue
            old, new = before.get(key), after.get(key)
            if key in before and key in after and old == new:
                continue
            label = FIELD.get(key, key)
            if key not in after:
                lines.append(f"{label} : {self.value(key, old)} (retiré)")
            elif key not in before:
                if new is None:
                    continue
                lines.append(f"{label} : {self.value(key, new)}")
            else:
                lines.append(f"{label} : {self.value(key, old)} → {self.value(key, new)}")
        return lines

    def value(self, key: str, value: Any) -> str:  # noqa: PLR0911 - one branch per kind of value
        if value is None:
            return "—"
        if key == "status":
            return f.REQUEST_STATUS.get(value, f.SERVICE_STATUS.get(value, str(value))).lower()
        if key == "plan_id":
            return catalog_name(self.catalog.plans, value)
        if key == "network":
            return catalog_name(self.catalog.networks, value)
        if key == "apn":
            return catalog_name(self.catalog.apns, value)
        if key in ("profile_id", "from_profile_id", "to_profile_id"):
            return catalog_name(self.catalog.profiles, value)
        if key in ("ceiling_bytes", "data_bytes") and isinstance(value, int):
            return f.volume(value)
        if isinstance(value, Mapping) and {"amount", "currency"} <= set(value):
            return f.money(dict(value))
        if key == "role":
            return ROLE.get(value, str(value))
        if key == "account_id":
            return self.names.accounts.get(value, str(value))
        if key in ("expires_at", "at", "valid_until") and isinstance(value, str):
            return f.moment(value, self.tz) if "T" in value else f.day(value)
        return str(value)


def catalog_name(items: Iterable[Any], wanted: str) -> str:
    return next((item.name for item in items if item.id == wanted), str(wanted))


def _values(event: AuditEvent, key: str) -> list[Any]:
    return [side[key] for side in (event.before or {}, event.after or {}) if isinstance(side.get(key), str)]


def readable(ctx: Context, events: list[AuditEvent]) -> list[ReadableEvent]:
    reader = Reader.of(ctx, events)
    return [reader.read(event) for event in events]


def actor_label(kind: str, actor_id: str, names: Names) -> str:
    """A request's author as people know them: a staff member's name, a user's e-mail, the line."""
    if kind == "staff":
        return names.staff.get(actor_id, "Agent")
    if kind == "user":
        return names.users.get(actor_id, "Utilisateur")
    if kind == "subscriber":
        return f"Abonné {actor_id.removeprefix('sub:')}"
    return {"operator": "Opérateur (jeton)", "system": "Système"}.get(kind, kind)
