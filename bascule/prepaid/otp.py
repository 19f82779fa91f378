"""One-time login codes: six random digits, kept only as a salted HMAC-SHA256 (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

CODE_DIGITS = 6
VALIDITY = timedelta(minutes=5)
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_WRONG_ATTEMPTS = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def digest(salt: str, msisdn: str, code: str) -> str:
    """HMAC-SHA256 keyed by the code's own salt, over the MSISDN and the code."""
    return hmac.new(bytes.fromhex(salt), f"{msisdn}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(stored_hash: str, salt: str, msisdn: str, code: str) -> bool:
    return hmac.compare_digest(stored_hash, digest(salt, msisdn, code.strip()))


def sms_text(code: str) -> str:
    minutes = int(VALIDITY.total_seconds() // 60)
    return f"Votre code de connexion : {code}. Valable {minutes} minutes. Ne le communiquez à personne."
