"""alltx sql: the rules compiled to one query give the Python path's answers, row for row.

The differential runs the query in DuckDB and in SQLite (the standard library's) over the oracle
grid of tests/test_oracle.py (every combination of the facts each label reads: about a million
patients), with the referral facts cycled through it; in PostgreSQL over a part of it (a real
server, started here on a local socket); and in both embedded engines over tables hypothesis
makes, values at every threshold and values the query must refuse included.
"""

from __future__ import annotations

import calendar
import csv
import functools
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alltx import sql
from alltx.answer import answers
from alltx.batch import streaming
from alltx.core.facts import FactError, facts_from, month_days, parse_age
from alltx.io.input_rows import Failure, Row
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog

from .conftest import sqlite_connection
from .test_oracle import READS, grid

duckdb = pytest.importorskip("duckdb")

COLUMNS = ["id", *(c.name for c in sql.table_columns())]
DUCKDB_TYPES = {"double": "DOUBLE", "integer": "BIGINT", "boolean": "BOOLEAN", "text": "VARCHAR"}
# The referral facts, cycled through the oracle grid (which varies the eligibility facts): an
# age at diagnosis after the age now is among them, and is refused by both.
REFERRAL: list[dict[str, Any]] = [
    {},
    {"induction_failure": True},
    {"age_at_diagnosis": 11 / 12},
    {"high_risk": False},
    {"induction_failure": False, "high_risk": False},
    {"high_risk": True},
    {"induction_failure": False, "age_at_diagnosis": 30},
]


@functools.cache
def years(age: object) -> float:
    return float(parse_age(age))


def canonical(given: dict[str, Any]) -> dict[str, Any]:
    """A grid patient as a table holds it: ages as numbers of years."""
    row = dict(given)
    for name in ("age", "age_at_diagnosis"):
        if name in row:
            row[name] = years(row[name])
    return row


STATE = ("relapsed", "relapse", "refractory", "remission")
CONTRADICTIONS_KEPT = 10  # one in this many patients whose relapse facts contradict


@functools.cache
def contradicts(state: tuple[Any, ...]) -> bool:
    try:
        facts_from({k: v for k, v in zip(STATE, state, strict=True) if v is not None})
    except FactError:
        return True
    return False


def oracle_grid() -> list[dict[str, Any]]:
    """The oracle's grid: every patient whose relapse facts agree (each label's facts in every
    combination, with every age and state), and one in ten of those whose relapse facts
    contradict each other (135 of the grid's 225 states: every contradiction, with ages and
    labels' facts across their values); the referral facts cycled through."""
    rows = []
    for number, patient in enumerate(itertools.chain.from_iterable(grid(t) for t in READS)):
        if contradicts(tuple(map(patient.get, STATE))) and number % CONTRADICTIONS_KEPT:
            continue
        row = canonical({**patient, **REFERRAL[number % len(REFERRAL)]})
        rows.append({"id": f"p{number}", **row})
    return rows


# --- what each path says, as comparable rows ------------------------------------------------

Said = tuple[Any, ...]


def python_says(
    catalog: Catalog, rows: list[dict[str, Any]], as_of: date | None = None
) -> list[Said]:
    """The Python path's compact CSV cells for each row (without `line`), or its error as
    (field, message) where the error names no field (a contradiction, worded the same)."""
    fmt = streaming.Csv(catalog)
    answering = streaming.Answering(catalog, fmt, as_of=as_of)
    said: list[Said] = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "id"}
        answer = answering.answer(Row(1, row["id"], fields))
        if isinstance(answer, Failure):
            said.append(("error", answer.field, None if answer.field else answer.message))
            continue
        [cells] = csv.reader([fmt.answer(Row(1, row["id"], {}), answer)])
        del cells[1]  # line
        said.append(tuple(cells))
    return said


