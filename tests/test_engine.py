"""The compiled query from the command line: `alltx sql`, and cohorts answered in DuckDB
(`--input x.parquet`, `--engine duckdb`), which must write what the Python path writes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx import sql
from alltx.answer.answers import columns
from alltx.model.data_files import load_catalog

from .conftest import sqlite_connection
from .test_facts import AGE

duckdb = pytest.importorskip("duckdb")
runner = CliRunner()
TYPES = {"double": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN", "text": "VARCHAR"}

# Patients as a registry's table holds them, a few of each kind of answer.
PATIENTS: list[dict[str, Any]] = [
    {"id": "a", "age": 19, "relapsed": True, "lineage": "b", "cd19": "positive"},
    {"id": "b", "age": 30, "refractory": True, "lineage": "b", "ph": "negative"},
    {"id": "c", "age": 8, "lineage": "b", "remission": 1, "mrd": 0.5, "cd19": "positive"},
    {"id": "d", "age": 26, "relapse": 2, "lineage": "t"},
    {"id": "e", "age": 0.5, "lineage": "b", "phase": "consolidation", "cd19": "positive"},
    {"id": "f", "age": 45, "relapsed": True, "cd22": "positive", "prior_transplant": True},
    {"id": "g", "age": 12, "relapsed": False, "induction_failure": True},
    {"id": "h", "age": 25.9, "relapse": 1, "lineage": "b", "cd19": "negative"},
    {"id": "i", "age": 5, "relapse": 0, "relapsed": True},  # a contradiction: refused
    {"id": "j"},
    {"id": "k", "age": 40, "age_at_diagnosis": 38.5, "high_risk": True, "ph": "positive"},
    # the facts the EU wording needs
    {"id": "l", "age": 9, "lineage": "b", "relapse": 1, "prior_transplant": True,
     "relapse_after_transplant": True, "high_risk_first_relapse": True, "prior_therapies": 2,
     "tkis_failed": 0, "no_alternative": False, "newly_diagnosed": False, "cd19": "positive",
     "prior_autologous_transplant": False},
]  # fmt: skip


def run(args: list[str]) -> tuple[int, str, str]:
    result = runner.invoke(app_(), args)
    return result.exit_code, result.stdout, result.stderr


def app_() -> Any:
    from alltx.cli.app import app

    return app


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]], **types: str) -> Path:
    """The rows as a Parquet file with the table's canonical types (or those given)."""
    kinds = {"id": "VARCHAR"} | {c.name: TYPES[c.sql_type] for c in sql.table_columns()}
    kinds |= types
    source = write_jsonl(path.with_suffix(".source.jsonl"), rows)
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited', "
        f"columns = {kinds!r})) TO '{path}' (FORMAT parquet)"
    )
    return path


# --- alltx sql ---------------------------------------------------------------------------------


def test_the_printed_query_runs_in_duckdb_and_sqlite_and_answers_as_the_csv(
    tmp_path: Path,
) -> None:
    source = write_jsonl(tmp_path / "cohort.jsonl", PATIENTS)
    status, expected, _ = run(["options", "-i", str(source), "-f", "csv", "-q"])
    assert status == 1  # patient i is refused
    rows = [line.split(",") for line in expected.splitlines()[1:]]

    status, query, _ = run(["sql", "--table", f"read_json('{source}')"])
    assert status == 0 and query.rstrip().endswith(";")
    assert "not medical advice" in query and load_catalog().info.release in query
    # a query without ORDER BY has no order: rows are matched by id (the engine keeps order)
    got = sorted(duckdb.connect().execute(query).fetchall(), key=lambda r: str(r[0]))
    assert [r[0] for r in got] == sorted(p["id"] for p in PATIENTS)
    for want, have in zip(sorted(rows, key=lambda r: r[0]), got, strict=True):
        if want[0] != "i":
            assert want[:1] + want[2:] == ["" if v is None else str(v) for v in have]

    names = ["id", *(c.name for c in sql.table_columns())]
    connection = sqlite_connection()
    connection.execute(f"CREATE TABLE registry ({', '.join(names)})")
    connection.executemany(
        f"INSERT INTO registry VALUES ({', '.join('?' * len(names))})",
        [tuple(p.get(n) for n in names) for p in PATIENTS],
    )
    status, query, _ = run(["sql", "--dialect", "sqlite", "--table", "registry"])
    assert sorted(connection.execute(query).fetchall(), key=lambda r: str(r[0])) == got


