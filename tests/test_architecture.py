"""How the modules hang together: no module reaches for another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "alltx"


def modules() -> dict[str, Path]:
    """Every module of alltx by its dotted name under alltx (`cli.app`, `facts`)."""
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "alltx"] = path
    return found


def test_no_private_name_is_imported_from_another_module() -> None:
    found = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alltx"):
                private = [
                    a.name
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
                found += [f"{name}: {node.module}.{item}" for item in private]
    assert not found, found


def imports() -> dict[str, set[str]]:
    """Each module's alltx imports, those inside functions included (a lazy import is still a
    dependency)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("alltx"):
                module = (node.module or "").removeprefix("alltx").removeprefix(".")
                for item in node.names:  # `from alltx.cli import data`: a module by its name
                    inner = f"{module}.{item.name}" if module else item.name
                    found.add(inner if inner in known else module)
            elif isinstance(node, ast.Import):
                found |= {
                    a.name.removeprefix("alltx.") for a in node.names if a.name.startswith("alltx.")
                }
        # Importing `cli.app` runs `cli/__init__.py` first: a module depends on its package.
        package = name.rpartition(".")[0]
        graph[name] = (found | ({package} if package else set())) - {name, "", "alltx"}
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


def test_the_walk_sees_imports_inside_functions_and_in_packages() -> None:
    graph = imports()
    assert "cli.guide" in graph["cli.app"]  # imported only when a guide command is asked for
    assert {"cli.data", "cli.options", "cli.base"} <= graph["cli.app"]
    assert "core.facts" in graph["cli.options"]
    assert "cli" in graph["cli.base"]  # its package, which imports nothing
    assert graph["cli"] == set()


def test_the_contributing_page_lists_every_module() -> None:
    section = (SOURCE.parents[1] / "docs" / "contributing.md").read_text(encoding="utf-8")
    named = [path.relative_to(SOURCE).as_posix() for path in modules().values()]
    missing = [
        name
        for name in named
        if not name.endswith("__init__.py") and name != "__main__.py" and f"`{name}`" not in section
    ]
    assert missing == [], f"modules docs/contributing.md does not list: {missing}"


# The flow (issue 26): which packages each may import. cli and the API take any road; the rest
# only what comes before them: input -> facts -> rules -> assessment -> answer -> view.
MAY_IMPORT = {
    "core": {"model.catalog", "model.guide"},  # the data as declared, never how it is read
    "model": {"core", "answer.shapes"},  # schemas derive the answers' JSON Schemas from shapes
    "io": {"core", "model.fhir_codes"},  # what FHIR records are read for, as declared
    "answer": {"core", "model", "io.input_rows"},  # a cohort's summary lists rows as read
    "sql": {"core", "model", "answer"},  # never the cohort's streaming: it runs in a warehouse
    "batch": {"core", "model", "io", "answer", "sql"},
    "views": {"answer", "model", "core.plain", "core.facts"},  # the answer, in words
}


def _allowed(dependency: str, allowed: set[str]) -> bool:
    return any(dependency == a or dependency.startswith(a + ".") for a in allowed)


def test_each_package_imports_only_what_comes_before_it_in_the_flow() -> None:
    found = set()
    for module, dependencies in imports().items():
        package = module.partition(".")[0]
        if package not in MAY_IMPORT:
            continue
        for dependency in dependencies:
            if dependency.partition(".")[0] == package or dependency == package:
                continue
            if not _allowed(dependency, MAY_IMPORT[package]):
                found.add((module, dependency))
    assert found == set(), f"imports against the flow: {sorted(found)}"


def test_the_core_imports_no_io_no_rich_and_no_typer() -> None:
    outside = (
        "rich",
        "typer",
        "click",
        "pydantic",
        "duckdb",
        "os",
        "sys",
        "subprocess",
        "pathlib",
        "io",
        "csv",
        "json",
        "tomllib",
        "shutil",
        "tempfile",
    )
    found = []
    for name, path in modules().items():
        if not name.startswith("core."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{name}: {n}" for n in names if n.partition(".")[0] in outside]
    assert found == []
