"""The shipped catalogue holds the seed numbers; the loader refuses an incoherent catalogue."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bascule.catalog.loader import CatalogError, parse, parse_size
from bascule.catalog.model import GIB, Catalog, PlanKind, Profile, Radio
from bascule.catalog.pinning import prices_used, with_prices
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.money import Money

# --- the shipped default, found by value --------------------------------------------------


def bundles(catalog: Catalog, gigabytes: int, radio: Radio | None = None) -> list[Money]:
    """Prices of the bundles of that volume (on that radio if given)."""
    return [
        plan.price
        for plan in catalog.plans
        if plan.kind is PlanKind.BUNDLE
        and plan.data_bytes == gigabytes * GIB
        and (radio is None or plan.radio is radio)
    ]


def profile_named(catalog: Catalog, name: str) -> Profile:
    (profile,) = [p for p in catalog.profiles if p.name == name]
    return profile


def test_the_default_has_a_10_gb_4g_bundle_at_6_euros(catalog: Catalog) -> None:
    assert bundles(catalog, 10, Radio.G4) == [Money.of("6.00", "EUR")]


def test_the_default_has_a_10_gb_5g_bundle_at_8_euros_50(catalog: Catalog) -> None:
    assert bundles(catalog, 10, Radio.G5) == [Money.of("8.50", "EUR")]


def test_the_default_has_a_30_gb_bundle_at_9_euros(catalog: Catalog) -> None:
    assert Money.of("9.00", "EUR") in bundles(catalog, 30)


def test_changing_the_network_costs_a_10_euro_fee(catalog: Catalog) -> None:
    fee = catalog.fee_for_item("network")
    assert fee is not None
    assert fee.amount == Money.of("10.00", "EUR")


@pytest.mark.parametrize("item", ["plan_id", "radio", "apn", "ceiling_bytes"])
def test_changing_volume_radio_apn_or_ceiling_is_free(catalog: Catalog, item: str) -> None:
    fee = catalog.fee_for_item(item)
    assert fee is None or fee.amount.is_zero


def test_the_host_networks_are_orange_and_sfr(catalog: Catalog) -> None:
    assert sorted(network.name for network in catalog.networks) == ["Orange", "SFR"]
    assert sorted(network.id for network in catalog.networks) == ["orange", "sfr"]


def test_one_change_request_per_month_and_three_migrations_per_month(catalog: Catalog) -> None:
    assert catalog.b2b.monthly_change_limit == 1
    assert catalog.prepaid.monthly_migration_limit == 3


def test_line_a_is_in_euros_in_paris_and_line_b_in_francs_cfa_in_abidjan(catalog: Catalog) -> None:
    assert (catalog.b2b.currency, catalog.b2b.timezone) == ("EUR", "Europe/Paris")
    assert (catalog.prepaid.currency, catalog.prepaid.timezone) == ("XOF", "Africa/Abidjan")


def test_a_radio_downgrade_gives_a_credit_in_the_shipped_policy(catalog: Catalog) -> None:
    assert catalog.b2b.credit_on_radio_downgrade is True


def test_the_shipped_policy_tells_the_customer_to_reboot(catalog: Catalog) -> None:
    assert "redémarrez votre équipement" in catalog.b2b.reboot_notice


def test_the_four_prepaid_profiles_are_offered(catalog: Catalog) -> None:
    assert sorted(profile.name for profile in catalog.profiles) == ["Aigle", "Dauphin", "Novamix", "Tigre"]


def test_tigre_needs_2500_francs_cfa_consumed_last_month(catalog: Catalog) -> None:
    assert profile_named(catalog, "Tigre").min_consumption_last_month == Money.of("2500", "XOF")


def test_aigle_needs_8000_francs_cfa_consumed_last_month(catalog: Catalog) -> None:
    assert profile_named(catalog, "Aigle").min_consumption_last_month == Money.of("8000", "XOF")


def test_novamix_and_dauphin_have_no_condition(catalog: Catalog) -> None:
    assert profile_named(catalog, "Novamix").min_consumption_last_month is None
    assert profile_named(catalog, "Dauphin").min_consumption_last_month is None


def test_every_shipped_price_is_positive(catalog: Catalog) -> None:
    prices = [plan.price for plan in catalog.plans] + [fee.amount for fee in catalog.fees]
    prices += [pack.price for pack in catalog.topups + catalog.extensions]
    assert all(price.amount > 0 for price in prices)


def test_an_unknown_plan_is_no_such_plan(catalog: Catalog) -> None:
    with pytest.raises(DomainError) as refusal:
        catalog.plan("data-999go-6g")
    assert refusal.value.code is ErrorCode.NO_SUCH_PLAN


# --- sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10 GB", 10 * 1024**3),
        ("10GB", 10 * 1024**3),
        ("10 gb", 10 * 1024**3),
        ("500 MB", 500 * 1024**2),
        ("1.5 GB", 1_610_612_736),
        ("1 TB", 1024**4),
        ("100 B", 100),
    ],
)
def test_a_size_is_read_in_powers_of_1024(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_a_size_already_in_bytes_is_kept() -> None:
    assert parse_size(4096) == 4096


@pytest.mark.parametrize("text", ["10 GiB", "ten GB", "GB", "-1 GB", "0.1 KB", "1.5 B"])
def test_a_size_that_is_not_a_whole_number_of_bytes_in_known_units_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a (size|whole number of bytes)"):
        parse_size(text)


# --- the loader ---------------------------------------------------------------------------

B2B = """\
b2b:
  currency: EUR
  timezone: Europe/Paris
  monthly_change_limit: 1
  credit_on_radio_downgrade: true
  item_fees: {network: mno-change}
  reboot_notice: "Redémarrez votre équipement."
