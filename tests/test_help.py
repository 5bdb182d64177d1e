"""Every command's --help, as a person reads it in an 80-column terminal: every flag name and
every value word whole, every line within 80 columns, an Examples section, and every example a
command that runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from alltx.cli.app import app
from alltx.cli.examples import EXAMPLES
from tests.conftest import Terminal

runner = CliRunner()


def commands() -> Iterator[tuple[str, Any]]:
    """Every command and group, by the words that call it: as the root group lists them, the
    commands it builds only when asked for (the guide's, sql) included."""
    root = typer.main.get_command(app)
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        path, command = stack.pop()
        yield path, command
        if hasattr(command, "list_commands"):
            context = typer.Context(command)
            for name in command.list_commands(context):
                stack.append((f"{path} {name}".strip(), command.get_command(context, name)))


HELPS = sorted({path: command for path, command in commands()}.items())


@pytest.mark.parametrize(("path", "command"), HELPS, ids=[p or "alltx" for p, _ in HELPS])
def test_help_fits_80_columns_with_every_flag_and_value_whole(path: str, command: Any) -> None:
    result = runner.invoke(app, [*path.split(), "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert all(len(line) <= 80 for line in text.splitlines()), text
    tokens = set(re.split(r"[\s,\[\]()]+", text))
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        for flag in [*param.opts, *param.secondary_opts]:
            assert flag in tokens, f"{flag} is not whole in `alltx {path} --help`"
        metavar = param.metavar or ""
        for word in re.split(r"[|<>]", metavar):
            assert not word or word in text, f"{word} is not whole in `alltx {path} --help`"
        for choice in getattr(param.type, "choices", ()):
            assert choice in tokens | set(re.split(r"[|<>\s]+", text)), choice
    assert "Examples:" in text and "$ alltx" in text


ALL_EXAMPLES = sorted({e for examples in EXAMPLES.values() for e in examples})


@pytest.mark.parametrize("example", ALL_EXAMPLES)
def test_every_example_runs(example: str) -> None:
    words = shlex.split(example.split(">")[0])[1:]
    if "--input" in words or "--fhir" in words or "my-therapies.toml" in words:
        pytest.skip("needs a file of one's own")
    if words == ["ask"]:
        pytest.skip("asks on a terminal: tests/test_ask.py runs it in one")
    result = runner.invoke(app, words)
    assert result.exit_code == 0, f"{example}: {result.output}"


def test_every_command_has_its_examples() -> None:
    named = {path or "alltx" for path, _ in HELPS}
    assert named == set(EXAMPLES)


def test_alltx_alone_is_a_short_start_that_points_the_way_in() -> None:
    # Issue 29: `alltx` printed 42 lines of help and exited 2; at 80x24 its opening scrolled
    # away and nothing said "new here? try alltx ask".
    done = subprocess.run(
        [sys.executable, "-m", "alltx"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80", "LINES": "24"},
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and done.stderr == ""
    assert len(lines) <= 23 and max(map(len, lines)) <= 80  # one screen, with its prompt
    assert "not medical advice" in done.stdout and "alltx ask" in done.stdout
    assert "alltx --help" in done.stdout
    examples = [line.strip() for line in lines if line.startswith("  alltx ")]
    for example in examples:  # each example works as shown
        ran = subprocess.run(
            [sys.executable, "-m", "alltx", "--no-pager", *example.split()[1:]],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert ran.returncode == 0 or example == "alltx ask", (example, ran.stderr)


@pytest.mark.parametrize("command", [["sql"], ["explain"], ["grade", "crs"]])
def test_a_command_built_when_asked_for_offers_no_completion_options(command: list[str]) -> None:
    # Issue 29: `alltx sql --help` alone showed --install-completion (the root installs it).
    done = subprocess.run(
        [sys.executable, "-m", "alltx", *command, "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "completion" not in done.stdout


@pytest.mark.parametrize("regulator", ["fda", "ema"])
def test_the_answer_says_what_it_is_first_and_ends_with_what_to_do_next(regulator: str) -> None:
    # Issue 29: "not medical advice" came only at the very end of 238 lines, after "eligible"
    # three times on the first screen; nothing pointed to the page, the questions or explain.
    facts = ["--age", "19", "--relapsed", "--lineage", "b", "--regulator", regulator]
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "--no-pager", "options", *facts],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
    )
    lines = done.stdout.splitlines()
    top = " ".join(lines[:4])
    assert "not medical advice" in top and "eligible" not in top.lower()
    end = " ".join(lines[-4:])
    assert "--format html" in end and "alltx questions" in end and "alltx explain" in end


def test_a_family_on_an_80x24_terminal_meets_the_start_and_the_answer_as_meant() -> None:
    # issue 29, in a pseudo-terminal of 80 x 24 (not a pipe with COLUMNS set): the start fits
    # the screen; the answer's first screen says what it is before any status; its end says
    # what to do next
    start = Terminal()
    assert start.end() == 0
    shown = start.seen.replace("\r", "").splitlines()
    assert len(shown) <= 23 and "alltx ask" in start.seen and "not medical advice" in start.seen
    answer = Terminal("options", "--age", "19", "--relapsed")
    assert answer.end() == 0
    plain = re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\", "", answer.seen)  # colours, links
    lines = plain.replace("\r", "").splitlines()
    first = " ".join(lines[:24])
    assert "not medical advice" in first
    status = min(first.index(word) for word in ("eligible", "possible") if word in first)
    assert first.index("not medical advice") < status  # what it is, before any status
    assert max(map(len, (line for line in lines if "://" not in line))) <= 80
    assert "Next:" in " ".join(lines[-6:]) and "alltx questions" in " ".join(lines[-6:])
