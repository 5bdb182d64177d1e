"""Fuzzing the real CLI: whatever the arguments or the input bytes, alltx ends in exit status
0, 1 or 2 with no traceback, and accounts for every input line that holds anything."""

from __future__ import annotations

import csv
import io
import json
import string

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


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_json_lines(data: bytes) -> None:
    result = runner.invoke(app, ["options", "-i", "-", "--input-format", "jsonl", "-f", "jsonl"],
                           input=data)  # fmt: skip
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


@FUZZ
@given(rows)
def test_any_lines_of_near_json(lines: list[str]) -> None:
    data = "\n".join(lines).encode()
    result = runner.invoke(app, ["options", "-i", "-", "--input-format", "jsonl", "-f", "jsonl"],
                           input=data)  # fmt: skip
    survived(result)
    accounted(data, result.stdout)
    failed = sum("error" in json.loads(line) for line in result.stdout.splitlines())
    assert result.exit_code == (1 if failed else 0)
    assert result.stderr.count("\n") == failed  # one line on stderr per failed row


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["csv", "jsonl", "text", "json"]))
def test_any_bytes_as_csv(data: bytes, output: str) -> None:
    result = runner.invoke(app, ["options", "-i", "-", "--input-format", "csv", "-f", output],
                           input=data)  # fmt: skip
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


@FUZZ
@given(st.lists(st.lists(hostile_text, min_size=2, max_size=2), max_size=5), ends)
def test_hostile_csv_cells_never_merge_rows(cells: list[list[str]], end: str) -> None:
    body = "".join(",".join(row) + end for row in cells)
    data = ("id,age" + end + body).encode("utf-8", "surrogatepass")
    result = runner.invoke(app, ["options", "-i", "-", "--input-format", "csv", "-f", "jsonl"],
                           input=data)  # fmt: skip
    survived(result)
    for record in (json.loads(line) for line in result.stdout.splitlines()):
        # one row's error never carries another row's data: its id is its own line's cell
        if record["id"] is not None and len(cells) > 1:
            assert "\n" not in str(record["id"]) and "\r" not in str(record["id"])
