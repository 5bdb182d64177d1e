"""A long answer on a terminal goes through the pager; never when piped, never with --no-pager,
never when it fits the screen. Run through a pseudo-terminal, as a person runs alltx."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

LIMIT = 30


def on_terminal(args: list[str], env: dict[str, str], rows: int = 24) -> str:
    """What a terminal of `rows` x 80 shows when alltx runs in it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 80, 0, 0))
    clean = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "PAGER")}
    child = subprocess.Popen(
        [sys.executable, "-m", "alltx", *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**clean, **env},
        close_fds=True,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the program ended
            break
        if not chunk:
            break
        shown += chunk
    child.wait(timeout=LIMIT)
    os.close(leader)
    return shown.decode("utf-8", "replace")


def pager_into(path: Path) -> str:
    """A pager that keeps what it is given in `path`."""
    keep = 'import sys; open(sys.argv[1], "wb").write(sys.stdin.buffer.read())'
    return f"{sys.executable} -c '{keep}' {path}"


def test_a_long_answer_goes_through_the_pager(tmp_path: Path) -> None:
    kept = tmp_path / "paged.txt"
    shown = on_terminal(["options", "--age", "19", "--relapsed"], {"PAGER": pager_into(kept)})
    paged = kept.read_text()
    assert "At a glance" in paged and "not medical advice" in paged
    assert "At a glance" not in shown  # the pager showed it, not alltx


def test_no_pager_and_a_short_answer_print_straight(tmp_path: Path) -> None:
    kept = tmp_path / "paged.txt"
    env = {"PAGER": pager_into(kept)}
    shown = on_terminal(["--no-pager", "options", "--age", "19", "--relapsed"], env)
    assert "At a glance" in shown and not kept.exists()
    shown = on_terminal(["options", "--age", "19", "--relapsed"], env, rows=2000)
    assert "At a glance" in shown and not kept.exists()  # it fits the screen


def test_piped_output_never_pages(tmp_path: Path) -> None:
    kept = tmp_path / "paged.txt"
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "options", "--age", "19", "--relapsed"],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        env={**os.environ, "PAGER": pager_into(kept)},
    )
    assert "At a glance" in done.stdout and not kept.exists()


def test_a_pager_that_is_not_installed_is_no_pager() -> None:
    shown = on_terminal(["options", "--age", "19", "--relapsed"], {"PAGER": "no-such-pager-x"})
    assert "At a glance" in shown and "not found" not in shown


@pytest.mark.parametrize("failing", ["false", "sh -c 'exit 3'"])
def test_a_pager_that_fails_does_not_lose_the_answer(failing: str) -> None:
    shown = on_terminal(["options", "--age", "19", "--relapsed"], {"PAGER": failing})
    assert "At a glance" in shown and "not medical advice" in shown


def test_a_huge_terminal_width_is_clamped() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "--no-pager", "options", "--age", "19", "--relapsed"],
        capture_output=True,
        text=True,
        timeout=LIMIT,
        env={**os.environ, "COLUMNS": "99999999"},
    )
    assert done.returncode == 0 and "At a glance" in done.stdout
    assert max(map(len, done.stdout.splitlines())) <= 1000
