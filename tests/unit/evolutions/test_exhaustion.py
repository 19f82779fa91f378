"""What a used-up quota does to a line: barred, or throttled when the catalogue says so for bundles."""

from __future__ import annotations

from dataclasses import replace

from bascule.catalog.loader import load
from bascule.catalog.model import PlanKind
from bascule.evolutions.model import ServiceStatus
from bascule.evolutions.quota import exhaustion_status


def test_the_shipped_catalogue_bars_a_used_up_bundle_and_a_reached_ceiling() -> None:
    catalog = load(None)
    assert catalog.b2b.at_exhaustion == "bar"
    assert {exhaustion_status(catalog, plan) for plan in catalog.plans} == {ServiceStatus.BARRED}


def test_a_throttling_catalogue_throttles_bundles_but_still_bars_metered_lines() -> None:
    shipped = load(None)
    catalog = replace(shipped, b2b=replace(shipped.b2b, at_exhaustion="throttle"))
    statuses = {plan.kind: exhaustion_status(catalog, plan) for plan in catalog.plans}
    assert statuses == {PlanKind.BUNDLE: ServiceStatus.THROTTLED, PlanKind.METERED: ServiceStatus.BARRED}
    assert ServiceStatus.THROTTLED.restricted
    assert ServiceStatus.BARRED.restricted
    assert not ServiceStatus.ACTIVE.restricted
