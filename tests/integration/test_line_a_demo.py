"""The Line A demo account is addressed: its invoices name where they go."""

from __future__ import annotations

from bascule.demo import line_a
from bascule.identity.model import OPERATOR, BillingAddress
from bascule.identity.usecases import account_details


def test_the_demo_account_has_a_billing_address(ctx):
    line_a.load(ctx)
    with ctx.uow(write=False) as uow:
        (account,) = uow.accounts.all()
    assert account_details(ctx, OPERATOR, account.id).billing_address == BillingAddress(
        line1="18 rue des Entrepôts", line2="Bâtiment C", postal_code="69007", city="Lyon", country="FR"
    )
