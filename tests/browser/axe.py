"""axe-core (from npm, installed by scripts/test into .tmp/axe) run inside Chromium, served from the local file:
no CDN, nothing fetched while the tests run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

AXE = Path(
    os.environ.get(
        "BASCULE_AXE", Path(__file__).resolve().parents[2] / ".tmp" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
    )
)
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    if not AXE.is_file():
        # An accessibility check that cannot run is a failure, never a silent skip.
        pytest.fail(f"axe-core not installed at {AXE} (npm install --prefix .tmp/axe axe-core; scripts/test does it)")
    return AXE.read_text("utf-8")


def blocking_violations(tab: Any, source: str) -> list[str]:
    """The page's serious and critical WCAG violations, one line each: rule, impact, the first elements."""
    tab.wait_for_load_state("load")
    tab.add_script_tag(content=source)  # the page's CSP forbids inline scripts: the context bypasses CSP
    result = tab.evaluate("""async () => {
      const found = await axe.run(document, {resultTypes: ["violations"]});
      return found.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target)}));
    }""")
    return [
        f"{item['id']} ({item['impact']}): {json.dumps(item['nodes'])}" for item in result if item["impact"] in BLOCKING
    ]
