"""A password typed again to confirm an act (`PortalThrottle.confirmation`): a wrong one counts, a right one clears
the count, any other refusal counts for nothing; at the limit the act is refused before it runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bascule.channels.login_throttle import PortalThrottle, build_portal_throttle
from bascule.kernel.clock import SettableClock
from bascule.kernel.errors import DomainError, ErrorCode
from bascule.settings import Settings

USER, ADDRESS = "usr_1", "203.0.113.9"
WRONG = DomainError(ErrorCode.IDENTITY_NOT_CONFIRMED)


@pytest.fixture
def throttle() -> PortalThrottle:
    settings = Settings(
        redis_url=None,
        login_max_failures=2,
        login_window_minutes=10,  # type: ignore[call-arg]
        login_lockout_minutes=3,
        login_max_failures_per_address=5,
    )
    return build_portal_throttle(settings, SettableClock(datetime(2026, 6, 16, 8, 0, tzinfo=UTC)))


def confirm(throttle: PortalThrottle, refusal: DomainError | None = None) -> list[str]:
    """The act, run under the throttle: what ran, or the refusal's code."""
    ran: list[str] = []
    try:
        with throttle.confirmation(USER, ADDRESS):
            ran.append("act")
            if refusal is not None:
                raise refusal
    except DomainError as error:
        ran.append(error.code.value)
    return ran


def test_two_wrong_passwords_refuse_the_third_try_before_the_act_runs(throttle: PortalThrottle) -> None:
    assert confirm(throttle, WRONG) == ["act", "identity-not-confirmed"]
    assert confirm(throttle, WRONG) == ["act", "identity-not-confirmed"]

    assert confirm(throttle) == ["too-many-requests"]


def test_a_right_password_clears_the_count(throttle: PortalThrottle) -> None:
    assert confirm(throttle, WRONG) == ["act", "identity-not-confirmed"]
    assert confirm(throttle) == ["act"]
    assert confirm(throttle, WRONG) == ["act", "identity-not-confirmed"]

    assert confirm(throttle) == ["act"]


def test_another_refusal_counts_for_nothing(throttle: PortalThrottle) -> None:
    for _ in range(3):
        assert confirm(throttle, DomainError(ErrorCode.INVALID_STATE)) == ["act", "invalid-state"]
    assert confirm(throttle, WRONG) == ["act", "identity-not-confirmed"]

    assert confirm(throttle) == ["act"]
