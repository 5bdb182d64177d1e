from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from alltx.assessment.assess import TherapyOption, assess, assess_therapy
from alltx.core.facts import FactError, facts_from
from alltx.model.catalog import Catalog, Therapy
from alltx.model.data_files import load_catalog


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


def options_for(catalog: Catalog, **given: object) -> dict[str, TherapyOption]:
    """Assess the bundled catalog for these facts, keyed by therapy id."""
    return {o.therapy.id: o for o in assess(facts_from(given), catalog)}


def over_80(text: str) -> list[str]:
    """Lines wider than 80 columns, apart from a web address on a line of its own: those are
    printed whole on purpose, so they can be copied (never folded)."""
    return [
        line
        for line in text.splitlines()
        if len(line) > 80 and not (line.strip().startswith("http") and " " not in line.strip())
    ]


Judged = tuple[str, list[str]]  # a status, and the conditions of the cautions that apply


def disagreements(
    therapy: Therapy,
    patients: Iterable[dict[str, Any]],
    read: Callable[[dict[str, Any]], dict[str, Any] | None],
    judge: Callable[[dict[str, Any]], Judged],
    shown: Callable[[str], str] = str,
) -> tuple[list[tuple[Any, ...]], int, int]:
    """An oracle against alltx over `patients`: `read` is the oracle's reading of the facts
    (None where they contradict each other), `judge` its status and cautions; `shown` maps
    alltx's caution conditions to the oracle's words. The disagreements, how many patients
    both refused, and how many there were."""
    found: list[tuple[Any, ...]] = []
    refused = total = 0
    for given in patients:
        total += 1
        expected = read(given)
        try:
            facts = facts_from(given)
        except FactError:
            refused += 1
            if expected is not None:
                found.append((given, "alltx refused", "oracle accepted"))
            continue
        if expected is None:
            found.append((given, "alltx accepted", "oracle refused"))
            continue
        option = assess_therapy(therapy, facts.rule_values())
        got = (option.status, [shown(c) for c in option.cautions_apply])
        if got != judge(expected):
            found.append((given, got, judge(expected)))
    return found, refused, total


def sqlite_connection() -> Any:
    """An in-memory SQLite database with REGEXP, as the sqlite3 shell has it built in (its
    regexp extension); Python's sqlite3 has none, so it is Python's re here (the patterns
    alltx writes mean the same in both: tests/test_one_truth.py runs the shell itself)."""
    import re
    import sqlite3

    connection = sqlite3.connect(":memory:")
    connection.create_function(
        "regexp",
        2,
        lambda pattern, text: text is not None and re.search(pattern, text) is not None,
        deterministic=True,
    )
    return connection


LIMIT = 30  # seconds a pseudo-terminal test waits for what it expects


class Terminal:
    """alltx in an 80 x 24 pseudo-terminal, typed into as a person would."""

    def __init__(self, *args: str) -> None:
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        quiet = ["--no-pager"] if args else []  # alone, alltx is its start screen
        self.child = subprocess.Popen(
            [sys.executable, "-m", "alltx", *quiet, *args],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env=env,
            start_new_session=True,
        )
        os.close(follower)
        self.seen = ""

    def until(self, pattern: str) -> str:
        """Read until `pattern` shows (or the program ends); what was read."""
        start, deadline = len(self.seen), time.monotonic() + LIMIT
        while not re.search(pattern, self.seen[start:]):
            ready, _, _ = select.select([self.leader], [], [], deadline - time.monotonic())
            if not ready:
                raise AssertionError(f"no {pattern!r} after: {self.seen[start:]!r}")
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk.decode("utf-8", "replace")
        return self.seen[start:]

    def type(self, text: str) -> None:
        os.write(self.leader, (text + "\r").encode())

    def end(self) -> int:
        """Read what is left, to the end; the exit status."""
        while select.select([self.leader], [], [], LIMIT)[0]:
            try:
                chunk = os.read(self.leader, 65536)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            self.seen += chunk.decode("utf-8", "replace")
        code = self.child.wait(timeout=LIMIT)
        os.close(self.leader)
        return code


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark session (two threads, on loopback, no web UI), stopped after the tests."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # its workers import alltx

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
