"""Login for business users (e-mail and password) and prepaid subscribers (MSISDN and one-time code)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bascule.channels.rest.schemas import LoginIn, TokenOut
from bascule.channels.rest.security import bearer_token, context
from bascule.context import Context
from bascule.identity.usecases import login_user, revoke_token
from bascule.kernel.errors import DomainError, ErrorCode

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, ctx: Context = Depends(context)) -> TokenOut:
    if body.email is not None and body.password is not None:
        issued = login_user(ctx, body.email, body.password)
    elif body.msisdn is not None and body.otp is not None and "subscriber_login" in ctx.extras:
        issued = ctx.extras["subscriber_login"](ctx, body.msisdn, body.otp)
    else:
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Donnez email et password, ou msisdn et otp.")
    return TokenOut(token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=204)
def logout(request: Request, ctx: Context = Depends(context)) -> Response:
    token = bearer_token(request)
    if token is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    revoke_token(ctx, token)
    return Response(status_code=204)
