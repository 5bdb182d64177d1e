"""Rows in: patients read from JSON Lines or CSV, one at a time.

Lazy (an iterator of rows from an iterable of lines) and pure: the caller opens the file. Each
input record (a JSON line; a CSV record, which a quoted cell may spread over lines) gives
exactly one Row, or one Failure saying what is wrong with it. The standard library reads both:
json (each key once) and csv.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from alltx.core.facts import FIELDS, JsonNumber, likely_field


class InputError(ValueError):
    """The input as a whole cannot be read (a bad CSV header): a usage error, exit 2."""


@dataclass(slots=True)  # not frozen: one is made per row, and frozen init is slower
class Row:
    """One input row: its line number, its id (carried through untouched) and its fields."""

    line: int | None  # None: a patient given as flags
    id: object
    fields: dict[str, object]


@dataclass(slots=True)
class RecordRow(Row):
    """A row read from records (FHIR): with where each fact came from and what was found and
    not read, which a full answer (--explain) says as one patient's does. A row of its own
    kind, so that a file's rows (a million of them) carry nothing more."""

    origins: Mapping[str, str] = field(default_factory=dict)
    unread: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    """A row that could not be answered, and why; `field` names the culprit when there is one."""

    line: int | None
    id: object
    message: str
    field: str | None = None


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


class KeyTwice(ValueError):
    """A JSON object that names a key twice (json.loads would keep the last, silently)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _once(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """An object's pairs as a dict, each key given once: {"age": 19, "age": 40} is refused,
    not read as 40."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise KeyTwice(key)
            seen.add(key)
    return value


# json.loads's own decoder, with duplicate keys refused and a number with a fraction kept
# with its text (JsonNumber) (one decoder made once: json.loads with a hook would make one per
# line).
_DECODER = json.JSONDecoder(object_pairs_hook=_once, parse_float=JsonNumber)


def strict_loads(text: str) -> object:
    """json.loads, with a key given twice in an object refused (KeyTwice): the reading of
    every JSON alltx is given (rows, FHIR records)."""
    return _DECODER.decode(text)


def jsonl_rows(lines: Iterable[bytes], start: int = 1) -> Iterator[Row | Failure]:
    """Rows from JSON Lines, one object per line (as alltx.io.input_files.bounded_lines reads them,
    a byte-order mark dropped), numbered from `start`; blank lines are not rows."""
    for number, raw in enumerate(lines, start):
        if raw.__class__ is LongLine:
            yield Failure(number, None, TOO_LONG)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield Failure(number, None, NOT_TEXT)
            continue
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
    """A line as json.loads reads it (duplicate keys refused): its value, a Failure saying why
    it is not a row, or _BLANK."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        if text.strip():  # checked only here: a blank line fails to parse
            return Failure(number, None, f"not valid JSON: {error.msg} at column {error.colno}")
        return _BLANK
    except KeyTwice as twice:
        return Failure(
            number,
            None,
            f"the key {twice.key!r} is given twice in the object; give each once",
            twice.key,
        )
    except RecursionError:
        return Failure(number, None, "nested too deeply to be a row; check the line")
    except ValueError:  # Python's limit on the digits of an integer
        return Failure(number, None, "a number with thousands of digits; check the line")


# The most characters a cell may have: the csv module's own limit (csv.field_size_limit()),
# which a Parquet cell is held to as well (duckdb_engine.table_over).
MAX_CELL = 131_072
CELL_TOO_LONG = "a cell over 128 KiB, which no cohort cell is"
# The csv module's messages (strict mode), in the user's terms.
_CSV_PROBLEMS = {
    "unexpected end of data": 'a quote (") is left open to the end of the file; close it',
    "expected after": 'text after a closing quote ("); a quoted cell ends at its quote',
    "field larger than field limit": f'{CELL_TOO_LONG}; check the quotes (")',
}


def _csv_problem(error: Exception) -> str:
    text = str(error)
    return next((said for found, said in _CSV_PROBLEMS.items() if found in text), text)


Record = tuple[int, list[str]]  # a CSV record's first line, and its cells


def csv_records(
    lines: Iterable[bytes], delimiter: str = ",", start: int = 1
) -> Iterator[Record | Failure]:
    """The records of CSV (or TSV) lines, read by csv.reader over the whole stream: a quoted
    cell may hold line breaks, and its record is numbered by its first line (lines numbered
    from `start`). A record that cannot be read is a Failure, and reading goes on at the line
    after it; a record holding a line that is not UTF-8, or over MAX_LINE_BYTES, is one too.
    Blank lines are no record."""
    trouble: dict[int, str] = {}  # line number: why the record holding it is refused
    fed = start - 1

    def texts() -> Iterator[str]:
        nonlocal fed
        for raw in lines:
            fed += 1
            if raw.__class__ is LongLine:
                trouble[fed] = TOO_LONG
                yield "\n"
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                trouble[fed] = NOT_TEXT
                text = raw.decode("utf-8", "replace")  # its quotes still shape the record
            yield text + "\n"  # the reader needs the line's end to keep it in a quoted cell

    reader = csv.reader(texts(), delimiter=delimiter, strict=True)
    first = start
    while True:
        try:
            cells = next(reader)
            problem = None
        except StopIteration:
            return
        except csv.Error as error:
            problem = f"not valid CSV: {_csv_problem(error)}"
            cells = []
        last = start - 1 + reader.line_num
        if trouble:
            for number in [n for n in trouble if n <= last]:
                problem = problem or trouble[number]
                del trouble[number]
        if problem:
            yield Failure(first, None, problem)
        elif cells and not (len(cells) == 1 and first == last and not cells[0].strip()):
            yield first, cells
        first = last + 1


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

    Records are read by the csv module over the whole stream (csv_records). A line of nothing
    but separators is a row of unknowns; a blank line is no row. An unknown column is refused
    before any row (InputError) unless `ignore_unknown`: a typo such as `relpased` must not
    quietly turn a whole column into "unknown".
    """
    records = csv_records(lines, delimiter, start)
    if header is None:
        header = csv_header(records, ignore_unknown)
        if header is None:
            return
    yield from record_rows(records, header)


