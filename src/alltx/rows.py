"""Rows in: patients read from JSON Lines or CSV, one at a time.

Lazy (an iterator of rows from an iterable of lines) and pure: the caller opens the file. Each
input line that holds a row gives exactly one Row, or one Failure saying what is wrong with it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from alltx.facts import PARSERS, unknown_field


class InputError(ValueError):
    """The input as a whole cannot be read (a bad CSV header): a usage error, exit 2."""


@dataclass(slots=True)  # not frozen: one is made per row, and frozen init is slower
class Row:
    """One input row: its line number, its id (carried through untouched) and its fields."""

    line: int | None  # None: a patient given as flags
    id: object
    fields: dict[str, object]


@dataclass(frozen=True)
class Failure:
    """A row that could not be answered, and why; `field` names the culprit when there is one."""

    line: int | None
    id: object
    message: str
    field: str | None = None


def utf8(text: str) -> str:
    """`text` if it can be written as UTF-8; else with each lone surrogate (which JSON allows
    in a string, as in {"id": "\\ud800"}, and UTF-8 does not) written as its escape, `\\ud800`."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def decoded(lines: Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    """Number the lines and decode them; a line that is not UTF-8 comes back as None."""
    for number, raw in enumerate(lines, 1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None


NOT_TEXT = "not UTF-8 text; save the file as UTF-8"


def jsonl_rows(lines: Iterable[bytes], first: int = 1) -> Iterator[Row | Failure]:
    """Rows from JSON Lines, one object per line, the first numbered `first`; blank lines are
    not rows."""
    loads = json.loads
    for number, raw in enumerate(lines, first):
        try:
            value = loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            yield Failure(number, None, NOT_TEXT)
            continue
        except json.JSONDecodeError as error:
            if raw.decode("utf-8").strip():  # checked only here: a blank line fails to parse
                yield Failure(number, None, f"not valid JSON: {error.msg} at column {error.colno}")
            continue
        if value.__class__ is not dict:
            yield Failure(number, None, 'a row must be a JSON object, like {"age": 19}')
            continue
        row_id = value.pop("id", None)
        yield Row(number, row_id, value)


def _csv_problem(error: csv.Error) -> str:
    """The csv module's message, in the user's terms."""
    if "new-line character seen in unquoted field" in str(error):
        return (
            "a carriage return (\\r) inside a row; save the file with ordinary line ends "
            "(\\n or \\r\\n), or quote the cell"
        )
    return str(error)


def csv_rows(
    lines: Iterable[bytes], ignore_unknown: bool = False, delimiter: str = ","
) -> Iterator[Row | Failure]:
    """Rows from CSV (or TSV, with `delimiter` a tab) with a header row, whose names are read
    without regard to case; an empty cell is unknown.

    An unknown column is refused before any row (InputError) unless `ignore_unknown`: a typo
    such as `relpased` must not quietly turn a whole column into "unknown".
    """
    numbered = decoded(lines)
    current = {"line": 0, "bad": False}

    def text() -> Iterator[str]:
        for number, line in numbered:
            current["line"], current["bad"] = number, line is None
            yield "" if line is None else line

    reader = csv.reader(text(), delimiter=delimiter)
    header: list[str] | None = None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # a bare carriage return, an over-long field
            if header is None:
                raise InputError(
                    f"line {current['line']}: the CSV header: {_csv_problem(error)}"
                ) from None
            yield Failure(current["line"], None, f"not valid CSV: {_csv_problem(error)}")
            continue
        line = current["line"]
        if current["bad"]:
            if header is None:
                raise InputError(f"line {line}: the CSV header is {NOT_TEXT}")
            yield Failure(line, None, NOT_TEXT)
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = _header(cells, ignore_unknown)
            continue
        if len(cells) != len(header):
            found = f"{len(cells)} cells where the header has {len(header)}"
            yield Failure(line, _csv_id(header, cells), f"{found}; check the commas and quotes")
            continue
        fields: dict[str, object] = {
            name: cell for name, cell in zip(header, cells, strict=True) if name
        }
        row_id = fields.pop("id", None) or None
        yield Row(line, row_id, fields)


def _header(cells: list[str], ignore_unknown: bool) -> list[str]:
    names = [cell.strip().lstrip("\ufeff").strip().lower() for cell in cells]
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"the CSV header names column {name!r} twice")
        seen.add(name)
    unknown = [name for name in names if name != "id" and name not in PARSERS]
    if unknown and not ignore_unknown:
        problems = "; ".join(unknown_field(name) for name in unknown)
        raise InputError(f"CSV header: {problems} (or pass --ignore-unknown-fields)")
    return ["" if name in unknown else name for name in names]  # "" = a column to skip


def _csv_id(header: list[str], cells: list[str]) -> object:
    if "id" in header and header.index("id") < len(cells):
        return cells[header.index("id")] or None
    return None


def sniff(first: bytes) -> str | None:
    """Tell JSON Lines from CSV and TSV by the first line, when that is safe; else None."""
    text = first.lstrip(b"\xef\xbb\xbf").strip()
    if text.startswith(b"{"):
        return "jsonl"
    # A header row: several tab- or comma-separated names, or one known name.
    if b"\t" in text:
        return "tsv"
    if b"," in text or text.decode("utf-8", "replace").strip('"').lower() in {"id", *PARSERS}:
        return "csv"
    return None
