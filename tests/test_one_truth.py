"""One truth (issue 24): every road reads the same input the same way, or refuses it in one
line. Each case runs the real command in a subprocess, as a registry researcher would."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from alltx.data_files import bundled_path

ALLTX = [sys.executable, "-m", "alltx"]
LIMIT = 60  # seconds: far above any case's time; a hang fails instead of blocking CI


def alltx(*args: str, stdin: bytes = b"", cwd: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    done = subprocess.run([*ALLTX, *args], input=stdin, capture_output=True, timeout=LIMIT,
                          cwd=cwd, env={**os.environ, **(env or {})})  # fmt: skip
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    return done


def records(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.decode().splitlines()]


def test_a_key_given_twice_in_a_json_row_is_that_rows_error() -> None:
    stdin = b'{"id": "A", "age": 19, "age": 40}\n{"id": "B", "age": 40}\n'
    done = alltx("options", "-i", "-", "-f", "jsonl", stdin=stdin)
    first, second = records(done.stdout)
    assert done.returncode == 1
    assert "'age' is given twice" in first["error"] and first["field"] == "age"
    assert first["id"] is None and second["id"] == "B" and "error" not in second


def test_no_cache_stands_between_the_data_file_and_an_answer(tmp_path: Path) -> None:
    # Where alltx kept the parsed data file (named by its text's SHA-256), an edited copy
    # made Kymriah eligible at 30, and a FIFO hung every run; now nothing there is read.
    text = bundled_path().read_text(encoding="utf-8")
    folder = tmp_path / "alltx"
    folder.mkdir()
    name = hashlib.sha256(text.encode("utf-8")).hexdigest()
    (folder / f"{name}.json").write_text("{}", encoding="utf-8")
    os.mkfifo(folder / f"{name}.other.json")
    env = {"XDG_CACHE_HOME": str(tmp_path), "HOME": str(tmp_path)}
    done = alltx("options", "--age", "30", "--relapsed", "--lineage", "b", "-f", "json", env=env)
    assert done.returncode == 0, done.stderr
    statuses = {o["therapy"]: o["status"] for o in json.loads(done.stdout)["options"]}
    assert statuses["tisagenlecleucel"] == "not_eligible"
    assert not list(tmp_path.glob("alltx/*.tmp")) and len(list(folder.iterdir())) == 2


def test_a_skip_of_unknown_fields_that_leaves_none_known_is_an_error() -> None:
    stdin = b"id;age;lineage\nA;19;b\n"
    done = alltx("options", "-i", "-", "--input-format", "csv", "--ignore-unknown-fields",
                 "-f", "jsonl", stdin=stdin)  # fmt: skip
    assert done.returncode == 2 and done.stdout == b""
    assert "no column is a known field" in done.stderr.decode()
    assert done.stderr.decode().count("\n") == 1


def test_a_file_is_read_as_named_on_every_road(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    (tmp_path / "a.csv").write_text("id,age\nA,3\n")
    (tmp_path / "b.csv").write_text("id,age\nB,4\n")
    (tmp_path / "[ab].csv").write_text("id,age\nZ,9\n")
    for road in ([], ["--engine", "duckdb"]):
        done = alltx("options", "-i", "[ab].csv", "-f", "jsonl", *road, cwd=tmp_path)
        assert [r["id"] for r in records(done.stdout)] == ["Z"], (road, done.stderr)
    done = alltx("options", "-i", "[ab].csv", "-f", "parquet", "-o", "o[1].parquet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    back = alltx("options", "-i", "o[1].parquet", "-f", "jsonl", "--ignore-unknown-fields",
                 cwd=tmp_path)  # fmt: skip
    assert back.returncode == 2  # the output's columns are no input's, but it was found
    assert sorted(p.name for p in tmp_path.iterdir()) == ["[ab].csv", "a.csv", "b.csv",
                                                           "o[1].parquet"]  # fmt: skip


@pytest.mark.parametrize("make", ["folder", "fifo", "pattern"])
def test_a_folder_a_fifo_or_a_pattern_is_one_line_on_the_duckdb_road(
    tmp_path: Path, make: str
) -> None:
    pytest.importorskip("duckdb")
    (tmp_path / "a.csv").write_text("id,age\nA,3\n")
    name = {"folder": str(tmp_path), "fifo": str(tmp_path / "f.csv"),
            "pattern": str(tmp_path / "*.csv")}[make]  # fmt: skip
    if make == "fifo":
        os.mkfifo(name)
    done = alltx("options", "-i", name, "--engine", "duckdb", "--input-format", "csv",
                 "-f", "jsonl")  # fmt: skip
    assert done.returncode == 2 and done.stdout == b"", done.stdout
    assert done.stderr.decode().count("\n") == 1, done.stderr


# --- the input schema takes exactly what the parser takes -----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from alltx.facts import FACTS, FactError, parse_fact  # noqa: E402

_PIECES = ["0", "1", "9", "13", "25", "26", "100", "129", "130", "131", "1559", "1560", "1561",
           ".", "..", "00", "5", "e", "E", "-", "+", "%", " ", "\t", "\xa0", "m", "mo", "months",
           "y", "yrs", "years", "cr", "CR", "cd19", "CD22", "Ph", ":", "pos", "neg", "positive",
           "Negative", "b", "T", "b-cell", "B-ALL", "pre-B", "bcp", "t cell", "induction",
           "yes", "NO", "true", "1e-05", "e-13", "e-2", "e-0", "e-99", "x", "٣", "²"]  # fmt: skip
TEXT = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)
JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.sampled_from(
        [0.0, 1.0, 2.5, 130.0, 130.5, 100.0, 1e-05, 10**15, 10.0**15 - 1, 1e300, [1], {"a": 1}]
    ),
)


def _parser_takes(name: str, value: object) -> bool:
    try:
        parse_fact(name, value)
    except FactError:
        return False
    return True


@pytest.fixture(scope="module")
def row_schema() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    from alltx.schemas import schema_of

    return jsonschema.Draft202012Validator(schema_of("input"))


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(sorted(FACTS)), st.one_of(TEXT, JSON))
def test_the_input_schema_takes_exactly_what_the_parser_takes(
    row_schema: Any, name: str, value: object
) -> None:
    # Issue 24: the schema refused CR1, B-ALL, CD19+ and Ph-negative, which the parser takes,
    # and took "140", a 19-digit relapse number and "abc" for MRD, which it refuses.
    assert row_schema.is_valid({name: value}) == _parser_takes(name, value), (name, value)
