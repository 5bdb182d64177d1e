"""A cohort through `alltx options --input`: the checks on the options a cohort takes, then
the rows answered in Python (in one process or several) or by the DuckDB engine, and written
as they come, whole lines only."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from itertools import islice
from typing import Any

import typer

from alltx.cli.base import (
    EXIT_OUTPUT,
    STOPPING,
    Engine,
    Format,
    InputFormat,
    catalog_in_use,
    console,
    fail,
    interrupt,
)
from alltx.cli.base import settings as settings_of
from alltx.core.facts import FIELDS, FactError, facts_from
from alltx.model.catalog import Catalog

COHORT_PANEL = "A cohort file instead of flags"


@dataclass(frozen=True, kw_only=True)
class CohortSettings:
    ignore_unknown: bool = False
    fail_fast: bool = False
    explain: bool = False
    quiet: bool = False
    max_errors: int | None = None
    jobs: int = 1
    engine: Engine | None = None
    output_file: str | None = None
    regulator: str | None = None  # as --regulator gives it: the data's first by default
    as_of: date | None = None  # the day an age from a birth date is taken at, where a row has none


def run_cohort(
    ctx: typer.Context,
    name: str,
    given_format: InputFormat | None,
    output: Format | None,
    settings: CohortSettings,
) -> None:
    from alltx.io import input_files

    catalog = catalog_in_use(ctx, settings.regulator)
    settings = _jobs_within_cores(settings)
    output = _cohort_format(output, settings)
    if _parquet_input(name, given_format, settings):
        _engine_checks("parquet", settings)
        from alltx.batch import duckdb_engine

        prepared = duckdb_engine.prepare(catalog, name, settings.ignore_unknown, settings.as_of)
        raise typer.Exit(_engine_cohort(ctx, catalog, prepared, output, settings))
    # A text file is read by Python's csv and json modules on every road.
    stream = input_files.open_input(name)
    kind, lines = input_files.input_format(name, stream, given_format)
    rows = input_files.read_rows(lines, kind, settings.ignore_unknown)
    if settings.engine is Engine.duckdb:
        _engine_checks(kind, settings)
        from alltx.batch import duckdb_engine

        try:
            prepared = duckdb_engine.prepare_rows(catalog, rows, settings.as_of)
        except OSError as error:  # the rows' file could not be written: a full disk
            fail(
                f"cannot write the rows for DuckDB in the temporary folder: {error.strerror}",
                EXIT_OUTPUT,
            )
        raise typer.Exit(_engine_cohort(ctx, catalog, prepared, output, settings))
    if output is Format.parquet:
        raise typer.Exit(_python_to_parquet(ctx, catalog, rows, settings))
    if settings.jobs > 1:
        status = _write_jobs(ctx, catalog, output, kind, lines, settings)
    else:
        status = write_cohort(ctx, catalog, output, rows, settings)
    raise typer.Exit(status)


class _WholeLines:
    """Writes to stdout with Ctrl-C, SIGTERM and SIGHUP held while a write is under way, and
    raised just after it: stopped, the output is always whole lines. Anywhere else (waiting
    for input) each stops at once.

    The bytes go to the file descriptor with os.write, not through sys.stdout: CPython's
    buffered writer drops the rest of a write to a full pipe that a signal interrupts, where
    os.write resumes it."""

    def __init__(self) -> None:
        self.writing = False
        self.pending: int | None = None  # the signal held during a write

    def __enter__(self) -> _WholeLines:
        import signal

        try:
            self.fd: int | None = sys.stdout.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation: no descriptor (a test runner)
            self.fd = None
        held = [signal.SIGINT, *(getattr(signal, name) for name in STOPPING)]
        self.previous = {signum: signal.signal(signum, self._interrupt) for signum in held}
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _interrupt(self, signum: int, frame: object) -> None:
        if not self.writing:
            interrupt(signum)
        self.pending = signum

    def write(self, text: str) -> None:
        self.writing = True
        try:
            if self.fd is None:
                sys.stdout.write(text)
                return
            sys.stdout.flush()  # anything written before, first
            data = memoryview(text.encode("utf-8", "backslashreplace"))
            while data:
                data = data[os.write(self.fd, data) :]
        finally:
            self.writing = False
        if self.pending is not None:
            signum, self.pending = self.pending, None
            interrupt(signum)


def _jobs_within_cores(settings: CohortSettings) -> CohortSettings:
    """--jobs at most one process a core: more only share the same cores, and each holds the
    data and a chunk (2,000 asked for on 2 cores forked 2,000 processes). Said on stderr."""
    if settings.jobs == 1:
        return settings
    from dataclasses import replace

    from alltx.batch.jobs import usable_cores

    cores = usable_cores()
    if settings.jobs <= cores:
        return settings
    if not settings.quiet:
        cpus, processes = ("core", "process") if cores == 1 else ("cores", "processes")
        shown = settings.jobs if settings.jobs < 10**6 else "so many"
        sys.stderr.write(
            f"alltx: --jobs {shown} is more than the {cores} {cpus} alltx may use "
            f"here: answering in {cores} {processes}\n"
        )
    return replace(settings, jobs=cores)


def _parquet_input(name: str, given: InputFormat | None, settings: CohortSettings) -> bool:
    """Whether the input is a Parquet file, which DuckDB reads (checked here: the options it
    takes)."""
    from alltx.io.input_files import file_kind

    if not (given is InputFormat.parquet or (given is None and file_kind(name) == "parquet")):
        return False
    if settings.engine is Engine.python:
        fail("a Parquet file is read by DuckDB: drop --engine python")
    if name == "-":
        fail("DuckDB reads a Parquet file by name, not stdin: give the file's name to --input")
    return True


def _engine_checks(kind: str, settings: CohortSettings) -> None:
    """The options the DuckDB engine does not take, each refused in one line."""
    if kind == "jsonl":
        fail(
            'JSON Lines are answered in Python: a value\'s type (19 or "19", true or '
            '"yes") can change from row to row, and a DuckDB column keeps one; drop '
            "--engine duckdb"
        )
    if settings.explain:
        fail("--explain answers in Python, in full: drop --engine duckdb")
    if settings.jobs > 1:
        fail("DuckDB uses every core itself: drop --jobs")


def _cohort_format(output: Format | None, settings: CohortSettings) -> Format:
    """The format a cohort is written in (text on a terminal, else JSON Lines, where none is
    asked for), refusing what does not go with it."""
    if output is None:
        output = Format.text if sys.stdout.isatty() else Format.jsonl
    if output is Format.html:
        fail("--format html is one patient's page to print; for a cohort use jsonl or csv")
    if settings.explain and output in (Format.csv, Format.text):
        fail("--explain writes JSON; use it with --format json or jsonl")
    if settings.jobs > 1 and output not in (Format.jsonl, Format.csv):
        fail("--jobs writes records as they come: use it with --format jsonl or csv")
    return output


def answer_rows(
    ctx: typer.Context, rows: Iterable[Any], output: Format | None, settings: CohortSettings
) -> int:
    """Rows read otherwise than from a file (FHIR records), answered in Python in a cohort
    format (as a file's: _cohort_format); the exit status."""
    catalog = catalog_in_use(ctx, settings.regulator)
    output = _cohort_format(output, settings)
    if output is Format.parquet:
        return _python_to_parquet(ctx, catalog, rows, settings)
    return write_cohort(ctx, catalog, output, rows, settings)


def _engine_cohort(
    ctx: typer.Context,
    catalog: Catalog,
    prepared: Any,
    output: Format,
    settings: CohortSettings,
) -> int:
    """A cohort answered by the rules compiled to SQL, in DuckDB (`prepared`, a
    duckdb_engine.Prepared); the exit status."""
    from alltx import sql
    from alltx.batch import streaming

    if output is not Format.parquet:
        rows = streaming.query_rows(catalog, prepared.results(), sql.error_field)
        return write_cohort(
            ctx, catalog, output, rows, settings, partial(streaming.FromQuery, catalog)
        )
    from alltx.batch.progress import Reporter
    from alltx.io.input_rows import Failure

    reporter = Reporter(settings.quiet, settings.max_errors)
    written, refused = prepared.to_parquet(str(settings.output_file))
    if refused and not settings.quiet:
        for line, row_id, message in prepared.errors():
            reporter.error(Failure(line, row_id, message, sql.error_field(message)))
    reporter.close(streaming.Tally(written, written - refused, refused))
    return 1 if refused else 0


def _python_to_parquet(
    ctx: typer.Context, catalog: Catalog, rows: Iterable[Any], settings: CohortSettings
) -> int:
    """Rows answered in Python, then written to Parquet by DuckDB, with the columns and types
    the engine writes; the exit status."""
    from alltx.batch import duckdb_engine, streaming
    from alltx.batch.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = streaming.Tally()
    fmt = streaming.Csv(catalog, streaming.as_is)
    answering = streaming.Answering(catalog, fmt, settings.ignore_unknown, settings.as_of)

    def write(file: Any) -> None:
        streaming.stream(
            reporter.watch(rows), answering, fmt, file.write, reporter.error, False, tally
        )

    try:
        prepared = duckdb_engine.answered(catalog, write)
    except OSError as error:  # the records' file could not be written: a full disk
        fail(
            f"cannot write the records for DuckDB in the temporary folder: {error.strerror}",
            EXIT_OUTPUT,
        )
    prepared.to_parquet(str(settings.output_file))
    reporter.close(tally)
    return 1 if tally.failed else 0


def write_cohort(
    ctx: typer.Context,
    catalog: Catalog,
    output: Format,
    rows: Iterable[Any],
    settings: CohortSettings,
    answering: Callable[[Any], Any] | None = None,
) -> int:
    """Answer the rows and write them in the format asked for; the exit status. `answering`
    makes what answers the rows for a format (streaming.FromQuery for the query's results); by
    default, streaming.Answering."""
    from alltx.batch import streaming
    from alltx.batch.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = streaming.Tally()
    if answering is None:
        answering = partial(
            streaming.Answering,
            catalog,
            ignore_unknown=settings.ignore_unknown,
            as_of=settings.as_of,
        )
    rows = reporter.watch(rows)
    if output is Format.text:
        briefly = answering(streaming.Briefly())
        summary = streaming.summarize(
            catalog,
            rows,
            settings.ignore_unknown,
            reporter.error,
            settings.fail_fast,
            tally,
            briefly,
        )
        from alltx.views import render

        render.cohort(summary, catalog, console(ctx))
    else:
        fmt = streaming.output_format(output.value, catalog, settings.explain)
        answers = answering(fmt)
        with _WholeLines() as out:
            streaming.stream(
                rows, answers, fmt, out.write, reporter.error, settings.fail_fast, tally
            )
    reporter.close(tally)
    return 1 if tally.failed else 0


def _write_jobs(
    ctx: typer.Context,
    catalog: Catalog,
    output: Format,
    kind: str,
    lines: Iterable[bytes],
    settings: CohortSettings,
) -> int:
    """As write_cohort, in settings.jobs processes; the exit status."""
    from alltx.batch import jobs, streaming
    from alltx.batch.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = streaming.Tally()
    header, work = jobs.prepare(lines, kind, settings.ignore_unknown)
    job = jobs.Job(
        settings_of(ctx).data,
        output.value,
        settings.explain,
        settings.ignore_unknown,
        kind,
        header,
        settings.fail_fast,
        catalog.info.authority.id,
        settings.as_of,
    )
    fmt = streaming.output_format(output.value, catalog, settings.explain)
    with _WholeLines() as out:
        out.write(fmt.header)
        jobs.run(
            job,
            settings.jobs,
            reporter.watch(work, lambda chunk: len(chunk.lines)),
            out.write,
            reporter.error,
            tally,
        )
        out.write(fmt.close())
    reporter.close(tally)
    return 1 if tally.failed else 0


def one_patient(
    name: str, given_format: str | None, ignore_unknown: bool, as_of: date
) -> dict[str, object]:
    """The facts of the one patient a file holds (`alltx ask --save` writes one), for the page
    to print; a file of more (or none), or a row that cannot be read, is one line."""
    from alltx.io import input_files
    from alltx.io.input_rows import Failure

    if input_files.file_kind(name) == "parquet" or given_format == "parquet":
        fail("--format html reads one patient from JSON Lines, CSV or TSV, not Parquet")
    with input_files.open_input(name) as stream:
        kind, lines = input_files.input_format(name, stream, given_format)
        rows = list(islice(input_files.read_rows(lines, kind, ignore_unknown), 2))
    if len(rows) != 1:
        count = "no patient" if not rows else "more than one patient"
        fail(
            f"--format html is one patient's page to print; {name} holds {count} (for a "
            "cohort use jsonl or csv)"
        )
    [row] = rows
    if isinstance(row, Failure):
        fail(f"line {row.line}: {row.message}")
    fields = {k: v for k, v in row.fields.items() if not (ignore_unknown and k not in FIELDS)}
    try:
        facts_from(fields, as_of)
    except FactError as error:  # said of the file's line, as a cohort's row error is
        fail(f"line {row.line}: {error}")
    return fields
