"""The GSM 03.38 7-bit default alphabet: what a USSD screen may contain, and how long it is.

`to_gsm7` transliterates French text that uses letters outside the alphabet ("reçu" → "recu",
"être" → "etre"); `fits` tells whether a screen holds in one USSD message (182 septets, the
extension-table characters counting two).
"""

from __future__ import annotations

import unicodedata

SCREEN_SEPTETS = 182

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = frozenset("^{}\\[]~|€\f")

# Letters and signs French text uses that the alphabet lacks; anything else falls back to its
# unaccented form, then to "?".
_TRANSLITERATIONS: dict[str, str] = {
    "ç": "c", "â": "a", "á": "a", "ã": "a", "ê": "e", "ë": "e", "î": "i", "ï": "i", "í": "i",
    "ô": "o", "ó": "o", "õ": "o", "û": "u", "ú": "u", "ÿ": "y", "œ": "oe", "Œ": "OE",
    "À": "A", "Â": "A", "È": "E", "Ê": "E", "Ë": "E", "Î": "I", "Ï": "I", "Ô": "O", "Ù": "U", "Û": "U",
    "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "«": '"', "»": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2192": "->", "\u2265": ">=", "\u2264": "<=",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ",
}


def _one(char: str) -> str:
    if char in BASIC or char in EXTENSION:
        return char
    if char in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[char]
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if bare and all(c in BASIC for c in bare):
        return bare
    return "?"


def to_gsm7(text: str) -> str:
    """The same text written only with characters of the default alphabet and its extension."""
    return "".join(_one(char) for char in text)


def is_gsm7(text: str) -> bool:
    return all(char in BASIC or char in EXTENSION for char in text)


def septets(text: str) -> int:
    """Length on the air: extension characters take an escape septet more."""
    return sum(2 if char in EXTENSION else 1 for char in text)


def fits(text: str, limit: int = SCREEN_SEPTETS) -> bool:
    """True when `text` is GSM-7 and holds in one screen."""
    return is_gsm7(text) and septets(text) <= limit


def clip(text: str, limit: int = SCREEN_SEPTETS) -> str:
    """Last resort for a screen that would overflow: cut it and say so with "..."."""
    if septets(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        width = septets(char)
        if used + width > limit - 3:
            break
        kept.append(char)
        used += width
    return "".join(kept).rstrip() + "..."