def test_the_query_is_compiled_from_the_data_in_use(tmp_path: Path) -> None:
    text = Path("data/therapies.toml").read_text()
    bound = 'fact = "age_years", at_most = 25'
    assert text.count(bound) == 2  # Kymriah's age bound, as the US label and the EU give it
    changed = tmp_path / "therapies.toml"
    changed.write_text(text.replace(bound, 'fact = "age_years", at_most = 30', 1))  # the US one
    table = "(SELECT 'x' AS id, 28 AS age, TRUE AS relapsed, 'b' AS lineage)"
    columns_ = "id,age,relapsed,lineage"
    statuses = []
    for data in ([], ["--data", str(changed)]):
        status, query, error = run([*data, "sql", "--table", table, "--columns", columns_])
        assert status == 0, error
        statuses.append(duckdb.connect().execute(query).fetchall()[0][1])
    assert statuses == ["not_eligible", "possible"]  # 28 is within the changed bound


def test_columns_the_table_lacks_are_unknown(tmp_path: Path) -> None:
    table = "(SELECT 1 AS id, 19 AS age)"
    status, query, _ = run(["sql", "--table", table, "--columns", "ID, Age"])
    assert status == 0
    [row] = duckdb.connect().execute(query).fetchall()
    assert row[0] == 1 and row[1] == "possible"  # the id stays a number
    assert "lineage" in row[4].split()  # among the facts that would decide

    status, _, error = run(["sql", "--columns", "id,agee"])
    assert status == 2
    assert "unknown field 'agee'; did you mean 'age'?" in error
    assert len(error.strip().splitlines()) == 1


def test_each_dialect_names_columns_its_own_way() -> None:
    for dialect, quote in (("duckdb", '"'), ("postgres", '"'), ("sqlite", "`"), ("spark", "`")):
        status, query, _ = run(["sql", "--dialect", dialect])
        assert status == 0
        assert f"{quote}status" not in query  # statuses are named by therapy
        assert f"AS {quote}tisagenlecleucel{quote}" in query
        assert f"{dialect} dialect" in query
    status, _, error = run(["sql", "--dialect", "oracle"])
    assert status == 2 and "oracle" in error
    status, _, error = run(["sql", "--table", " "])
    assert status == 2 and "--table needs" in error


def test_schema_sql_describes_the_table() -> None:
    _, out, _ = run(["schema", "sql"])
    schema = json.loads(out)
    fields = {f["name"]: f for f in schema["fields"]}
    assert list(fields) == ["id", *(c.name for c in sql.table_columns()), "birth_date", "as_of"]
    assert fields["birth_date"]["type"] == fields["as_of"]["type"] == "date"
    assert fields["age"]["type"] == "number" and fields["age"]["constraints"]["maximum"] == 130
    assert fields["lineage"]["constraints"]["enum"] == ["b", "t"]
    assert fields["relapsed"]["type"] == "boolean"
    assert fields["relapse"]["type"] == "integer"


# --- cohorts in DuckDB -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "text"])
def test_a_parquet_cohort_is_written_as_the_python_path_writes_it(tmp_path: Path, fmt: str) -> None:
    parquet = write_parquet(tmp_path / "cohort.parquet", PATIENTS)
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", PATIENTS)
    in_python = runner.invoke(app_(), ["options", "-i", str(jsonl), "-f", fmt])
    in_duckdb = runner.invoke(app_(), ["options", "-i", str(parquet), "-f", fmt])
    assert in_duckdb.exit_code == in_python.exit_code == 1  # patient i
    assert in_duckdb.stdout == in_python.stdout
    assert in_duckdb.stderr == in_python.stderr  # the same error line, same line number


