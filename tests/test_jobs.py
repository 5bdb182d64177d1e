"""`--jobs N`: a cohort answered in N processes gives, byte for byte, what one process gives."""

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

from alltx.batch import jobs, streaming
from alltx.model.data_files import load_catalog

ALLTX = [sys.executable, "-m", "alltx"]
LIMIT = 60  # seconds: far above any case's time; a hang fails instead of blocking CI
ROWS = 2 * jobs.CHUNK + 700  # three chunks, the last one short


def alltx(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run([*ALLTX, *args], input=stdin, capture_output=True, timeout=LIMIT)
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    return done


def cohort_lines(seed: int = 7) -> list[str]:
    """JSON Lines with everything a cohort holds: answers, bad rows, blank lines, a lone value."""
    rng = random.Random(seed)
    lines = []
    for number in range(ROWS):
        roll = rng.random()
        if roll < 0.02:
            lines.append("")
        elif roll < 0.04:
            lines.append('{"age": "old"}')
        elif roll < 0.05:
            lines.append("not json")
        else:
            row = {
                "id": f"P{number}",
                "age": rng.choice([0.05, 1, 19, 25.5, 30, 70, "8m"]),
                rng.choice(["relapse", "remission"]): rng.choice([1, 2]),
                "cd19": rng.choice(["positive", "negative"]),
            }
            lines.append(json.dumps(row))
    return lines


def to_csv(lines: list[str]) -> str:
    out = ["id,age,relapse,remission,cd19"]
    for line in lines:
        try:
            row = json.loads(line) if line else None
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            out.append(line.replace(",", ";"))
            continue
        out.append(
            ",".join(str(row.get(k, "")) for k in ("id", "age", "relapse", "remission", "cd19"))
        )
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("jobs")
    lines = cohort_lines()
    paths = {
        "jsonl": where / "cohort.jsonl",
        "csv": where / "cohort.csv",
        "tsv": where / "cohort.tsv",
    }
    paths["jsonl"].write_text("\n".join(lines) + "\n")
    paths["csv"].write_text("\n\n" + to_csv(lines))  # blank lines before the header
    paths["tsv"].write_text(to_csv(lines).replace(",", "\t"))
    return paths


@pytest.mark.parametrize("kind", ["jsonl", "csv", "tsv"])
@pytest.mark.parametrize("output", ["jsonl", "csv"])
def test_jobs_write_what_one_process_writes(
    inputs: dict[str, Path], kind: str, output: str
) -> None:
    one = alltx("options", "-i", str(inputs[kind]), "-f", output)
    # as many processes as there are cores, at least two (more would be capped, and said)
    many = str(max(2, jobs.usable_cores()))
    three = alltx("options", "-i", str(inputs[kind]), "-f", output, "--jobs", many)
    assert one.returncode == three.returncode == 1  # the bad rows
    assert three.stdout == one.stdout
    assert [line for line in three.stderr.splitlines() if b"--jobs" not in line] == (
        one.stderr.splitlines()
    )
    assert one.stdout.count(b"\n") > 2 * jobs.CHUNK


def test_jobs_stop_at_the_same_row_with_fail_fast(inputs: dict[str, Path]) -> None:
    args = ["options", "-i", str(inputs["jsonl"]), "-f", "jsonl", "--fail-fast"]
    one, two = alltx(*args), alltx(*args, "-j", "2")
    assert one.returncode == two.returncode == 1
    assert two.stdout == one.stdout and "error" in json.loads(one.stdout.splitlines()[-1])


@pytest.mark.slow
def test_jobs_keep_explain_and_max_errors(inputs: dict[str, Path]) -> None:
    args = ["options", "-i", str(inputs["jsonl"]), "-f", "jsonl", "--explain", "--max-errors", "3"]
    one, two = alltx(*args), alltx(*args, "-j", "2")
    assert two.stdout == one.stdout and two.stderr == one.stderr
    assert two.stderr.decode().endswith("more row errors not shown (--max-errors)\n")


@pytest.mark.parametrize("output", ["json", "text"])
def test_jobs_need_a_record_format(inputs: dict[str, Path], output: str) -> None:
    done = alltx("options", "-i", str(inputs["jsonl"]), "-f", output, "-j", "2")
    assert done.returncode == 2 and b"--format jsonl or csv" in done.stderr and not done.stdout


def test_a_bad_header_is_refused_before_any_worker_writes() -> None:
    done = alltx(
        "options",
        "-i",
        "-",
        "--input-format",
        "csv",
        "-f",
        "csv",
        "-j",
        "2",
        stdin=b"id,relpased\nA,true\n",
    )
    assert done.returncode == 2 and b"did you mean 'relapsed'" in done.stderr and not done.stdout


def test_an_empty_input_is_zero_rows_with_jobs() -> None:
    done = alltx("options", "-i", "-", "--input-format", "csv", "-f", "csv", "-j", "2")
    assert done.returncode == 0 and done.stdout.count(b"\n") == 1  # the header


def test_ctrl_c_stops_the_workers_and_leaves_whole_lines(tmp_path: Path) -> None:
    # The input stays open, so the run is still going when Ctrl-C comes; on a terminal, Ctrl-C
    # signals the whole process group: the workers too. The output goes to a file, so that
    # nothing waits on a reader.
    written = tmp_path / "out.jsonl"
    with written.open("wb") as output:
        child = subprocess.Popen(
            [*ALLTX, "options", "-i", "-", "-f", "jsonl", "-j", "2"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert child.stdin is not None
        child.stdin.write(
            "".join(json.dumps({"id": n, "age": n % 90}) + "\n" for n in range(20_000)).encode()
        )
        child.stdin.flush()
        # The state Ctrl-C needs: two chunks' records written (not a time: issue 42, 17)
        deadline = time.monotonic() + LIMIT
        while written.read_bytes().count(b"\n") < 2 * jobs.CHUNK and time.monotonic() < deadline:
            assert child.poll() is None
            time.sleep(0.01)  # a poll's pause, so the run has the cores
        os.killpg(child.pid, signal.SIGINT)
        _, err = child.communicate(timeout=LIMIT)
    out = written.read_bytes()
    assert child.returncode == 130 and err.decode().startswith("alltx: error: interrupted")
    assert b"Traceback" not in err and out.endswith(b"\n")
    ids = [json.loads(line)["id"] for line in out.decode().splitlines()]
    assert ids == list(range(len(ids))) and len(ids) >= 2 * jobs.CHUNK


def _alive(pid: int) -> bool:
    """Whether a process is running (a zombie, dead and not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _workers(parent: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_its_parent(tmp_path: Path, signum: int) -> None:
    # Issue 25, item 8: after `kill -TERM` of a -j run its workers lived on under init.
    # SIGTERM stops the pool; SIGKILL cannot be caught, and the kernel kills the workers.
    written = tmp_path / "out.jsonl"
    with written.open("wb") as output:
        child = subprocess.Popen(
            [*ALLTX, "options", "-i", "-", "-f", "jsonl", "-j", "2"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.PIPE,
        )
        assert child.stdin is not None
        child.stdin.write(
            "".join(json.dumps({"id": n, "age": n % 90}) + "\n" for n in range(10_000)).encode()
        )
        child.stdin.flush()
        deadline = time.monotonic() + LIMIT
        while len(workers := _workers(child.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2
        child.send_signal(signum)
        _, err = child.communicate(timeout=LIMIT)
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    if signum == signal.SIGTERM:
        assert child.returncode == 143 and b"stopped by SIGTERM" in err
        out = written.read_bytes()
        assert out == b"" or out.endswith(b"\n")  # whole lines, if any was answered yet


@pytest.mark.parametrize("asked", ["10000", "99999999999999999999"])
def test_jobs_are_at_most_the_cores_and_it_says_so(asked: str) -> None:
    # Issue 25, item 8: -j 10000 forked over 2,000 workers on 2 cores; a number past 2**63
    # was an OverflowError traceback.
    text = b'{"id": "a", "age": 19, "relapsed": true}\n'
    done = alltx("options", "-i", "-", "-f", "jsonl", "-j", asked, stdin=text)
    one = alltx("options", "-i", "-", "-f", "jsonl", stdin=text)
    assert done.returncode == 0 and done.stdout == one.stdout
    cores = jobs.usable_cores()
    assert done.stderr.decode().splitlines() == [
        f"alltx: --jobs {asked if len(asked) < 7 else 'so many'} is more than the {cores} "
        f"core{'s' * (cores > 1)} alltx may use here: answering in {cores} "
        f"process{'es' * (cores > 1)}"
    ]


def test_a_closed_pipe_ends_quietly_with_jobs(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"id": n, "age": 19}) + "\n" for n in range(50_000)))
    script = f"{sys.executable} -m alltx options -i {big} -f jsonl -j 2 | head -n 3; "
    script += 'echo "status ${PIPESTATUS[0]}"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=LIMIT)
    assert done.stdout.splitlines()[-1] == "status 141" and done.stderr == ""


def test_a_worker_that_dies_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed mid-chunk (out of memory, say) ends the run with JobsError, which the
    command turns into one line; the pool does not hang."""
    if sys.platform != "linux":
        pytest.skip("workers see the patch only when forked")
    monkeypatch.setattr(jobs, "_answer", _die)
    catalog = load_catalog()
    job = jobs.Job(None, "jsonl", False, False, "jsonl", None, False)
    work = jobs.chunks([b'{"age": 3}'] * 10, 1)
    with pytest.raises(jobs.JobsError, match="worker process stopped"):
        jobs.run(job, 2, work, lambda text: None, lambda failure: None, streaming.Tally())
    assert catalog.therapies  # the main process is unharmed


def _die(chunk: jobs.Chunk) -> jobs.Done:
    os._exit(9)
