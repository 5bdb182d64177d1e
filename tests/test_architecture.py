"""How the modules hang together: no module reaches for another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "alltx"


def test_no_private_name_is_imported_from_another_module() -> None:
    found = []
    for path in sorted(SOURCE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alltx"):
                private = [a.name for a in node.names if a.name.startswith("_")
                           and not a.name.startswith("__")]  # fmt: skip
                found += [f"{path.name}: {node.module}.{name}" for name in private]
    assert not found, found
