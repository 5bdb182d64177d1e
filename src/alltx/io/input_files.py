"""Opening a cohort input and choosing its reader: JSON Lines, CSV or TSV, by the name given,
the file's extension, or its first line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import IO

from alltx.io.input_rows import (
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


def file_kind(name: str) -> str | None:
    """The kind of cohort file a name says by its extension (parquet, csv, tsv, jsonl)."""
    suffix = Path(name).suffix.lower()
    return "parquet" if suffix == ".parquet" else SUFFIXES.get(suffix)


# How far past an over-long line alltx looks for its end before it stops: an input with no line
# ends at all (/dev/zero) is no cohort, and must not be read forever.
MAX_SKIP = 64 * MAX_LINE_BYTES


CHUNK = 64 * 1024  # bytes read at a time; a pipe gives what it has (read1), so rows stream


def bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's lines (without their ends) as a person sees them: a bare carriage return
    also ends one (old Mac line ends; a JSON string cannot hold a raw CR, so no row is cut);
    a byte-order mark before the first is dropped; each line is at most MAX_LINE_BYTES, a
    longer one coming as a LongLine, its bytes skipped, not kept. Raises InputError for a line
    that does not end.

    Read a chunk at a time and split in C: reading is a good part of the time per row."""
    read = _reading(stream)
    rest, first, ended = b"", True, False
    while not ended:
        chunk = read(CHUNK)
        ended = not chunk
        data = rest + chunk
        if first:
            data, first = data.removeprefix(b"\xef\xbb\xbf"), False
        if b"\r" in data:
            held = not ended and data.endswith(b"\r")  # its \n may start the next chunk
            body = data[:-1] if held else data
            data = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if held else b"")
        lines = data.split(b"\n")
        rest = lines.pop()  # the line not ended yet (at the end: the last, if it has no end)
        if ended and rest:
            lines.append(rest)
            rest = b""
        if len(rest) > MAX_LINE_BYTES:  # longer than any row, and not ended yet
            yield from _checked(lines)
            rest = _skip_rest(read)  # first: a line that never ends is no row to report
            yield LongLine()
        elif lines and max(map(len, lines)) > MAX_LINE_BYTES:
            yield from _checked(lines)
        else:
            yield from lines


def _reading(stream: IO[bytes]) -> Callable[[int], bytes]:
    """The stream's read, a chunk at a time; a read that fails (/proc/self/mem, a device, a
    network file gone) is the input's error, not the output's."""
    read = getattr(stream, "read1", stream.read)

    def reading(size: int) -> bytes:
        try:
            return read(size)
        except OSError as error:
            raise InputError(f"cannot read the input: {error.strerror or error}") from None

    return reading


def _checked(lines: list[bytes]) -> Iterator[bytes]:
    for line in lines:
        yield LongLine() if len(line) > MAX_LINE_BYTES else line


def _skip_rest(read: Callable[[int], bytes]) -> bytes:
    """Read past the rest of an over-long line, keeping nothing; what follows its end."""
    skipped = 0
    while chunk := read(CHUNK):
        ends = [at for at in (chunk.find(b"\n"), chunk.find(b"\r")) if at >= 0]
        if ends:
            end = min(ends)
            after = chunk[end + 1 :]
            return after[1:] if chunk[end] == 13 and after.startswith(b"\n") else after
        skipped += len(chunk)
        if skipped > MAX_SKIP:
            raise InputError(
                f"a line over {MAX_SKIP // MAX_LINE_BYTES} MiB with no end: this is not a "
                "cohort file (JSON Lines, CSV or TSV)"
            )
    return b""


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
    """The rows of an input in this format, read lazily. A bad CSV header raises InputError on
    the first read, before anything is written."""
    if fmt == "jsonl":
        return jsonl_rows(lines)
    return csv_rows(lines, ignore_unknown, DELIMITERS[fmt])


DELIMITERS = {"csv": ",", "tsv": "\t"}
