"""Opening a cohort input and choosing its reader: JSON Lines, CSV or TSV, by the name given,
the file's extension, or its first line."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO

from alltx.rows import Failure, InputError, Row, csv_rows, jsonl_rows, sniff

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv"}


def open_input(name: str) -> IO[bytes]:
    """`-` is stdin. Raises InputError for a file that cannot be opened."""
    if name == "-":
        return sys.stdin.buffer
    try:
        return Path(name).open("rb")
    except OSError as error:
        raise InputError(f"cannot read --input {name}: {error.strerror}") from None


def input_format(
    name: str, stream: Iterable[bytes], given: str | None
) -> tuple[str, Iterable[bytes]]:
    """The input's format: as given, else from the extension, else from the first line."""
    if given:
        return given, stream
    suffix = Path(name).suffix.lower() if name != "-" else ""
    if suffix in SUFFIXES:
        return SUFFIXES[suffix], stream
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
            f"cannot tell whether {'stdin' if name == '-' else name} is JSON Lines, CSV or TSV; "
            "pass --input-format jsonl, csv or tsv"
        )
    return told, chain(seen, stream)


def read_rows(lines: Iterable[bytes], fmt: str, ignore_unknown: bool) -> Iterator[Row | Failure]:
    """The rows of an input in this format, read lazily. A bad CSV header raises InputError
    on the first read, before anything is written."""
    if fmt == "jsonl":
        return jsonl_rows(lines)
    return csv_rows(lines, ignore_unknown, "\t" if fmt == "tsv" else ",")
