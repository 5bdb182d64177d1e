"""Opening a cohort input and choosing its reader: JSON Lines, CSV or TSV, by the name given,
the file's extension, or its first line."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO

from alltx.rows import (
    MAX_LINE_BYTES,
    Failure,
    InputError,
    LongLine,
    Row,
    csv_rows,
    jsonl_rows,
    sniff,
)

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}


# How far past an over-long line alltx looks for its end before it stops: an input with no line
# ends at all (/dev/zero) is no cohort, and must not be read forever.
MAX_SKIP = 64 * MAX_LINE_BYTES


def bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's lines, each at most MAX_LINE_BYTES: a longer one comes as a LongLine, its
    bytes skipped, not kept. Raises InputError for a line that does not end."""
    readline = stream.readline
    while line := readline(MAX_LINE_BYTES + 1):
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        skipped = len(line)
        while not line.endswith(b"\n"):
            line = readline(MAX_LINE_BYTES + 1)
            skipped += len(line)
            if not line:
                break
            if skipped > MAX_SKIP:
                raise InputError(
                    f"a line over {MAX_SKIP // MAX_LINE_BYTES} MiB with no end: this is not a "
                    "cohort file (JSON Lines, CSV or TSV)"
                )
        yield LongLine()


def open_input(name: str) -> IO[bytes]:
    """`-` is stdin. Raises InputError for a file that cannot be opened."""
    if name == "-":
        if sys.stdin is None:
            raise InputError("--input -: standard input is closed; give a file, or pipe one in")
        return sys.stdin.buffer
    try:
        return Path(name).open("rb")
    except OSError as error:
        raise InputError(f"cannot read --input {name}: {error.strerror}") from None


def input_format(name: str, stream: IO[bytes], given: str | None) -> tuple[str, Iterable[bytes]]:
    """The input's lines and format: as given, else from the extension, else from the first
    line."""
    lines = bounded_lines(stream)
    if given:
        return given, lines
    suffix = Path(name).suffix.lower() if name != "-" else ""
    if suffix in SUFFIXES:
        return SUFFIXES[suffix], lines
    seen = []  # blank lines before the first row, kept so line numbers stay the file's
    for line in lines:
        seen.append(line)
        if line.strip():
            break
    else:
        return "jsonl", seen  # nothing but blank lines: no rows, in any format
    told = sniff(seen[-1])
    if told is None:
        raise InputError(
            f"cannot tell whether {'stdin' if name == '-' else name} is JSON Lines, CSV or TSV; "
            "pass --input-format jsonl, csv or tsv"
        )
    return told, chain(seen, lines)


def read_rows(lines: Iterable[bytes], fmt: str, ignore_unknown: bool) -> Iterator[Row | Failure]:
    """The rows of an input in this format, read lazily. A bad CSV header raises InputError
    on the first read, before anything is written."""
    if fmt == "jsonl":
        return jsonl_rows(lines)
    return csv_rows(lines, ignore_unknown, "\t" if fmt == "tsv" else ",")
