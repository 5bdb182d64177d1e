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


def imports() -> dict[str, set[str]]:
    """Each module's alltx imports, those inside functions included (a lazy import is still a
    dependency)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SOURCE.glob("*.py")):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alltx"):
                parts = (node.module or "").split(".")
                found |= {parts[1]} if len(parts) > 1 else {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("alltx.")}
        graph[path.stem] = found - {path.stem, "__init__"}
    return graph


def test_no_module_depends_on_itself_through_others() -> None:
    graph = imports()
    cycles = []
    for start in graph:
        # every module reachable from `start`; a cycle when `start` is among them
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen and module in graph:
                seen.add(module)
                todo += graph[module]
        if start in seen:
            cycles.append(start)
    assert cycles == [], f"modules on an import cycle: {cycles}"


def test_the_walk_sees_imports_inside_functions() -> None:
    assert "cli_guide" in imports()["cli"]  # imported only when a guide command is asked for