def test_csv_and_tsv_run_in_duckdb_when_asked_and_json_lines_are_refused(tmp_path: Path) -> None:
    names = ["id", *(c.name for c in sql.table_columns())]
    tables = []
    for suffix, delimiter in ((".csv", ","), (".tsv", "\t")):
        table = tmp_path / f"cohort{suffix}"
        lines = [delimiter.join(names)] + [
            delimiter.join("" if p.get(n) is None else str(p[n]).lower() for n in names)
            for p in PATIENTS
        ]
        table.write_text("\n".join(lines) + "\n")
        tables.append(table)
    for table in tables:
        expected = run(["options", "-i", str(table), "-f", "csv", "-q"])
        got = run(["options", "-i", str(table), "--engine", "duckdb", "-f", "csv", "-q"])
        assert got == expected  # line numbers too: a CSV's header is its line 1
        assert expected[0] == 1
    # A JSON value keeps its type row by row (19 or "19"), which one DuckDB column cannot
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", PATIENTS)
    status, out, error = run(["options", "-i", str(jsonl), "--engine", "duckdb", "-f", "csv"])
    assert (status, out) == (2, "") and error.count("\n") == 1
    assert "JSON Lines are answered in Python" in error and "drop --engine duckdb" in error


def test_parquet_out_holds_the_csv_columns(tmp_path: Path) -> None:
    parquet = write_parquet(tmp_path / "cohort.parquet", PATIENTS)
    out = tmp_path / "answers.parquet"
    status, stdout, error = run(["options", "-i", str(parquet), "-f", "parquet", "-o", str(out)])
    assert status == 1 and stdout == ""
    line = [p["id"] for p in PATIENTS].index("i") + 1  # a Parquet row's line is its number
    assert error.splitlines() == [
        f"alltx: line {line} (id 'i'): contradictory facts: relapse 0 means no relapse now, "
        "but relapsed is yes; give only the one that is true"
    ]
    connection = duckdb.connect()
    got = connection.execute(f"SELECT * FROM read_parquet('{out}')")
    names = [d[0] for d in got.description]
    assert names == [name for name, _ in columns(load_catalog())]  # the line too
    rows = got.fetchall()
    assert [r[0] for r in rows] == [p["id"] for p in PATIENTS]
    status, csv_out, _ = run(["options", "-i", str(parquet), "-f", "csv", "-q"])
    for cells, row in zip(list(csv.reader(io.StringIO(csv_out)))[1:], rows, strict=True):
        assert cells == ["" if v is None else str(v) for v in row]


def test_a_wrong_value_is_an_error_record_in_its_place(tmp_path: Path) -> None:
    rows = [{"id": "x", "age": 200}, {"id": "y", "lineage": "B-ALL"}, {"id": "z", "age": 3}]
    parquet = write_parquet(tmp_path / "cohort.parquet", rows)
    status, out, error = run(["options", "-i", str(parquet), "-f", "jsonl"])
    assert status == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["line"], r.get("field")) for r in records] == [
        ("x", 1, "age"),
        ("y", 2, None),
        ("z", 3, None),
    ]
    assert records[0]["error"] == f"age: {AGE}"
    assert "options" in records[1] and "options" in records[2]  # B-ALL is b, as on the flags
    assert error.splitlines()[0] == f"alltx: line 1 (id 'x'): age: {AGE}"


def test_values_of_the_wrong_kind_are_errors_of_their_rows(tmp_path: Path) -> None:
    table = tmp_path / "cohort.csv"
    table.write_text("id,age,relapse,mrd\na,19,1,\nb,8x,1,\nc,5,R1,\nd,nan,,\ne,5,,inf\n")
    status, out, error = run(["options", "-i", str(table), "--engine", "duckdb", "-f", "jsonl"])
    assert status == 1
    got = [(r["id"], r.get("field"), r.get("error")) for r in map(json.loads, out.splitlines())]
    assert got == [
        ("a", None, None),
        ("b", "age", f"age: {AGE}; got '8x'"),
        ("c", "relapse", "relapse: must be a whole number from 0, of at most 15 digits; got 'R1'"),
        ("d", "age", f"age: {AGE}; got 'nan'"),
        (
            "e",
            "mrd",
            "mrd: must be a percent of 0 to 100, with at most 12 decimals (0.1 or 0.1%), or as "
            "a lab reports a level its test cannot measure: negative, negative at 0.01%, "
            "<0.01%, positive, not quantifiable; got 'inf'",
        ),
    ]
    assert len(error.splitlines()) == 4  # one line a row


