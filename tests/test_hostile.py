"""Hostile input, as issue 13 reproduced it: no traceback, no lost row, no hang, nothing
interpreted as markup or sent raw to a terminal or a spreadsheet. Each case runs the real
command in a subprocess (stdout and stdin as a shell gives them), with a time limit."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from alltx.model.data_files import bundled_path

ALLTX = [sys.executable, "-m", "alltx"]
LIMIT = 20  # seconds: far above any case's time; a hang fails instead of blocking CI


def alltx(
    *args: str, stdin: bytes | None = b"", env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[bytes]:
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    done = subprocess.run(
        [*ALLTX, *args], input=stdin, timeout=LIMIT, env={**os.environ, **(env or {})}, **kwargs
    )
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    return done


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    """The one line on stderr; `data check` lists every problem, then a count."""
    text = done.stderr.decode()
    if done.args[3:5] == ["data", "check"]:
        assert text.endswith("problems; the file was not used\n"), text
        return text
    assert text.count("\n") == 1 and text.startswith("alltx: "), text
    return text


def records(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.decode().splitlines()]


# --- 1, 2: numbers and nesting past Python's limits -------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        '{"age": 1' + "0" * 5000 + "}",  # past Python's 4,300-digit limit for integers
        '{"id": 1' + "0" * 5000 + ', "age": 3}',
        "[" * 100_000,
        '{"id": ' + "[" * 50 + "]" * 50 + ', "age": 3}',
        '{"id": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}",
    ],
    ids=["huge age", "huge id", "deep array", "deep id", "deep objects"],
)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_row_past_the_limits_is_its_own_error_row(bad: str, fmt: str) -> None:
    stdin = ('{"id": "before", "age": 5}\n' + bad + '\n{"id": "after", "age": 6}\n').encode()
    done = alltx("options", "-i", "-", "-f", fmt, "--input-format", "jsonl", stdin=stdin)
    assert done.returncode == 1
    if fmt == "jsonl":
        before, error, after = records(done.stdout)
        assert (before["id"], after["id"], error["line"]) == ("before", "after", 2)
        assert "error" in error and "options" in after
    else:
        rows = list(csv.DictReader(io.StringIO(done.stdout.decode())))
        assert [r["line"] for r in rows] == ["1", "2", "3"] and rows[1]["error"]
    assert one_error_line(done).startswith("alltx: line 2")


# --- 3, 10: markup and control characters in text from outside ---------------------------------


@pytest.mark.parametrize(
    "row_id",
    [
        "[/]",
        "x[/bold]",
        "[bold red]X[/]",
        "[link=https://evil.example]click[/link]",
        ":smile:",
        "\x1b[31mred",
        "\x1b]0;title\x07",
        "\x1b[2J",
        "a\x1b[1A\x1b[2Kb",
    ],
)
def test_an_id_prints_as_plain_text_with_controls_escaped(row_id: str) -> None:
    stdin = (json.dumps({"id": row_id, "age": 19}) + "\n").encode()
    done = alltx("options", "-i", "-", "-f", "text", stdin=stdin, env={"FORCE_COLOR": ""})
    out = done.stdout.decode()
    assert done.returncode == 0
    assert "\x1b" not in out and "\x07" not in out
    shown = row_id.replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert shown in out  # exactly as given, controls escaped, no markup applied


def data_file(tmp_path: Path, old: str, new: str, name: str = "therapies.toml") -> Path:
    text = bundled_path(name).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("option", "name", "old", "new", "command"),
    [
        ("--data", "therapies.toml", 'labels = "US FDA', 'labels = "US FDA[/]', ["data", "show"]),
        ("--data", "therapies.toml", 'labels = "US FDA', 'labels = "US FDA[/]', ["data", "check"]),
        (
            "--data",
            "therapies.toml",
            'kind = { text = "CAR-T',
            'kind = { text = "oops [/] here',
            ["drugs"],
        ),
        (
            "--guide",
            "guide.toml",
            'name = "Cytokine release syndrome (CRS)"',
            'name = "[/] Cytokine release syndrome (CRS)"',
            ["side-effects"],
        ),
    ],
)
def test_markup_in_a_data_file_prints_as_text(
    tmp_path: Path, option: str, name: str, old: str, new: str, command: list[str]
) -> None:
    path = data_file(tmp_path, old, new, name)
    done = alltx(option, str(path), *command)
    assert done.returncode == 0 and b"[/]" in done.stdout


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        # A line feed would end the SQL comment the release is printed in (issue 25, 1).
        (
            'release = "2026.12.2"',
            'release = "2026.12.2\\nDROP TABLE IF EXISTS patients;\\n--"',
            "U+000A",
        ),
        ('scope = "US FDA', 'scope = "US\\u202eFDA', "U+202E"),  # a bidi override
        ('short = "US label"', 'short = "US\\u200b label"', "U+200B"),  # a zero-width space
        # Ids and the release reach SQL as names and literals: a backslash would end a Spark
        # literal (issue 25, 2).
        ('id = "blinatumomab-r-r"', 'id = "blinatumomab-r-r\\\\"', "indications[1].id"),
        ('release = "2026.12.2"', 'release = "2026.12.2\'"', "release"),
        # Only an http(s) address is a link (issue 25, 3).
        (
            'url = "https://www.fda.gov/vaccines',
            'url = "javascript:document.title=1;//www.fda.gov/vaccines',
            "url",
        ),
    ],
    ids=[
        "line feed in the release",
        "bidi override",
        "zero-width space",
        "backslash in an id",
        "quote in the release",
        "javascript: address",
    ],
)
def test_text_that_could_leave_its_place_is_refused(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    path = data_file(tmp_path, old, new)
    html = ["--data", str(path), "options", "--age", "3", "--format", "html"]
    for command in (["data", "check", str(path)], ["--data", str(path), "sql"], html):
        done = alltx(*command)
        assert done.returncode == 1 and says in one_error_line(done), command
        assert b"DROP TABLE" not in done.stdout and b"javascript:" not in done.stdout


def test_a_link_is_only_an_http_address_in_every_view() -> None:
    from alltx.core.facts import facts_from
    from alltx.model.data_files import load_catalog
    from alltx.views.handout import page

    answer = json.loads(alltx("options", "--age", "19", "--relapsed", "--format", "json").stdout)
    first, second = answer["options"][0]["sources"][:2]
    first["url"], second["url"] = "javascript:alert(1)", "https://example.org/y"
    patient = facts_from({"age": 19, "relapsed": True})
    html = page(answer, patient, load_catalog(None), [], "test", "6 December 2026")
    assert 'href="javascript:' not in html and 'href="https://example.org/y"' in html


def test_a_control_character_in_a_data_file_is_refused(tmp_path: Path) -> None:
    path = data_file(tmp_path, 'release = "2026', 'release = "\\u001b[2J2026')
    for command in (["data", "check", str(path)], ["--data", str(path), "options", "--age", "3"]):
        done = alltx(*command)
        assert done.returncode == 1 and "control or invisible character" in one_error_line(done)
        assert b"\x1b" not in done.stdout + done.stderr


# --- 4, 6, 9: broken and hostile data files -------------------------------------------------


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (
            lambda text: text.replace(
                'criteria = { all = [\n  { fact = "age_years", at_most = 25',
                "criteria = { all = [" + "{ all = [" * 200 + '{ fact = "age_years", at_most = 25',
                1,
            ),
            "nested too deeply",
        ),
        (lambda text: text + "\nx = " + "[\n" * 100_000 + "]\n" * 100_000, "nested too deeply"),
        (
            lambda text: text + "\n" + ".".join(f"k{n}" for n in range(40_000)) + " = 1\n",
            "over 16,384 characters",
        ),
    ],
    ids=["200 groups deep", "100,000 nested arrays", "a dotted key of 40,000 parts"],
)
def test_a_hostile_data_file_is_one_line_and_quick(tmp_path: Path, make: Any, says: str) -> None:
    path = tmp_path / "therapies.toml"
    path.write_text(make(bundled_path().read_text(encoding="utf-8")), encoding="utf-8")
    for command in (["data", "check", str(path)], ["--data", str(path), "drugs"]):
        done = alltx(*command)  # within LIMIT: a file that takes minutes fails, not a slow CI
        assert done.returncode == 1 and says in one_error_line(done)


@pytest.mark.parametrize("option", ["--data", "--guide"])
def test_dev_zero_and_a_fifo_are_no_data_files(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    command = ["options", "--age", "19"] if option == "--data" else ["explain", "mrd"]
    for path, says in (("/dev/zero", "regular file"), (str(fifo), "regular file")):
        done = alltx(option, path, *command)
        assert done.returncode == 1 and says in one_error_line(done)
    done = alltx("data", "check", "/dev/zero")
    assert done.returncode == 1 and "regular file" in done.stderr.decode()


def test_an_input_with_no_line_ends_is_refused_in_bounded_memory() -> None:
    gib = 2**30
    done = alltx(
        "options",
        "--input",
        "/dev/zero",
        "--input-format",
        "jsonl",
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (gib, gib)),
    )
    assert done.returncode == 2 and "not a cohort file" in one_error_line(done)


def test_an_over_long_line_is_one_error_row() -> None:
    stdin = b'{"age": 3}\n{"id": "' + b"x" * (2 * 1024 * 1024) + b'"}\n{"age": 4}\n'
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=stdin)
    got = records(done.stdout)
    assert done.returncode == 1 and [r["line"] for r in got] == [1, 2, 3]
    assert "over 1024 KiB" in got[1]["error"]


# --- 5: nowhere to write, nothing to read ---------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["options", "--age", "19"],
        ["options", "--age", "19", "-f", "json"],
        ["drug", "kymriah"],
        ["grade", "crs", "--temperature", "39"],
        ["schema", "input"],
    ],
)
def test_a_full_disk_is_one_line(args: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        done = alltx(*args, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 74 and "No space left" in one_error_line(done)


def test_no_stdout_and_no_stdin_are_one_line() -> None:
    script = f"{sys.executable} -m alltx options --age 19 >&-"
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=LIMIT)
    assert done.returncode == 74 and b"standard output is closed" in done.stderr
    assert b"Traceback" not in done.stderr
    script = f"{sys.executable} -m alltx options -i - -f csv 0<&-"
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=LIMIT)
    assert done.returncode == 2 and b"standard input is closed" in done.stderr
    assert b"Traceback" not in done.stderr


# --- 7: few file descriptors --------------------------------------------------------------------


def test_few_file_descriptors_lose_no_row(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text("id,age\n" + "".join(f"{n},{n % 90}\n" for n in range(5000)))
    few = resource.RLIMIT_NOFILE
    done = alltx(
        "options", "-i", str(big), "-f", "csv", preexec_fn=lambda: resource.setrlimit(few, (64, 64))
    )
    assert done.returncode == 0 and done.stdout.decode().count("\n") == 5001


# --- 8: numbers that would take minutes ----------------------------------------------------------


@pytest.mark.parametrize("number", ["1e-999999999", "1e999999999", "1e-9999999", "0." + "0" * 9999])
def test_a_number_that_would_take_minutes_is_refused_at_once(number: str) -> None:
    # Each run within LIMIT (alltx()'s timeout): minutes of arithmetic fail the test, and a
    # loaded machine's slower seconds do not (issue 42, 17).
    done = alltx("options", "--mrd", number)
    assert done.returncode == 2 and "--mrd" in one_error_line(done)
    rows = f'{{"mrd": "{number}"}}\n'.encode()
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=rows)
    assert done.returncode == 1 and "mrd" in records(done.stdout)[0]["error"]
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=f"id,mrd\nA,{number}\n".encode())
    assert done.returncode == 1 and records(done.stdout)[0]["id"] == "A"


# --- 11, 12: what a spreadsheet would run, and line breaks inside a cell -------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1:A2)", "-2+3", '=HYPERLINK("http://x","y")',
            "\tx", "safe"]  # fmt: skip


def test_csv_neutralises_formulas_and_json_stays_exact() -> None:
    rows = "".join(json.dumps({"id": i, "age": 19}) + "\n" for i in FORMULAS)
    rows += json.dumps({"id": "=1+1", "age": "x"}) + "\n"  # an error row too
    done = alltx("options", "-i", "-", "-f", "csv", stdin=rows.encode())
    ids = [r["id"] for r in csv.DictReader(io.StringIO(done.stdout.decode()))]
    assert ids == ["'" + i if i != "safe" else i for i in FORMULAS] + ["'=1+1"]
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=rows.encode())
    assert [r["id"] for r in records(done.stdout)] == [*FORMULAS, "=1+1"]


def test_a_line_break_inside_an_id_is_quoted_in_csv() -> None:
    rows = b'{"id": "x\\ry", "age": 19}\n{"id": "a\\nb", "age": 19}\n'
    done = alltx("options", "-i", "-", "-f", "csv", stdin=rows)
    parsed = list(csv.DictReader(io.StringIO(done.stdout.decode(), newline="")))
    assert [r["id"] for r in parsed] == ["x\ry", "a\nb"]


# --- 13, 14: every line answered or reported, no row carrying another's data ----------------------


def test_a_byte_order_mark_before_json_lines_is_skipped() -> None:
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=b'\xef\xbb\xbf{"id": "A", "age": 3}\n')
    assert done.returncode == 0 and records(done.stdout)[0]["id"] == "A"


def test_bare_carriage_returns_end_lines() -> None:
    done = alltx(
        "options",
        "-i",
        "-",
        "-f",
        "jsonl",
        "--input-format",
        "jsonl",
        stdin=b'{"id": "A", "age": 3}\r{"id": "B", "age": 4}\r',
    )
    assert done.returncode == 0 and [r["id"] for r in records(done.stdout)] == ["A", "B"]


def test_a_quoted_line_break_is_part_of_its_cell_and_invents_no_patient() -> None:
    # Issue 24: each line went to a csv.reader of its own, and "X<newline>FAKE" made a patient
    # FAKE" with the real row's age and lineage.
    stdin = b'id,age,lineage\n"X\nFAKE",19,b\n"Y",20,t\n'
    done = alltx(
        "options", "-i", "-", "--input-format", "csv", "-f", "jsonl", "--explain", stdin=stdin
    )
    got = records(done.stdout)
    assert done.returncode == 0, done.stderr
    assert [(r["id"], r["line"]) for r in got] == [("X\nFAKE", 2), ("Y", 4)]
    assert got[0]["patient"]["age"] == 19 and got[1]["patient"]["lineage"] == "t"


def test_an_open_quote_is_one_error_row_carrying_no_other_rows_data() -> None:
    stdin = b'id,age\nA,3\n"B,4\nC,5\nD,6\n'
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=stdin)
    got = records(done.stdout)
    assert done.returncode == 1
    assert [(r["id"], r["line"]) for r in got] == [("A", 2), (None, 3)]
    assert "quote" in got[1]["error"] and "C,5" not in json.dumps(got[1])


def test_a_line_of_commas_is_a_row() -> None:
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=b"id,age,lineage\n,,,\n,,\n")
    got = records(done.stdout)
    assert [r["line"] for r in got] == [2, 3]
    assert "4 cells where the header has 3" in got[0]["error"] and "options" in got[1]


# --- 15, 16, 17, 18, 19: the smaller ones ------------------------------------------------------


def test_a_terminal_width_of_zero_still_gives_the_answer() -> None:
    done = alltx("options", "--age", "19", env={"COLUMNS": "0"})
    assert done.returncode == 0 and b"not medical advice" in done.stdout


def test_the_completion_variable_does_not_replace_the_answer() -> None:
    done = alltx("options", "--age", "19", "-f", "json", env={"_ALLTX_COMPLETE": "bash_source"})
    assert done.returncode == 0 and json.loads(done.stdout)["version"]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('id = "blinatumomab-r-r"', 'id = "blinatumomab-mrd-positive-cr1-cr2"', "is already used"),
        (
            'id = "blinatumomab-r-r"',
            'id = "tisagenlecleucel-bcp-all-refractory-or-second-relapse"',
            "is already used by tisagenlecleucel",
        ),
    ],
    ids=["within a therapy", "across therapies"],
)
def test_an_indication_id_used_twice_is_refused(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    done = alltx("data", "check", str(data_file(tmp_path, old, new)))
    assert done.returncode == 1 and says in done.stderr.decode()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_while_the_arguments_are_parsed_is_said_too(signum: int, status: int) -> None:
    # The fuzz test found it: typer turns a KeyboardInterrupt raised outside the command (while
    # it parses the arguments) into a silent exit 130, and a SIGTERM there was one of those.
    code = (
        "import os, sys\n"
        "from typer._click.core import Command\n"
        "from alltx.cli.app import main\n"
        "parse = Command.make_context\n"
        "def make_context(self, *args, **kwargs):\n"
        f"    os.kill(os.getpid(), {int(signum)})  # arrives while typer parses\n"
        "    return parse(self, *args, **kwargs)\n"
        "Command.make_context = make_context\n"
        "sys.argv = ['alltx', 'options', '--age', '19', '--format', 'json']\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=LIMIT)
    assert done.returncode == status and done.stdout == b""
    name = signal.Signals(signum).name
    assert done.stderr.decode() == (
        f"alltx: error: stopped by {name}; the records written before are complete lines\n"
    )


@pytest.mark.parametrize(
    ("signum", "status", "said"),
    [
        (signal.SIGINT, 130, "interrupted"),
        (signal.SIGTERM, 143, "stopped by SIGTERM"),
        (signal.SIGHUP, 129, "stopped by SIGHUP"),
    ],
)
def test_a_signal_leaves_whole_lines_and_says_so(
    big_jsonl: Path, tmp_path: Path, signum: int, status: int, said: str
) -> None:
    # Issue 25, item 6: SIGTERM and SIGHUP killed a run mid-record (no last newline) in 1 run
    # of 4; they now end it as Ctrl-C does. The output goes to a file, as `> o` did.
    written = tmp_path / "out.jsonl"
    with written.open("wb") as output:
        child = subprocess.Popen(
            [*ALLTX, "options", "-i", str(big_jsonl), "-f", "jsonl"],
            stdout=output,
            stderr=subprocess.PIPE,
        )
        # The state the signal needs: records being written (not a time: issue 42, 17)
        deadline = time.monotonic() + LIMIT
        while written.stat().st_size == 0 and time.monotonic() < deadline:
            assert child.poll() is None
            time.sleep(0.01)  # a poll's pause, so the run has the cores
        child.send_signal(signum)
        _, err = child.communicate(timeout=LIMIT)
    out = written.read_bytes()
    assert child.returncode == status
    assert err.decode().splitlines() == [
        f"alltx: error: {said}; the records written before are complete lines"
    ]
    lines = out.split(b"\n")
    assert lines[-1] == b"" and len(lines) > 1  # whole lines only, and some were written
    json.loads(lines[-2])  # the last one whole
    starts = [re.match(rb'\{"id": (\d+),', line) for line in lines[:-1]]
    assert [int(start[1]) if start else None for start in starts] == list(range(len(starts)))


@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400,000 rows: still being answered 1.5 s after the start."""
    big = tmp_path_factory.mktemp("big") / "big.jsonl"
    big.write_text(
        "".join(json.dumps({"id": n, "age": n % 90, "mrd": n % 7}) + "\n" for n in range(400_000))
    )
    return big


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--relapsed", "--not-relapsed"], "--relapsed and --not-relapsed both given"),
        (["--age", "200", "--age", "19"], "--age given twice"),
        (["--age=19", "--age", "19"], "--age given twice"),
        (["--mrd", "100.0000001"], "got '100.0000001'"),
    ],
)
def test_repeated_flags_are_refused_and_values_shown_as_given(args: list[str], says: str) -> None:
    done = alltx("options", *args)
    assert done.returncode == 2 and says in one_error_line(done)


