"""Exact money: a Decimal amount in an ISO 4217 currency, rounded once per charge line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

MINOR_UNITS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "MAD": 2,
    "XOF": 0,
    "XAF": 0,
    "GNF": 0,
    "JPY": 0,
}


class Rounding(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}") from None


def _round_to_integer(value: Fraction, rounding: Rounding) -> int:
    """Round an exact fraction to an integer; HALF_UP goes away from zero on ties."""
    magnitude = abs(value)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    twice_rest = 2 * rest
    past_half = twice_rest > magnitude.denominator
    on_half = twice_rest == magnitude.denominator
    if past_half or (on_half and (rounding is Rounding.HALF_UP or whole % 2 == 1)):
        whole += 1
    return -whole if value < 0 else whole


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An amount already at the currency's minor unit. Build with `of` or `from_exact`."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money needs a Decimal amount, never a float")
        places = minor_units(self.currency)
        try:
            exact = self.amount.quantize(Decimal(1).scaleb(-places))
        except InvalidOperation:
            raise ValueError(f"{self.amount} is beyond what an amount can hold") from None
        if self.amount != exact:
            raise ValueError(f"{self.amount} has more than {places} decimals for {self.currency}")
        object.__setattr__(self, "amount", exact if exact else abs(exact))  # never a "-0.00"

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """An amount that must already be exact in the currency ("8.50" EUR, "2500" XOF)."""
        if isinstance(amount, float):
            raise TypeError("Money never takes a float")
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise ValueError(f"{amount!r} is not a decimal amount") from None
        if not value.is_finite():
            raise ValueError(f"{amount!r} is not a finite amount")
        return cls(value, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_exact(cls, value: Fraction, currency: str, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """Round an exact value to the minor unit, once."""
        places = minor_units(currency)
        scaled = value * (10**places)
        units = _round_to_integer(scaled, rounding)
        return cls(Decimal(units).scaleb(-places), currency)

    def exact(self) -> Fraction:
        return Fraction(self.amount)

    def times(self, factor: Fraction, rounding: Rounding = Rounding.HALF_UP) -> Money:
        return Money.from_exact(self.exact() * factor, self.currency, rounding)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def text(self) -> str:
        """The amount with exactly the currency's minor units: "4.50", "2500"."""
        return f"{self.amount:.{minor_units(self.currency)}f}"

    def as_json(self) -> dict[str, str]:
        return {"amount": self.text(), "currency": self.currency}

    def french(self) -> str:
        """How a French page writes it: "4,50 €", "2 500 F CFA"."""
        places = minor_units(self.currency)
        whole_text = f"{abs(self.amount):,.{places}f}".replace(",", "\u202f").replace(".", ",")
        sign = "-" if self.amount < 0 else ""
        symbol = {"EUR": "€", "XOF": "F CFA", "XAF": "F CFA"}.get(self.currency, self.currency)
        return f"{sign}{whole_text} {symbol}"


def to_minor(money: Money) -> int:
    """An amount in minor units of its currency (what the prepaid balance column and the ledger hold)."""
    return int(money.amount.scaleb(minor_units(money.currency)))


def from_minor(units: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-minor_units(currency)), currency)


def stored(value: Decimal | int | str, currency: str) -> Money:
    """An amount read back from a numeric column (which may hold more places than the currency has)."""
    return Money(Decimal(value).quantize(Decimal(1).scaleb(-minor_units(currency))), currency)


def total(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