def record_rows(records: Iterable[Record | Failure], header: list[str]) -> Iterator[Row | Failure]:
    """Each CSV record as a row of the header's fields (a Failure stays one)."""
    width = len(header)
    for record in records:
        if record.__class__ is Failure:
            yield record
            continue
        number, cells = record  # type: ignore[misc]
        if len(cells) != width:
            found = f"{len(cells)} cells where the header has {width}"
            yield Failure(number, _csv_id(header, cells), f"{found}; check the commas and quotes")
            continue
        fields: dict[str, object] = {
            name: cell for name, cell in zip(header, cells, strict=True) if name
        }
        row_id = fields.pop("id", None) or None
        yield Row(number, row_id, fields)


def csv_header(records: Iterator[Record | Failure], ignore_unknown: bool) -> list[str] | None:
    """The column names from the first record (read from `records`), "" for a column to skip;
    None when there is none. Raises InputError for a header that cannot be read."""
    for record in records:
        if isinstance(record, Failure):
            raise InputError(f"line {record.line}: the CSV header: {record.message}")
        cells = record[1]
        cells[0] = cells[0].lstrip("\ufeff")
        return header_names(cells, ignore_unknown)
    return None


def header_names(cells: list[str], ignore_unknown: bool, what: str = "CSV header") -> list[str]:
    """The fields a table's column names (a CSV header, a Parquet file's columns) stand for,
    read without regard to case or spaces around them; "" for a column to skip. Raises
    InputError for a name given twice, for an unknown one unless `ignore_unknown`, and for
    unknown ones that leave no known field (every row would be read as all unknown). The
    errors name the columns as written."""
    written = [cell.strip().lstrip("\ufeff").strip() for cell in cells]
    names = [name.lower() for name in written]
    seen: dict[str, str] = {}
    for name, as_written in zip(names, written, strict=True):
        if name in seen:
            also = "" if seen[name] == as_written else f" (as {seen[name]!r} too)"
            raise InputError(
                f"{what}: column {as_written!r} is named twice{also}; give each column once"
            )
        seen[name] = as_written
    unknown = [name for name in names if name != "id" and name not in FIELDS]
    if unknown and not ignore_unknown:
        shown_as = [w for w, name in zip(written, names, strict=True) if name in unknown]
        raise InputError(_unknown_columns(shown_as, what))
    if unknown and not [name for name in names if name in FIELDS]:
        shown = ", ".join(repr(name) for name in written[:SHOWN])
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        raise InputError(
            f"{what}: no column is a known field ({shown}{more}), so every row "
            "would be all unknown; alltx schema input lists the fields (and for a "
            "CSV, is the separator a comma?)"
        )
    return ["" if name in unknown else name for name in names]  # "" = a column to skip


SHOWN = 3  # unknown columns named in the error; more is not a typo but another kind of file


def _unknown_columns(unknown: list[str], what: str) -> str:
    """One line for a header's unknown columns (as written): each with its likely typo, else
    the fields; and --ignore-unknown-fields, which every command that reads columns takes."""
    ignore = " (or pass --ignore-unknown-fields)"
    if len(unknown) == 1 and (close := likely_field(unknown[0].lower())):
        return f"{what}: unknown field {unknown[0]!r}; did you mean {close!r}?{ignore}"
    named = [
        f"{name!r}"
        + (f" (did you mean {close!r}?)" if (close := likely_field(name.lower())) else "")
        for name in unknown[:SHOWN]
    ]
    more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
    count = f"{len(unknown)} unknown fields:" if len(unknown) > 1 else "unknown field"
    # One unknown name: the fields, to pick from. More are another kind of file, and the list
    # of all would make the line long: say where the fields are.
    fields = (
        f"the fields are {', '.join(FIELDS)}"
        if len(unknown) == 1
        else "alltx schema input lists the fields"
    )
    return f"{what}: {count} {', '.join(named)}{more}; {fields}{ignore}"


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
    if b"," in text or text.decode("utf-8", "replace").strip('"').lower() in {"id", *FIELDS}:
        return "csv"
    return None