"""
PREPAID = "prepaid: {currency: XOF, timezone: Africa/Abidjan, monthly_migration_limit: 3}\n"
NETWORKS = "networks: [{id: orange, name: Orange}, {id: sfr, name: SFR}]\n"
APNS = "apns: [{id: internet.pro, name: Internet}]\n"
FEES = 'fees: [{id: mno-change, name: Changement MNO, amount: "10.00"}]\n'
PLANS = """\
plans:
  - {id: p10-4g, name: 10 Go 4G, kind: bundle, radio: 4G, data: 10 GB, price: "6.00"}
  - {id: p10-5g, name: 10 Go 5G, kind: bundle, radio: 5G, data: 10 GB, price: "8.5"}
"""


def catalogue(
    *,
    b2b: str = B2B,
    prepaid: str = PREPAID,
    networks: str = NETWORKS,
    apns: str = APNS,
    fees: str = FEES,
    plans: str = PLANS,
    more: str = "",
) -> str:
    """A small valid catalogue file, with any section replaced."""
    return "version: 1\n" + b2b + prepaid + networks + apns + fees + plans + more


def test_a_small_valid_catalogue_loads() -> None:
    loaded = parse(catalogue())
    assert [plan.price for plan in loaded.plans] == [Money.of("6.00", "EUR"), Money.of("8.50", "EUR")]
    assert [plan.data_bytes for plan in loaded.plans] == [10 * GIB, 10 * GIB]
    assert loaded.fee("mno-change").amount.amount == Decimal("10.00")


def test_a_metered_plan_loads_with_its_unit_price_and_ceilings() -> None:
    metered = """\
plans:
  - id: compteur
    name: Compteur
    kind: metered
    radio: 4G
    price: "2.00"
    unit_price: "0.20"
    unit: 100 MB
    default_ceiling: 5 GB
    ceiling_step: 1 GB
    max_ceiling: 200 GB