@pytest.mark.parametrize(
    "command",
    [
        ["grade", "crs", "--oxygen", "none", "--oxygen", "high-flow"],  # a nested group's command
        ["drug", "kymriah", "--regulator", "fda", "--regulator", "ema"],
        ["data", "show", "--format", "json", "--format", "text"],
    ],
)
def test_every_command_takes_each_option_once(command: list[str]) -> None:
    # Checked where click hands each command its words, not by reading argv before click:
    # the grader's findings were taken last-wins before (oxygen none, then high-flow).
    done = alltx(*command)
    flag = command[-2]
    assert done.returncode == 2 and f"{flag} given twice" in one_error_line(done)


def test_csv_escapes_control_characters_from_outside() -> None:
    rows = json.dumps({"id": "\x1b[31mred\x07", "age": 19}) + "\n"
    done = alltx("options", "-i", "-", "-f", "csv", stdin=rows.encode())
    assert b"\x1b" not in done.stdout and b"\x07" not in done.stdout
    [row] = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    assert row["id"] == "\\x1b[31mred\\x07"


@pytest.mark.parametrize("digit", ["²", "①", "٣", "³"])
@pytest.mark.parametrize("flag", ["--relapse", "--remission", "--prior-therapies", "--age"])
def test_digits_that_are_not_ascii_are_refused_in_alltxs_words(flag: str, digit: str) -> None:
    done = alltx("options", flag, digit)
    line = one_error_line(done)
    assert done.returncode == 2 and "int()" not in line and flag in line
    field = flag[2:].replace("-", "_")
    row = json.dumps({"id": "a", field: digit}) + "\n"
    rows = alltx("options", "-i", "-", "--input-format", "jsonl", "-q", stdin=row.encode())
    assert rows.returncode == 1 and b"int()" not in rows.stdout + rows.stderr


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs /proc")
def test_an_input_that_cannot_be_read_is_the_inputs_error() -> None:
    done = alltx("options", "-i", "/proc/self/mem", "--input-format", "jsonl")
    line = one_error_line(done)
    assert done.returncode == 2 and "cannot read the input" in line
    assert "cannot write the output" not in line


