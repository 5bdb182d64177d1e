"""A cohort answered in DuckDB, in process, by the query `alltx.sql` compiles.

DuckDB is an optional extra (`pip install 'alltx[duckdb]'`): imported only here, only when a
cohort asks for it (a Parquet input, or `--engine duckdb`). DuckDB reads a Parquet file itself.
A text file (CSV, TSV) is read by Python's csv module, as on the Python path, so that a record
the reader refuses is that row's error and every row keeps the line it starts on; the rows'
cells go to DuckDB through a CSV of alltx's own, which the csv module wrote and DuckDB reads
back cell for cell. DuckDB runs the query on every core and hands back one result row per
input row, in input order (`alltx.sql.engine_statements` says how, without sorting the
records), which `alltx.batch.streaming` writes as it writes any cohort; or it writes the
results to Parquet itself.
"""

from __future__ import annotations

import csv
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, TypeVar

from alltx.core.facts import FIELDS
from alltx.io.input_rows import CELL_TOO_LONG, MAX_CELL, Failure, Row, header_names
from alltx.model.catalog import Catalog
from alltx.sql import DIALECTS, engine_statements, literal

NEEDED = (
    "needs DuckDB, an optional part of alltx: pip install 'alltx[duckdb]' (from a "
    "checkout: pip install '.[duckdb]'; or pip install duckdb beside alltx)"
)
# How DuckDB reads each kind of input; {path} is an SQL string literal.
READERS = {
    "parquet": "read_parquet({path})",
    # every cell as text, as the Python path reads a CSV: the query reads its spellings
    "csv": "read_csv({path}, header = true, delim = ',', quote = '\"', escape = '\"', "
    "all_varchar = true)",
    "tsv": "read_csv({path}, header = true, delim = '\t', quote = '\"', escape = '\"', "
    "all_varchar = true)",
    "jsonl": "read_json({path}, format = 'newline_delimited')",
}
NAMES = {"parquet": "Parquet columns", "csv": "CSV header", "tsv": "TSV header",
         "jsonl": "JSON fields"}  # fmt: skip
BATCH = 8192  # result rows fetched at a time
DUCKDB = DIALECTS["duckdb"]


class EngineError(Exception):
    """DuckDB is missing, or could not read the input: one line, exit 2."""


class _Cancelled(Exception):
    """A statement a signal cancelled; the signal itself follows (Prepared._run)."""


_T = TypeVar("_T")


# What DuckDB may hold in memory; past it, it spills to alltx's temporary folder. Unbounded,
# writing 3M answers to Parquet in input order peaked at 1.35 GB. With the lists made once per
# key (alltx.sql._Keyed), the records sorted back into input order, on 3M realistic rows
# (benchmarks/): 1 GB peaked at 1.09 GiB in 17.9 s, 750 MB at 0.85 GiB in 16.7 s, 600 MB at
# 0.70 GiB in 18.8 s. Sorting only the rows' numbers instead (sql.engine_statements), 750 MB
# peaked at 0.83 GiB.
MEMORY_LIMIT = "750MB"


def _connect(duckdb: Any, folder: tempfile.TemporaryDirectory[str]) -> Any:
    """A connection whose memory is bounded, spilling into `folder` (an in-memory DuckDB
    spills into `.tmp` in the current folder by default)."""
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = {literal(MEMORY_LIMIT)}")
    # DuckDB draws its own progress bar on the terminal for a statement of over two seconds
    connection.execute("SET enable_progress_bar = false")
    connection.execute(f"SET temp_directory = {literal(str(Path(folder.name) / 'spill'))}")
    return connection


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise EngineError(f"reading a cohort with DuckDB {NEEDED}") from None
    return duckdb