@pytest.mark.slow
def test_outside_text_is_plain_in_duckdb_output_too(tmp_path: Path) -> None:
    rows = [{"id": "=cmd|' /C calc'!A0", "age": 19}, {"id": "\x1b[31mred", "age": 19}]
    parquet = write_parquet(tmp_path / "cohort.parquet", rows)
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", rows)
    for fmt in ("csv", "jsonl", "text"):
        _, expected, _ = run(["options", "-i", str(jsonl), "-f", fmt, "-q"])
        _, out, _ = run(["options", "-i", str(parquet), "-f", fmt, "-q"])
        assert out == expected
        assert "\x1b" not in out
    assert "'=cmd" in run(["options", "-i", str(parquet), "-f", "csv", "-q"])[1]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--input-format", "parquet", "-i", "-"], "not stdin"),
        (["-f", "parquet"], "give --output FILE"),
        (["-f", "csv", "-o", "x.parquet"], "names a parquet file and --format is csv"),
        (["--explain"], "--explain answers in Python"),
        (["-j", "2", "-f", "jsonl"], "drop --jobs"),
        (["--fail-fast", "-f", "parquet", "-o", "x.parquet"], "drop one"),
        (["--engine", "python"], "a Parquet file is read by DuckDB: drop --engine python"),
    ],
)
def test_usage_the_engine_cannot_serve_is_one_line(
    tmp_path: Path, args: list[str], said: str
) -> None:
    parquet = write_parquet(tmp_path / "cohort.parquet", PATIENTS)
    given = [a if a != "-" else "-" for a in args]
    if "-i" not in given:
        given += ["-i", str(parquet)]
    status, _, error = run(["options", *given])
    assert status == 2
    assert said in error and len(error.strip().splitlines()) == 1


