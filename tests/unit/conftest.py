"""Shared fixtures of the unit tests (no database, no server): the shipped catalogue and its seed plans, found by
value. A test here that asks for the database fails at collection: it belongs in tests/integration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bascule.catalog.loader import load
from bascule.catalog.model import GIB, Catalog, Plan, PlanKind, Radio

DATABASE_FIXTURES = frozenset({"database_url", "session_context", "server_url"})  # what `ctx` and `http` stand on


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and (used := DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))):
            raise pytest.UsageError(
                f"{item.nodeid} uses {sorted(used)}: a unit test needs no database (move it to tests/integration)"
            )


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
