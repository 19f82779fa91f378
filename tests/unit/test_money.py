"""Money: exact Decimal amounts at the currency's minor unit, rounded half up once per line."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from bascule.kernel.money import Money, Rounding, from_minor, minor_units, stored, to_minor, total


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def xof(amount: str) -> Money:
    return Money.of(amount, "XOF")


# --- construction -------------------------------------------------------------------------


def test_an_amount_is_built_from_a_decimal_string() -> None:
    assert eur("8.50").amount == Decimal("8.50")
    assert eur("8.50").currency == "EUR"


def test_an_amount_short_of_decimals_is_padded_to_the_minor_unit() -> None:
    assert str(eur("8.5").amount) == "8.50"
    assert str(Money.of(6, "EUR").amount) == "6.00"


def test_equal_amounts_written_differently_are_equal() -> None:
    assert eur("8.5") == eur("8.50")


def test_of_refuses_a_float() -> None:
    with pytest.raises(TypeError):
        Money.of(8.5, "EUR")  # type: ignore[arg-type]


def test_the_constructor_refuses_a_float_amount() -> None:
    with pytest.raises(TypeError):
        Money(8.5, "EUR")  # type: ignore[arg-type]


def test_a_euro_amount_finer_than_the_cent_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 2 decimals"):
        eur("1.234")


def test_a_franc_cfa_amount_with_decimals_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 0 decimals"):
        xof("10.5")


def test_a_franc_cfa_amount_with_only_zero_decimals_is_whole() -> None:
    assert str(xof("2500.00").amount) == "2500"


@pytest.mark.parametrize("text", ["abc", "", "1,50", "NaN", "Infinity", "-Infinity"])
def test_a_text_that_is_not_a_finite_decimal_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a (decimal|finite) amount"):
        eur(text)


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown currency 'EUX'"):
        Money.of("1.00", "EUX")


def test_minor_units_are_2_for_the_euro_and_0_for_the_franc_cfa() -> None:
    assert minor_units("EUR") == 2
    assert minor_units("XOF") == 0


# --- exact values rounded once, half up ---------------------------------------------------


@pytest.mark.parametrize(
    ("exact", "expected"),
    [
        (Fraction("0.565"), "0.57"),
        (Fraction("-0.565"), "-0.57"),
        (Fraction("0.005"), "0.01"),
        (Fraction("-0.005"), "-0.01"),
        (Fraction("0.5645"), "0.56"),
        (Fraction("-0.5645"), "-0.56"),
        (Fraction(1, 3), "0.33"),
        (Fraction(2, 3), "0.67"),
        (Fraction(-2, 3), "-0.67"),
        (Fraction("0.004999"), "0.00"),
        (Fraction(35, 62), "0.56"),  # 2.50 × 7/31
        (Fraction(-35, 62), "-0.56"),
    ],
)
def test_an_exact_euro_value_rounds_half_up_away_from_zero(exact: Fraction, expected: str) -> None:
    assert Money.from_exact(exact, "EUR").amount == Decimal(expected)


@pytest.mark.parametrize(
    ("exact", "expected"),
    [
        (Fraction(5, 2), "3"),
        (Fraction(-5, 2), "-3"),
        (Fraction(2499, 2), "1250"),
        (Fraction(7, 3), "2"),
        (Fraction(-7, 3), "-2"),
    ],
)
def test_an_exact_franc_cfa_value_rounds_to_a_whole_franc(exact: Fraction, expected: str) -> None:
    amount = Money.from_exact(exact, "XOF")
    assert amount.amount == Decimal(expected)
    assert amount.text() == expected


def test_a_tiny_negative_value_rounds_to_a_plain_zero() -> None:
    amount = Money.from_exact(Fraction(-1, 1000), "EUR")
    assert amount.is_zero
    assert not amount.is_negative
    assert amount.text() == "0.00"


@pytest.mark.parametrize(
    ("exact", "expected"),
    [(Fraction("0.125"), "0.12"), (Fraction("0.135"), "0.14"), (Fraction("-0.125"), "-0.12")],
)
def test_half_even_rounding_sends_ties_to_the_even_cent(exact: Fraction, expected: str) -> None:
    assert Money.from_exact(exact, "EUR", Rounding.HALF_EVEN).amount == Decimal(expected)


def test_half_even_sends_a_half_franc_to_the_even_franc() -> None:
    assert Money.from_exact(Fraction(5, 2), "XOF", Rounding.HALF_EVEN).amount == Decimal("2")
    assert Money.from_exact(Fraction(7, 2), "XOF", Rounding.HALF_EVEN).amount == Decimal("4")


def test_times_rounds_the_product_once() -> None:
    assert eur("9.00").times(Fraction(15, 30)).amount == Decimal("4.50")
    assert eur("9.00").times(Fraction(1, 31)).amount == Decimal("0.29")


def test_one_line_rounded_once_differs_from_two_lines_rounded_apart() -> None:
    """2.50 × 7/31 = 0.5645… → 0.56, whereas 8.50 × 7/31 → 1.92 minus 6.00 × 7/31 → 1.35 is 0.57."""
    seven_of_31 = Fraction(7, 31)
    once = (eur("8.50") - eur("6.00")).times(seven_of_31)
    apart = eur("8.50").times(seven_of_31) - eur("6.00").times(seven_of_31)
    assert once.amount == Decimal("0.56")
    assert apart.amount == Decimal("0.57")


def test_exact_returns_the_amount_as_a_fraction() -> None:
    assert eur("8.50").exact() == Fraction(17, 2)


# --- arithmetic and currencies ------------------------------------------------------------


def test_adding_and_subtracting_keep_the_currency() -> None:
    assert eur("6.00") + eur("4.50") == eur("10.50")
    assert eur("6.00") - eur("8.50") == eur("-2.50")
    assert -eur("0.56") == eur("-0.56")


def test_comparisons_order_amounts_of_one_currency() -> None:
    assert eur("6.00") < eur("8.50")
    assert eur("8.50") > eur("6.00")
    assert eur("6.00") <= eur("6.0")
    assert eur("6.00") >= eur("6.0")


def test_adding_euros_to_francs_cfa_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot mix EUR and XOF"):
        eur("1.00") + xof("1")


def test_subtracting_across_currencies_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot mix"):
        eur("1.00") - xof("1")


@pytest.mark.parametrize("compare", ["__lt__", "__le__", "__gt__", "__ge__"])
def test_comparing_across_currencies_is_refused(compare: str) -> None:
    with pytest.raises(ValueError, match="cannot mix"):
        getattr(eur("1.00"), compare)(xof("1"))


def test_the_same_number_in_two_currencies_is_not_equal() -> None:
    assert Money.of("1", "EUR") != Money.of("1", "USD")


def test_zero_and_sign() -> None:
    assert Money.zero("EUR").is_zero
    assert Money.zero("EUR").text() == "0.00"
    assert eur("-0.56").is_negative
    assert not eur("0.56").is_negative
    assert not eur("0.01").is_zero


def test_total_sums_the_lines() -> None:
    assert total([eur("6.00"), eur("4.50"), eur("10.00")], "EUR") == eur("20.50")


def test_the_total_of_no_line_is_zero_in_the_currency() -> None:
    assert total([], "XOF") == xof("0")
    assert total([], "XOF").text() == "0"


def test_total_refuses_a_line_in_another_currency() -> None:
    with pytest.raises(ValueError, match="cannot mix"):
        total([eur("1.00"), xof("1")], "EUR")


# --- how an amount is written -------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money.of("4.5", "EUR"), "4.50"),
        (Money.of("-0.56", "EUR"), "-0.56"),
        (Money.of("1234567.8", "EUR"), "1234567.80"),
        (Money.of("2500", "XOF"), "2500"),
        (Money.of("0", "EUR"), "0.00"),
    ],
)
def test_text_has_exactly_the_minor_units(money: Money, expected: str) -> None:
    assert money.text() == expected


def test_as_json_gives_the_amount_as_a_string_and_the_currency() -> None:
    assert eur("8.5").as_json() == {"amount": "8.50", "currency": "EUR"}
    assert xof("2500").as_json() == {"amount": "2500", "currency": "XOF"}


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money.of("4.50", "EUR"), "4,50 €"),
        (Money.of("10", "EUR"), "10,00 €"),
        (Money.of("-0.56", "EUR"), "-0,56 €"),
        (Money.of("1234567.89", "EUR"), "1\u202f234\u202f567,89 €"),
        (Money.of("2500", "XOF"), "2\u202f500 F CFA"),
        (Money.of("800", "XOF"), "800 F CFA"),
        (Money.of("8000", "XAF"), "8\u202f000 F CFA"),
        (Money.of("12.00", "USD"), "12,00 USD"),
    ],
)
def test_french_writes_a_comma_a_narrow_space_per_thousand_and_the_symbol(money: Money, expected: str) -> None:
    assert money.french() == expected


def test_a_negative_zero_amount_is_written_without_a_minus_sign() -> None:
    """Regression: Money.of("-0.00") once kept Decimal's negative zero, so text()/as_json() said "-0.00"."""
    amount = Money.of("-0.00", "EUR")
    assert amount.text() == "0.00"
    assert amount.as_json() == {"amount": "0.00", "currency": "EUR"}


def test_an_amount_beyond_decimal_precision_is_refused_with_a_value_error() -> None:
    """Regression: quantizing 1E+30 to the cent needs 33 digits; decimal.InvalidOperation once escaped."""
    with pytest.raises(ValueError, match="beyond what an amount can hold"):
        eur("1e30")


def test_minor_units_both_ways():
    assert to_minor(Money.of("12.34", "EUR")) == 1234
    assert to_minor(Money.of("2500", "XOF")) == 2500
    assert to_minor(Money.of("-0.05", "EUR")) == -5
    assert from_minor(1234, "EUR") == Money.of("12.34", "EUR")
    assert from_minor(2500, "XOF") == Money.of("2500", "XOF")
    assert from_minor(-5, "EUR").text() == "-0.05"


def test_a_stored_amount_comes_back_at_the_currencys_minor_unit():
    assert stored(Decimal("10.0200"), "EUR").text() == "10.02"
    assert stored(Decimal("2500.0000"), "XOF").text() == "2500"
    assert stored(Decimal("-0.0000"), "EUR").text() == "0.00"
    assert stored(7, "EUR").amount == Decimal("7.00")
