"""Fuzzing the real CLI: whatever the arguments or the input bytes, alltx ends in exit status
0, 1 or 2 with no traceback, and accounts for every input line that holds anything."""

from __future__ import annotations

import csv
import io
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from alltx.cli.app import app

runner = CliRunner()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORDS = [
    "options", "drug", "drugs", "schema", "data", "check", "show", "input", "output",
    "--age", "--relapsed", "--not-relapsed", "--relapse", "--refractory", "--not-refractory",
    "--remission", "--lineage", "--cd19", "--cd22", "--ph", "--mrd", "--phase",
    "--prior-transplant", "--no-prior-transplant", "--format", "-f", "json", "jsonl", "csv",
    "text", "--input", "-i", "-", "--input-format", "--fail-fast", "--ignore-unknown-fields",
    "--data", "--version", "--help", "b", "t", "pos", "neg", "+", "8m", "19", "-3", "0.1",
    "consolidation", "blinatumomab", "Kymriah",
]  # fmt: skip
arguments = st.lists(
    st.one_of(
        st.sampled_from(WORDS),
        st.text(alphabet=string.ascii_letters + string.digits + "-.%+ _", max_size=10),
    ),
    max_size=8,
)


def survived(result: Result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


@pytest.mark.slow
@FUZZ
@given(arguments, st.binary(max_size=200))
def test_any_arguments(args: list[str], stdin: bytes) -> None:
    survived(runner.invoke(app, args, input=stdin))


def meaningful(data: bytes) -> list[int]:
    """The numbers of the lines that hold anything: not blank, or not text at all."""
    numbers = []
    lines = data.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark is no content
    lines = lines.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # a bare CR ends a line too
    for number, line in enumerate(lines.split(b"\n"), 1):
        try:
            if line.decode("utf-8").strip():
                numbers.append(number)
        except UnicodeDecodeError:
            numbers.append(number)
    return numbers


def accounted(data: bytes, output: str) -> None:
    records = [json.loads(line) for line in output.splitlines()]
    assert [record["line"] for record in records] == meaningful(data)
    for record in records:
        assert ("options" in record) != ("error" in record)


@pytest.mark.slow
@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_json_lines(data: bytes) -> None:
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", "jsonl", "-f", "jsonl"], input=data
    )
    survived(result)
    assert result.exit_code in (0, 1)
    accounted(data, result.stdout)


field = st.sampled_from(
    ["age", "relapsed", "relapse", "refractory", "remission", "lineage", "cd19", "cd22", "ph",
     "mrd", "phase", "prior_transplant", "id", "agee"]
)  # fmt: skip
value = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=True),
    st.text(max_size=6), st.sampled_from(["8m", "b", "t", "+", "-", "pos", "consolidation"]),
    st.lists(st.integers(), max_size=2),
)  # fmt: skip
rows = st.lists(
    st.one_of(
        st.dictionaries(field, value, max_size=6).map(json.dumps),
        st.text(max_size=20).map(lambda text: text.replace("\n", " ")),
    ),
    max_size=12,
)


@pytest.mark.slow
@FUZZ
@given(rows)
def test_any_lines_of_near_json(lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", "jsonl", "-f", "jsonl"], input=data
    )
    survived(result)
    accounted(data, result.stdout)
    failed = sum("error" in json.loads(line) for line in result.stdout.splitlines())
    assert result.exit_code == (1 if failed else 0)
    assert result.stderr.count("\n") == failed  # one line on stderr per failed row


@pytest.mark.slow
@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["csv", "jsonl", "text", "json"]))
def test_any_bytes_as_csv(data: bytes, output: str) -> None:
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", "csv", "-f", output], input=data
    )
    survived(result)


# --- hostile shapes (issue 13): nesting, huge numbers, markup and escapes, formulas, line ends --