"""
    (plan,) = parse(catalogue(plans=metered)).plans
    assert plan.unit_price == Money.of("0.20", "EUR")
    assert (plan.unit_bytes, plan.default_ceiling_bytes) == (100 * 1024**2, 5 * GIB)
    assert (plan.ceiling_step_bytes, plan.max_ceiling_bytes) == (GIB, 200 * GIB)


def test_two_plans_with_one_id_are_refused() -> None:
    plans = PLANS.replace("p10-5g", "p10-4g")
    with pytest.raises(CatalogError, match=r"plans: duplicate ids \['p10-4g'\]"):
        parse(catalogue(plans=plans))


def test_two_networks_with_one_id_are_refused() -> None:
    networks = "networks: [{id: orange, name: Orange}, {id: orange, name: Orange bis}]\n"
    with pytest.raises(CatalogError, match=r"networks: duplicate ids \['orange'\]"):
        parse(catalogue(networks=networks))


def test_a_bundle_without_data_is_refused() -> None:
    plans = "plans: [{id: p, name: P, kind: bundle, radio: 4G, price: '6.00'}]\n"
    with pytest.raises(CatalogError, match="bundle p needs `data`"):
        parse(catalogue(plans=plans))


def test_a_metered_plan_without_unit_price_is_refused() -> None:
    plans = "plans: [{id: c, name: C, kind: metered, radio: 4G, price: '2.00', unit: 100 MB, default_ceiling: 5 GB}]\n"
    with pytest.raises(CatalogError, match="metered c needs unit_price"):
        parse(catalogue(plans=plans))


def test_an_item_fee_naming_a_missing_fee_is_refused() -> None:
    with pytest.raises(CatalogError, match=re.escape("b2b.item_fees.network: no fee 'mno-change'")):
        parse(catalogue(fees="fees: []\n"))


def test_a_fee_for_an_item_that_does_not_exist_is_refused() -> None:
    b2b = B2B.replace("{network: mno-change}", "{colour: mno-change}")
    with pytest.raises(CatalogError, match="item_fees"):
        parse(catalogue(b2b=b2b))


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(CatalogError, match="b2b: unknown currency 'EUX'"):
        parse(catalogue(b2b=B2B.replace("EUR", "EUX")))


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(CatalogError, match="unknown time zone 'Europe/Atlantis'"):
        parse(catalogue(b2b=B2B.replace("Europe/Paris", "Europe/Atlantis")))


def test_a_price_finer_than_the_cent_is_refused() -> None:
    with pytest.raises(CatalogError, match=re.escape("6.005 has more than 2 decimals for EUR")):
        parse(catalogue(plans=PLANS.replace('"6.00"', '"6.005"')))


def test_a_franc_cfa_threshold_with_decimals_is_refused() -> None:
    profiles = 'profiles: [{id: tigre, name: Tigre, min_consumption_last_month: "2500.5"}]\n'
    with pytest.raises(CatalogError, match=re.escape("2500.5 has more than 0 decimals for XOF")):
        parse(catalogue(more=profiles))


def test_two_plans_of_one_kind_radio_and_volume_are_refused() -> None:
    plans = PLANS.replace("radio: 5G", "radio: 4G")
    with pytest.raises(CatalogError, match="two plans share kind, radio and volume"):
        parse(catalogue(plans=plans))


def test_an_unknown_field_in_a_plan_is_refused() -> None:
    plans = PLANS.replace('price: "6.00"', 'price: "6.00", colour: red')
    with pytest.raises(CatalogError, match=r"plans\.0\.colour: Extra inputs are not permitted"):
        parse(catalogue(plans=plans))


def test_an_unknown_top_level_section_is_refused() -> None:
    with pytest.raises(CatalogError, match="promotions: Extra inputs are not permitted"):
        parse(catalogue(more="promotions: []\n"))


def test_a_file_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(CatalogError, match="not YAML"):
        parse("version: [1\n")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(CatalogError):
        parse("")


def test_another_version_is_refused() -> None:
    with pytest.raises(CatalogError, match="version"):
        parse(catalogue().replace("version: 1", "version: 2"))


@pytest.mark.parametrize(
    ("section", "text"),
    [
        ("plans", PLANS.replace('"6.00"', '"-6.00"')),
        ("fees", FEES.replace('"10.00"', '"-10.00"')),
    ],
    ids=["plan-at-minus-6", "fee-of-minus-10"],
)
def test_a_negative_price_or_fee_is_refused(section: str, text: str) -> None:
    """Regression: `Amount` once had no lower bound, so a plan at -6.00 € or a fee of -10.00 € loaded."""
    with pytest.raises(CatalogError):
        parse(catalogue(**{section: text}))


def test_an_absurdly_large_price_is_a_catalog_error() -> None:
    """Regression: "1e30" once reached Money.of, whose decimal.InvalidOperation escaped parse()."""
    with pytest.raises(CatalogError):
        parse(catalogue(plans=PLANS.replace('"6.00"', '"1e30"')))


def test_a_plan_is_found_by_kind_volume_and_radio(catalog: Catalog) -> None:
    ten_4g = catalog.plan_by_volume(PlanKind.BUNDLE, 10 * GIB, Radio.G4)
    assert (ten_4g.data_bytes, ten_4g.radio, ten_4g.price) == (10 * GIB, Radio.G4, Money.of("6.00", "EUR"))
    assert catalog.plan_on_radio(ten_4g, Radio.G5).price == Money.of("8.50", "EUR")
    with pytest.raises(DomainError) as missing:
        catalog.plan_by_volume(PlanKind.BUNDLE, 11 * GIB, Radio.G4)
    assert missing.value.code is ErrorCode.NO_SUCH_PLAN


# --- a quote's prices, kept for its confirmation -----------------------------------------------


def test_a_quotes_prices_unchanged_since_give_the_catalogue_itself_and_a_changed_one_is_kept(catalog: Catalog) -> None:
    plan, other = catalog.plans[0], catalog.plans[1]
    fee = next(fee for fee in catalog.fees if not fee.amount.is_zero)
    kept = prices_used(catalog, plan)
    assert with_prices(catalog, kept) is catalog
    assert with_prices(catalog, None) is catalog  # a quote stored before prices were kept
    changed = {"plans": {plan.id: "1.23"}, "fees": {fee.id: "4.50"}}
    priced = with_prices(catalog, changed)
    assert (priced.plan(plan.id).price, priced.fee(fee.id).amount) == (
        Money.of("1.23", plan.price.currency),
        Money.of("4.50", fee.amount.currency),
    )
    assert priced.plan(other.id) == other  # a price the quote did not keep stays
    assert (catalog.plan(plan.id), catalog.fee(fee.id)) == (plan, fee)  # the catalogue itself unchanged
