"""A cohort through `alltx options --input`: the checks on the options a cohort takes, then
the rows answered in Python (in one process or several) or by the DuckDB engine, and written
as they come, whole lines only."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import typer

from alltx.catalog import Catalog
from alltx.cli.base import Engine, Format, InputFormat, catalog_in_use, console, fail, output_failed
from alltx.cli.base import settings as settings_of

COHORT_PANEL = "A cohort file instead of flags"


@dataclass(frozen=True)
class CohortSettings:
    ignore_unknown: bool
    fail_fast: bool
    explain: bool
    quiet: bool
    max_errors: int | None
    jobs: int = 1
    engine: Engine | None = None
    output_file: str | None = None
    regulator: str = "fda"


def run_cohort(
    ctx: typer.Context,
    name: str,
    given_format: InputFormat | None,
    output: Format | None,
    settings: CohortSettings,
) -> None:
    from alltx import input_files

    catalog = catalog_in_use(ctx, settings.regulator)
    if output is None:
        output = Format.text if sys.stdout.isatty() else Format.jsonl
    if output is Format.html:
        fail("--format html is one patient's page to print; for a cohort use jsonl or csv")
    if settings.explain and output in (Format.csv, Format.text):
        fail("--explain writes JSON; use it with --format json or jsonl")
    if settings.jobs > 1 and output not in (Format.jsonl, Format.csv):
        fail("--jobs writes records as they come: use it with --format jsonl or csv")
    if output is Format.parquet and not settings.output_file:
        fail("--format parquet writes a file: give --output FILE")
    if settings.output_file and output is not Format.parquet:
        fail("--output is for --format parquet; send other formats to a file with >")
    kind = _engine_input(name, given_format, output, settings)
    if kind is not None:
        raise typer.Exit(_engine_cohort(ctx, catalog, name, kind, output, settings))
    stream = input_files.open_input(name)
    kind, lines = input_files.input_format(name, stream, given_format)
    if settings.jobs > 1:
        status = _write_jobs(ctx, catalog, output, kind, lines, settings)
    else:
        rows = input_files.read_rows(lines, kind, settings.ignore_unknown)
        status = write_cohort(ctx, catalog, output, rows, settings)
    raise typer.Exit(status)


class _WholeLines:
    """Writes to stdout with Ctrl-C held while a write is under way, and raised just after it:
    interrupted, the output is always whole lines. Anywhere else (waiting for input) Ctrl-C
    stops at once.

    The bytes go to the file descriptor with os.write, not through sys.stdout: CPython's
    buffered writer drops the rest of a write to a full pipe that a signal interrupts, where
    os.write resumes it."""

    def __init__(self) -> None:
        self.writing = False
        self.pending = False

    def __enter__(self) -> _WholeLines:
        import signal

        try:
            self.fd: int | None = sys.stdout.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation: no descriptor (a test runner)
            self.fd = None
        self.previous = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        signal.signal(signal.SIGINT, self.previous)

    def _interrupt(self, signum: int, frame: object) -> None:
        if not self.writing:
            raise KeyboardInterrupt
        self.pending = True

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
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


def _engine_input(
    name: str, given: InputFormat | None, output: Format, settings: CohortSettings
) -> str | None:
    """The kind of input the DuckDB engine is to read (parquet, csv, tsv, jsonl), or None when
    the cohort is answered in Python."""
    from alltx.input_files import file_kind

    parquet = given is InputFormat.parquet or file_kind(name) == "parquet"
    wanted = settings.engine is Engine.duckdb or (settings.engine is None and (
        parquet or output is Format.parquet))  # fmt: skip
    if not wanted:
        if parquet or output is Format.parquet:
            fail("Parquet is read and written by DuckDB: use --engine duckdb")
        return None
    if settings.explain:
        fail("--explain answers in Python, in full: drop --engine duckdb (and read CSV or JSON "
             "Lines)")  # fmt: skip
    if settings.jobs > 1:
        fail("DuckDB uses every core itself: drop --jobs")
    if settings.fail_fast and output is Format.parquet:
        fail("--fail-fast stops a stream, and --format parquet writes every row: drop one")
    if name == "-":
        fail("DuckDB reads a file by name, not stdin: give the file's name to --input")
    kind = "parquet" if parquet else (given.value if given else file_kind(name))
    if kind is None:
        fail(f"{name}: say what kind of file it is with --input-format parquet|csv|tsv|jsonl")
    return kind


def _engine_cohort(
    ctx: typer.Context,
    catalog: Catalog,
    name: str,
    kind: str,
    output: Format,
    settings: CohortSettings,
) -> int:
    """A cohort answered by the rules compiled to SQL, in DuckDB; the exit status."""
    from alltx import cohort, duckdb_engine, sql
    from alltx.input_rows import Failure

    prepared = duckdb_engine.prepare(catalog, name, kind, settings.ignore_unknown)
    fields = sql.error_field
    if output is not Format.parquet:
        rows = cohort.query_rows(catalog, prepared.results(), prepared.first_line, fields)
        return write_cohort(ctx, catalog, output, rows, settings,
                             partial(cohort.FromQuery, catalog))  # fmt: skip
    from alltx.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    try:  # a folder that is not there, or not writable: the output's fault, said as such
        Path(str(settings.output_file)).open("wb").close()
    except OSError as error:
        output_failed(error)
    written, refused = prepared.to_parquet(str(settings.output_file))
    if refused and not settings.quiet:
        for row_id, message in prepared.errors():
            reporter.error(Failure(None, row_id, message, fields(message)))
    reporter.close(cohort.Tally(written, written - refused, refused))
    return 1 if refused else 0


def write_cohort(
    ctx: typer.Context,
    catalog: Catalog,
    output: Format,
    rows: Iterable[Any],
    settings: CohortSettings,
    answering: Callable[[Any], Any] | None = None,
) -> int:
    """Answer the rows and write them in the format asked for; the exit status. `answering`
    makes what answers the rows for a format (cohort.FromQuery for the query's results); by
    default, cohort.Answering."""
    from alltx import cohort
    from alltx.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = cohort.Tally()
    if answering is None:
        answering = partial(cohort.Answering, catalog, ignore_unknown=settings.ignore_unknown)
    rows = reporter.watch(rows)
    if output is Format.text:
        briefly = answering(cohort.Briefly())
        summary = cohort.summarize(catalog, rows, settings.ignore_unknown, reporter.error,
                                   settings.fail_fast, tally, briefly)  # fmt: skip
        from alltx import render

        render.cohort(summary, catalog, console(ctx))
    else:
        fmt = cohort.output_format(output.value, catalog, settings.explain)
        answers = answering(fmt)
        with _WholeLines() as out:
            cohort.stream(rows, answers, fmt, out.write, reporter.error, settings.fail_fast,
                          tally)  # fmt: skip
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
    from alltx import cohort, jobs
    from alltx.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = cohort.Tally()
    header, work = jobs.prepare(lines, kind, settings.ignore_unknown)
    job = jobs.Job(settings_of(ctx).data, output.value, settings.explain,
                   settings.ignore_unknown, kind, header, settings.fail_fast,
                   settings.regulator)  # fmt: skip
    fmt = cohort.output_format(output.value, catalog, settings.explain)
    with _WholeLines() as out:
        out.write(fmt.header)
        jobs.run(job, settings.jobs, reporter.watch(work, lambda chunk: len(chunk.lines)),
                 out.write, reporter.error, tally)  # fmt: skip
        out.write(fmt.close())
    reporter.close(tally)
    return 1 if tally.failed else 0
