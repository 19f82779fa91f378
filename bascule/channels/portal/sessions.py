"""Portal sessions: a signed cookie that names a server-side bearer token per space, and the CSRF token.

The cookie holds a random session id and, for each space the visitor is logged in to, a bearer token
issued by `identity.usecases.issue_token` (stored hashed server-side, expiring, revoked at logout).
The cookie is signed (itsdangerous) so a visitor cannot forge or swap its fields; the CSRF token is an
HMAC of the session id, so it is per session, needs no storage and changes at every login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "bascule_portail"
MAX_AGE_SECONDS = 24 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CENTRE, ESPACE, BACKOFFICE = "centre", "espace", "backoffice"


@dataclass
class PortalSession:
    sid: str
    tokens: dict[str, str] = field(default_factory=dict)
    flash: list[str] = field(default_factory=list)
    dirty: bool = False

    @classmethod
    def fresh(cls) -> PortalSession:
        return cls(sid=secrets.token_urlsafe(18), dirty=True)

    def token(self, space: str) -> str | None:
        return self.tokens.get(space)

    def log_in(self, space: str, token: str) -> None:
        """A new session id at every login: a fixed id planted before login is worth nothing after."""
        self.sid = secrets.token_urlsafe(18)
        self.tokens[space] = token
        self.dirty = True

    def log_out(self, space: str) -> str | None:
        token = self.tokens.pop(space, None)
        self.sid = secrets.token_urlsafe(18)
        self.dirty = True
        return token

    def forget(self, space: str) -> None:
        if self.tokens.pop(space, None) is not None:
            self.dirty = True

    def say(self, text: str) -> None:
        self.flash.append(text)
        self.dirty = True

    def take_flash(self) -> list[str]:
        messages, self.flash = self.flash, []
        if messages:
            self.dirty = True
        return messages


class SessionCodec:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="bascule.portal.session")

    def load(self, raw: str | None) -> PortalSession:
        if not raw:
            return PortalSession.fresh()
        try:
            data: dict[str, Any] = self._serializer.loads(raw, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return PortalSession.fresh()
        tokens = data.get("t")
        flash = data.get("f")
        sid = data.get("s")
        if not isinstance(sid, str) or not isinstance(tokens, dict) or not isinstance(flash, list):
            return PortalSession.fresh()
        return PortalSession(
            sid=sid, tokens={str(k): str(v) for k, v in tokens.items()}, flash=[str(text) for text in flash]
        )

    def dump(self, session: PortalSession) -> str:
        return self._serializer.dumps({"s": session.sid, "t": session.tokens, "f": session.flash})

    def csrf_token(self, session: PortalSession) -> str:
        return hmac.new(self._secret, f"csrf:{session.sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: PortalSession, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_token(session), str(given))
