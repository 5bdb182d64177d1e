"""Running a cohort file through alltx: open, read, answer, write, one row at a time.

Each input row gets exactly one output record, in input order: an answer or an error. Errors
also go to stderr, one line each. The exit status is 1 if any row failed, else 0.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Literal

from alltx.batch import Answer, Answerer
from alltx.rows import Failure, InputError, csv_rows, jsonl_rows, sniff

InputFormat = Literal["jsonl", "csv"]
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


def answers(
    answerer: Answerer,
    lines: Iterable[bytes],
    fmt: str,
    ignore_unknown: bool,
) -> Iterator[Answer | Failure]:
    """Answers for every row. The first row is read now, so a bad CSV header raises InputError
    here, before anything is written."""
    rows = jsonl_rows(lines) if fmt == "jsonl" else csv_rows(lines, ignore_unknown)
    first = next(rows, None)
    if first is None:
        return iter(())
    return (answerer.answer_row(row, ignore_unknown) for row in chain([first], rows))


def report(failure: Failure) -> None:
    who = f"line {failure.line}" + (f" (id {failure.id!r})" if failure.id is not None else "")
    sys.stderr.write(f"alltx: {who}: {failure.message}\n")


def run(
    records: Iterable[Answer | Failure],
    write_answer: Callable[[Answer], object],
    write_failure: Callable[[Failure], object],
    fail_fast: bool,
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


def write_jsonl(answerer: Answerer, records: Iterable[Answer | Failure], fail_fast: bool) -> int:
    from alltx.records import JsonRecords

    out, text = sys.stdout, JsonRecords(answerer.catalog)
    return run(
        records,
        lambda a: out.write(text.answer(a, "\n")),
        lambda f: out.write(text.failure(f) + "\n"),
        fail_fast,
    )


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


def write_csv(answerer: Answerer, records: Iterable[Answer | Failure], fail_fast: bool) -> int:
    from alltx.records import CsvRecords

    rows, writer = CsvRecords(answerer.catalog), csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(rows.header())
    return run(
        records,
        lambda a: writer.writerow(rows.answer(a)),
        lambda f: writer.writerow(rows.failure(f)),
        fail_fast,
    )


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