def query_says(results: list[tuple[Any, ...]], rows: list[dict[str, Any]]) -> list[Said]:
    """The query's rows in the same terms (NULL as an empty cell), in the order of `rows`: a
    query without ORDER BY has no order (its joins need not keep the table's), so each result
    is matched to its row by the id, its first column (every id in these tables is unique)."""
    at = [name for name, _ in answers.columns(load_catalog()) if name != "line"].index("error")
    place = {row["id"]: number for number, row in enumerate(rows)}
    assert len(place) == len(rows) == len(results)
    said: list[Said] = []
    for result in sorted(results, key=lambda result: place[result[0]]):
        error = result[at]
        if error is not None:
            field = sql.error_field(error)
            said.append(("error", field, None if field else error))
        else:
            said.append(tuple("" if cell is None else str(cell) for cell in result))
    return said


def assert_agree(rows: list[dict[str, Any]], expected: list[Said], got: list[Said]) -> None:
    assert len(got) == len(expected) == len(rows)
    wrong = [(row, e, g) for row, e, g in zip(rows, expected, got, strict=True) if e != g]
    assert wrong == [], f"{len(wrong)} of {len(rows)}: {wrong[:3]}"


Grid = tuple[list[dict[str, Any]], list[Said]]


def part_of(the_grid: Grid, step: int) -> Grid:
    """Every `step`th patient of the grid, with what Python says of each; a step that shares
    no factor with the grid's sizes (2, 3, 5) keeps every value of every fact in the part."""
    rows, expected = the_grid
    return rows[::step], expected[::step]


# --- engines --------------------------------------------------------------------------------


def filled(
    connection: Any,
    columns: Sequence[str],
    rows: list[dict[str, Any]],
    types: Mapping[str, str] | None = None,
    table: str = "patients",
) -> Any:
    """`connection` (DuckDB's or sqlite3's) with a table of the rows, its columns of `types`
    (untyped where None: SQLite keeps each value's own)."""
    declared = ", ".join(f"{name} {types[name]}" if types else name for name in columns)
    connection.execute(f"CREATE TABLE {table} ({declared})")
    connection.executemany(
        f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})",
        [tuple(row.get(name) for name in columns) for row in rows],
    )
    return connection


def copied(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    rows: list[dict[str, Any]],
    types: Mapping[str, str],
) -> None:
    """A PostgreSQL table of the rows, copied in."""
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {types[c]}' for c in columns)})")
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row.get(name) for name in columns])


def in_duckdb(catalog: Catalog, rows: list[dict[str, Any]], types: dict[str, str]) -> list[Any]:
    connection = filled(duckdb.connect(), COLUMNS, rows, types)
    return connection.execute(
        sql.compile_query(catalog, sql.DIALECTS["duckdb"], "patients")
    ).fetchall()


def in_sqlite(catalog: Catalog, rows: list[dict[str, Any]]) -> list[Any]:
    connection = filled(sqlite_connection(), COLUMNS, rows)
    query = sql.compile_query(catalog, sql.DIALECTS["sqlite"], "patients")
    return connection.execute(query).fetchall()


def table_types() -> dict[str, str]:
    return {"id": "VARCHAR"} | {c.name: DUCKDB_TYPES[c.sql_type] for c in sql.table_columns()}


@pytest.fixture(scope="module")
def the_grid(catalog: Catalog) -> Grid:
    rows = oracle_grid()
    return rows, python_says(catalog, rows)


@pytest.mark.slow
def test_the_grid_is_the_oracles_and_holds_refused_rows(
    the_grid: Grid,
) -> None:
    rows, expected = the_grid
    whole = sum(len(grid(t)) for t in READS)
    assert whole > 1_000_000
    assert whole * 0.4 < len(rows) < whole * 0.5  # 90 of the 225 states, a tenth of the rest
    refused = [e for e in expected if e[0] == "error"]
    assert {e[1] for e in refused} == {None, "age_at_diagnosis"}  # contradictions, and after
    messages = {e[2].split(" means")[0] for e in refused if e[1] is None}
    assert messages == {
        f"contradictory facts: {fact} {n}" for fact in ("relapse", "remission") for n in range(4)
    } - {"contradictory facts: remission 0"}


