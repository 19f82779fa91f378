"""A business customer's fleet of lines: what its listing filters on, how its pages follow one another, and its
usage day by day. Pure rules: the use cases are in `fleet_usecases.py`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bascule.catalog.model import Catalog, PlanKind, Radio
from bascule.evolutions.model import ServiceStatus
from bascule.kernel.calendar import Period, local_date
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.kernel.msisdn import is_e164

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
_DIALLED = re.compile(r"\+?\d+")
_DIAL_SEPARATORS = re.compile(r"[\s.()-]")


@dataclass(frozen=True, slots=True)
class FleetFilter:
    """What a customer asks of the listing; every criterion given must hold."""

    q: str | None = None  # digits anywhere in the MSISDN, or text in the plan's name
    status: ServiceStatus | None = None
    kind: PlanKind | None = None
    radio: Radio | None = None
    network: str | None = None
    plan_id: str | None = None

    def match(self, catalog: Catalog) -> LineMatch:
        return LineMatch(
            status=self.status, network=self.network, plan_ids=self._plans(catalog), search=_search(self.q, catalog)
        )

    def _plans(self, catalog: Catalog) -> frozenset[str] | None:
        if self.kind is None and self.radio is None and self.plan_id is None:
            return None
        return frozenset(
            plan.id
            for plan in catalog.plans
            if self.kind in (None, plan.kind) and self.radio in (None, plan.radio) and self.plan_id in (None, plan.id)
        )


@dataclass(frozen=True, slots=True)
class Search:
    """A line matches when its MSISDN contains `msisdn_part` or its plan is one of `plan_ids`."""

    msisdn_part: str | None
    plan_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class LineMatch:
    """The filter as the database applies it: plans resolved against the catalogue (None: any)."""

    status: ServiceStatus | None
    network: str | None
    plan_ids: frozenset[str] | None
    search: Search | None


def _search(q: str | None, catalog: Catalog) -> Search | None:
    text = (q or "").strip()
    if not text:
        return None
    dialled = _DIAL_SEPARATORS.sub("", text)  # "06 12 34" is what one reads on a bill
    wanted = text.casefold()
    return Search(
        msisdn_part=dialled if _DIALLED.fullmatch(dialled) else None,
        plan_ids=frozenset(plan.id for plan in catalog.plans if wanted in plan.name.casefold()),
    )


# --- pages: a keyset on the MSISDN, handed to the client as an opaque cursor ----------------------------


def cursor_after(msisdn: str) -> str:
    """The cursor of the page that follows the line `msisdn`."""
    text = f"{msisdn}.{_check_digits(msisdn)}"
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def msisdn_of_cursor(cursor: str) -> str:
    """The MSISDN a cursor continues after; a cursor we did not hand out (cut, mistyped, made up) is a
    validation error rather than a page that silently starts elsewhere."""
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise _bad_cursor() from None
    msisdn, _, check = text.rpartition(".")
    if not is_e164(msisdn) or check != _check_digits(msisdn):
        raise _bad_cursor()
    return msisdn


def _check_digits(msisdn: str) -> str:
    return hashlib.sha256(f"fleet-cursor:{msisdn}".encode()).hexdigest()[:8]


def _bad_cursor() -> DomainError:
    return DomainError(ErrorCode.VALIDATION_ERROR, reason="bad-cursor")


# --- usage by day -------------------------------------------------------------------------------------

QUARTER_HOUR_SECONDS = 900


@dataclass(frozen=True, slots=True)
class DailyUsage:
    period: Period
    days: tuple[tuple[date, int], ...]  # every calendar day of the period, in order, with its bytes

    @property
    def total_bytes(self) -> int:
        return sum(used for _, used in self.days)


def daily_usage(period: Period, tz: ZoneInfo, quarters: Iterable[tuple[int, int]]) -> DailyUsage:
    """A period's usage per calendar day in `tz`, from its records summed per quarter of an hour (the epoch
    second at which each quarter starts, its bytes). Since 2000 every zone is a whole number of quarters of an
    hour from UTC, so a quarter never straddles local midnight and falls whole on one day."""
    per_day = {period.first_day + timedelta(days=n): 0 for n in range(period.days)}
    for start, used in quarters:
        per_day[local_date(datetime.fromtimestamp(start, UTC), tz)] += used
    return DailyUsage(period, tuple(per_day.items()))
