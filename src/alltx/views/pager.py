"""A long answer on a terminal goes through a pager, as git and gh send theirs: `PAGER` (or
`ALLTX_PAGER`), else `less`, with `LESS=FRX` unless set (quit if it fits one screen, keep the
colours, leave the text on the screen). Never when the output is not a terminal; `--no-pager`
or an empty `PAGER` turns it off. pydoc.pager was not used: it gives no way to know whether a
pager ran (to print the text ourselves when none can), and sets no `LESS`."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys


def command() -> str | None:
    """The pager to run, or None: none wanted, or none installed."""
    chosen = os.environ.get("ALLTX_PAGER", os.environ.get("PAGER", "less")).strip()
    try:
        program = shlex.split(chosen)[0] if chosen else ""
    except ValueError:  # unbalanced quotes: not a command
        return None
    if program in ("", "cat") or shutil.which(program) is None:
        return None
    return chosen


def page(text: str) -> bool:
    """Show `text` through the pager; False when there is none to run, or it failed (exited
    other than 0, as `PAGER=false` does at once): print it instead, so the answer is never
    lost. A pager the reader quits exits 0."""
    chosen = command()
    if chosen is None:
        return False
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX")}
    sys.stdout.flush()
    # Ctrl-C belongs to the pager while it runs (less uses it to stop a search), as under git.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pager = subprocess.Popen(chosen, shell=True, stdin=subprocess.PIPE, env=env)
        assert pager.stdin is not None
        try:
            pager.stdin.write(text.encode("utf-8", "backslashreplace"))
            pager.stdin.close()
        except BrokenPipeError:  # the reader quit before the end: nothing more to show
            pass
        pager.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return pager.returncode == 0