@pytest.mark.slow
def test_duckdb_gives_the_python_answers_over_the_oracle_grid(
    catalog: Catalog, the_grid: Grid
) -> None:
    rows, expected = the_grid
    # Loaded as a JSON Lines file, as a million inserts would take minutes.
    connection = duckdb.connect()
    got = _duckdb_over(connection, catalog, rows)
    assert_agree(rows, expected, query_says(got, rows))


def _duckdb_over(connection: Any, catalog: Catalog, rows: list[dict[str, Any]]) -> list[Any]:
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as file:
        file.writelines(json.dumps(row) + "\n" for row in rows)
        file.flush()
        columns = repr(table_types())
        connection.execute(
            f"CREATE TABLE patients AS SELECT * FROM read_json('{file.name}', "
            f"format = 'newline_delimited', columns = {columns})"
        )
    query = sql.compile_query(catalog, sql.DIALECTS["duckdb"], "patients")
    return connection.execute(query).fetchall()  # type: ignore[no-any-return]


@pytest.mark.slow
def test_sqlite_gives_the_python_answers_over_the_oracle_grid(
    catalog: Catalog, the_grid: Grid
) -> None:
    rows, expected = the_grid
    assert_agree(rows, expected, query_says(in_sqlite(catalog, rows), rows))


@pytest.mark.slow
def test_the_engines_give_the_python_answers_under_the_eu_authorisations() -> None:
    """The EU oracle's grids (tests/test_oracle_eu.py: every EU boundary and the EU facts), a
    third of their rows, through DuckDB and SQLite with the query compiled from the EU view."""
    from .test_oracle_eu import GRIDS
    from .test_oracle_eu import grid as eu_grid

    catalog = load_catalog(regulator="ema")
    patients = [
        p for grids in GRIDS.values() for ages, reads in grids for p in eu_grid(ages, reads)
    ]
    rows = [{"id": f"e{n}", **canonical(p)} for n, p in enumerate(patients) if n % 3 == 0]
    expected = python_says(catalog, rows)
    assert {e[-2] for e in expected if e[0] != "error"} == {"ema"}  # each row names the EU
    assert any(e[0] == "error" for e in expected)
    assert_agree(rows, expected, query_says(_duckdb_over(duckdb.connect(), catalog, rows), rows))
    assert_agree(rows, expected, query_says(in_sqlite(catalog, rows), rows))


# --- fuzzed tables -----------------------------------------------------------------------------


def _near(bound: Fraction) -> list[float]:
    """Floats at a bound: the nearest, and the floats on either side."""
    x = float(bound)
    return [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]


# Every threshold a label uses, in years and in months, and the percents.
AGE_EDGES = sorted(
    {v for k in range(0, 40) for v in [*_near(Fraction(k, 12)), *_near(Fraction(k))]}
)
AGE_EDGES = [v for v in AGE_EDGES if v >= 0]
MRD_EDGES = [*_near(Fraction(1, 10)), *_near(Fraction(1, 100)), 0.0, 100.0]


def _value(column: sql.Column) -> st.SearchStrategy[Any]:
    """Values of one column: right ones at and near every threshold, and wrong ones the Python
    path also refuses; typed values (text, with its spellings, is test_one_truth's)."""
    none = st.none()
    if column.kind == "age":
        right = st.one_of(st.sampled_from(AGE_EDGES), st.floats(0, 130), st.integers(0, 130))
        return st.one_of(none, right, st.sampled_from([-1.0, 130.5, 200, math.inf]))
    if column.kind == "percent":
        right = st.one_of(st.sampled_from(MRD_EDGES), st.floats(0, 100))
        return st.one_of(none, right, st.sampled_from([-0.5, 100.01, -math.inf]))
    if column.kind == "count":
        return st.one_of(
            none,
            st.integers(0, 4),
            st.sampled_from([-1, 1.5, math.inf, 10**15 - 1, 10.0**15, 1e300]),
        )
    if column.kind == "bool":
        return st.one_of(none, st.booleans())
    return st.one_of(none, st.sampled_from(column.values), st.sampled_from(["x", "unknown"]))


