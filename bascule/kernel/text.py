"""Text that comes from outside (a name, an id, an e-mail, a password, a form field): what every channel accepts.

One rule, applied at every edge before anything is stored or looked up: no C0 control character and no
DEL (tab and newline only in a field that allows several lines), no lone surrogate (it cannot be encoded
as UTF-8, so no database could keep it), and no more characters than the field holds. Names are trimmed
first, so that "  Acme " and "Acme" are one name. Bytes off the wire (a form field, a query value) must be
UTF-8: what a lone surrogate would be written as is not, and is refused as a bad encoding rather than read
as replacement characters.
"""

from __future__ import annotations

import re

from bascule.kernel.errors import DomainError, ErrorCode

# What no single-line field may hold, and what a multi-line field may not hold either (tab, LF and CR allowed).
_FORBIDDEN_ON_ONE_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_FORBIDDEN_ON_SEVERAL_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

# The same rules as JSON Schema patterns (ECMA-262), so that the OpenAPI document says what is accepted. A
# pattern matches characters, and a lone surrogate is none: no valid JSON text carries one unescaped, so the
# patterns leave that part of the rule to the code.
ONE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f]*$"
SEVERAL_LINES_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


class TextFault:
    """Why a text was refused: the `fault` parameter of the validation error, worded by each channel."""

    CONTROL_CHARACTER = "control-character"
    TOO_LONG = "too-long"
    EMPTY = "empty"
    BAD_ENCODING = "bad-encoding"


def has_forbidden_character(value: str, *, multiline: bool = False) -> bool:
    pattern = _FORBIDDEN_ON_SEVERAL_LINES if multiline else _FORBIDDEN_ON_ONE_LINE
    return pattern.search(value) is not None


def text_fault(value: str, *, max_length: int, multiline: bool = False, required: bool = False) -> str | None:
    """The first fault of an already trimmed text, or None when it is acceptable."""
    if has_forbidden_character(value, multiline=multiline):
        return TextFault.CONTROL_CHARACTER
    if len(value) > max_length:
        return TextFault.TOO_LONG
    if required and not value:
        return TextFault.EMPTY
    return None


def refused_text(field: str, fault: str, *, max_length: int | None = None) -> DomainError:
    return DomainError(ErrorCode.VALIDATION_ERROR, field=field, fault=fault, max_length=max_length)


def decode_text(raw: bytes, *, field: str) -> str:
    """Bytes as sent, as text; a `validation-error` when they are not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise refused_text(field, TextFault.BAD_ENCODING) from None


def clean_text(
    value: str, *, field: str, max_length: int, multiline: bool = False, trim: bool = True, required: bool = False
) -> str:
    """The text as it will be kept (trimmed unless `trim` is off), or a `validation-error` saying why not."""
    text = value.strip() if trim else value
    fault = text_fault(text, max_length=max_length, multiline=multiline, required=required)
    if fault is not None:
        raise refused_text(field, fault, max_length=max_length)
    return text