hostile_text = st.one_of(
    st.sampled_from(
        [
            "[/]",
            "x[/bold]",
            "[bold red]X[/]",
            "[link=https://e.example]c[/link]",
            ":smile:",
            "\x1b[31m",
            "\x1b]0;t\x07",
            "\x1b[2J",
            "\x1b[1A\x1b[2K",
            "\x85",
            "\u2028",
            "=cmd|' /C calc'!A0",
            "+1+1",
            "@SUM(A1:A2)",
            "-2",
            "\t=1",
            '=HYPERLINK("x")',
            "\ufeff",
            "\r",
            "\x00",
        ]
    ),
    st.text(alphabet="[]/=+-@\x1b\r\t\u2028\x07;:", max_size=12),
)
deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
huge = st.integers(4000, 6000).map(lambda n: "1" + "0" * n)
exponent = st.sampled_from(["1e-999999999", "1e999999999", "1e-9999", "9" * 40, "0." + "0" * 99])
hostile_value = st.one_of(
    hostile_text.map(json.dumps), deep, huge, exponent, exponent.map(json.dumps)
)
hostile_line = st.one_of(
    st.builds(lambda field, value: f'{{"id": {value}, "{field}": 19}}', field, hostile_value),
    st.builds(lambda field, value: f'{{"id": "x", "{field}": {value}}}', field, hostile_value),
    deep,
    hostile_text,
)
ends = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])


@pytest.mark.slow
@FUZZ
@given(st.lists(st.tuples(hostile_line, ends), max_size=6))
def test_hostile_lines_are_each_answered_or_reported(lines: list[tuple[str, str]]) -> None:
    data = "".join(line + end for line, end in lines).encode("utf-8", "surrogatepass")
    for output in ("jsonl", "csv", "text"):
        result = runner.invoke(
            app, ["options", "-i", "-", "--input-format", "jsonl", "-f", output], input=data
        )
        survived(result)
        assert result.exit_code in (0, 1)
        assert "\x1b" not in result.stdout  # never raw to a terminal or a file
        if output == "jsonl":
            accounted(data, result.stdout)
        if output == "csv":
            cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
            assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)


@pytest.mark.slow
@FUZZ
@given(st.lists(st.lists(hostile_text, min_size=2, max_size=2), max_size=5), ends)
def test_hostile_csv_cells_never_merge_rows(cells: list[list[str]], end: str) -> None:
    body = "".join(",".join(row) + end for row in cells)
    data = ("id,age" + end + body).encode("utf-8", "surrogatepass")
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", "csv", "-f", "jsonl"], input=data
    )
    survived(result)
    for record in (json.loads(line) for line in result.stdout.splitlines()):
        # one row's error never carries another row's data: its id is its own line's cell
        if record["id"] is not None and len(cells) > 1:
            assert "\n" not in str(record["id"]) and "\r" not in str(record["id"])


# --- hostile shapes, third round (issue 25): hidden characters in every outside text, link
# schemes, signals mid-stream, output encodings, huge environment values ----------------------

import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from alltx.core.plain import CONTROL, HIDDEN, INVISIBLE  # noqa: E402
from alltx.model.data_files import bundled_path  # noqa: E402

ALLTX = [sys.executable, "-m", "alltx"]
FEW = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
HIDDEN_CHARACTERS = [chr(c) for c in (*CONTROL, *INVISIBLE)]
# Text from outside with hidden characters in it: what looks like P2 and is not
hidden = st.text(alphabet=st.sampled_from([*HIDDEN_CHARACTERS, "P", "2", "a", "[", "/", "="]),
                 min_size=1, max_size=8).filter(lambda t: HIDDEN.search(t) is not None)  # fmt: skip
# Shown to a person: nothing hidden raw but a message's own line ends and tabs
RAW = re.compile("[" + "".join(re.escape(c) for c in HIDDEN_CHARACTERS if c not in "\n\t\r") + "]")


def shows_nothing_hidden(text: str) -> None:
    assert RAW.search(text) is None, ascii(text)