ROW = st.fixed_dictionaries({c.name: _value(c) for c in sql.table_columns()})


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=40), st.sampled_from(["fda", "ema"]))
def test_fuzzed_tables_agree_between_engines_and_python(
    table: list[dict[str, Any]], regulator: str
) -> None:
    catalog = load_catalog(regulator=regulator)
    # In the table's column order: of two wrong values, both paths name the first.
    rows = [
        {"id": f"r{n}", **{k: row[k] for k in COLUMNS[1:] if row[k] is not None}}
        for n, row in enumerate(table)
    ]
    expected = python_says(catalog, rows)
    # Counts as numbers, so that 1.5 reaches the query (an integer column could not hold it).
    types = table_types() | {c.name: "DOUBLE" for c in sql.table_columns() if c.kind == "count"}
    assert query_says(in_duckdb(catalog, rows, types), rows) == expected
    assert query_says(in_sqlite(catalog, rows), rows) == expected


# --- ages from dates (issue 28) ---------------------------------------------------------------

AS_OF = date(2026, 12, 1)


def _day_near_a_month_end(draw: Any) -> date:
    year = draw(st.sampled_from([1896, 1900, 2000, 2008, 2019, 2023, 2024, 2025, 2026, 2027]))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, draw(st.sampled_from([1, 2, 27, 28, last - 1, last])))


@st.composite
def _dated_row(draw: Any) -> dict[str, Any]:
    """A birth date and the day it is taken at, near month ends and leap days (where a month
    is completed on a day that does not exist), some out of order or not a day at all; the
    as-of day is the row's own, or the run's."""
    born, at = _day_near_a_month_end(draw), _day_near_a_month_end(draw)
    wrong = st.sampled_from(["2023-02-29", "2024-04-31", "2024-1-1", " ", "x", "0000-01-01"])
    row = {
        "birth_date": draw(st.one_of(st.just(born.isoformat()), wrong, st.none())),
        "as_of": draw(st.one_of(st.just(at.isoformat()), st.none(), wrong)),
        "age": draw(st.sampled_from([None, None, None, "3", " "])),  # beside a birth date
        "relapsed": True,
        "lineage": "b",
        "cd19": "positive",
    }
    return {k: v for k, v in row.items() if v is not None}


DATED_COLUMNS = ["id", "birth_date", "as_of", "age", "relapsed", "lineage", "cd19"]


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_dated_row(), min_size=1, max_size=40), st.sampled_from(["fda", "ema"]))
def test_ages_from_dates_agree_between_engines_and_python(
    table: list[dict[str, Any]], regulator: str
) -> None:
    catalog = load_catalog(regulator=regulator)
    rows = [{"id": f"r{n}", **row} for n, row in enumerate(table)]
    expected = python_says(catalog, rows, AS_OF)
    text = {
        "id": "VARCHAR",
        "birth_date": "VARCHAR",
        "as_of": "VARCHAR",
        "age": "VARCHAR",
        "relapsed": "BOOLEAN",
        "lineage": "VARCHAR",
        "cd19": "VARCHAR",
    }
    connection = filled(duckdb.connect(), DATED_COLUMNS, rows, text)
    query = sql.compile_query(
        catalog, sql.DIALECTS["duckdb"], "patients", DATED_COLUMNS, as_of=AS_OF
    )
    assert query_says(connection.execute(query).fetchall(), rows) == expected
    # typed dates, where every value is a day: DuckDB's DATE read as its text
    typed = [row for row in rows if all(_is_day(row.get(n)) for n in ("birth_date", "as_of"))]
    connection.execute(
        "CREATE TABLE typed AS SELECT id, TRY_CAST(birth_date AS DATE) AS "
        "birth_date, TRY_CAST(as_of AS DATE) AS as_of, age, relapsed, lineage, "
        "cd19 FROM patients"
    )
    query = sql.compile_query(catalog, sql.DIALECTS["duckdb"], "typed", DATED_COLUMNS, as_of=AS_OF)
    got = {result[0]: result for result in connection.execute(query).fetchall()}
    assert query_says([got[row["id"]] for row in typed], typed) == python_says(
        catalog, typed, AS_OF
    )
    sqlite = filled(sqlite_connection(), DATED_COLUMNS, rows)
    query = sql.compile_query(
        catalog, sql.DIALECTS["sqlite"], "patients", DATED_COLUMNS, as_of=AS_OF
    )
    assert query_says(sqlite.execute(query).fetchall(), rows) == expected