def test_a_date_written_as_a_toml_date_is_read(tmp_path: Path) -> None:
    path = data_file(tmp_path, 'updated = "2026-12-07"', "updated = 2026-12-02")
    for command in (["data", "check", str(path)], ["--data", str(path), "options", "--age", "3"]):
        done = alltx(*command)
        assert done.returncode == 0 and b"2026-12-02" in done.stdout


def test_sql_columns_without_an_id_says_so() -> None:
    done = alltx("sql", "--columns", "age")
    assert done.returncode == 0 and done.stdout.rstrip().endswith(b";")
    assert done.stderr == b"alltx: note: --columns names no id: every row's id is NULL\n"
    assert alltx("sql", "--columns", "id,age").stderr == b""


@pytest.mark.parametrize(
    ("args", "env", "stdin"),
    [
        (["options", "-i", "x\x1b[31mRED"], {}, b""),  # a path
        (["options", "-i", "-", "--input-format", "jsonl"], {}, b'{"\\u001b[31mRED": 1}\n'),
        (["options", "--age", "3"], {"ALLTX_DATA": "x\u202ey"}, b""),  # a bidi override
        (["--guide", "g\u200bx", "explain", "crs"], {}, b""),  # a zero-width space
    ],
    ids=["path", "field name", "environment", "guide path"],
)
def test_outside_text_in_an_error_is_shown_escaped(
    args: list[str], env: dict[str, str], stdin: bytes
) -> None:
    done = alltx(*args, env=env, stdin=stdin)
    assert done.returncode != 0
    for raw in (b"\x1b", "\u202e".encode(), "\u200b".encode()):
        assert raw not in done.stderr
    assert any(shown in done.stderr for shown in (b"\\x1b", b"\\u202e", b"\\u200b"))


