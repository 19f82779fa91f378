"""The API documentation pages, `/docs` (Swagger UI) and `/redoc` (ReDoc), whole from this server.

Their scripts, style sheet and icon are the files the fastapi-offline package ships, served under
`/docs-static`: the pages work without internet. Each page sends its own Content-Security-Policy, still
naming no other origin: Swagger UI starts from an inline script, allowed by its hash alone, and both
libraries inject their styles at run time (`'unsafe-inline'` for styles only; ReDoc's search runs in a
worker made from a blob).
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-static"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def assets_directory() -> Path:
    """Where fastapi-offline keeps Swagger UI's and ReDoc's files (an installed package is on disk)."""
    directory = files("fastapi_offline").joinpath("static")
    if not isinstance(directory, Path):
        raise RuntimeError("fastapi-offline must be installed as files on disk")
    return directory


def _hash_source(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


def with_own_policy(page: HTMLResponse) -> HTMLResponse:
    """The page's policy: this server only, plus exactly the inline scripts the page holds."""
    scripts = "".join(" " + _hash_source(script) for script in INLINE_SCRIPT.findall(page.body))
    page.headers["Content-Security-Policy"] = POLICY.format(scripts=scripts)
    return page


def _base(request: Request) -> str:
    """The path this application is mounted at ('' for the main one, '/tmf-api' for the TMF facade)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _document(request: Request) -> str:
    url: str = request.app.openapi_url
    return _base(request) + url


def swagger_page(request: Request) -> HTMLResponse:
    base, app = _base(request), request.app
    return with_own_policy(
        get_swagger_ui_html(
            openapi_url=_document(request),
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{base}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=None,  # bearer tokens only: no OAuth2 flow to come back from
            swagger_ui_parameters={"validatorUrl": None},  # else Swagger UI asks swagger.io to validate the document
        )
    )


def redoc_page(request: Request) -> HTMLResponse:
    base, app = _base(request), request.app
    return with_own_policy(
        get_redoc_html(
            openapi_url=_document(request),
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{base}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
    )


def install_docs(app: FastAPI) -> None:
    """`/docs`, `/redoc` and their files on `app`, which must be built with docs_url=None and redoc_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=assets_directory()), name="docs-static")
    app.add_api_route("/docs", swagger_page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc_page, methods=["GET"], include_in_schema=False)
