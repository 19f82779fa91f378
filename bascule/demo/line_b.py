"""Demo prepaid subscribers: one per situation of the migration rules, with last month's history.

Amounts come from the catalogue's thresholds (just under, exactly at, well over), so the demo
shows an eligible and a refused migration whatever the thresholds are.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bascule.catalog.model import Profile
from bascule.context import Context
from bascule.identity.model import OPERATOR, Channel
from bascule.kernel.calendar import Period, zone
from bascule.kernel.money import Money
from bascule.prepaid.usecases import consume, create_subscriber, profile_options, recharge


def _instant(period: Period, day: int, hour: int, tz_name: str) -> datetime:
    tz = zone(tz_name)
    return datetime.combine(period.first_day + timedelta(days=day - 1), time(hour), tzinfo=tz)


def _cases(ctx: Context) -> list[tuple[Profile, Money]]:
    """(profile, main credit consumed last month) for each demo line."""
    currency = ctx.catalog.prepaid.currency
    free = [p for p in ctx.catalog.profiles if p.min_consumption_last_month is None]
    gated = sorted(
        (p for p in ctx.catalog.profiles if p.min_consumption_last_month is not None),
        key=lambda p: p.min_consumption_last_month.amount if p.min_consumption_last_month else 0,
    )
    one = Money.of(1, currency)
    cases: list[tuple[Profile, Money]] = []
    start = free[0] if free else ctx.catalog.profiles[0]
    for target in gated:
        threshold = target.min_consumption_last_month
        if threshold is None:  # `gated` holds only profiles with a threshold
            raise RuntimeError(f"profile {target.id} has no consumption threshold")
        cases.append((start, threshold - one))  # just under: refused
        cases.append((start, threshold))  # exactly at: eligible
    top = (gated[-1].min_consumption_last_month if gated else None) or Money.of(5000, currency)
    for profile in [*free[1:], *gated]:
        cases.append((profile, top + Money.of(1500, currency)))
    return cases


def load(ctx: Context) -> list[str]:
    """Create the demo subscribers; returns the lines to print."""
    now = ctx.clock.now()
    tz_name = ctx.catalog.prepaid.timezone
    this_month = Period.at(now, zone(tz_name))
    last_month = this_month.previous()
    lines = [
        "  Abonnés prépayés (connexion à l'Espace client par numéro ; aucun SMS ne part en démonstration : le",
        "  code à usage unique s'affiche sur la page « SMS envoyés », /espace-client/sms) :",
    ]
    for number, (profile, consumed) in enumerate(_cases(ctx), start=1):
        msisdn = f"+22507010000{number:02d}"
        create_subscriber(ctx, OPERATOR, Channel.CLI, msisdn, profile.id, None)
        # Two months back, so that its bonuses have expired before last month's consumption.
        recharge(
            ctx,
            OPERATOR,
            Channel.CLI,
            msisdn,
            consumed + Money.of(1000, consumed.currency),
            _instant(last_month.previous(), 1, 10, tz_name),
        )
        consume(ctx, OPERATOR, Channel.CLI, msisdn, consumed, _instant(last_month, 15, 18, tz_name))
        recharge(ctx, OPERATOR, Channel.CLI, msisdn, Money.of(1000, consumed.currency), now)
        allowed = [o.profile.name for o in profile_options(ctx, OPERATOR, msisdn) if o.eligible]
        lines.append(
            f"    {msisdn}  profil {profile.name:<8} consommé en {last_month} : {consumed.french():>12}"
            f"  → peut passer à : {', '.join(allowed) or 'aucun'}"
        )
    return lines
