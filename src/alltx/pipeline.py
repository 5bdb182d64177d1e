"""Running a cohort file through alltx: open, read, answer, write, one row at a time.

Each input row gets exactly one output record, in input order: an answer or an error. Errors
also go to stderr, one line each. The exit status is 1 if any row failed, else 0.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from alltx.batch import Answer, Answerer
from alltx.catalog import Catalog
from alltx.rows import Failure, InputError, Row, csv_rows, jsonl_rows, sniff

InputFormat = Literal["jsonl", "csv"]
T = TypeVar("T")
SUMMARY_ROWS = 50  # the human summary lists this many patients; the counts cover them all


@dataclass
class Summary:
    """What a person needs to see of a batch: counts per therapy and status, the first rows."""

    therapies: list[str]
    counts: dict[str, dict[str, int]]
    referrals: dict[str, dict[str, int]] = field(default_factory=dict)  # id -> advice -> count
    rows: list[Answer | Failure] = field(default_factory=list)
    total: int = 0
    failed: int = 0

    def add(self, record: Answer | Failure) -> None:
        self.total += 1
        if len(self.rows) < SUMMARY_ROWS:
            self.rows.append(record)
        if isinstance(record, Failure):
            self.failed += 1
            return
        for therapy, verdict in zip(self.therapies, record.verdicts, strict=True):
            self.counts[therapy][verdict.status] += 1
        for counts, verdict in zip(self.referrals.values(), record.referrals, strict=True):
            counts[verdict.status] += 1


def open_input(name: str) -> IO[bytes]:
    """`-` is stdin. Raises InputError for a file that cannot be opened."""
    if name == "-":
        return sys.stdin.buffer
    try:
        return Path(name).open("rb")
    except OSError as error:
        raise InputError(f"cannot read --input {name}: {error.strerror}") from None


def input_format(name: str, stream: IO[bytes], given: str | None) -> tuple[str, Iterable[bytes]]:
    """The input's format: as given, else from the extension, else from the first line."""
    if given:
        return given, stream
    suffix = Path(name).suffix.lower() if name != "-" else ""
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl", stream
    if suffix == ".csv":
        return "csv", stream
    seen = []  # blank lines before the first row, kept so line numbers stay the file's
    for line in stream:
        seen.append(line)
        if line.strip():
            break
    else:
        return "jsonl", seen  # nothing but blank lines: no rows, in any format
    told = sniff(seen[-1])
    if told is None:
        raise InputError(
            f"cannot tell whether {'stdin' if name == '-' else name} is JSON Lines or CSV; "
            "pass --input-format jsonl or --input-format csv"
        )
    return told, chain(seen, stream)


Task = tuple[int, list[Any]]  # a chunk for a worker: its first line number, its lines or rows
SERIAL_ROWS = 1024  # answered in this process, as they come, before any worker starts
CHUNK_ROWS = 256  # rows per worker task: enough to make passing the turn cheap


def split(
    lines: Iterable[bytes], fmt: str, ignore_unknown: bool, serial: int | None
) -> tuple[Iterator[Row | Failure], Iterator[Task]]:
    """The input's first `serial` rows (None: all), read lazily, and then the rest as tasks for
    workers. A bad CSV header raises InputError here, before anything is written."""
    lines = iter(lines)
    if fmt == "jsonl":  # workers parse the lines themselves: dealing out bytes is cheap
        head = jsonl_rows(islice(lines, serial))
        first = (serial or 0) + 1
        return head, ((first + n * CHUNK_ROWS, chunk) for n, chunk in enumerate(_chunks(lines)))
    rows = csv_rows(lines, ignore_unknown)  # a CSV row may span lines: split here
    header_and_first = next(rows, None)
    rows = chain([header_and_first], rows) if header_and_first is not None else iter(())
    return islice(rows, serial), ((0, chunk) for chunk in _chunks(rows))


def _chunks(items: Iterator[T]) -> Iterator[list[T]]:
    while chunk := list(islice(items, CHUNK_ROWS)):
        yield chunk


def answers(
    answerer: Answerer, lines: Iterable[bytes], fmt: str, ignore_unknown: bool
) -> Iterator[Answer | Failure]:
    """Answers for every row, in one process. A bad CSV header raises InputError here."""
    rows, _ = split(lines, fmt, ignore_unknown, None)
    return (answerer.answer_row(row, ignore_unknown) for row in rows)


def jobs_for(asked: int) -> int:
    """Worker processes for a streamed cohort: as asked (0: one per core), where they can run."""
    from alltx import workers

    if asked == 1 or not workers.usable():
        return 1
    return asked or workers.cores()


