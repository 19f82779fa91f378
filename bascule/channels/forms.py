"""URL-encoded pairs (a form body, a query string) as the portal and USSD receive them, values left as bytes.

The usual parsers read a value that is not UTF-8 as replacement characters; here each value keeps its bytes,
so that the text rule (`bascule.kernel.text.decode_text`) refuses it as a bad encoding. A name only tells
which field a value is, so one that is not UTF-8 is read with replacement characters: it names no field.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes


def url_encoded_pairs(raw: bytes) -> list[tuple[str, bytes]]:
    """`a=1&b=%C3%A9+x` → [("a", b"1"), ("b", b"\\xc3\\xa9 x")], in order, blank values kept."""
    pairs = []
    for part in raw.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            pairs.append((_unquoted(name).decode("utf-8", "replace"), _unquoted(value)))
    return pairs


def _unquoted(raw: bytes) -> bytes:
    return unquote_to_bytes(raw.replace(b"+", b" "))
