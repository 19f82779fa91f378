"""The web portal: server-rendered French pages over the same use cases as the REST API.

- `/` — home, leading to each space (and, in demo mode, the demo logins)
- `/centre-operations/…` — Line A business customers (e-mail and password)
- `/espace-client/…` — Line B prepaid subscribers (MSISDN and one-time code)
- `/back-office/…` — the operator (operator token)
- `/simulateur-ussd` — a handset simulator posting to the real `/ussd` endpoint

`install` is the channel installer registered by `bascule.bootstrap.install_features`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bascule.context import Context
from bascule.settings import Settings


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    from bascule.channels.portal import (
        backoffice,
        backoffice_actions,
        backoffice_lists,
        centre,
        espace,
        fleet,
        home,
        simulator,
    )
    from bascule.channels.portal.web import STATIC, STATIC_URL, Portal

    app.state.portal = Portal(settings, ctx)
    backoffice.register_operator_sessions(settings, ctx)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="portal-static")
    # Fleet pages before the Centre's, the back office's actions and lists before its pages: those end with a
    # catch-all "not found".
    for module in (home, fleet, centre, backoffice_actions, backoffice_lists, backoffice, espace, simulator):
        router: Any = module.router
        app.include_router(router)
