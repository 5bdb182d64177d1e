"""Every command's output, byte for byte, against tests/snapshots/ (issue 26): a refactor that
moves code changes no answer. A change to an answer is deliberate: review it, then write the
new outputs with

    ALLTX_SNAPSHOTS=update .venv/bin/python -m pytest tests/test_snapshots.py -n 0

and commit them with the change that made them. Each file holds the command, its exit status,
its stdout and its stderr; the checkout's own folder is written as <repo>, and the data files'
folder as <repo>/data, installed or not."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alltx.cli.app import app
from alltx.model.data_files import bundled_path

SNAPSHOTS = Path(__file__).parent / "snapshots"
REPO = str(Path(__file__).parents[1])
DATA = str(bundled_path().parent)
UPDATE = os.environ.get("ALLTX_SNAPSHOTS") == "update"

COMMANDS = [
    "options --age 19 --relapsed",
    "options --age 19 --relapsed --format json",
    "options --age 19 --relapsed --lineage b --cd19 positive --format html",
    "options --age 30 --relapsed --lineage b --cd19 positive --regulator both",
    "options --age 30 --relapsed --lineage b --regulator both --format json",
    "options --age 8m --remission 1 --mrd 0.5 --cd19 pos --lineage b --regulator ema",
    "options --age 0.08333333333 --relapsed --lineage b --cd19 positive",
    "options --age 25.99 --refractory --lineage B-ALL --format csv",
    "options --age 17 --high-risk-first-relapse --lineage b --cd19 pos --ph neg --regulator ema",
    "options --relapsed --age-at-diagnosis 30 --lineage b --format jsonl",
    "options --age 200",
    "drug blinatumomab",
    "drug blinatumomab --format json",
    "drug kymriah --regulator both",
    "drug car-t",
    "drugs --format json",
    "compare",
    "compare --regulator both --format json",
    "explain mrd",
    "explain --format json",
    "transplant",
    "side-effects crs",
    "side-effects --format json",
    "grade crs --temperature 39 --blood-pressure fluids",
    "grade crs --temperature 37 --treated --format json",
    "grade icans --ice 5 --age 30",
    "questions --for car-t",
    "schema input",
    "sql --dialect sqlite",
    "sql --dialect postgres --regulator ema --columns id,age,relapsed",
    "data show",
]
runner = CliRunner()


def _name(command: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", command.lower()).strip("-")[:80] + ".txt"


def _run(command: str) -> str:
    env = {
        "COLUMNS": "100",
        "NO_COLOR": "1",
        "ALLTX_REGULATOR": None,
        "SOURCE_DATE_EPOCH": "1796515200",
    }  # the page's date: 2026-12-06
    done = runner.invoke(app, ["--no-pager", *shlex.split(command)], env=env)
    said = (
        f"$ alltx {command}\nexit {done.exit_code}\n--- stdout\n{done.stdout}"
        f"--- stderr\n{done.stderr}"
    )
    # the data files' folder as <repo>/data wherever alltx is installed (a wheel keeps them in
    # alltx/data: an installed package passes as a checkout does, issue 42, 18)
    return said.replace(DATA, "<repo>/data").replace(REPO, "<repo>")


@pytest.mark.parametrize("command", COMMANDS)
def test_the_output_is_the_snapshot(command: str) -> None:
    path = SNAPSHOTS / _name(command)
    got = _run(command)
    if UPDATE:  # bytes: a line end inside an answer (the SQL's \r in a pattern) stays as it is
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_bytes(got.encode("utf-8"))
    assert path.is_file(), f"no snapshot for `{command}`: write it with ALLTX_SNAPSHOTS=update"
    assert got == path.read_bytes().decode("utf-8")


def test_every_snapshot_is_of_a_command_here() -> None:
    # A command taken out of the list leaves no stale file behind to mislead.
    assert sorted(p.name for p in SNAPSHOTS.glob("*.txt")) == sorted(map(_name, COMMANDS))
