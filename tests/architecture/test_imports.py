"""The layers hold for every module of `bascule/`, found by walking the tree (no list to keep up to date).

- No cycle between packages (`bascule.<package>`, a top-level module counting as its own package).
- The features (domain rules and use cases) import no database, web framework, template engine, channel or
  wiring: they depend on their ports (`<feature>/ports.py`) and the kernel; the adapters are wired in
  `bascule.bootstrap`.
- A channel imports no other channel: what they share sits below them, in `bascule.channels`.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "bascule"

FEATURES = (
    "audit",
    "billing",
    "catalog",
    "commands",
    "evolutions",
    "identity",
    "kernel",
    "notifications",
    "prepaid",
    "provisioning",
    "usage",
)
FORBIDDEN_IN_FEATURES = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "bascule.persistence",
    "bascule.channels",
    "bascule.bootstrap",
    "bascule.observability",
)

SHARED_BY_CHANNELS = ("documents",)  # invoices rendered as HTML and PDF, for the portal and API v1 alike


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> Iterator[str]:
    """Every module `path` imports, at the top or inside a function, relative imports resolved."""
    here = module_name(path, root).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def modules(root: Path = ROOT) -> dict[str, set[str]]:
    return {module_name(path, root): set(imports_of(path, root)) for path in sorted(root.rglob("*.py"))}


def package_graph(found: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, imported in found.items():
        for name in imported:
            if name.startswith("bascule.") and package_of(name) != package_of(module):
                graph[package_of(module)].add(package_of(name))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_every_module() -> None:
    found = modules()
    assert len(found) == len(list(ROOT.rglob("*.py")))
    assert "bascule.evolutions.usecases" in found
    assert "bascule.evolutions.ports" in found["bascule.evolutions.usecases"]


def test_no_cycle_between_packages() -> None:
    assert cycles(package_graph(modules())) == []


def test_features_import_no_database_framework_channel_nor_wiring() -> None:
    offending = sorted(
        f"{module} imports {name}"
        for module, imported in modules().items()
        if package_of(module).removeprefix("bascule.") in FEATURES
        for name in imported
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN_IN_FEATURES)
    )
    assert offending == []


def test_use_cases_see_the_context_without_a_database() -> None:
    context = modules()["bascule.context"]
    assert not any(name.startswith(("sqlalchemy", "bascule.persistence")) for name in context)


def test_no_channel_imports_another_channel() -> None:
    """REST, the portal, TMF and USSD share what they need through modules below them (`bascule.channels.*`)."""
    offending = []
    for module, imported in modules().items():
        parts = module.split(".")
        if len(parts) < 4 or parts[2] in SHARED_BY_CHANNELS or not (ROOT / "channels" / parts[2]).is_dir():
            continue  # the shared modules and the composition roots (`server`, `cli`) may import any channel
        for name in imported:
            other = name.split(".")
            channel = other[2] if name.startswith("bascule.channels.") and len(other) > 3 else parts[2]
            if channel not in (parts[2], *SHARED_BY_CHANNELS):
                offending.append(f"{module} imports {name}")
    assert offending == []


def test_the_checks_see_a_cycle_and_a_forbidden_import(tmp_path: Path) -> None:
    root = tmp_path / "bascule"
    (root / "evolutions").mkdir(parents=True)
    (root / "persistence").mkdir()
    (root / "evolutions" / "__init__.py").write_text("")
    (root / "persistence" / "__init__.py").write_text("")
    (root / "evolutions" / "usecases.py").write_text("from bascule.persistence.uow import UnitOfWork\n")
    (root / "persistence" / "uow.py").write_text("def f():\n    from ..evolutions import usecases\n")
    found = modules(root)
    assert found["bascule.evolutions.usecases"] == {"bascule.persistence.uow"}
    assert found["bascule.persistence.uow"] == {"bascule.evolutions"}
    assert cycles(package_graph(found)) == [["bascule.evolutions", "bascule.persistence"]]
