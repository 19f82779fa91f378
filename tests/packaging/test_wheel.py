"""What operators install is what we test: the wheel holds every file of the package, and the suite imports it.

`scripts/test` builds the wheel, installs it (not editable) into a fresh virtualenv and runs the suite from
there with BASCULE_WHEEL and BASCULE_TEST_INSTALLED set; run by hand, these tests build a wheel of their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import bascule

CHECKOUT = Path(__file__).resolve().parents[2]
SOURCE = CHECKOUT / "bascule"
INSTALLED = os.environ.get("BASCULE_TEST_INSTALLED") == "1"


def tracked_files(*under: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *under], cwd=CHECKOUT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return [name for name in listed if (CHECKOUT / name).is_file()]


def source_files() -> set[str]:
    """Every file under bascule/ that the checkout tracks, as the wheel names it."""
    return set(tracked_files("bascule"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scripts/test's wheel, or one built from the tracked files alone (what a clean clone builds)."""
    if built := os.environ.get("BASCULE_WHEEL"):
        return Path(built)
    clone = tmp_path_factory.mktemp("clone")
    for name in tracked_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, clone / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(clone)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("bascule-*.whl"))


@pytest.mark.slow
def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packed = {name for name in archive.namelist() if name.startswith("bascule/")}
    missing = sorted(source_files() - packed)
    assert missing == []


@pytest.mark.slow
def test_the_wheel_carries_what_is_read_at_run_time(wheel: Path) -> None:
    """The files found missing once, by name: templates, static files, the catalogue, migrations."""
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    assert {
        "bascule/channels/documents/templates/invoice.html",
        "bascule/channels/portal/templates/base.html",
        "bascule/channels/portal/static/portal.css",
        "bascule/catalog/default.yaml",
        "bascule/persistence/migrations/env.py",
        "bascule/persistence/migrations/script.py.mako",
    } <= packed


def test_the_suite_imports_the_package_it_was_told_to() -> None:
    """The installed wheel under scripts/test; the checkout (an editable install) when run by hand."""
    assert Path(bascule.__file__).resolve().is_relative_to(SOURCE) is not INSTALLED


def test_servers_started_by_the_tests_import_the_same_package() -> None:
    """Tests start `python -m bascule …` from the checkout: its directory must not come first there either."""
    where = subprocess.run(
        [sys.executable, "-c", "import bascule; print(bascule.__file__)"],
        cwd=CHECKOUT,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    ).stdout.strip()
    assert Path(where).resolve() == Path(bascule.__file__).resolve()
