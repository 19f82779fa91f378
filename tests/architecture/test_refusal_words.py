"""The domain raises a code and its parameters; the words live in `bascule.kernel.messages_fr` only.

Every module of `bascule/` outside the channels is walked (no list to keep up to date): a `DomainError`
there carries no text of its own (no `detail`), and each `reason` it names has its sentence in messages_fr.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bascule.kernel import messages_fr
from bascule.kernel.errors import ErrorCode

ROOT = Path(__file__).resolve().parents[2] / "bascule"
CHANNELS = ROOT / "channels"  # each channel renders refusals its way, and may word its own input errors


def domain_modules() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if CHANNELS not in path.parents:
            yield path


def refusals(path: Path) -> Iterator[ast.Call]:
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "DomainError":
            yield node


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def own_words(call: ast.Call) -> list[ast.expr]:
    """The `detail` a call passes: the second positional argument or the keyword."""
    given = call.args[1:2] + [keyword.value for keyword in call.keywords if keyword.arg == "detail"]
    return [node for node in given if not _is_none(node)]


def literal_reason(call: ast.Call) -> tuple[ErrorCode, str] | None:
    code = call.args[0] if call.args else None
    reason = next((keyword.value for keyword in call.keywords if keyword.arg == "reason"), None)
    if isinstance(code, ast.Attribute) and isinstance(reason, ast.Constant) and isinstance(reason.value, str):
        return ErrorCode[code.attr], reason.value
    return None


def test_the_domain_walk_finds_the_refusals_it_checks() -> None:
    found = [call for path in domain_modules() for call in refusals(path)]
    assert len(found) > 100
    assert any(literal_reason(call) == (ErrorCode.VALIDATION_ERROR, "ceiling-step") for call in found)


def test_no_domain_module_words_a_refusal_itself() -> None:
    worded = [
        f"{path.relative_to(ROOT.parent)}:{call.lineno}: {ast.unparse(node)}"
        for path in domain_modules()
        for call in refusals(path)
        for node in own_words(call)
    ]
    assert worded == []


def test_every_reason_the_domain_names_has_its_french_sentence() -> None:
    named = {found for path in domain_modules() for call in refusals(path) if (found := literal_reason(call))}
    assert named
    assert sorted(named - set(messages_fr._REASONS)) == []


def _call(source: str) -> ast.Call:
    call = ast.parse(source, mode="eval").body
    assert isinstance(call, ast.Call)
    return call


def test_the_walk_would_see_a_worded_refusal() -> None:
    assert len(own_words(_call('DomainError(ErrorCode.CONFLICT, f"Ce MSISDN {x} porte déjà un service.")'))) == 1
    keyword = _call('DomainError(ErrorCode.CONFLICT, detail="Déjà pris.", reason="x")')
    assert len(own_words(keyword)) == 1
    assert literal_reason(keyword) == (ErrorCode.CONFLICT, "x")
    assert own_words(_call('DomainError(ErrorCode.CONFLICT, None, reason="msisdn-has-service")')) == []
