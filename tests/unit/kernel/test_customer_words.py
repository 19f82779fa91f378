"""What a business customer reads: the line and the change in words, the month's limit before any form,
French dates (one format) and months, amounts before VAT."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bascule.catalog.model import GIB, Catalog, PlanKind
from bascule.evolutions.rules import monthly_slot_refusal, usage_charge_label
from bascule.kernel.calendar import Period, zone
from bascule.kernel.errors import ErrorCode
from bascule.kernel.messages_fr import day_fr, message, moment_fr, month_fr
from bascule.notifications import wording


def test_the_month_s_slot_is_free_until_the_limit_then_refused_with_the_next_day():
    june = Period(2026, 6)
    assert monthly_slot_refusal(1, 0, june) is None
    refusal = monthly_slot_refusal(1, 1, june)
    assert refusal is not None
    assert refusal.code is ErrorCode.MONTHLY_LIMIT_REACHED
    assert message(refusal) == (
        "Limite atteinte : 1 demande d'évolution par mois. Nouvelle demande possible à partir du 1er juillet 2026."
    )
    december = monthly_slot_refusal(2, 3, Period(2026, 12))
    assert december is not None
    assert message(december).endswith("à partir du 1er janvier 2027.")


def test_french_days_months_and_moments_have_one_format():
    assert day_fr(date(2026, 7, 1)) == "1er juillet 2026"
    assert day_fr(date(2026, 6, 16)) == "16 juin 2026"
    assert month_fr(2026, 12) == "décembre 2026"
    assert month_fr(2026, 8) == "août 2026"
    assert moment_fr(datetime(2026, 6, 16, 7, 0, tzinfo=UTC).astimezone(zone("Europe/Paris"))) == (
        "16 juin 2026 à 09:00"
    )
    assert usage_charge_label(Period(2026, 2)) == "Consommation au compteur, février 2026"


def test_a_change_is_named_in_words(catalog: Catalog):
    plan = next(p for p in catalog.plans if p.kind is PlanKind.BUNDLE)
    network = catalog.networks[-1]
    apn = catalog.apns[-1]
    words = wording.change_in_words({"plan_id": plan.id, "apn": apn.id, "network": network.id}, catalog)
    assert words == f"forfait {plan.name}, APN {apn.name} et opérateur support {network.name}"
    assert wording.change_in_words({"radio": "5G"}, catalog) == "passage en 5G"
    assert wording.change_in_words({"ceiling_bytes": 12 * GIB}, catalog) == "plafond mensuel de 12 Go"
    assert wording.change_in_words({"plan_id": "retiré-du-catalogue"}, catalog) == "forfait retiré-du-catalogue"


def test_a_notification_names_the_line_and_the_change_and_says_to_restart(catalog: Catalog):
    network = catalog.networks[-1]
    notice = wording.applied("+33612345678", {"network": network.id}, catalog)
    assert notice.subject == "Ligne +33612345678 : demande d'évolution appliquée"
    assert notice.body == (
        f"La ligne +33612345678 a changé : opérateur support {network.name}. La modification est "
        "appliquée sur le réseau. Pour que la carte SIM prenne la modification, redémarrez "
        "l'équipement de la ligne."
    )
    confirmed = wording.confirmed("+33612345678", {"radio": "5G"}, catalog)
    assert confirmed.body.endswith("redémarrez l'équipement de la ligne.")
    refused = wording.refused_by_network("+33612345678", {"radio": "5G"}, catalog, "réseau indisponible")
    assert "(passage en 5G) : réseau indisponible." in refused.body