def place(where: str, text: str, tmp: Path) -> tuple[list[str], bytes, dict[str, str]]:
    """A run of alltx with `text` in one outside place: arguments, stdin, environment."""
    jsonl = ["options", "-i", "-", "--input-format", "jsonl"]
    csv_in = ["options", "-i", "-", "--input-format", "csv"]
    if where == "json id":
        return jsonl, json.dumps({"id": text, "age": 19}).encode(), {}
    if where == "json field":
        return jsonl, json.dumps({"id": "x", text: 19}).encode(), {}
    if where == "json value":
        return jsonl, json.dumps({"id": "x", "lineage": text}).encode(), {}
    if where == "csv id":
        cell = '"' + text.replace('"', '""') + '"'
        return csv_in, f"id,age\n{cell},19\n".encode("utf-8", "surrogatepass"), {}
    if where == "csv header":
        cell = '"' + text.replace('"', '""') + '"'
        return csv_in, f"id,{cell}\nx,19\n".encode("utf-8", "surrogatepass"), {}
    if where == "input path":
        return ["options", "-i", str(tmp / text.replace("/", "_").replace("\0", "_"))], b"", {}
    if where == "data path":
        return ["--data", str(tmp / text.replace("/", "_").replace("\0", "_")), "drugs"], b"", {}
    if where == "regulator":
        return ["drugs"], b"", {"ALLTX_REGULATOR": text.replace("\0", "_")}
    return ["drug", text], b"", {}  # a drug name


PLACES = ["json id", "json field", "json value", "csv id", "csv header", "input path",
          "data path", "regulator", "drug name"]  # fmt: skip


@pytest.mark.slow
@FUZZ
@given(st.sampled_from(PLACES), hidden, st.sampled_from(["text", "csv", "jsonl"]))
def test_hidden_characters_in_any_outside_text_are_never_shown_raw(
    where: str, text: str, output: str
) -> None:
    # Issue 25, item 4: an error's field name, a path, an id, an environment value.
    tmp = Path("/nonexistent-alltx-folder")
    args, stdin, env = place(where, text, tmp)
    if args[0] == "options" or "options" in args:
        args = [*args, "-f", output]
    result = runner.invoke(app, args, input=stdin, env=env)
    survived(result)
    shows_nothing_hidden(result.stderr)
    if output != "jsonl":  # JSON keeps the value exact, with JSON's own escapes
        shows_nothing_hidden(result.stdout)


SCHEMES = ["javascript", "JavaScript", " javascript", "data", "file", "vbscript", "ftp",
           "http", "https", "HTTPS", "\tjavascript"]  # fmt: skip
link_scheme = st.sampled_from(SCHEMES)


