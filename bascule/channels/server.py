"""The HTTP server: one process (the embedded default), or several behind one port (`serve --workers N`).

With several processes each one builds its own context from the environment, which `serve` fills
first with what they must share (the operator token it drew for `--demo`, the portal's cookie key).
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bascule.bootstrap import build_context
from bascule.channels.ussd_access import start_up_note
from bascule.context import Context
from bascule.settings import Settings

FACTORY = "bascule.channels.server:app_of_one_process"


def start_worker(ctx: Context) -> threading.Event:
    """The in-process worker of the embedded default: provisioning jobs and the notification outbox."""
    stop = threading.Event()
    provisioner = ctx.provisioner
    if provisioner is None:
        raise RuntimeError("no provisioning worker is wired")
    deliver = ctx.deliver_notifications
    thread = threading.Thread(
        target=provisioner.run_forever, args=(stop,), kwargs={"also": deliver}, name="bascule-worker", daemon=True
    )
    thread.start()
    return stop


def with_thread_limit(app: Any, threads: int) -> Any:
    """Sizes the thread pool that runs the synchronous endpoints, once the server's event loop runs."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with inner(application) as state:
            yield state

    app.router.lifespan_context = lifespan
    return app


def build_app(settings: Settings, ctx: Context) -> Any:
    from bascule.channels.rest.app import create_app

    return with_thread_limit(create_app(settings, ctx), settings.threads)


def app_of_one_process() -> Any:
    """The application of one of the `--workers` processes (uvicorn calls this factory in each)."""
    settings = Settings()
    ctx = build_context(settings)
    if settings.worker_in_process:
        start_worker(ctx)
    return build_app(settings, ctx)


def announce_ussd_access(settings: Settings) -> None:
    """At start, on stderr: why every USSD call will be refused, when it will."""
    note = start_up_note(settings)
    if note is not None:
        print(note, file=sys.stderr)


def share_with_processes(settings: Settings) -> None:
    """What every process must agree on goes into the environment they inherit."""
    if settings.admin_token is not None:
        os.environ["BASCULE_ADMIN_TOKEN"] = settings.admin_token.get_secret_value()
    if settings.portal_secret is None:
        os.environ["BASCULE_PORTAL_SECRET"] = secrets.token_urlsafe(32)  # a portal login works in every process
    if settings.demo:
        os.environ["BASCULE_DEMO"] = "1"
    if settings.redis_url is None:
        print("bascule serve: without BASCULE_REDIS_URL each process counts login failures on its own", file=sys.stderr)
