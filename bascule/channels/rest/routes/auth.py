"""Login for business users (e-mail and password) and prepaid subscribers (MSISDN and one-time code)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from bascule.channels.rest.commands import Command, posted
from bascule.channels.rest.schemas import LoginIn, TokenOut
from bascule.channels.rest.security import bearer_token
from bascule.context import Context
from bascule.identity.usecases import IssuedToken, login_user, revoke_token
from bascule.kernel.errors import DomainError, ErrorCode

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, command: Command = Depends(posted)) -> Response:
    def work(ctx: Context) -> IssuedToken:
        if body.email is not None and body.password is not None:
            return login_user(ctx, body.email, body.password)
        subscriber_login = ctx.features.subscriber_login
        if body.msisdn is not None and body.otp is not None and subscriber_login is not None:
            issued = subscriber_login(ctx, body.msisdn, body.otp)
            if not isinstance(issued, IssuedToken):
                raise TypeError(f"the subscriber login gave {issued!r}, not an IssuedToken")
            return issued
        raise DomainError(ErrorCode.VALIDATION_ERROR, "Donnez email et password, ou msisdn et otp.")

    return command(
        None,
        work,
        lambda issued: JSONResponse(jsonable_encoder(TokenOut(token=issued.token, expires_at=issued.expires_at))),
    )


@router.post("/logout", status_code=204)
def logout(request: Request, command: Command = Depends(posted)) -> Response:
    token = bearer_token(request)
    if token is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED)
    return command(None, lambda ctx: revoke_token(ctx, token), lambda _: Response(status_code=204))
