"""Rows in: patients read from JSON Lines or CSV, one at a time.

Lazy (an iterator of rows from an iterable of lines) and pure: the caller opens the file. Each
input line that holds a row gives exactly one Row, or one Failure saying what is wrong with it.
"""

from __future__ import annotations

import csv
import json
import json.scanner
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from alltx.facts import PARSERS, likely_field


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


NOT_TEXT = "not UTF-8 text; save the file as UTF-8"


class LongLine(bytes):
    """What stands for an input line over MAX_LINE_BYTES: its row is refused, nothing kept."""


# No real cohort row is this long; a longer line is refused, not read into memory.
MAX_LINE_BYTES = 1024 * 1024
MAX_ID_DEPTH = 32  # an id nested deeper is not an id anyone meant
TOO_LONG = f"the line is over {MAX_LINE_BYTES // 1024} KiB, which no cohort row is; check the file"


def _depth(value: object, limit: int) -> int:
    """How deeply a JSON value nests, counting no further than `limit`."""
    if limit <= 0 or not isinstance(value, dict | list):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(item, limit - 1) for item in items), default=0)


# The C scanner json.loads runs, called directly: loads wraps it in three Python calls and two
# regular-expression matches, which cost more than the scan itself on a row's short line. A
# line it does not take whole (white space around it, an error) goes through json.loads, which
# reads it the same way and words its errors.
# (typeshed types its argument as a scanner; it takes the decoder whose settings it copies.)
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def jsonl_rows(lines: Iterable[bytes], start: int = 1) -> Iterator[Row | Failure]:
    """Rows from JSON Lines, one object per line (as alltx.input_files.bounded_lines reads them,
    a byte-order mark dropped), numbered from `start`; blank lines are not rows."""
    scan = _scan
    for number, raw in enumerate(lines, start):
        if raw.__class__ is LongLine:
            yield Failure(number, None, TOO_LONG)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield Failure(number, None, NOT_TEXT)
            continue
        try:
            value, end = scan(text, 0)
        except (StopIteration, ValueError, RecursionError):
            end = -1
        if end != len(text):
            value = _loads(number, text)
            if value is _BLANK:
                continue
            if isinstance(value, Failure):
                yield value
                continue
        if value.__class__ is not dict:
            yield Failure(number, None, 'a row must be a JSON object, like {"age": 19}')
            continue
        row_id = value.pop("id", None)
        if row_id.__class__ in (dict, list) and _depth(row_id, MAX_ID_DEPTH + 1) > MAX_ID_DEPTH:
            yield Failure(number, None, f"the id nests over {MAX_ID_DEPTH} levels deep")
            continue
        yield Row(number, row_id, value)


_BLANK = object()  # what _loads gives for a blank line, which is no row


