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


# The flow, bottom first (issue 44, 4): each package imports only itself and those below it,
# with no exception. core: values, facts and the generic rules; model: the data's entities;
# assessment: a patient's facts against them; io: rows and records in; answer: what is said;
# sql and batch: the same answers where the data lives; views: the answer drawn; then the API
# and the commands.
LAYERS = ["core", "model", "assessment", "io", "answer", "sql", "batch", "views", "api", "cli"]
TOP = {"alltx", "__main__"}  # the package itself, and `python -m alltx`: above everything


def test_each_package_imports_only_itself_and_what_lies_below_it() -> None:
    found = set()
    for module, dependencies in imports().items():
        package = module.partition(".")[0]
        if package in TOP:
            continue
        assert package in LAYERS, f"{module}: its package {package!r} has no place in LAYERS"
        for dependency in dependencies:
            below = dependency.partition(".")[0]
            if below not in TOP and LAYERS.index(below) > LAYERS.index(package):
                found.add((module, dependency))
    assert found == set(), f"imports against the flow: {sorted(found)}"


def test_the_layers_are_the_source_folders() -> None:
    folders = {path.stem for path in SOURCE.iterdir() if path.suffix == ".py" or (
        path.is_dir() and (path / "__init__.py").exists())}  # fmt: skip
    assert folders - {"__init__", "__main__"} == set(LAYERS)


def test_the_core_and_the_assessment_import_no_io_no_rich_and_no_typer() -> None:
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
        if not name.startswith(("core.", "assessment.")):
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