def _is_day(text: object) -> bool:
    """A date parse_date takes with nothing around it, or none (a typed column's values)."""
    return text is None or (isinstance(text, str) and len(text) == 10 and _parses(text))


def _parses(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- ages in days or weeks (issue 28) ----------------------------------------------------------


def day_rows() -> list[dict[str, Any]]:
    """Ages in days and weeks on each side of each end of the days in which the labels' months
    are completed (1 month; 1, 18, 25 and 26 years: facts.month_days), beside ages at diagnosis
    in days, months and years (in order, out of it, and where the calendar leaves it open), and
    ages at diagnosis in days with no age (bounding it)."""
    counts: set[int] = {0, 7, 21, 30, 47507, 47508}
    for months in (1, 12, 216, 300, 312):
        fewest, most = month_days(months)
        counts |= {fewest - 1, fewest, fewest + 1, most - 1, most, most + 1}
    ages = [f"{d}d" for d in sorted(counts)] + [
        f"{d // 7} weeks" for d in sorted(counts) if d % 7 == 0
    ]
    at_diagnosis = ["", "", "20d", "2m", "1", "3w", "60d", "6574 days", "96d", "x"]
    rows = []
    for n, age in enumerate(ages):
        for k, diagnosed in enumerate(at_diagnosis):
            if (n + k) % 3 == 0:
                rows.append({"age": age, "age_at_diagnosis": diagnosed})
    rows += [{"age": "", "age_at_diagnosis": f"{d}d"} for d in sorted(counts)]
    # an age in months or years beside one at diagnosis in days: where the completed months of
    # the days are surely more, or may be the same
    rows += [
        {"age": age, "age_at_diagnosis": f"{d}d"}
        for age in ("2m", "1", "18")
        for d in (59, 62, 70, 95, 96, 365, 366, 400, 6574, 6600)
    ]
    return [
        {"id": f"d{n}", **row, "relapsed": "yes", "lineage": "b", "cd19": "positive"}
        for n, row in enumerate(rows)
    ]


DAY_COLUMNS = ["id", "age", "age_at_diagnosis", "relapsed", "lineage", "cd19"]


def test_ages_in_days_agree_between_engines_and_python() -> None:
    catalog, rows = load_catalog(), day_rows()
    expected = python_says(catalog, rows)
    text = dict.fromkeys(DAY_COLUMNS, "VARCHAR")
    connection = filled(duckdb.connect(), DAY_COLUMNS, rows, text)
    query = sql.compile_query(catalog, sql.DIALECTS["duckdb"], "patients", DAY_COLUMNS)
    assert_agree(rows, expected, query_says(connection.execute(query).fetchall(), rows))
    sqlite = filled(sqlite_connection(), DAY_COLUMNS, rows)
    query = sql.compile_query(catalog, sql.DIALECTS["sqlite"], "patients", DAY_COLUMNS)
    assert_agree(rows, expected, query_says(sqlite.execute(query).fetchall(), rows))
    # the rows reach every answer: open, met and unmet on the month, and refused
    names = [name for name, _ in answers.columns(catalog) if name != "line"]
    statuses = {said[names.index("blinatumomab")] for said in expected if said[0] != "error"}
    assert statuses == {"eligible", "not_eligible", "possible"}
    assert sum(said[0] == "error" for said in expected) >= 3


# --- PostgreSQL ----------------------------------------------------------------------------------


def _postgres_bin() -> str | None:
    import glob

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return found[-1].removesuffix("/pg_ctl") if found else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    """A PostgreSQL server of its own on a Unix socket in a temporary folder (no TCP port),
    stopped and removed after the tests. Root may not run it: then it runs as the postgres
    user, in a folder under /tmp that user can reach (pytest's own are root's alone)."""
    import os
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    psycopg = pytest.importorskip("psycopg")
    where = _postgres_bin()
    if where is None:
        pytest.skip("no PostgreSQL server here (.ci/run installs Debian's postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="alltx-postgres-"))
    data = folder / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, f"{where}/initdb", "-D", str(data), "-A", "trust", "-U", "alltx"],
        check=True,
        capture_output=True,
    )
    options = f"-k {folder} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [
            *as_user,
            f"{where}/pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(folder / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        with psycopg.connect(host=str(folder), user="alltx", dbname="postgres") as connection:
            yield connection
    finally:
        subprocess.run(
            [*as_user, f"{where}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


POSTGRES_TYPES = {"double": "DOUBLE PRECISION", "integer": "BIGINT", "boolean": "BOOLEAN",
                  "text": "TEXT"}  # fmt: skip


@pytest.mark.slow
def test_postgres_gives_the_python_answers_over_part_of_the_grid(
    catalog: Catalog, the_grid: Grid, postgres: Any
) -> None:
    rows, expected = part_of(the_grid, 7)  # some 70,000
    types = {"id": "TEXT"} | {c.name: POSTGRES_TYPES[c.sql_type] for c in sql.table_columns()}
    with postgres.cursor() as cursor:
        copied(cursor, "patients", COLUMNS, rows, types)
        cursor.execute(sql.compile_query(catalog, sql.DIALECTS["postgres"], "patients"))
        got = cursor.fetchall()
    assert_agree(rows, expected, query_says(got, rows))


def dated_rows() -> list[dict[str, Any]]:
    """Birth dates and as-of days on every month end and leap day of two years, each with
    every other (some out of order), a few not days at all, and as_of left to the run's day."""
    days = [
        date(y, m, d)
        for y in (2023, 2024)
        for m in range(1, 13)
        for d in (1, calendar.monthrange(y, m)[1])
    ]
    pairs = [(born.isoformat(), at.isoformat()) for born in days[::3] for at in days]
    pairs += [
        ("2023-02-29", "2024-01-01"),
        ("2024-01-31", " "),
        (" 2024-02-29 ", None),
        ("2024-1-1", "2024-02-01"),
        ("2024-01-01", "x"),
    ]
    rows = [
        {
            "id": f"r{n}",
            "birth_date": born,
            "as_of": at,
            "relapsed": True,
            "lineage": "b",
            "cd19": "positive",
        }
        for n, (born, at) in enumerate(pairs)
    ]
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def mrd_rows() -> list[dict[str, Any]]:
    """MRD as labs report it, around the label's 0.1%: numbers, levels under which it lies,
    negative alone and positive, not quantifiable, some that cannot be right."""
    texts = [
        "0.1",
        "0.09",
        "0.1%",
        "negative",
        "NEG",
        "positive, not quantifiable",
        "Positive not quantifiable",
        "positive",
        "negative at 0%",
        "<101%",
        "<100%",
    ]
    for level in ("0.01", "0.1", ".1", "0.10", "0.100000000001", "0.099999999999", "0.5", "100"):
        texts += [f"negative at {level}%", f"neg at {level}", f"<{level}%", f"< {level}"]
    # Ph-positive in CR1: only blinatumomab's MRD indication is open (US), so MRD decides it
    return [
        {
            "id": f"m{n}",
            "mrd": text,
            "age": "30",
            "lineage": "b",
            "cd19": "positive",
            "remission": "1",
            "ph": "positive",
        }
        for n, text in enumerate(texts)
    ]


MRD_COLUMNS = ["id", "mrd", "age", "lineage", "cd19", "remission", "ph"]


def test_postgres_reads_mrd_as_labs_report_it_as_python_does(postgres: Any) -> None:
    catalog, rows = load_catalog(), mrd_rows()
    expected = python_says(catalog, rows)
    with postgres.cursor() as cursor:
        copied(cursor, "mrd", MRD_COLUMNS, rows, dict.fromkeys(MRD_COLUMNS, "TEXT"))
        cursor.execute(sql.compile_query(catalog, sql.DIALECTS["postgres"], "mrd", MRD_COLUMNS))
        got = cursor.fetchall()
    assert_agree(rows, expected, query_says(got, rows))
    names = [name for name, _ in answers.columns(catalog) if name != "line"]
    statuses = {said[names.index("blinatumomab")] for said in expected if said[0] != "error"}
    assert statuses == {"eligible", "not_eligible", "possible"}  # over, under, not known


def test_postgres_reads_ages_from_dates_as_python_does(postgres: Any) -> None:
    catalog, rows = load_catalog(), dated_rows()
    columns = [c for c in DATED_COLUMNS if c != "age"]
    with postgres.cursor() as cursor:
        copied(
            cursor, "dated", columns, rows, dict.fromkeys(columns, "TEXT") | {"relapsed": "BOOLEAN"}
        )
        cursor.execute(
            sql.compile_query(catalog, sql.DIALECTS["postgres"], "dated", columns, as_of=AS_OF)
        )
        got = cursor.fetchall()
    assert_agree(rows, python_says(catalog, rows, AS_OF), query_says(got, rows))


def test_postgres_reads_ages_in_days_as_python_does(postgres: Any) -> None:
    catalog, rows = load_catalog(), day_rows()
    with postgres.cursor() as cursor:
        copied(cursor, "in_days", DAY_COLUMNS, rows, dict.fromkeys(DAY_COLUMNS, "TEXT"))
        cursor.execute(sql.compile_query(catalog, sql.DIALECTS["postgres"], "in_days", DAY_COLUMNS))
        got = cursor.fetchall()
    assert_agree(rows, python_says(catalog, rows), query_says(got, rows))


# --- Spark SQL -------------------------------------------------------------------------------


@pytest.mark.slow
def test_spark_gives_the_python_answers_over_part_of_the_grid(
    catalog: Catalog, the_grid: Grid, spark: Any
) -> None:
    from pyspark.sql import types as spark_types

    rows, expected = part_of(the_grid, 31)  # some 16,000
    kinds = {
        "double": spark_types.DoubleType(),
        "integer": spark_types.LongType(),
        "boolean": spark_types.BooleanType(),
        "text": spark_types.StringType(),
    }
    schema = spark_types.StructType(
        [spark_types.StructField("id", spark_types.StringType())]
        + [spark_types.StructField(c.name, kinds[c.sql_type]) for c in sql.table_columns()]
    )
    table = [tuple(row.get(name) for name in COLUMNS) for row in rows]
    spark.createDataFrame(table, schema).createOrReplaceTempView("patients")
    query = sql.compile_query(catalog, sql.DIALECTS["spark"], "patients")
    got = [tuple(result) for result in spark.sql(query).collect()]
    got.sort(key=lambda result: int(result[0][1:]))  # Spark keeps no order without ORDER BY
    assert_agree(rows, expected, query_says(got, rows))


@pytest.mark.slow
def test_spark_reads_dates_mrd_and_days_as_python_does(spark: Any) -> None:
    # One table and one query for the three forms of issue 28 (Spark takes some 20 s to plan
    # each query): ages from dates, MRD as labs report it, ages in days; all text, as exports
    # hold them, and ages in days beside birth dates (the query reads both).
    parts = [*dated_rows(), *mrd_rows(), *day_rows()]
    rows = [
        {**{k: "yes" if v is True else v for k, v in row.items()}, "id": f"s{n}"}
        for n, row in enumerate(parts)
    ]
    columns = list(dict.fromkeys([*DATED_COLUMNS, *MRD_COLUMNS, *DAY_COLUMNS]))
    table = [tuple(row.get(column) for column in columns) for row in rows]
    spark.createDataFrame(table, ", ".join(f"{c} STRING" for c in columns)).createOrReplaceTempView(
        "forms"
    )
    query = sql.compile_query(load_catalog(), sql.DIALECTS["spark"], "forms", columns, as_of=AS_OF)
    got = [tuple(result) for result in spark.sql(query).collect()]
    got.sort(key=lambda result: int(result[0][1:]))  # Spark keeps no order without ORDER BY
    assert_agree(rows, python_says(load_catalog(), rows, AS_OF), query_says(got, rows))
