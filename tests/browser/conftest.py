"""Real Chromium (Debian's package, never a downloaded browser) driven by Playwright against the live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bascule.channels.login_throttle import PORTAL_THROTTLE
from bascule.context import Context

CHROMIUM = os.environ.get("BASCULE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="package")  # closed with the browser tests: Playwright's loop must not outlive them
def chromium() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        # A browser test that cannot run is a failure, never a silent skip.
        pytest.fail(f"Chromium not installed at {CHROMIUM} (apt-get install -y chromium; scripts/test does it)")
    from playwright.sync_api import expect, sync_playwright

    # An assertion waits as long as an action (the contexts' 15 s), not Playwright's 5 s: ReDoc renders the whole
    # API document before its first heading shows, which took 5.1 s alone on a slow 2-core machine.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _fresh_throttle(ctx: Context, server_url: str) -> None:
    throttle = ctx.kept.get(PORTAL_THROTTLE)
    if throttle is None:
        raise LookupError("the portal is not installed on the test context")
    throttle.clear()


@pytest.fixture
def page(chromium: Any, server_url: str) -> Iterator[Any]:
    context = chromium.new_context(base_url=server_url, locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def new_page(chromium: Any, server_url: str) -> Iterator[Any]:
    """Another browser with its own cookies (a second person)."""
    contexts: list[Any] = []

    def make(width: int = 1280) -> Any:
        context = chromium.new_context(base_url=server_url, locale="fr-FR", viewport={"width": width, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(tab: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
