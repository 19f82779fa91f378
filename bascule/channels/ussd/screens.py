"""What the names in `menu.py` mean: lists (sources), final screens (views) and actions.

Each calls a Line B use case as the subscriber of the calling number; no rule is decided here.
A refusal is the domain's own DomainError, shown with `short_message`. Texts are French as it is written
(accents, a space before ":"), measured with `width` as the gateway will send them in GSM 03.38.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bascule.catalog.model import BonusKind, Profile
from bascule.channels.ussd.engine import Item, width
from bascule.commands.runner import run
from bascule.context import Context
from bascule.identity.model import Channel, Principal
from bascule.kernel.calendar import zone
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.gsm0338 import SCREEN_SEPTETS, clip, to_gsm
from bascule.kernel.messages_fr import short_message
from bascule.kernel.money import Money, from_minor
from bascule.prepaid import usecases
from bascule.prepaid.model import BonusBucket


@dataclass(frozen=True, slots=True)
class Caller:
    """The subscriber behind the calling number, as the use cases know them."""

    ctx: Context
    msisdn: str

    @property
    def principal(self) -> Principal:
        return usecases.subscriber_principal(self.msisdn)

    def require_subscriber(self) -> None:
        usecases.require_subscriber(self.ctx, self.principal, self.msisdn)

    def summary(self) -> usecases.SubscriberSummary:
        return usecases.subscriber_summary(self.ctx, self.principal, self.msisdn)


def amount(money: Money) -> str:
    return money.french()


# Sources: the lists a Pick node shows --------------------------------------------------------


MARKS = {ErrorCode.NOT_ELIGIBLE: " (non éligible)", ErrorCode.MONTHLY_LIMIT_REACHED: " (limite atteinte)"}


def _mark(option: usecases.ProfileOption) -> str:
    if option.current:
        return " (actuel)"
    return "" if option.code is None else MARKS.get(option.code, " (indisponible)")


def _refusal(option: usecases.ProfileOption) -> str | None:
    """What choosing it says: the very refusal migrate_profile would raise, in its short form."""
    if option.error is None:
        return None
    return short_message(option.error, profile=option.profile.name)


def profile_options(caller: Caller) -> list[Item]:
    options = usecases.profile_options(caller.ctx, caller.principal, caller.msisdn)
    return [Item(o.profile.id, o.profile.name + _mark(o), o.profile.name, _refusal(o)) for o in options]


def catalog_profiles(caller: Caller) -> list[Item]:
    return [Item(p.id, p.name, p.name) for p in caller.ctx.catalog.profiles_on_sale()]


SOURCES: dict[str, Callable[[Caller], list[Item]]] = {
    "profile_options": profile_options,
    "catalog_profiles": catalog_profiles,
}


# Views: final screens ------------------------------------------------------------------------


def data_size(byte_count: int) -> str:
    """ "200 Mo", "1,5 Go" (the catalogue's Go is 1024³ bytes), to one decimal."""
    gib = byte_count >= 1024**3
    value = byte_count / 1024 ** (3 if gib else 2)
    return f"{value:.1f}".removesuffix(".0").replace(".", ",") + (" Go" if gib else " Mo")


def _quantity(bucket: BonusBucket, currency: str) -> str:
    if bucket.kind is BonusKind.CREDIT:
        return amount(from_minor(bucket.remaining, currency))
    if bucket.kind is BonusKind.DATA:
        return data_size(bucket.remaining)
    return f"{bucket.remaining} min" if bucket.kind is BonusKind.VOICE else f"{bucket.remaining} SMS"


def _within(head: list[str], lines: Iterable[str], tail: list[str]) -> str:
    """head + as many of `lines` as fit + tail, with "+n autres" when some are left out."""
    kept = list(head)
    pending = list(lines)
    for index, line in enumerate(pending):
        rest = len(pending) - index - 1
        more = [f"+{rest} autres"] if rest else []
        if width("\n".join([*kept, line, *more, *tail])) > SCREEN_SEPTETS:
            kept.append(f"+{len(pending) - index} autres")
            break
        kept.append(line)
    return "\n".join(kept + tail)


def my_profile(caller: Caller, picked: Item | None) -> str:
    summary = caller.summary()
    tz = zone(summary.subscriber.timezone)
    lines = [
        f"- {b.label} : {_quantity(b, summary.balance.currency)} jusqu'au {b.expires_at.astimezone(tz):%d/%m}"
        for b in summary.bonuses
    ]
    head = [f"Profil {summary.profile.name}", "Bonus :" if lines else "Aucun bonus en cours."]
    left = summary.migrations_left_this_month
    tail = [
        f"Changements de profil restants ce mois-ci : {left}"
        if left
        else "Plus de changement de profil possible ce mois-ci."
    ]
    return _within(head, lines, tail)


def balance(caller: Caller, picked: Item | None) -> str:
    summary = caller.summary()
    credit = [b for b in summary.bonuses if b.kind is BonusKind.CREDIT]
    bonus = from_minor(sum(b.remaining for b in credit), summary.balance.currency)
    return (
        f"Solde principal : {amount(summary.balance)}\nBonus crédit : {amount(bonus)}\n"
        f"Consommation du mois passé : {amount(summary.consumption_last_month)}"
    )


def _sheet(profile: Profile) -> str:
    """Name and description, condition, bonuses; a description too long for the screen is the part cut."""
    needed = profile.min_consumption_last_month
    head = f"{profile.name} : {profile.description}" if profile.description else profile.name
    rest = [f"Condition : {amount(needed)} consommés le mois passé." if needed is not None else "Sans condition."]
    labels = [bonus.label for bonus in profile.bonuses if bonus.label]
    if labels:
        rest.append(f"Bonus : {', '.join(labels)}.")
    room = SCREEN_SEPTETS - width("".join("\n" + line for line in rest))
    return "\n".join([clip(to_gsm(head), max(room, 0)), *rest])


def _chosen(picked: Item | None) -> Item:
    if picked is None:  # the menu calls these only once a profile is chosen
        raise RuntimeError("a profile screen without a chosen profile")
    return picked


def profile_sheet(caller: Caller, picked: Item | None) -> str:
    picked = _chosen(picked)
    return _sheet(caller.ctx.catalog.profile(picked.key))


VIEWS: dict[str, Callable[[Caller, Item | None], str]] = {
    "my_profile": my_profile,
    "balance": balance,
    "profile_sheet": profile_sheet,
}


# Actions: what a confirmation does -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Done:
    """What an action says: the final screen, or a refusal shown on top of the list the item came from."""

    text: str
    refused: bool = False


def migrate_profile(caller: Caller, picked: Item | None) -> Done:
    picked = _chosen(picked)
    try:
        migration = run(
            caller.ctx,
            lambda ctx: usecases.migrate_profile(ctx, caller.principal, Channel.USSD, caller.msisdn, picked.key),
        )
    except DomainError as refused:  # the domain has the last word: eligibility or the month's slot changed
        return Done(short_message(refused, profile=picked.name), refused=True)
    name = caller.ctx.catalog.profile(migration.to_profile_id).name
    return Done(f"Votre profil est maintenant {name}. Vos bonus en cours sont conservés.")


ACTIONS: dict[str, Callable[[Caller, Item | None], Done]] = {
    "migrate_profile": migrate_profile,
}