def _loads(number: int, text: str) -> object:
    """A line as json.loads reads it: its value, a Failure saying why it is not JSON, or
    _BLANK."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if text.strip():  # checked only here: a blank line fails to parse
            return Failure(number, None, f"not valid JSON: {error.msg} at column {error.colno}")
        return _BLANK
    except RecursionError:
        return Failure(number, None, "nested too deeply to be a row; check the line")
    except ValueError:  # Python's limit on the digits of an integer
        return Failure(number, None, "a number with thousands of digits; check the line")


def _csv_problem(error: Exception) -> str:
    """The csv module's message, in the user's terms."""
    if "unexpected end of data" in str(error) or "expected" in str(error):
        return 'a quote (") left open in the line; a cell cannot span lines'
    return str(error)


def csv_rows(
    lines: Iterable[bytes],
    ignore_unknown: bool = False,
    delimiter: str = ",",
    start: int = 1,
    header: list[str] | None = None,
) -> Iterator[Row | Failure]:
    """Rows from CSV (or TSV, with `delimiter` a tab) with a header row, whose names are read
    without regard to case; an empty cell is unknown. Lines are numbered from `start`; with
    `header` (from csv_header), they are the lines after it.

    Each line (as the caller reads them: alltx.input_files.bounded_lines) is read on its own: a
    quote left open spoils that line only, never the lines
    after it (so a cell cannot span lines). A line of nothing but separators is a row of
    unknowns; only an empty line is no row. An unknown column is refused before any row
    (InputError) unless `ignore_unknown`: a typo such as `relpased` must not quietly turn a
    whole column into "unknown".
    """
    lines = iter(lines)
    if header is None:
        header, start = csv_header(lines, ignore_unknown, delimiter, start)
        if header is None:
            return
    for number, raw in enumerate(lines, start):
        if raw.__class__ is LongLine:
            yield Failure(number, None, TOO_LONG)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield Failure(number, None, NOT_TEXT)
            continue
        if not text.strip():
            continue
        try:
            [cells] = csv.reader([text], delimiter=delimiter, strict=True)
        except (csv.Error, ValueError) as error:
            yield Failure(number, None, f"not valid CSV: {_csv_problem(error)}")
            continue
        if len(cells) != len(header):
            found = f"{len(cells)} cells where the header has {len(header)}"
            yield Failure(number, _csv_id(header, cells), f"{found}; check the commas and quotes")
            continue
        fields: dict[str, object] = {
            name: cell for name, cell in zip(header, cells, strict=True) if name
        }
        row_id = fields.pop("id", None) or None
        yield Row(number, row_id, fields)


def csv_header(
    lines: Iterator[bytes], ignore_unknown: bool, delimiter: str = ",", start: int = 1
) -> tuple[list[str] | None, int]:
    """The column names from the first line that is not blank (read from `lines`, numbered
    from `start`), "" for a column to skip; and the number of the line after it. None when
    there is no such line. Raises InputError for a header that cannot be read."""
    for number, raw in enumerate(lines, start):
        if raw.__class__ is LongLine:
            raise InputError(f"line {number}: the CSV header: {TOO_LONG}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"line {number}: the CSV header is {NOT_TEXT}") from None
        if not text.strip():
            continue
        try:
            [cells] = csv.reader([text.lstrip("\ufeff")], delimiter=delimiter, strict=True)
        except (csv.Error, ValueError) as error:
            raise InputError(f"line {number}: the CSV header: {_csv_problem(error)}") from None
        return header_names(cells, ignore_unknown), number + 1
    return None, start


def header_names(cells: list[str], ignore_unknown: bool, what: str = "CSV header") -> list[str]:
    """The fields a table's column names (a CSV header, a Parquet file's columns) stand for,
    read without regard to case or spaces around them; "" for a column to skip. Raises
    InputError for a name given twice, or an unknown one unless `ignore_unknown`."""
    names = [cell.strip().lstrip("\ufeff").strip().lower() for cell in cells]
    seen = set()
    for name in names:
        if name in seen:
            raise InputError(f"{what}: column {name!r} is named twice; give each column once")
        seen.add(name)
    unknown = [name for name in names if name != "id" and name not in PARSERS]
    if unknown and not ignore_unknown:
        raise InputError(_unknown_columns(unknown, what))
    return ["" if name in unknown else name for name in names]  # "" = a column to skip


SHOWN = 3  # unknown columns named in the error; more is not a typo but another kind of file


def _unknown_columns(unknown: list[str], what: str) -> str:
    """One line for a header's unknown columns: each with its likely typo, else the fields."""
    if len(unknown) == 1 and (close := likely_field(unknown[0])):
        return (f"{what}: unknown field {unknown[0]!r}; did you mean {close!r}? (or pass "
                "--ignore-unknown-fields)")  # fmt: skip
    named = [f"{name!r}" + (f" (did you mean {close!r}?)" if (close := likely_field(name)) else "")
             for name in unknown[:SHOWN]]  # fmt: skip
    more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
    count = f"{len(unknown)} unknown fields:" if len(unknown) > 1 else "unknown field"
    # One unknown name: the fields, to pick from. More are another kind of file, and the list
    # of all would make the line long: say where the fields are.
    fields = (f"the fields are {', '.join(PARSERS)}" if len(unknown) == 1
              else "alltx schema input lists the fields")  # fmt: skip
    return f"{what}: {count} {', '.join(named)}{more}; {fields} (or pass --ignore-unknown-fields)"


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
