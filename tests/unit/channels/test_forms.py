"""A change form's choices as a command: what is left blank or as the line has it is not asked for."""

from __future__ import annotations

from datetime import date

import pytest

from bascule.catalog.model import GIB, Catalog, Plan, Radio
from bascule.channels.forms import changed_only
from bascule.evolutions.model import Service, ServiceStatus
from bascule.evolutions.rules import RequestedChanges
from tests.unit.conftest import bundle_of


@pytest.fixture
def plan(catalog: Catalog) -> Plan:
    return bundle_of(catalog, 10, Radio.G4)


@pytest.fixture
def line(plan: Plan) -> Service:
    return Service(
        "svc_1",
        "acc_1",
        "+33612345678",
        plan.id,
        "orange",
        "apn-internet",
        20 * GIB,
        ServiceStatus.ACTIVE,
        date(2026, 11, 3),
    )


def test_the_items_that_change_are_kept_as_given(catalog: Catalog, plan: Plan, line: Service) -> None:
    bigger = bundle_of(catalog, 30, Radio.G4)
    wanted = RequestedChanges(plan_id=bigger.id, radio=Radio.G5, apn="apn-m2m", network="sfr", ceiling_bytes=40 * GIB)

    assert changed_only(wanted, line, plan) == RequestedChanges(bigger.id, Radio.G5, "apn-m2m", "sfr", 40 * GIB)


def test_items_left_as_the_line_has_them_or_blank_are_left_out(plan: Plan, line: Service) -> None:
    wanted = RequestedChanges(plan_id=plan.id, radio=Radio.G4, apn="", network="sfr", ceiling_bytes=20 * GIB)

    assert changed_only(wanted, line, plan) == RequestedChanges(network="sfr")
    assert changed_only(RequestedChanges(apn="apn-m2m", network=""), line, plan) == RequestedChanges(apn="apn-m2m")


def test_nothing_changed_asks_for_the_lines_own_apn_for_the_domain_to_refuse(plan: Plan, line: Service) -> None:
    same = RequestedChanges(plan.id, Radio.G4, "apn-internet", "orange", 20 * GIB)

    assert changed_only(same, line, plan) == RequestedChanges(apn="apn-internet")
    assert changed_only(RequestedChanges(), line, plan) == RequestedChanges(apn="apn-internet")
    assert changed_only(RequestedChanges(plan_id="", apn="", network=""), line, plan) == RequestedChanges(
        apn="apn-internet"
    )
