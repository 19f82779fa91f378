"""The GSM 03.38 7-bit default alphabet: what a USSD screen (or an SMS in GSM-7) may contain, and its length.

Source: 3GPP TS 23.038 (formerly GSM 03.38), §6.2.1 "GSM 7 bit Default Alphabet" (the 128 codes below, in
code order) and §6.2.1.1 "GSM 7 bit default alphabet extension table" (reached by the escape code 0x1B, so
each of its characters takes two septets on the air); cross-checked with the Unicode Consortium's mapping
table MAPPINGS/ETSI/GSM0338.TXT. That table gives code 0x09 as small c-cedilla after ETSI TS 100 900
V7.2.0; 3GPP TS 23.038 draws it as capital Ç, and so do we: "Ç" is kept, "ç" becomes "c".

`to_gsm` keeps every character of the alphabet and its extension (é è ù ì ò à É Ç Ä Ö Ñ Ü ä ö ñ ü Æ æ ß €…) and
writes the others with the nearest letters it has (ê → e, ç → c, â → a, œ → oe, « » → ", … → ...), else "?".
`septets` is the length on the air.
"""

from __future__ import annotations

import unicodedata

SCREEN_SEPTETS = 182  # one USSD screen (after the gateway's "CON "/"END ")

ESCAPE = 0x1B
_ESC = "\x1b"  # ESC, a code of the alphabet but not a character: never part of a text

# §6.2.1, codes 0x00-0x7F, eight rows of sixteen.
DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ" + _ESC + "ÆæßÉ"  # 0x10
    " !\"#¤%&'()*+,-./"  # 0x20
    "0123456789:;<=>?"  # 0x30
    "¡ABCDEFGHIJKLMNO"  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50
    "¿abcdefghijklmno"  # 0x60
    "pqrstuvwxyzäöñüà"  # 0x70
)
# §6.2.1.1: the extension table's characters, by their code after the escape.
EXTENSION_TABLE = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

BASIC = frozenset(DEFAULT_ALPHABET) - {_ESC}
EXTENSION = frozenset(EXTENSION_TABLE)
_CODES = {char: code for code, char in enumerate(DEFAULT_ALPHABET) if char != _ESC}

# Characters French text uses that the alphabet lacks, written with the nearest it has. Accented letters not
# listed here lose their accent through Unicode's compatibility decomposition (NFKD), in `_transliterated`.
TRANSLITERATIONS: dict[str, str] = {
    # letters
    "â": "a",
    "á": "a",
    "ã": "a",
    "ç": "c",
    "ê": "e",
    "ë": "e",
    "î": "i",
    "ï": "i",
    "í": "i",
    "ô": "o",
    "ó": "o",
    "õ": "o",
    "û": "u",
    "ú": "u",
    "ÿ": "y",
    "œ": "oe",
    "À": "A",
    "Â": "A",
    "È": "E",
    "Ê": "E",
    "Ë": "E",
    "Î": "I",
    "Ï": "I",
    "Ô": "O",
    "Ù": "U",
    "Û": "U",
    "Ÿ": "Y",
    "Œ": "OE",
    # quotes, dashes, ellipsis, spaces (the no-break spaces French puts before ":" "?" "!" ";" and in amounts)
    "\u2019": "'",
    "\u2018": "'",
    "\u201a": "'",
    "\u02bc": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "«": '"',
    "»": '"',
    "\u2039": "'",
    "\u203a": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2044": "/",
    "\u2026": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "\t": " ",
    # signs
    "\u2022": "-",
    "\u00b7": ".",
    "\u00b0": "o",
    "\u00d7": "x",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2265": ">=",
    "\u2264": "<=",
    "\u2248": "~",
    # Greek capitals drawn like Latin letters, which the alphabet leaves out (GSM0338.TXT's commented mappings)
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}
UNKNOWN = "?"


_GSM = BASIC | EXTENSION


def is_gsm(text: str) -> bool:
    """Whether every character is in the default alphabet or its extension table."""
    return _GSM.issuperset(text)


def encode(text: str) -> bytes:
    """The text as unpacked septets (one byte each, 0x00-0x7F), an extension character as ESC + its code.

    Raises ValueError naming the first character the alphabet lacks (pass the text through `to_gsm` first)."""
    out = bytearray()
    for char in text:
        if char in _CODES:
            out.append(_CODES[char])
        elif char in EXTENSION_TABLE:
            out += bytes((ESCAPE, EXTENSION_TABLE[char]))
        else:
            raise ValueError(f"{char!r} (U+{ord(char):04X}) is not in GSM 03.38")
    return bytes(out)


def septets(text: str) -> int:
    """Length on the air: one septet a character, two for one of the extension table (€ [ ] { } ^ ~ | \\).

    Raises ValueError, as `encode` does, for a character the alphabet lacks."""
    if not _GSM.issuperset(text):
        encode(text)  # names the first character the alphabet lacks
    if EXTENSION.isdisjoint(text):  # the usual case, without a loop in Python over the characters
        return len(text)
    return len(text) + sum(1 for char in text if char in EXTENSION)


def _transliterated(char: str) -> str:
    if char in TRANSLITERATIONS:
        return TRANSLITERATIONS[char]
    if unicodedata.combining(char):
        return ""  # an accent left over once the text is composed: dropped, as transliteration drops accents
    bare = [c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)]
    written = "".join(c if is_gsm(c) else TRANSLITERATIONS.get(c, UNKNOWN) for c in bare)
    return written or UNKNOWN


def to_gsm(text: str) -> str:
    """The same text written with the default alphabet and its extension only.

    Characters of the alphabet are kept as they are ("Découvrir", "déjà", "Ç"), the others written with the
    nearest it has ("reçu" → "recu", "être" → "etre", "cœur" → "coeur", "«" → '"'), and "?" when there is none.
    """
    composed = unicodedata.normalize("NFC", text)  # "e" + combining acute is "é", which the alphabet has
    if _GSM.issuperset(composed):  # the usual case (every screen, every label): nothing to write otherwise
        return composed
    return "".join(char if char in BASIC or char in EXTENSION else _transliterated(char) for char in composed)


def fits(text: str, limit: int = SCREEN_SEPTETS) -> bool:
    """Whether `text` is GSM 03.38 and holds in `limit` septets."""
    return is_gsm(text) and septets(text) <= limit


def clip(text: str, limit: int = SCREEN_SEPTETS) -> str:
    """A GSM text cut to `limit` septets, ending with "..." when something was cut (the last resort)."""
    if septets(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        used += septets(char)
        if used > limit - 3:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "..."