def test_a_parquet_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    parquet = write_parquet(tmp_path / "cohort.parquet", PATIENTS)
    out = tmp_path / "no such folder" / "answers.parquet"
    alltx = [sys.executable, "-m", "alltx", "options", "-i", str(parquet), "-f", "parquet"]
    done = subprocess.run([*alltx, "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 74  # as any output alltx cannot write
    assert done.stderr.strip().splitlines() == [
        "alltx: error: cannot write the output: No such file or directory; check the disk or "
        "where the output goes"
    ]


@pytest.fixture
def full_disk(tmp_path: Path) -> Any:
    """A folder on a 200 KB file system of its own (tmpfs, mounted here and unmounted after;
    root only): a real full disk."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.slow
def test_a_full_disk_is_the_outputs_error_and_leaves_no_file(
    tmp_path: Path, full_disk: Path
) -> None:
    # Issue 25, item 13: a full disk under --format parquet exited 2 with DuckDB's text and
    # left a 0-byte file; an output alltx cannot write is exit 74 in its own words.
    rows = [{"id": f"p{n}", "age": n % 90, "relapsed": n % 3 == 0} for n in range(30_000)]
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", rows)
    parquet = write_parquet(tmp_path / "cohort.parquet", rows)
    said = (
        "alltx: error: cannot write the output: No space left on device; check the disk "
        "or where the output goes\n"
    )

    def to_parquet(given: Path, out: Path, *more: str, **env: str) -> CompletedProcess[str]:
        command = ["options", "-i", str(given), "-f", "parquet", "-o", str(out), *more]
        return subprocess.run(
            [sys.executable, "-m", "alltx", *command],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )

    for given in (jsonl, parquet):  # answered in Python, and in DuckDB
        done = to_parquet(given, full_disk / "out.parquet")
        assert (done.returncode, done.stderr) == (74, said)
        assert list(full_disk.iterdir()) == []
    # The temporary folder full: the records DuckDB writes (answered in Python), or the rows
    # it reads (--engine duckdb), go there first
    table = tmp_path / "cohort.csv"
    table.write_text("id,age,relapsed\n" + "".join(f"p{n},{n % 90},yes\n" for n in range(30_000)))
    out = tmp_path / "out.parquet"
    for given, more, what in ((jsonl, [], "records"), (table, ["--engine", "duckdb"], "rows")):
        done = to_parquet(given, out, *more, TMPDIR=str(full_disk))
        assert (done.returncode, done.stderr) == (
            74,
            f"alltx: error: cannot write the {what} "
            "for DuckDB in the temporary folder: No space left on device\n",
        )
        assert not out.exists()


@pytest.mark.slow
def test_a_csv_of_ten_thousand_columns_is_read_by_its_header_on_the_engine(
    tmp_path: Path,
) -> None:
    # Issue 25, item 11: DuckDB read every column of such a file for one row (2.4 s, 332 MB);
    # Python's csv module reads the header, and only the facts' cells go to DuckDB.
    wide = tmp_path / "wide.csv"
    names = ["id", "age", "relapsed", *(f"c{n}" for n in range(10_000))]
    wide.write_text(",".join(names) + "\n" + ",".join(["A", "19", "yes", *["x"] * 10_000]) + "\n")
    status, out, error = run(["options", "-i", str(wide), "--engine", "duckdb", "-f", "jsonl"])
    assert (status, out) == (2, "") and "10000 unknown fields" in error
    skip = ["--ignore-unknown-fields", "-f", "jsonl"]
    engine = run(["options", "-i", str(wide), "--engine", "duckdb", *skip])
    assert engine == run(["options", "-i", str(wide), *skip]) and engine[0] == 0


def test_duckdb_memory_is_bounded_and_spills_into_alltx_own_folder(tmp_path: Path) -> None:
    # Issue 25, item 11: 3M answers to Parquet peaked at 1.35 GB; an in-memory DuckDB would
    # spill into .tmp in the current folder.
    from alltx.batch import duckdb_engine

    parquet = write_parquet(tmp_path / "cohort.parquet", PATIENTS)
    prepared = duckdb_engine.prepare(load_catalog(), str(parquet), False)
    [(limit, spill)] = prepared.connection.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchall()
    fresh = duckdb.connect()
    default = fresh.execute("SELECT current_setting('memory_limit')").fetchone()
    fresh.execute(f"SET memory_limit = '{duckdb_engine.MEMORY_LIMIT}'")
    assert (limit,) == fresh.execute("SELECT current_setting('memory_limit')").fetchone()
    assert (limit,) != default and limit.startswith(("715.2 MiB", "750.0 MB"))
    assert prepared.folder is not None and spill.startswith(prepared.folder.name)
    # DuckDB's own progress bar, drawn over a statement of over two seconds (it was, on stderr)
    bar = "SELECT current_setting('enable_progress_bar')"
    assert prepared.connection.execute(bar).fetchall() == [(False,)]


@pytest.mark.slow
def test_a_large_cohort_keeps_its_order_on_the_engine(tmp_path: Path) -> None:
    # The records are read from a table sorted by line, not from joins, which need not keep
    # the order of their rows (sql.engine_statements). Over rows enough for DuckDB to share
    # among many threads, each record is in its row's place, written to Parquet and read back
    # as CSV rows are, and each is the answer the Python path gives its patient (PATIENTS
    # repeated). (Joined without that sort, 300,000 rows came back out of order; 120,000 did not.)
    from alltx.batch import duckdb_engine

    copies = 25_000
    parquet = tmp_path / "cohort.parquet"
    source = write_parquet(tmp_path / "one.parquet", PATIENTS)
    duckdb.connect().execute(
        f"COPY (SELECT p.* REPLACE (p.id || '-' || c.copy AS id) FROM read_parquet('{source}') "
        f"AS p, range({copies}) AS c(copy) ORDER BY c.copy, p.id) TO '{parquet}' (FORMAT parquet)"
    )
    ids = [
        i
        for (i,) in duckdb.connect().execute(f"SELECT id FROM read_parquet('{parquet}')").fetchall()
    ]
    _, python, _ = run(
        ["options", "-i", str(write_jsonl(tmp_path / "p.jsonl", PATIENTS)), "-f", "csv", "-q"]
    )
    answers = {r[0]: r[2:] for r in list(csv.reader(io.StringIO(python)))[1:]}
    out = tmp_path / "answers.parquet"
    for way in ("parquet", "rows"):
        prepared = duckdb_engine.prepare(load_catalog(), str(parquet), False)
        prepared.connection.execute("SET threads = 8")
        if way == "parquet":
            prepared.to_parquet(str(out))
            got = duckdb.connect().execute(f"SELECT * FROM read_parquet('{out}')").fetchall()
        else:
            got = [(row[0], row[-1], *row[1:-1]) for row in prepared.results()]  # line last
        assert [(row[0], row[1]) for row in got] == [(i, n) for n, i in enumerate(ids, 1)]
        assert all(
            ["" if v is None else str(v) for v in row[2:]] == answers[row[0][:1]] for row in got
        )


def test_engine_flags_need_a_cohort() -> None:
    status, _, error = run(["options", "--age", "19", "--engine", "duckdb"])
    assert status == 2 and "are for a cohort" in error


def test_broken_inputs_are_one_line_each(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    unknown = write_parquet(tmp_path / "unknown.parquet", [{"id": "a", "age": 3}])
    duckdb.connect().execute(f"COPY (SELECT 'a' AS id, 3 AS agee) TO '{unknown}' (FORMAT parquet)")
    for args, said in (
        (["-i", str(broken)], str(broken)),
        (["-i", str(tmp_path / "none.parquet")], "none.parquet"),
        (["-i", str(unknown)], "Parquet columns: unknown field 'agee'; did you mean 'age'?"),
    ):
        status, out, error = run(["options", *args, "-f", "jsonl"])
        assert status == 2, (args, out, error)
        assert said in error and len(error.strip().splitlines()) == 1, error
        assert "Traceback" not in error


def test_a_record_the_csv_module_refuses_is_that_rows_error_on_the_engine_too(
    tmp_path: Path,
) -> None:
    # Issue 24: DuckDB refused a whole file for one ragged row, and numbered rows by count
    # (a blank line or a quoted line break moved every later line); Python's csv module
    # reads a text file on every road now.
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,age\n" + "a,3\n" * 3000 + 'b,4,5,6\n\n"c\nd",5\ne,"1"9\nf,8m\n')
    for fmt in ("jsonl", "csv"):
        python = run(["options", "-i", str(ragged), "-f", fmt])
        engine = run(["options", "-i", str(ragged), "-f", fmt, "--engine", "duckdb"])
        assert engine == python and python[0] == 1
    records = [json.loads(line) for line in python_jsonl(ragged)]
    assert [(r["id"], r["line"]) for r in records[-4:]] == [
        ("b", 3002),
        ("c\nd", 3004),
        (None, 3006),
        ("f", 3007),
    ]
    assert "4 cells where the header has 2" in records[-4]["error"]
    assert "not valid CSV" in records[-2]["error"]


def python_jsonl(path: Path) -> list[str]:
    return run(["options", "-i", str(path), "-f", "jsonl", "-q"])[1].splitlines()


def test_a_column_named_twice_in_two_cases_is_refused_in_parquet_as_in_csv(
    tmp_path: Path,
) -> None:
    # Issue 25, item 16: DuckDB renames `AGE` beside `age` to AGE_1, and alltx blamed an
    # unknown field 'age_1' that the file does not have. Another writer can name them so: the
    # file is written with `zzz`, and the name's bytes swapped (same length, no checksum).
    written = tmp_path / "written.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT 'A' AS id, '19' AS age, '40' AS zzz) TO '{written}' (FORMAT parquet)"
    )
    both = tmp_path / "both.parquet"
    both.write_bytes(written.read_bytes().replace(b"zzz", b"AGE"))
    status, out, error = run(["options", "-i", str(both), "-f", "jsonl"])
    assert (status, out) == (2, "")
    assert (
        error
        == "alltx: error: Parquet columns: column 'AGE' is named twice (as 'age' too); give each "
        "column once\n"  # each as written (issue 42, 15)
    )
    csv_file = tmp_path / "both.csv"
    csv_file.write_text("id,age,AGE\nA,19,40\n")
    _, _, csv_error = run(["options", "-i", str(csv_file), "-f", "jsonl"])
    assert csv_error == error.replace("Parquet columns", "CSV header")


def test_without_duckdb_one_line_says_how_to_install_it(tmp_path: Path) -> None:
    parquet = write_parquet(tmp_path / "cohort.parquet", PATIENTS)
    code = (
        "import sys; sys.modules['duckdb'] = None; sys.argv = ['alltx', 'options', '-i', "
        f"{str(parquet)!r}]; from alltx.cli.app import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "alltx: error: reading a cohort with DuckDB needs DuckDB, an optional part of alltx: "
        "pip install 'alltx[duckdb]' (from a checkout: pip install '.[duckdb]'; or pip install "
        "duckdb beside alltx)"
    ]


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    rows = [{"id": f"p{n}", "age": n % 90, "relapsed": True} for n in range(200_000)]
    parquet = write_parquet(tmp_path / "big.parquet", rows)
    alltx = [sys.executable, "-m", "alltx", "options", "-i", str(parquet), "-f", "jsonl"]
    with subprocess.Popen(alltx, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        process.stdout.close()
        status = process.wait(timeout=60)
        assert process.stderr is not None
        error = process.stderr.read()
    assert json.loads(first)["id"] == "p0"
    assert status == 141 and b"Traceback" not in error


def test_ids_from_a_hostile_data_file_are_refused_and_names_stay_names(tmp_path: Path) -> None:
    text = Path("data/therapies.toml").read_text()
    hostile = "tisa\"; DROP TABLE patients; --`'x"  # a quote of each kind
    assert text.count('\nid = "tisagenlecleucel"\n') == 1
    changed = tmp_path / "therapies.toml"
    as_toml = hostile.replace('"', '\\"')
    changed.write_text(text.replace('\nid = "tisagenlecleucel"\n', f'\nid = "{as_toml}"\n'))
    status, query, error = run(["--data", str(changed), "sql", "--dialect", "duckdb"])
    assert status == 1 and "therapies[0].id" in error and query == ""
    # The quoting the query's names go through holds on its own, in real engines.
    for dialect in ("duckdb", "sqlite"):
        name = sql.DIALECTS[dialect].name_of(hostile)
        connection = duckdb.connect() if dialect == "duckdb" else sqlite_connection()
        connection.execute("CREATE TABLE patients AS SELECT 1 AS kept")
        result = connection.execute(f"SELECT 'possible' AS {name}")
        assert [d[0] for d in result.description] == [hostile]
        assert connection.execute("SELECT kept FROM patients").fetchall() == [(1,)]


def test_unknown_columns_are_skipped_when_asked(tmp_path: Path) -> None:
    parquet = tmp_path / "cohort.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT 'a' AS ID, 19 AS Age, TRUE AS relapsed, 'x' AS ward) TO '{parquet}' "
        "(FORMAT parquet)"
    )
    status, _, error = run(["options", "-i", str(parquet), "-f", "jsonl"])
    assert status == 2 and "unknown field 'ward'" in error
    status, out, _ = run(["options", "-i", str(parquet), "-f", "jsonl", "--ignore-unknown-fields"])
    assert status == 0 and json.loads(out)["id"] == "a"  # ID and Age: id and age, in any case
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", [{"id": "a", "age": 19, "relapsed": True}])
    assert out == run(["options", "-i", str(jsonl), "-f", "jsonl"])[1]


@pytest.mark.parametrize("ids", ["numbers", "none"])
def test_ids_of_other_kinds_are_carried_as_the_python_path_carries_them(
    tmp_path: Path, ids: str
) -> None:
    rows = [{k: v for k, v in p.items() if k != "id"} for p in PATIENTS]
    if ids == "numbers":
        rows = [{"id": 1000 + n, **row} for n, row in enumerate(rows)]
    parquet = write_parquet(tmp_path / "cohort.parquet", rows, id="BIGINT")
    if ids == "none":  # a table without an id column
        duckdb.connect().execute(
            f"COPY (SELECT * EXCLUDE (id) FROM read_parquet('{parquet}')) TO "
            f"'{tmp_path / 'no-id.parquet'}' (FORMAT parquet)"
        )
        parquet = tmp_path / "no-id.parquet"
    jsonl = write_jsonl(tmp_path / "cohort.jsonl", rows)
    for fmt in ("jsonl", "csv"):
        assert run(["options", "-i", str(parquet), "-f", fmt]) == run(
            ["options", "-i", str(jsonl), "-f", fmt]
        )


class _Stop(BaseException):
    """What alltx's own SIGTERM handler raises (cli.base.Stopped), for a test of the engine."""


@pytest.mark.slow
def test_a_signal_during_a_duckdb_statement_cancels_it_and_reaches_its_handler(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Issue 42, 10: the handler's exception was raised inside DuckDB, which printed
    # "Exception ignored ... Stopped: 15" and ended in a RuntimeError traceback.
    import signal
    import threading

    from alltx.batch import duckdb_engine

    def stop(signum: int, frame: object) -> None:
        raise _Stop(signum)

    connection = duckdb.connect()
    prepared = duckdb_engine.Prepared(connection, "", duckdb.Error)
    previous = signal.signal(signal.SIGTERM, stop)
    # A statement of seconds; the signal is sent once _run holds the signals (the state it
    # needs), so it lands while the statement runs (or, at worst, just before it starts).
    long = "SELECT count(*) FROM range(3000000000) AS t(x) WHERE x % 7 = 3"

    def send() -> None:
        while (held := signal.getsignal(signal.SIGTERM)) is stop:
            pass
        if held is not previous:  # not once the test has ended
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=send).start()
    try:
        with pytest.raises(_Stop):
            prepared._run(connection.execute, long)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert signal.getsignal(signal.SIGTERM) is previous
    assert "Exception ignored" not in capfd.readouterr().err
    assert connection.execute("SELECT 42").fetchall() == [(42,)]  # the connection still works


@pytest.mark.slow
def test_sigterm_while_duckdb_writes_parquet_is_one_line_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # Issue 42, 10: 7 of 12 tries left a temporary folder, and said "Exception ignored".
    import signal

    big = tmp_path / "big.csv"  # read by Python, then handed to DuckDB's statements
    duckdb.connect().execute(
        "COPY (SELECT 'p' || i AS id, i % 90 AS age, 'yes' AS relapsed, 'b' AS lineage, "
        f"'positive' AS cd19 FROM range(500000) AS t(i)) TO '{big}' (HEADER)"
    )
    temporary, out = tmp_path / "tmp", tmp_path / "out"
    temporary.mkdir()
    out.mkdir()
    answers = out / "answers.parquet"
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alltx",
            "options",
            "-i",
            str(big),
            "--engine",
            "duckdb",
            "-o",
            str(answers),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    # The state the signal needs: DuckDB's COPY under way, its file begun beside the output
    while not any(folder.is_dir() and any(folder.iterdir()) for folder in out.iterdir()):
        assert run.poll() is None, run.stderr and run.stderr.read()
    run.send_signal(signal.SIGTERM)
    _, error = run.communicate(timeout=120)
    assert (run.returncode, error) == (
        143,
        f"alltx: error: stopped by SIGTERM; nothing was written to {answers} (it is as it was)\n",
    )
    assert list(out.iterdir()) == [] and list(temporary.iterdir()) == []