@dataclass
class Prepared:
    """The input opened in DuckDB and the query over it, not yet run."""

    connection: Any
    query: str  # its last column is the row's line
    error: type[Exception]  # duckdb.Error
    folder: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    written: str = ""  # the Parquet output, by a plain name
    names: tuple[str, str] = ("", "")  # (the plain name DuckDB reads, the name given)
    setup: list[str] = field(default_factory=list)  # run once before it: engine_statements

    def _ready(self) -> None:
        """Run the statements the query reads the results of (temporary tables), once."""
        while self.setup:
            self._run(self.connection.execute, self.setup.pop(0))

    def _run(self, call: Callable[..., _T], *args: Any) -> _T:
        """`call` into DuckDB with Ctrl-C, SIGTERM and SIGHUP cancelling the statement, then
        delivered again once DuckDB has returned: DuckDB runs the signals' Python handlers from
        inside its own code, where the exception a handler raises (alltx's Stopped) is lost
        ("Exception ignored ... Stopped: 15") and the query ends in a traceback of its own
        (issue 42, 10). Outside the main thread (alltx used from a thread), the call as it is."""
        import signal

        caught: list[int] = []

        def cancel(signum: int, frame: object) -> None:
            caught.append(signum)
            self.connection.interrupt()

        stopping = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        try:  # a signal ignored (SIGHUP under nohup) stays ignored
            held = [signum for signum in stopping if signal.getsignal(signum) != signal.SIG_IGN]
            previous = {signum: signal.signal(signum, cancel) for signum in held}
        except ValueError:  # not the main thread: the signals are not alltx's to take
            return call(*args)
        try:
            return call(*args)
        except self.error:
            if not caught:
                raise
            raise _Cancelled from None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if caught:  # the handler it was meant for: alltx's stops, or the system's default
                signal.raise_signal(caught[0])

    def results(self) -> Iterator[tuple[Any, ...]]:
        """The query's result rows, in input order, a batch at a time (memory stays flat)."""
        try:
            self._ready()
            cursor = self._run(self.connection.execute, self.query)
            while batch := self._run(cursor.fetchmany, BATCH):
                yield from batch
        except self.error as error:
            raise EngineError(self._said(error)) from None

    def _said(self, error: Exception) -> str:
        """DuckDB's message, with the file named as the user named it."""
        plain, given = self.names
        said = _one_line(error).replace(plain, given) if plain else _one_line(error)
        return said if given in said else f"{given}: {said}"

    def to_parquet(self, path: str) -> tuple[int, int]:
        """Write the results to the Parquet file named `path`, whole or not at all: written
        beside it under a name of its own, then renamed over it, so a run stopped halfway (a
        full disk, a signal) leaves no partial file; through a symbolic link, the file it points
        to (the link is kept). The rows written and the rows refused."""
        target = Path(path).resolve()
        try:
            beside = Path(tempfile.mkdtemp(prefix=".alltx-", dir=target.parent))
        except OSError as error:
            raise _output_error(error) from None
        plain = self._link("output", beside)  # DuckDB reads no pattern into this name
        written = f"{plain}/cohort.parquet"
        try:
            # The compact CSV's columns in its order: the line after the id
            records = f"SELECT id, line, * EXCLUDE (id, line) FROM ({self.query})"
            self._ready()
            self._run(
                self.connection.execute, f"COPY ({records}) TO {literal(written)} (FORMAT parquet)"
            )
            counted = f"SELECT count(*), count(error) FROM read_parquet({literal(written)})"
            [(rows, errors)] = self._run(self.connection.execute, counted).fetchall()
            os.replace(beside / "cohort.parquet", target)
        except OSError as error:  # the rename
            raise _output_error(error) from None
        except self.error as error:
            if plain in str(error):  # writing the output failed (a full disk): its fault, 74
                raise _output_error(str(error)) from None
            raise EngineError(self._said(error)) from None
        finally:
            shutil.rmtree(beside, ignore_errors=True)
        self.written = self._link("written.parquet", target)
        return rows, errors

    def errors(self) -> Iterator[tuple[int, Any, str]]:
        """The refused rows of the Parquet output to_parquet wrote, in order: (line, id,
        error)."""
        cursor = self._run(
            self.connection.execute,
            f"SELECT line, id, error FROM read_parquet({literal(self.written)}) "
            "WHERE error IS NOT NULL",
        )
        while batch := self._run(cursor.fetchmany, BATCH):
            yield from batch

    def _link(self, name: str, to: Path) -> str:
        assert self.folder is not None
        link = Path(self.folder.name) / name
        link.symlink_to(to)
        return str(link)


