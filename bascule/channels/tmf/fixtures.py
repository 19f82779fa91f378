"""`bascule tmf fixtures`: what the TM Forum kits in ../shared/tmf/ctk/ expect to find.

- TMF637 reads an inventory of at least two products: a business account with two Line A services.
- TMF654 tops up products `12345` and `PRD1` and reads buckets `ml_123_001`, `ml_123_002` (expired)
  and `ml_456_001` of products `ml123` and `ml456`: four prepaid lines, each known to the kit by
  one of those ids (an external product reference), holding bonus buckets with those ids.

Everything goes through the use cases except the three kit buckets (bonus buckets with the ids the
kit asks for). Running it again changes nothing: each step is skipped when already done.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from bascule.catalog.model import BonusKind, PlanKind
from bascule.channels.tmf.products import REFERENCE
from bascule.channels.tmf.store import Documents
from bascule.commands.runner import run_on_unit
from bascule.context import Context
from bascule.evolutions.services import create_service
from bascule.identity.model import OPERATOR, Channel
from bascule.identity.usecases import create_account
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.persistence.uow import UnitOfWork
from bascule.prepaid.model import BonusBucket
from bascule.prepaid.usecases import create_subscriber

FIXTURE = "fixture"
ACCOUNT_NAME = "TM Forum conformance"
SERVICES = ("+33699000001", "+33699000002")
# The kit's product id → the prepaid line it stands for.
LINES = {"12345": "+2250799000001", "PRD1": "+2250799000002", "ml123": "+2250799000123", "ml456": "+2250799000456"}
# The kit's buckets: (id, line, kind, quantity, validity start and end in days from now).
BUCKETS = (
    ("ml_123_001", "ml123", BonusKind.VOICE, 30, -1, 29),
    ("ml_123_002", "ml123", BonusKind.DATA, 200 * 1024**2, -40, -10),
    ("ml_456_001", "ml456", BonusKind.VOICE, 5, -1, 29),
)


def _line_a(ctx: Context) -> list[str]:
    with ctx.uow(write=False) as uow:
        noted = Documents(uow.connection).get(FIXTURE, "line-a-account")
    if noted is None:
        account = create_account(ctx, OPERATOR, Channel.CLI, ACCOUNT_NAME, None)
        run_on_unit(
            ctx,
            lambda uow: Documents(uow.connection).add(
                FIXTURE, "line-a-account", {"account_id": account.id}, ctx.clock.now()
            ),
        )
        account_id = account.id
    else:
        account_id = str(noted.body["account_id"])
    plans = [
        next(plan for plan in ctx.catalog.plans if plan.kind is kind) for kind in (PlanKind.BUNDLE, PlanKind.METERED)
    ]
    lines = []
    for plan, msisdn in zip(plans, SERVICES, strict=True):
        try:
            view = create_service(
                ctx,
                OPERATOR,
                Channel.CLI,
                account_id=account_id,
                plan_id=plan.id,
                network=ctx.catalog.networks[0].id,
                apn=ctx.catalog.apns[0].id,
                msisdn=msisdn,
                activated_on=None,
            )
        except DomainError as error:
            if error.code is not ErrorCode.CONFLICT:
                raise
            continue
        lines.append(f"  TMF637 product {view.service.id} ({plan.id}, {msisdn})")
    return lines


def _line_b(ctx: Context) -> list[str]:
    profile = next((p for p in ctx.catalog.profiles if p.min_consumption_last_month is None), ctx.catalog.profiles[0])
    now = ctx.clock.now()
    lines = []
    for reference, msisdn in LINES.items():
        try:
            create_subscriber(ctx, OPERATOR, Channel.CLI, msisdn, profile.id, None)
            lines.append(f"  prepaid line {msisdn} (TMF product {reference}, profile {profile.id})")
        except DomainError as error:
            if error.code is not ErrorCode.CONFLICT:
                raise
        noted = {"msisdn": msisdn}
        run_on_unit(ctx, partial(_note, REFERENCE, reference, noted, now))

    def grant(uow: UnitOfWork) -> None:
        for bucket_id, reference, kind, quantity, start, end in BUCKETS:
            bucket = BonusBucket(
                id=bucket_id,
                msisdn=LINES[reference],
                kind=kind,
                total=quantity,
                remaining=quantity,
                granted_at=now + timedelta(days=start),
                expires_at=now + timedelta(days=end),
                profile_id=profile.id,
                label=f"{kind.value} bonus (TMF kit)",
                source="tmf-fixture",
            )
            if uow.bonuses.add(bucket, once_key=f"tmf-fixture:{bucket_id}"):
                lines.append(f"  TMF654 bucket {bucket_id} on {LINES[reference]}")

    run_on_unit(ctx, grant)
    return lines


def _note(kind: str, document_id: str, body: dict[str, str], now: datetime, uow: UnitOfWork) -> None:
    Documents(uow.connection).add(kind, document_id, body, now)


def load(ctx: Context) -> list[str]:
    """Load what the kits expect; returns the lines to print (none when everything was there)."""
    return _line_a(ctx) + _line_b(ctx)
