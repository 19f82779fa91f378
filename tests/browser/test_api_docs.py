"""The API documentation pages in a real browser cut off from the internet: every request to another origin
fails, and the pages must still list the operations, with no error in the console (a refused script or style
would show there)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect


@dataclass
class Offline:
    """What a page tried beyond this server, and what went wrong in it."""

    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def offline(tab: Any, server_url: str) -> Offline:
    seen = Offline()
    here = urlsplit(server_url).netloc

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlsplit(url).netloc == here:
            request_route.continue_()
        else:
            seen.elsewhere.append(url)
            request_route.abort("internetdisconnected")

    tab.route("**/*", route)
    tab.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: seen.errors.append(str(error)))
    return seen


@pytest.mark.parametrize(("home", "path"), [("", "/api/v1/services"), ("/tmf-api", "/productInventory/v4/product")])
def test_swagger_ui_lists_the_operations_offline(page, server_url, home, path):
    seen = offline(page, server_url)
    page.goto(f"{home}/docs")
    operation = page.locator(f'.opblock-get .opblock-summary-path[data-path="{path}"]')
    expect(operation).to_be_visible()
    assert operation.inner_text().replace("\u200b", "") == path  # Swagger UI lets long paths break at each '/'
    assert seen == Offline()


# ReDoc always shows its maker's logo from their CDN (the image hides itself when it cannot load): the page's
# policy refuses it before any request leaves the browser.
REDOC_LOGO_REFUSED = (
    "Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg' violates the following Content "
    "Security Policy directive: \"img-src 'self' data:\". The action has been blocked."
)


@pytest.mark.parametrize(("home", "operation"), [("", "Get Services"), ("/tmf-api", "List Products")])
def test_redoc_shows_the_operations_offline(page, server_url, home, operation):
    seen = offline(page, server_url)
    page.goto(f"{home}/redoc")
    heading = page.locator("h2").filter(has_text=re.compile(rf"^{operation}\s*$"))
    expect(heading).to_be_visible()
    expect(page.get_by_role("img", name="redocly logo")).to_have_count(0)
    assert seen == Offline(errors=[REDOC_LOGO_REFUSED])
