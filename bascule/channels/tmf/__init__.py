"""The TM Forum Open API facade under `/tmf-api/…`: a thin adapter over the use cases.

TMF620 Product Catalog, TMF637 Product Inventory, TMF622 Product Ordering, TMF679 Product Offering
Qualification and TMF654 Prepay Balance Management, in a sub-application of their own so that every
answer, refusals included, is TMF JSON (`{code, reason, message, status, @type: "Error"}`).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount

from bascule.channels.docs import install_docs
from bascule.channels.tmf.common import TmfError, bad_request, error_response, from_domain
from bascule.channels.tmf.edge import refuse_bad_text
from bascule.context import Context
from bascule.kernel.errors import DomainError
from bascule.settings import Settings

PREFIX = "/tmf-api"


def create_api(settings: Settings, ctx: Context) -> FastAPI:
    from bascule.channels.tmf import balance, catalog, ordering, products, qualification

    api = FastAPI(
        title="Bascule — TM Forum Open APIs",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(refuse_bad_text)],
    )
    install_docs(api)
    api.state.settings = settings
    api.state.context = ctx
    for module in (catalog, products, ordering, qualification, balance):
        api.include_router(module.router)
    _install_errors(api)
    return api


def _install_errors(api: FastAPI) -> None:
    @api.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> Response:
        return from_domain(error)

    @api.exception_handler(TmfError)
    async def _tmf(request: Request, error: TmfError) -> Response:
        return error_response(error.status, error.code, error.reason, error.detail)

    @api.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        where = "; ".join(".".join(str(part) for part in item.get("loc", ())) for item in error.errors())
        failure = bad_request(f"The request body is missing or malformed ({where}).")
        return error_response(failure.status, failure.code, failure.reason, failure.detail)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return error_response(404, "not-found", "Not found", f"No resource at {request.url.path}.")
        if error.status_code == 405:
            return error_response(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"{request.method} is not allowed on {request.url.path}.",
            )
        return error_response(error.status_code, "error", "Error", str(error.detail))


def install(app: FastAPI, settings: Settings, ctx: Context) -> None:
    """Mounted first, so that no catch-all route of another channel shadows `/tmf-api`."""
    app.router.routes.insert(0, Mount(PREFIX, app=create_api(settings, ctx), name="tmf-api"))