@FEW
@given(link_scheme, st.sampled_from(["//x.example/a", "alert(1)", "///etc/passwd", ""]))
def test_only_web_addresses_pass_the_data_check_and_become_links(
    tmp_path_factory: Any, scheme: str, rest: str
) -> None:
    # Issue 25, item 3: a javascript: source address passed data check and became a link.
    url = f"{scheme}:{rest}"
    text = bundled_path("therapies.toml").read_text(encoding="utf-8")
    old = 'url = "https://dailymed.nlm.nih.gov/'
    path = tmp_path_factory.mktemp("data") / "therapies.toml"
    path.write_text(text.replace(old, f"url = {json.dumps(url)[:-1]}/", 1), encoding="utf-8")
    web = url.startswith(("https://", "http://"))
    check = runner.invoke(app, ["data", "check", str(path)])
    survived(check)
    assert (check.exit_code == 0) == web, check.stderr
    if web:
        page = runner.invoke(
            app, ["--data", str(path), "options", "--age", "19", "--relapsed", "--format", "html"]
        )
        links = re.findall(r'href="([^"]*)"', page.stdout)
        assert links and all(link.startswith(("https://", "http://", "#")) for link in links)


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from([signal.SIGINT, signal.SIGTERM, signal.SIGHUP]),
    st.floats(0.3, 1.5),
    st.sampled_from(["jsonl", "csv"]),
)
def test_a_signal_at_any_moment_leaves_whole_lines(
    tmp_path_factory: Any, signum: int, delay: float, output: str
) -> None:
    # Issue 25, item 6: SIGTERM and SIGHUP ended a run mid-record.
    import time

    folder = tmp_path_factory.mktemp("signal")
    big = folder / "big.jsonl"
    big.write_text("".join(json.dumps({"id": n, "age": n % 90}) + "\n" for n in range(200_000)))
    written = folder / f"out.{output}"
    with written.open("wb") as out:
        child = subprocess.Popen(
            [*ALLTX, "options", "-i", str(big), "-f", output], stdout=out, stderr=subprocess.PIPE
        )
        time.sleep(delay)
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    got = written.read_bytes()
    # -signum: the signal came before alltx could take it (the interpreter was still starting),
    # and ended the process as the system does, which a shell reports as 128 + signum too
    assert child.returncode in (0, 1, 128 + signum, -signum) and b"Traceback" not in err
    assert got == b"" or got.endswith(b"\n")
    if child.returncode == 128 + signum:
        assert err.decode().count("\n") == 1 and b"records written before" in err


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(
        [
            ("PYTHONIOENCODING", "ascii"),
            ("PYTHONIOENCODING", "latin-1"),
            ("PYTHONIOENCODING", "cp1252"),
            ("LC_ALL", "POSIX"),
            ("LC_ALL", "C"),
        ]
    ),
    hidden,
    st.sampled_from(["text", "csv", "jsonl", "json"]),
)
def test_any_output_encoding_is_written_without_a_traceback(
    encoding: tuple[str, str], text: str, output: str
) -> None:
    # Issue 25, item 9: an ascii or latin-1 stdout, or a lone surrogate, was a traceback.
    name, value = encoding
    env = {**os.environ, name: value, "PYTHONUTF8": "0"}
    row = json.dumps({"id": text + "\u00e9\u2713\ud800", "age": 19, "lineage": text})
    done = subprocess.run(
        [*ALLTX, "--no-pager", "options", "-i", "-", "--input-format", "jsonl", "-f", output],
        input=row.encode("utf-8", "surrogatepass"),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    assert b"Traceback" not in done.stderr and done.stdout


# Each value made in the test from a short recipe, so that a failure's report stays short
HUGE = {
    "COLUMNS": lambda: "9" * 40, "COLUMNS ": lambda: "-5", "COLUMNS  ": lambda: "1e9",
    "COLUMNS   ": lambda: "99999999", "LINES": lambda: "9" * 40,
    "ALLTX_REGULATOR": lambda: "x" * 100_000, "ALLTX_DATA": lambda: "d" * 5_000,
    "ALLTX_PAGER": lambda: "p" * 100_000, "PAGER": lambda: "\x1b[31m" * 1000,
    "NO_COLOR": lambda: "x" * 100_000, "TERM": lambda: "\x1b" * 1000,
}  # fmt: skip
COMMANDS = [["options", "--age", "19", "--relapsed"], ["drugs"], ["drug", "blinatumomab"]]


@pytest.mark.slow
@settings(max_examples=24, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(HUGE)), st.sampled_from(COMMANDS))
def test_huge_environment_values_are_one_line_or_an_answer(recipe: str, args: list[str]) -> None:
    # Issue 25, item 10: COLUMNS=99999999 laid out lines for seconds; a hang fails here.
    name, value = recipe.strip(), HUGE[recipe]()
    done = subprocess.run(
        [*ALLTX, "--no-pager", *args],
        capture_output=True,
        timeout=20,
        env={**os.environ, name: value},
    )
    assert done.returncode in (0, 1, 2) and b"Traceback" not in done.stderr
    assert done.returncode == 0 or done.stderr.count(b"\n") == 1
    shows_nothing_hidden(done.stderr.decode("utf-8", "replace"))
    assert len(done.stderr) < 2_000  # a huge value is not printed back whole
