"""What opening a cycle charges (the recurring line, prorated in the first month, and its once-key), and how the
line's use cases reach billing's opening of cycles."""

from __future__ import annotations

from datetime import date

import pytest

from bascule.billing.cycles import OPENER, first_cycle_charge, recurring_key
from bascule.bootstrap import install_features
from bascule.catalog.live import LiveCatalog
from bascule.catalog.model import Catalog, Plan
from bascule.context import Context
from bascule.evolutions.rules import ChargeKind
from bascule.evolutions.services import cycle_opener
from bascule.kernel.calendar import Period
from bascule.kernel.clock import SettableClock
from bascule.kernel.money import Money

JUNE = Period(2026, 6)  # 30 days
JULY = Period(2026, 7)  # 31 days


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def test_a_service_activated_mid_june_pays_half_its_first_month(catalog: Catalog, plan_30gb_4g: Plan) -> None:
    line = first_cycle_charge(plan_30gb_4g, date(2026, 6, 16), JUNE, catalog)
    assert (line.kind, line.amount) == (ChargeKind.RECURRING, eur("4.50"))
    assert "15/30 jours" in line.description


def test_a_service_activated_on_the_first_pays_the_full_month(catalog: Catalog, plan_30gb_4g: Plan) -> None:
    line = first_cycle_charge(plan_30gb_4g, date(2026, 6, 1), JUNE, catalog)
    assert (line.kind, line.amount) == (ChargeKind.RECURRING, eur("9.00"))


def test_a_later_cycle_pays_the_full_price(catalog: Catalog, plan_30gb_4g: Plan) -> None:
    line = first_cycle_charge(plan_30gb_4g, date(2026, 6, 16), JULY, catalog)
    assert line.amount == eur("9.00")


def test_a_service_activated_on_29_february_2028_pays_one_29th(catalog: Catalog, plan_30gb_4g: Plan) -> None:
    line = first_cycle_charge(plan_30gb_4g, date(2028, 2, 29), Period(2028, 2), catalog)
    assert line.amount == eur("0.31")


def test_a_cycles_recurring_line_has_one_once_key_per_service_and_month() -> None:
    assert recurring_key("svc_1", Period.parse("2026-06")) == "recurring:svc_1:2026-06"
    assert recurring_key("svc_1", "2026-06") == recurring_key("svc_1", Period.parse("2026-06"))


def test_the_wiring_hands_the_lines_billings_opening_of_cycles(catalog: Catalog) -> None:
    ctx: Context = Context(LiveCatalog(catalog), SettableClock(), units=None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="no cycle opener"):
        cycle_opener(ctx)  # unwired: a turned month is never silently left unopened
    install_features(ctx)
    assert cycle_opener(ctx) is OPENER
    install_features(ctx)  # wired once, whatever the number of calls
    assert cycle_opener(ctx) is OPENER
