"""Demo staff of the operator: one agent and one supervisor, each with a back-office login."""

from __future__ import annotations

from bascule.context import Context
from bascule.identity.model import OPERATOR, Channel, StaffRole
from bascule.identity.usecases import create_staff

AGENT = ("agent@demo.bascule.test", "demo-agent", "Awa Koné")
SUPERVISOR = ("superviseur@demo.bascule.test", "demo-supervision", "Marc Dupont")


def load(ctx: Context) -> list[str]:
    create_staff(ctx, OPERATOR, Channel.CLI, AGENT[0], AGENT[2], AGENT[1], StaffRole.AGENT)
    create_staff(ctx, OPERATOR, Channel.CLI, SUPERVISOR[0], SUPERVISOR[2], SUPERVISOR[1], StaffRole.SUPERVISOR)
    return [
        f"  Back-office — agent ({AGENT[2]})        : {AGENT[0]} / {AGENT[1]}",
        f"  Back-office — superviseur ({SUPERVISOR[2]}) : {SUPERVISOR[0]} / {SUPERVISOR[1]}",
    ]