def write_cohort(
    answerer: Answerer,
    lines: Iterable[bytes],
    fmt: str,
    ignore_unknown: bool,
    output: Output,
    fail_fast: bool,
    jobs: int,
) -> int:
    """Stream a cohort's records to stdout: the first rows from this process as they come, the
    rest (for a long input, when `jobs` > 1) on worker processes, in the same order."""
    from alltx import workers

    head, tasks = split(lines, fmt, ignore_unknown, SERIAL_ROWS if jobs > 1 else None)
    status = write_stream(output, (answerer.answer_row(r, ignore_unknown) for r in head), fail_fast)
    if status and fail_fast:
        return status
    first = next(tasks, None)
    if first is None:
        return status

    def answer(task: Task) -> workers.Written:
        number, items = task
        rows = jsonl_rows(items, number) if fmt == "jsonl" else items
        out: list[str] = []
        err: list[str] = []
        failed = run(
            (answerer.answer_row(row, ignore_unknown) for row in rows),
            lambda a: out.append(output.answer(a)),
            lambda f: out.append(output.failure(f)),
            fail_fast,
            lambda f: err.append(report_line(f)),
        )
        stop = workers.STOP if failed and fail_fast else 0
        return workers.Written(out, err, workers.FAILED | stop if failed else 0)

    token = workers.run(jobs, chain([first], tasks), answer)
    if token & workers.CLOSED:
        raise BrokenPipeError  # the reader went away: the CLI ends quietly, as in one process
    return 1 if status or token & (workers.FAILED | workers.CRASHED) else 0


def report_line(failure: Failure) -> str:
    """The one stderr line that says which row failed and why."""
    who = f"line {failure.line}" + (f" (id {failure.id!r})" if failure.id is not None else "")
    return f"alltx: {who}: {failure.message}\n"


def report(failure: Failure) -> None:
    sys.stderr.write(report_line(failure))


def run(
    records: Iterable[Answer | Failure],
    write_answer: Callable[[Answer], object],
    write_failure: Callable[[Failure], object],
    fail_fast: bool,
    report: Callable[[Failure], object] = report,
) -> int:
    """Write each record as it comes; report failures; return the exit status."""
    status = 0
    for record in records:
        if isinstance(record, Failure):
            status = 1
            report(record)
            write_failure(record)
            if fail_fast:
                break
        else:
            write_answer(record)
    return status


@dataclass(frozen=True)
class Output:
    """A streaming output format: what comes first, and the text of each record."""

    header: str
    answer: Callable[[Answer], str]
    failure: Callable[[Failure], str]


def jsonl_output(catalog: Catalog) -> Output:
    from alltx.records import JsonRecords

    text = JsonRecords(catalog)
    return Output("", lambda a: text.answer(a, "\n"), lambda f: text.failure(f) + "\n")


class _LastLine:
    """A file for csv.writer that keeps the line just written (writerow writes one)."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text
        return len(text)


def csv_output(catalog: Catalog) -> Output:
    from alltx.records import CsvRecords

    rows, line = CsvRecords(catalog), _LastLine()
    writer = csv.writer(line, lineterminator="\n")

    def text(cells: Iterable[object]) -> str:
        writer.writerow(cells)
        return line.text

    return Output(
        text(rows.header()), lambda a: text(rows.answer(a)), lambda f: text(rows.failure(f))
    )


def write_stream(output: Output, records: Iterable[Answer | Failure], fail_fast: bool) -> int:
    """Write the records to stdout in one process, each as it comes."""
    write = sys.stdout.write
    write(output.header)
    return run(
        records, lambda a: write(output.answer(a)), lambda f: write(output.failure(f)), fail_fast
    )


def write_jsonl(answerer: Answerer, records: Iterable[Answer | Failure], fail_fast: bool) -> int:
    return write_stream(jsonl_output(answerer.catalog), records, fail_fast)


def write_csv(answerer: Answerer, records: Iterable[Answer | Failure], fail_fast: bool) -> int:
    return write_stream(csv_output(answerer.catalog), records, fail_fast)


def write_json_array(
    answerer: Answerer, records: Iterable[Answer | Failure], fail_fast: bool
) -> int:
    from alltx.records import JsonRecords

    out, text = sys.stdout, JsonRecords(answerer.catalog)
    first = [True]

    def write(record: str) -> None:
        out.write(("[\n" if first[0] else ",\n") + record)
        first[0] = False

    status = run(
        records, lambda a: write(text.answer(a)), lambda f: write(text.failure(f)), fail_fast
    )
    out.write("[]\n" if first[0] else "\n]\n")
    return status


def summarize(
    answerer: Answerer, records: Iterable[Answer | Failure], fail_fast: bool
) -> tuple[int, Summary]:
    therapies = [t.id for t in answerer.catalog.therapies]
    statuses = ("eligible", "possible", "not_eligible")
    summary = Summary(therapies, {t: dict.fromkeys(statuses, 0) for t in therapies})
    advice = ("recommended", "possible", "not_indicated")
    summary.referrals = {r.id: dict.fromkeys(advice, 0) for r in answerer.catalog.referrals}
    status = run(records, summary.add, summary.add, fail_fast)
    return status, summary
