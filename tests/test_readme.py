"""The README's and the documentation's (docs/*.md) examples are real output: each `$ alltx ...`
command in a fenced block is run,
and what the block shows under it must appear in the output, in order. A line `...` marks text
left out, so an example may show excerpts; everything it does show must be there as shown.

Commands with shell pipes, redirections or other programs are skipped (they are written as a
shell session); the rest run in-process at 80 columns, as piped output, in a folder holding
the files the README shows with `$ cat FILE`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alltx.cli.app import app

README = Path(__file__).parents[1] / "README.md"
DOCS = Path(__file__).parents[1] / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]  # every page a reader runs examples from


def page(name: str) -> str:
    """A documentation page's text (docs/NAME.md)."""
    return (DOCS / f"{name}.md").read_text(encoding="utf-8")


SHELL = re.compile(r"[|<>;&`$\\]")


def sessions() -> list[tuple[str, list[str]]]:
    """(command, the lines shown under it) for every `$ ` line in the pages' blocks."""
    found = []
    text = "\n".join(path.read_text(encoding="utf-8") for path in PAGES)
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
    for block in blocks:
        command, shown = None, []
        for line in [*block.splitlines(), "$ end"]:
            if line.startswith("$ "):
                if command is not None:
                    found.append((command, shown))
                command, shown = line[2:], []
            elif command is not None:
                shown.append(line.rstrip())
    return found


def examples() -> list[tuple[str, list[str]]]:
    """The runnable ones: alltx alone, no shell."""
    return [
        (command, shown)
        for command, shown in sessions()
        if command.startswith("alltx ")
        and not SHELL.search(command)
        and command != "alltx ask"  # a terminal session: tests/test_ask.py plays it in one
    ]


@pytest.fixture
def shown_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the files the README shows (`$ cat FILE`), as the working directory."""
    for command, shown in sessions():
        if command.startswith("cat ") and " " not in command[4:]:
            (tmp_path / command[4:]).write_text("\n".join(shown).strip() + "\n", encoding="utf-8")
    (tmp_path / "examples").symlink_to(README.parent / "examples")  # the FHIR example's Bundle
    monkeypatch.chdir(tmp_path)
    return tmp_path


def excerpts(shown: list[str]) -> list[list[str]]:
    """The runs of lines between `...` markers."""
    runs: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == "...":
            runs.append([])
        else:
            runs[-1].append(line)
    return [run for run in runs if any(run)]


def test_there_are_examples_to_check() -> None:
    assert len(examples()) >= 10


@pytest.mark.parametrize(("command", "shown"), examples(), ids=[c for c, _ in examples()])
def test_readme_example_is_real_output(command: str, shown: list[str], shown_files: Path) -> None:
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    output = [line.rstrip() for line in (result.stdout + result.stderr).splitlines()]
    start = 0
    for run in excerpts(shown):
        while run and not run[0]:
            run = run[1:]
        while run and not run[-1]:
            run = run[:-1]
        at = next((i for i in range(start, len(output)) if output[i : i + len(run)] == run), None)
        assert at is not None, f"not in the output of `{command}`:\n" + "\n".join(run)
        start = at + len(run)
