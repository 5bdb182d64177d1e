"""--jobs: a cohort answered by worker processes says exactly what one process says, in order.

These run the real command in a subprocess: workers write to the process's own stdout, which
an in-process test runner does not have.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alltx import pipeline
from alltx.cli import app

# Long enough for the main process to hand rows to workers, over several chunks each.
ROWS = pipeline.SERIAL_ROWS + 7 * pipeline.CHUNK_ROWS + 37


def alltx(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "alltx", "options", *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=120)


def cohort(path: Path, bad_from: int = 0) -> Path:
    """A JSON Lines cohort with blank lines and, from line `bad_from` on (0: none), bad rows."""
    rng = random.Random(7)
    lines = []
    for number in range(1, ROWS + 1):
        if bad_from and number >= bad_from and rng.random() < 0.02:
            lines.append(rng.choice(['{"age": ', '{"id": 1, "lineage": "x"}', "[1]"]))
        elif rng.random() < 0.005:
            lines.append("")
        else:
            row = {"id": f"P{number}", "age": rng.choice([0.5, 3, "8m", 19, 26, 70])}
            row.update(rng.choice([{}, {"relapse": 2}, {"remission": 1}, {"refractory": True}]))
            if rng.random() < 0.5:
                row["mrd"] = rng.choice([0, 0.01, 0.1, 2])
            lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cohort(tmp_path_factory.mktemp("jobs") / "mixed.jsonl", bad_from=1)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_workers_write_what_one_process_writes(mixed: Path, fmt: str) -> None:
    one = alltx("-i", str(mixed), "-f", fmt, "-j", "1")
    assert one.returncode == 1 and one.stderr.count(b"\n") > 10  # bad rows throughout
    for jobs in ("2", "3", "0"):
        many = alltx("-i", str(mixed), "-f", fmt, "-j", jobs)
        assert many.returncode == 1
        assert many.stdout == one.stdout  # every record, byte for byte, in input order
        assert many.stderr == one.stderr  # every error line, in order


def test_csv_input_and_stdin_go_through_workers_too(mixed: Path, tmp_path: Path) -> None:
    one = alltx("-i", str(mixed), "-f", "csv", "-j", "1").stdout
    as_csv = tmp_path / "cohort.csv"
    rows = []
    for line in mixed.read_text().splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict) and "lineage" not in row:
            rows.append(row)
    header = ["id", "age", "relapse", "remission", "refractory", "mrd"]
    as_csv.write_text(
        ",".join(header)
        + "\n"
        + "".join(",".join(str(row.get(name, "")) for name in header) + "\n" for row in rows)
    )
    assert len(rows) > pipeline.SERIAL_ROWS + 2 * pipeline.CHUNK_ROWS
    serial = alltx("-i", str(as_csv), "-f", "jsonl", "-j", "1")
    parallel = alltx("-i", "-", "--input-format", "csv", "-f", "jsonl", "-j", "2",
                     stdin=as_csv.read_bytes())  # fmt: skip
    assert serial.returncode == parallel.returncode == 0, parallel.stderr
    assert parallel.stdout == serial.stdout
    assert [json.loads(r)["id"] for r in serial.stdout.splitlines()] == [r["id"] for r in rows]
    assert one  # the JSONL cohort's CSV output was not empty either


def test_fail_fast_stops_at_the_same_row_inside_a_worker(tmp_path: Path) -> None:
    late = pipeline.SERIAL_ROWS + 3 * pipeline.CHUNK_ROWS + 5  # in a worker's chunk
    path = cohort(tmp_path / "late.jsonl", bad_from=late)
    one = alltx("-i", str(path), "-f", "jsonl", "--fail-fast", "-j", "1")
    many = alltx("-i", str(path), "-f", "jsonl", "--fail-fast", "-j", "2")
    assert one.returncode == many.returncode == 1
    assert many.stdout == one.stdout and many.stderr == one.stderr
    last = json.loads(many.stdout.splitlines()[-1])
    assert "error" in last and last["line"] >= late  # stopped at the first bad row
    assert many.stderr.count(b"\n") == 1


def test_a_reader_that_goes_away_ends_the_workers_quietly(mixed: Path) -> None:
    wanted = pipeline.SERIAL_ROWS + 2 * pipeline.CHUNK_ROWS + 3  # past the first process's rows
    script = f"{sys.executable} -m alltx options -i {mixed} -f jsonl -j 2 | head -n {wanted}"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert len(lines) == wanted and json.loads(lines[-1])["line"] >= wanted
    assert "Traceback" not in done.stderr and "Broken" not in done.stderr
    assert all(line.startswith("alltx: line ") for line in done.stderr.splitlines())


def test_a_killed_worker_ends_the_run_with_an_error_not_a_hang(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"id": i, "age": i % 90}) + "\n" for i in range(60000)))
    command = [sys.executable, "-m", "alltx", "options", "-i", str(big), "-f", "jsonl", "-j", "2"]
    with (tmp_path / "out").open("wb") as out:  # a file: a pipe nobody reads would fill up
        main = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        children = Path(f"/proc/{main.pid}/task/{main.pid}/children")
        deadline = time.monotonic() + 60
        while not children.read_text().split() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(int(children.read_text().split()[0]), signal.SIGKILL)
        _, err = main.communicate(timeout=120)
    assert main.returncode == 1
    assert err.decode().splitlines()[-1].startswith("alltx: error: a worker process was killed")
    lines = [json.loads(line)["line"] for line in (tmp_path / "out").read_bytes().splitlines()]
    assert lines == list(range(1, len(lines) + 1)) and len(lines) < 60000  # a prefix, in order


def test_a_worker_that_fails_says_so_in_one_line(mixed: Path) -> None:
    # A bug in the answering code, planted after the first process's rows.
    code = (
        "import sys\n"
        "from alltx.batch import Answerer\n"
        "from alltx.cli import main\n"
        "real = Answerer.answer_row\n"
        "def broken(self, row, *args):\n"
        f"    if getattr(row, 'line', 0) > {pipeline.SERIAL_ROWS + pipeline.CHUNK_ROWS}:\n"
        "        raise RuntimeError('planted')\n"
        "    return real(self, row, *args)\n"
        "Answerer.answer_row = broken\n"
        f"sys.argv = ['alltx', 'options', '-i', {str(mixed)!r}, '-f', 'jsonl', '-j', '2']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "alltx: error: a worker failed: RuntimeError('planted')" in done.stderr
    lines = [json.loads(line)["line"] for line in done.stdout.splitlines()]
    assert lines == sorted(lines) and lines[-1] <= pipeline.SERIAL_ROWS + pipeline.CHUNK_ROWS


def test_without_a_real_stdout_one_process_answers(mixed: Path) -> None:
    # An in-process runner captures stdout in memory, where a forked worker cannot write.
    runner = CliRunner()
    one = runner.invoke(app, ["options", "-i", str(mixed), "-f", "jsonl", "-j", "1"])
    two = runner.invoke(app, ["options", "-i", str(mixed), "-f", "jsonl", "-j", "2"])
    assert one.exit_code == two.exit_code == 1
    assert two.stdout == one.stdout and len(one.stdout.splitlines()) > pipeline.SERIAL_ROWS


def test_jobs_is_checked() -> None:
    done = alltx("--jobs", "-1", "-i", "-", stdin=b"")
    assert done.returncode == 2 and done.stderr.decode().count("\n") == 1
    assert b"--jobs" in done.stderr
    assert pipeline.jobs_for(1) == 1
    assert pipeline.jobs_for(0) == len(os.sched_getaffinity(0))


def test_tasks_carry_their_line_numbers() -> None:
    lines = [b'{"age": 1}\n'] * (pipeline.SERIAL_ROWS + pipeline.CHUNK_ROWS + 2)
    head, tasks = pipeline.split(lines, "jsonl", False, pipeline.SERIAL_ROWS)
    assert [row.line for row in head][-1] == pipeline.SERIAL_ROWS
    assert [(first, len(chunk)) for first, chunk in tasks] == [
        (pipeline.SERIAL_ROWS + 1, pipeline.CHUNK_ROWS),
        (pipeline.SERIAL_ROWS + pipeline.CHUNK_ROWS + 1, 2),
    ]
