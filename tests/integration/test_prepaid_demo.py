"""The Line B demo: a line just under each threshold, one exactly at it, and lines well over."""

from __future__ import annotations

from bascule.demo import line_b
from bascule.identity.model import OPERATOR
from bascule.kernel.money import Money
from bascule.prepaid.usecases import profile_options, subscriber_summary


def test_the_demo_shows_refused_and_eligible_migrations(ctx):
    lines = line_b.load(ctx)
    assert "« SMS envoyés », /espace-client/sms" in lines[1]
    numbers = [line.split()[0] for line in lines[2:]]
    assert len(numbers) == len(set(numbers)) == 7
    consumed = [subscriber_summary(ctx, OPERATOR, n).consumption_last_month for n in numbers]
    assert consumed[:4] == [Money.of(v, "XOF") for v in (2499, 2500, 7999, 8000)]
    eligible = [sum(o.eligible for o in profile_options(ctx, OPERATOR, n)) for n in numbers]
    assert eligible[:4] == [1, 2, 2, 3]  # the other free profile, + the 2 500 one, + the 8 000 one
    assert all(subscriber_summary(ctx, OPERATOR, n).bonuses for n in numbers)
