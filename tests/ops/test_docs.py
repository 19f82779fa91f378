"""The API documentation pages (`/docs`, `/redoc`, and the TMF facade's) work without internet: every file
they load is served by Bascule itself, from the fastapi-offline package, under a policy naming no other origin."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest

HOMES = ["", "/tmf-api"]  # the application, and the TM Forum facade mounted in it
ASSETS = [
    ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    ("swagger-ui.css", "text/css; charset=utf-8"),
    ("redoc.standalone.js", "text/javascript; charset=utf-8"),
    ("favicon.png", "image/png"),
]
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


class _Links(HTMLParser):
    """Every address an HTML page makes the browser load: src, href, and ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href", "spec-url") and value is not None]


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.found


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("home", HOMES)
def test_swagger_ui_loads_only_files_of_this_server(http, home):
    page = http.get(f"{home}/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert links_of(page.text) == [
        f"{home}/docs-static/swagger-ui.css",
        f"{home}/docs-static/favicon.png",
        f"{home}/docs-static/swagger-ui-bundle.js",
    ]
    assert "://" not in page.text  # no absolute address anywhere, the inline script included
    assert f"url: '{home}/openapi.json'" in page.text
    for link in links_of(page.text):
        assert http.get(link).status_code == 200, link


@pytest.mark.parametrize("home", HOMES)
def test_redoc_loads_only_files_of_this_server(http, home):
    page = http.get(f"{home}/redoc")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert links_of(page.text) == [
        f"{home}/docs-static/favicon.png",
        f"{home}/openapi.json",
        f"{home}/docs-static/redoc.standalone.js",
    ]
    assert "://" not in page.text
    for link in links_of(page.text):
        assert http.get(link).status_code == 200, link


@pytest.mark.parametrize("home", HOMES)
@pytest.mark.parametrize(("name", "content_type"), ASSETS)
def test_each_documentation_file_is_the_packages_own_with_its_content_type(http, home, name, content_type):
    answer = http.get(f"{home}/docs-static/{name}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == content_type
    assert answer.content == files("fastapi_offline").joinpath("static", name).read_bytes()
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("home", HOMES)
def test_swagger_ui_allows_its_own_inline_script_and_no_other_origin(http, home):
    page = http.get(f"{home}/docs")
    [script] = INLINE_SCRIPT.findall(page.text)
    assert page.headers["content-security-policy"] == (
        f"default-src 'self'; script-src 'self' {sha256_source(script)}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    assert page.headers.get_list("content-security-policy") == [page.headers["content-security-policy"]]
    assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("home", HOMES)
def test_redoc_has_no_inline_script_and_allows_no_other_origin(http, home):
    page = http.get(f"{home}/redoc")
    assert INLINE_SCRIPT.findall(page.text) == []
    assert len(INLINE_STYLE.findall(page.text)) == 1
    assert page.headers["content-security-policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    assert page.headers["x-frame-options"] == "DENY"


def test_a_file_the_package_does_not_ship_is_not_found(http):
    assert http.get("/docs-static/nothing.js").status_code == 404
