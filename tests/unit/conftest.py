"""Shared fixtures of the domain unit tests: the shipped catalogue and its seed plans, found by value."""

from __future__ import annotations

import pytest

from bascule.catalog.loader import load
from bascule.catalog.model import GIB, Catalog, Plan, PlanKind, Radio


def bundle_of(catalog: Catalog, gigabytes: int, radio: Radio) -> Plan:
    """The bundle of that volume on that radio, whatever its id."""
    matches = [
        plan
        for plan in catalog.plans
        if plan.kind is PlanKind.BUNDLE and plan.data_bytes == gigabytes * GIB and plan.radio is radio
    ]
    assert len(matches) == 1, f"expected one {gigabytes} GB {radio} bundle, found {matches}"
    return matches[0]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load(None)


@pytest.fixture(scope="session")
def plan_10gb_4g(catalog: Catalog) -> Plan:
    return bundle_of(catalog, 10, Radio.G4)


@pytest.fixture(scope="session")
def plan_10gb_5g(catalog: Catalog) -> Plan:
    return bundle_of(catalog, 10, Radio.G5)


@pytest.fixture(scope="session")
def plan_30gb_4g(catalog: Catalog) -> Plan:
    return bundle_of(catalog, 30, Radio.G4)


@pytest.fixture(scope="session")
def plan_30gb_5g(catalog: Catalog) -> Plan:
    return bundle_of(catalog, 30, Radio.G5)