def test_an_id_with_an_invisible_character_is_shown_escaped() -> None:
    row = json.dumps({"id": "P2\u200b", "age": 3}) + "\n"
    for fmt in ("text", "csv"):
        done = alltx("options", "-i", "-", "--input-format", "jsonl", "-f", fmt, stdin=row.encode())
        assert "\u200b".encode() not in done.stdout and b"P2\\u200b" in done.stdout


@pytest.mark.parametrize(
    "env",
    [
        {"PYTHONIOENCODING": "ascii"},
        {"PYTHONIOENCODING": "latin-1"},
        {"LC_ALL": "POSIX", "PYTHONUTF8": "0"},
    ],
    ids=["ascii", "latin-1", "posix"],
)
def test_an_output_encoding_that_cannot_hold_the_answer_gets_it_escaped(
    env: dict[str, str],
) -> None:
    done = alltx("--no-pager", "options", "--age", "19", "--relapsed", env=env)
    assert done.returncode == 0 and b"At a glance" in done.stdout


def test_a_lone_surrogate_in_a_row_is_shown_escaped() -> None:
    done = alltx("options", "-i", "-", "--format", "text", stdin=b'{"\\ud800": 1}\n')
    assert done.returncode == 1 and b"\\ud800" in done.stdout + done.stderr


@pytest.mark.parametrize("group", ["grade", "data"])
def test_a_group_without_its_command_shows_its_help_and_fails(group: str) -> None:
    done = alltx(group)
    err = done.stderr.decode()
    assert done.returncode == 2 and not done.stdout and f"Usage: alltx {group} " in err
    assert "Commands:" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["1\n2", ":\r\n", "19\n--relapsed"])
def test_a_line_break_in_a_refused_value_keeps_the_error_on_one_line(value: str) -> None:
    # found by the near-JSON fuzz test: `got ':` then a second line with `'`
    flag = alltx("options", "--age", value)
    row = alltx(
        "options", "-i", "-", "-f", "jsonl", stdin=(json.dumps({"age": value}) + "\n").encode()
    )
    for done, status in ((flag, 2), (row, 1)):
        err = done.stderr.decode()
        assert done.returncode == status and err.count("\n") == 1 and err.endswith("\n")
        assert "\\n" in err  # shown escaped, not dropped
