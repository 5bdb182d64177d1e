"""A cohort answered by several processes (`--jobs N`).

The input is cut into chunks: of lines for JSON Lines; of CSV records for CSV, read here by the
csv module (a quoted cell may span lines, and only the reader knows where a record ends). Each
chunk is answered in a worker process by the same `streaming.records` that answers a cohort in one
process, and the chunks' records are written back in input order. The pool is the standard
library's (concurrent.futures); at most two chunks a worker are in flight, so memory stays flat
however long the input. Parsing the rows, answering and formatting are the worker's.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from alltx.batch import streaming
from alltx.io import input_files
from alltx.io.input_rows import (
    Failure,
    Record,
    csv_header,
    csv_records,
    jsonl_rows,
    record_rows,
)

CHUNK = 2000  # lines a worker answers at a time: enough to outweigh sending them


class JobsError(RuntimeError):
    """A worker process stopped before answering its lines (killed, out of memory)."""


@dataclass(frozen=True)
class Job:
    """What every worker needs to answer lines as the main process would."""

    data_file: Path | None  # None: the bundled data
    output: str  # jsonl or csv
    explain: bool
    ignore_unknown: bool
    kind: str  # the input format: jsonl, csv or tsv
    header: list[str] | None  # a CSV input's columns, read by the main process
    fail_fast: bool
    regulator: str | None = None  # whose authorisations: the data's first where None
    as_of: date | None = None  # the day an age from a birth date is taken at, where a row has none


@dataclass(frozen=True)
class Chunk:
    start: int  # the input line number of its first line
    lines: list[bytes] | list[Record | Failure]  # JSON lines, or CSV records


@dataclass
class Done:
    """A chunk answered: its records' text, its failures in order, and its counts."""

    text: str
    failures: list[Failure] = field(default_factory=list)
    tally: streaming.Tally = field(default_factory=streaming.Tally)


_worker: tuple[Job, streaming.Answering[Any], streaming.Format[Any]] | None = None


def _start(job: Job, parent: int) -> None:
    """A worker's set-up: the catalog loaded once. Ctrl-C, SIGTERM and SIGHUP are the main
    process's to handle (it stops the pool); a worker whose parent dies is killed with it."""
    global _worker
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    _die_with(parent)
    from alltx.model.data_files import load_catalog

    catalog = load_catalog(job.data_file, regulator=job.regulator)
    fmt = streaming.output_format(job.output, catalog, job.explain)
    _worker = (job, streaming.Answering(catalog, fmt, job.ignore_unknown, job.as_of), fmt)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal the kernel sends a process when its parent dies


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its parent dies (Linux): a parent killed outright
    (SIGKILL, out of memory) cannot stop its pool, and its workers would live on under init."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl (not Linux): the pool's own shutdown only
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _answer(chunk: Chunk) -> Done:
    assert _worker is not None, "a worker answers only after _start"
    job, answering, fmt = _worker
    if job.header is None:
        rows = jsonl_rows(chunk.lines, chunk.start)  # type: ignore[arg-type]
    else:
        rows = record_rows(chunk.lines, job.header)  # type: ignore[arg-type]
    texts: list[str] = []
    done = Done("")
    streaming.stream(
        rows,
        answering,
        fmt,
        texts.append,
        done.failures.append,
        job.fail_fast,
        done.tally,
        whole=False,
    )
    done.text = "".join(texts)
    return done


def chunks(items: Iterable[Any], start: int = 1) -> Iterator[Chunk]:
    items = iter(items)
    while block := list(islice(items, CHUNK)):
        yield Chunk(start, block)
        start += len(block)


def prepare(
    lines: Iterable[bytes], kind: str, ignore_unknown: bool
) -> tuple[list[str] | None, Iterator[Chunk]]:
    """A CSV input's header, read here so that a bad one is refused before anything is
    written (InputError), and the chunks of the records after it; a JSON Lines input's chunks
    of lines."""
    if kind == "jsonl":
        return None, chunks(lines)
    records = csv_records(lines, input_files.DELIMITERS[kind])
    header = csv_header(records, ignore_unknown)
    return header or [], chunks(records)


def run(
    job: Job,
    jobs: int,
    work: Iterable[Chunk],
    write: Callable[[str], object],
    report: Callable[[Failure], object],
    tally: streaming.Tally,
) -> None:
    """Answer the chunks in `jobs` processes; write each chunk's records, and report its
    failures, in input order; stop after the first failure with `job.fail_fast`."""
    pool = ProcessPoolExecutor(jobs, initializer=_start, initargs=(job, os.getpid()))
    try:
        waiting: deque[Future[Done]] = deque()
        work = iter(work)
        for chunk in islice(work, 2 * jobs):
            waiting.append(pool.submit(_answer, chunk))
        while waiting:
            try:
                done = waiting.popleft().result()
            except BrokenProcessPool:
                raise JobsError(
                    "a worker process stopped before answering its rows (out of memory, or "
                    "killed); run again, or without --jobs"
                ) from None
            for failure in done.failures:
                report(failure)
            write(done.text)
            tally.read += done.tally.read
            tally.answered += done.tally.answered
            tally.failed += done.tally.failed
            if job.fail_fast and done.tally.failed:
                break
            for chunk in islice(work, 1):
                waiting.append(pool.submit(_answer, chunk))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
