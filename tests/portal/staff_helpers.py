"""Back-office staff for portal and browser tests: an agent and a supervisor, and their logins."""

from __future__ import annotations

import httpx

from bascule.context import Context
from bascule.identity.model import OPERATOR, Channel, StaffMember, StaffRole
from bascule.identity.usecases import create_staff
from tests.support.logins import staff

AGENT = ("awa.kone@operateur.test", "agent-secret", "Awa Koné")
SUPERVISOR = ("marc.dupont@operateur.test", "super-secret", "Marc Dupont")


def make_staff(ctx: Context, who: tuple[str, str, str], role: StaffRole) -> StaffMember:
    return create_staff(ctx, OPERATOR, Channel.CLI, who[0], who[2], who[1], role)


def login_staff(client: httpx.Client, who: tuple[str, str, str]) -> httpx.Response:
    return staff(client, who[0], who[1])