def as_named(
    path: str, kind: str, flag: str = "--input"
) -> tuple[str, tempfile.TemporaryDirectory[str]]:
    """The path by which DuckDB reads the file named `path`, and never another: DuckDB takes
    a path as a pattern (`[ab].csv` is a.csv and b.csv, `*` every file) or an address
    (`s3://`, `https://`), so it is given a link, in a folder of alltx's own, whose name is
    plain. Only a regular file: a directory or a FIFO is one line (EngineError)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise EngineError(f"cannot read {flag} {path}: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        raise EngineError(f"{flag} {path} is a folder; give one file (alltx reads no patterns)")
    if not stat.S_ISREG(mode):
        raise EngineError(
            f"{flag} {path} is not a regular file; DuckDB reads a file it can "
            "seek in (save the stream to a file first)"
        )
    folder = tempfile.TemporaryDirectory(prefix="alltx-")
    link = Path(folder.name) / f"input.{kind}"
    link.symlink_to(Path(path).resolve())
    return str(link), folder


def prepare(
    catalog: Catalog, path: str, ignore_unknown: bool, as_of: date | None = None
) -> Prepared:
    """Open the Parquet file `path`, that file and no other, and compile the query for its
    columns (table_over); a row's line is its number in the file, from 1. `as_of`: the day
    an age from a birth date is taken at, where a row gives none."""
    duckdb = _duckdb()
    named, folder = as_named(path, "parquet")
    connection = _connect(duckdb, folder)
    table, given = table_over(
        connection, duckdb.Error, named, path, "parquet", ignore_unknown, numbered=True
    )
    setup, query = engine_statements(catalog, table, given, as_of)
    return Prepared(connection, query, duckdb.Error, folder, names=(named, path), setup=setup)


# The columns of the CSV alltx writes for DuckDB from the rows Python read: the line and the
# reader's refusal, then the row's id and its cells, every field's (a blank cell is unknown).
_CARRIED = ("line", "read_error", "id", *FIELDS)


def prepare_rows(
    catalog: Catalog, rows: Iterable[Row | Failure], as_of: date | None = None
) -> Prepared:
    """The rows of a text file as Python's reader gives them (input_files.read_rows: cells as
    text, a refused record a Failure), written by csv.writer to a file of alltx's own that
    DuckDB reads with those columns, all text, and the query over it. A file that cannot be
    written (a full disk) is an OSError."""
    duckdb = _duckdb()
    folder = tempfile.TemporaryDirectory(prefix="alltx-")
    cells = Path(folder.name) / "rows.csv"
    with cells.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(_CARRIED)
        blank = [""] * len(FIELDS)
        for row in rows:
            if isinstance(row, Failure):
                writer.writerow([row.line, row.message, _text(row.id), *blank])
            else:
                fields = row.fields
                writer.writerow(
                    [row.line, "", _text(row.id), *(fields.get(name, "") for name in FIELDS)]
                )
    table = f"(SELECT * FROM {_own_csv(cells, {name: 'VARCHAR' for name in _CARRIED})})"
    setup, query = engine_statements(catalog, table, {"id", *FIELDS}, as_of)
    return Prepared(_connect(duckdb, folder), query, duckdb.Error, folder, setup=setup)


def answered(catalog: Catalog, write: Callable[[IO[str]], object]) -> Prepared:
    """Records the Python path answered, as `write` writes them to a file of alltx's own in
    the compact CSV (streaming.Csv, its cells as_is), read back by DuckDB as the engine's own
    results are, to be written to Parquet (to_parquet): the same columns and types. Its
    `query` ends with the line, as the engine's does."""
    from alltx.answer.answers import columns

    duckdb = _duckdb()
    folder = tempfile.TemporaryDirectory(prefix="alltx-")
    records = Path(folder.name) / "records.csv"
    with records.open("w", encoding="utf-8", newline="") as file:
        write(file)
    typed = {"version": "INTEGER"}
    read = _own_csv(records, {name: typed.get(name, "VARCHAR") for name, _ in columns(catalog)})
    query = f"SELECT * EXCLUDE (line), line FROM {read}"
    return Prepared(_connect(duckdb, folder), query, duckdb.Error, folder)


def _own_csv(path: Path, types: dict[str, str]) -> str:
    """DuckDB's reading of a CSV alltx's csv.writer wrote: its columns named and typed here (a
    `line` is always a number), nothing guessed, every cell as written."""
    columns = ", ".join(
        f"{literal(name)}: {literal('BIGINT' if name == 'line' else kind)}"
        for name, kind in types.items()
    )
    return (
        f"read_csv({literal(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', columns = {{{columns}}})"
    )


def _text(value: object) -> object:
    """A cell for the rows' CSV: an id as read (text from CSV), blank for none."""
    return "" if value is None else value


