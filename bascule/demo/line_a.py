"""Demo business account: a manager, a viewer and services on different plans, networks and APNs."""

from __future__ import annotations

from datetime import timedelta

from bascule.catalog.model import PlanKind, Radio
from bascule.context import Context
from bascule.evolutions.services import create_service, record_usage
from bascule.identity.model import OPERATOR, BillingAddress, Channel, Role
from bascule.identity.usecases import create_account, create_user, set_billing_address
from bascule.kernel.calendar import Period, local_date, zone

MANAGER = ("gestionnaire@demo.bascule.test", "demo-gestion")
VIEWER = ("lecteur@demo.bascule.test", "demo-lecture")


BILLING_ADDRESS = BillingAddress(line1="18 rue des Entrepôts", line2="Bâtiment C", postal_code="69007", city="Lyon")


def _pick(ctx: Context, kind: PlanKind, radio: Radio, rank: int) -> str:
    plans = [p for p in ctx.catalog.plans if p.kind is kind and p.radio is radio]
    plans.sort(key=lambda p: (p.data_bytes or 0, p.price.amount))
    return plans[min(rank, len(plans) - 1)].id


def load(ctx: Context) -> list[str]:
    """Create the demo account; returns the lines to print."""
    account = create_account(ctx, OPERATOR, Channel.CLI, "Démo Logistique SAS", None)
    create_user(ctx, OPERATOR, Channel.CLI, account.id, MANAGER[0], MANAGER[1], Role.MANAGER)
    create_user(ctx, OPERATOR, Channel.CLI, account.id, VIEWER[0], VIEWER[1], Role.VIEWER)
    set_billing_address(ctx, OPERATOR, Channel.CLI, account.id, BILLING_ADDRESS)
    networks = [n.id for n in ctx.catalog.networks]
    apns = [a.id for a in ctx.catalog.apns]
    today = local_date(ctx.clock.now(), zone(account.timezone))
    first_day = Period.containing(today).first_day
    lines = [
        (_pick(ctx, PlanKind.BUNDLE, Radio.G4, 1), 0, 0, "+33612000001"),
        (_pick(ctx, PlanKind.BUNDLE, Radio.G5, 1), 1, 1, "+33612000002"),
        (_pick(ctx, PlanKind.BUNDLE, Radio.G4, 2), 0, 2, "+33612000003"),
        (_pick(ctx, PlanKind.METERED, Radio.G4, 0), 1, 1, "+33612000004"),
    ]
    for plan_id, network, apn, msisdn in lines:
        view = create_service(
            ctx,
            OPERATOR,
            Channel.CLI,
            account_id=account.id,
            plan_id=plan_id,
            network=networks[network % len(networks)],
            apn=apns[apn % len(apns)],
            msisdn=msisdn,
            activated_on=first_day - timedelta(days=60),
        )
        if view.plan.kind is PlanKind.BUNDLE:
            record_usage(ctx, OPERATOR, Channel.CLI, view.service.id, view.quota.total_bytes * 2 // 5, None)
    return [
        f"  Centre d'Opérations — gestionnaire : {MANAGER[0]} / {MANAGER[1]}",
        f"  Centre d'Opérations — lecteur      : {VIEWER[0]} / {VIEWER[1]}",
        f"  Compte de démonstration : {account.name} ({account.id})",
    ]
