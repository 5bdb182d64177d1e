"""Shell completion: --install-completion writes a script whose calls complete commands, flags
and named values; a stray completion variable never replaces an answer (tests/test_hostile.py)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

LIMIT = 30


def complete(line: str) -> list[str]:
    """What bash's completion gets for the last word of `line`, as the installed script asks."""
    words = line.split(" ")
    env = {
        **os.environ,
        "_ALLTX_COMPLETE": "complete_bash",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    done = subprocess.run(
        [sys.executable, "-m", "alltx"], env=env, capture_output=True, text=True, timeout=LIMIT
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("alltx opt", ["options"]),
        ("alltx options --rel", ["--relapsed", "--relapse", "--relapse-after-transplant"]),
        ("alltx options --cd19 p", ["positive"]),
        ("alltx options --phase ", ["induction", "consolidation", "maintenance"]),
        ("alltx grade ", ["crs", "icans"]),
    ],
)
def test_the_shell_is_offered_commands_flags_and_values(line: str, offered: list[str]) -> None:
    assert complete(line) == offered


def test_the_script_to_install_calls_alltx_to_complete() -> None:
    # typer finds the shell among alltx's parent processes (shellingham): run it from bash,
    # which `; exit $?` keeps from replacing itself with alltx, as `bash -c` does with one
    # command.
    command = f"{shlex.quote(sys.executable)} -m alltx --show-completion; exit $?"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=LIMIT)
    assert done.returncode == 0
    assert "_ALLTX_COMPLETE=complete_bash" in done.stdout and "COMP_WORDS" in done.stdout


def test_a_stray_instruction_without_words_is_ignored() -> None:
    env = {**os.environ, "_ALLTX_COMPLETE": "complete_bash"}  # no COMP_WORDS: no shell asked
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "options", "--age", "19", "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=LIMIT,
    )
    assert done.returncode == 0 and '"version": 2' in done.stdout
