"""The domain stays pure: rules import no framework, database, template engine or channel."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "bascule"
PURE = [
    *sorted((ROOT / "kernel").glob("*.py")),
    ROOT / "catalog" / "model.py",
    ROOT / "evolutions" / "rules.py",
    ROOT / "evolutions" / "quota.py",
    ROOT / "evolutions" / "lifecycle.py",
    ROOT / "evolutions" / "model.py",
    ROOT / "evolutions" / "fleet.py",
    ROOT / "evolutions" / "batch.py",
    ROOT / "identity" / "model.py",
    *[path for name in ("model.py", "rules.py") if (path := ROOT / "prepaid" / name).exists()],
]
FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "pydantic",
    "yaml",
    "redis",
    "hiredis",
    "httpx",
    "typer",
    "bascule.persistence",
    "bascule.channels",
    "bascule.context",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_framework_nor_database(path: Path) -> None:
    offending = sorted(
        name for name in imported_modules(path) if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert offending == []


def test_the_purity_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from sqlalchemy import select\nimport bascule.kernel.money\n")
    assert imported_modules(sample) == {"sqlalchemy", "bascule.kernel.money"}


def test_no_code_names_a_catalogue_entry() -> None:
    """Rules look entries up by data; the shipped catalogue's ids appear only in the catalogue and demo."""
    from bascule.catalog.loader import load

    catalog = load(None)
    ids = {
        entry.id
        for group in (
            catalog.plans,
            catalog.fees,
            catalog.topups,
            catalog.extensions,
            catalog.profiles,
            catalog.networks,
            catalog.apns,
        )
        for entry in group
    }
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "demo" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text("utf-8")
        offenders += [
            f"{path.relative_to(ROOT)}: {entry}" for entry in ids if f'"{entry}"' in text or f"'{entry}'" in text
        ]
    assert offenders == []