def table_over(
    connection: Any,
    error: type[Exception],
    read: str,
    path: str,
    kind: str,
    ignore_unknown: bool,
    numbered: bool = False,
) -> tuple[str, set[str]]:
    """The table the query reads from the file DuckDB reads as `read` (named `path`), and the
    facts it has: a column named like a fact (in any case) is read as that fact, a fact
    without a column is unknown, an unknown column is refused (InputError) unless
    `ignore_unknown`. `numbered` (Parquet, for the engine): with the columns compile_query's
    `engine` reads, each row's line its number in the file from 1, and no reader's refusal."""
    source = READERS[kind].format(path=literal(read))
    try:
        described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except error as failed:
        raise EngineError(f"{path}: {_one_line(failed).replace(read, path)}") from None
    found = [row[0] for row in described]  # DuckDB's names, unique: `AGE` beside `age` is AGE_1
    given = _parquet_names(connection, read) if kind == "parquet" else found
    names = header_names(given, ignore_unknown, NAMES[kind])
    kept = [
        (DUCKDB.name_of(column), name, row[1] == "VARCHAR")
        for column, name, row in zip(found, names, described, strict=True)
        if name
    ]
    if numbered:
        # A text cell is bounded as the csv module bounds a CSV's (a Parquet cell of 200 MB
        # took 39 s and 9.3 GB in the query's regular expressions: issue 42, 11): one over it
        # is read as NULL, and its row refused in the CSV's words.
        over = [f"length({column}) > {MAX_CELL}" for column, _, text in kept if text]
        chosen = ", ".join(
            f"CASE WHEN length({column}) > {MAX_CELL} THEN NULL ELSE {column} END AS "
            f"{DUCKDB.name_of(name)}"
            if text
            else f"{column} AS {DUCKDB.name_of(name)}"
            for column, name, text in kept
        )
        refused = "NULL"
        if over:
            refused = f"CASE WHEN {' OR '.join(over)} THEN {literal(CELL_TOO_LONG)} END"
        chosen = f"{chosen or 'NULL AS id'}, file_row_number + 1 AS line, {refused} AS read_error"
        source = f"read_parquet({literal(read)}, file_row_number = true)"
    else:
        chosen = ", ".join(f"{column} AS {DUCKDB.name_of(name)}" for column, name, _ in kept)
        chosen = chosen or "NULL AS id"
    return f"(SELECT {chosen} FROM {source})", {name for name in names if name}


def _parquet_names(connection: Any, read: str) -> list[str]:
    """A Parquet file's column names as the file has them, in order: the root's children in
    its schema, each followed by its own children (a nested column's), which are skipped."""
    elements = connection.execute(
        f"SELECT name, coalesce(num_children, 0) FROM parquet_schema({literal(read)})"
    ).fetchall()
    names, at = [], 1  # elements[0] is the root
    while at < len(elements):
        name, children = elements[at]
        names.append(name)
        at += 1
        while children:  # skip the subtree, however deep
            children += elements[at][1] - 1
            at += 1
    return names


def file_table(path: str, kind: str, ignore_unknown: bool = False) -> tuple[str, set[str]]:
    """`alltx sql --table FILE`: the table over the file as the printed query reads it (by
    the name given, and only that file), and the facts it has, as DuckDB finds its columns."""
    duckdb = _duckdb()
    named, folder = as_named(path, kind, "--table")
    with folder:
        table, given = table_over(duckdb.connect(), duckdb.Error, named, path, kind, ignore_unknown)
    return table.replace(literal(named), literal(only_itself(path))), given


def only_itself(path: str) -> str:
    """A path as a DuckDB pattern that matches that file and no other: DuckDB reads `*`, `?`
    and `[` in a path as a pattern (`p[12].parquet` read p1.parquet, issue 42, 5), and each,
    in a class of its own (`[*]`), matches only itself. For the query alltx prints, which is
    run elsewhere, where the link alltx reads through (as_named) is not."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def _output_error(cause: str | OSError) -> OSError:
    """A failure to write the output as an OSError without a file name, which the command
    layer words as any output alltx cannot write (exit 74): an OSError's own number, or the
    one DuckDB reports in its text (`"errno":"28"`: a full disk)."""
    if isinstance(cause, OSError):
        return OSError(cause.errno, cause.strerror)
    found = re.search(r'"errno":\s*"?(\d+)', cause)
    if found:
        number = int(found.group(1))
        return OSError(number, os.strerror(number))
    return OSError(errno.EIO, os.strerror(errno.EIO))


def _one_line(error: Exception) -> str:
    """DuckDB's message without the query it quotes below its first line."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
