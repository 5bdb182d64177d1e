"""alltx from Python: the answers the commands print, as Python values.

`options(age=19, relapsed=True)` is the dict `alltx options --age 19 --relapsed --format json`
prints, `cohort(rows)` yields the records `alltx options --input FILE --format jsonl` writes,
error records included, and `fhir_cohort(lines)` those `alltx options --fhir FOLDER --format
jsonl` writes for the Patients of some NDJSON lines (a Spark job's group of them). Each takes
the road its command takes (the same parsing, rules and answer builders); `options` returns
the answer the command writes as JSON, and the cohorts' records are the command's JSON read
back, so that no value here can differ from the command's. A fact that cannot be right raises
ValueError in the command's words, naming the fact as a row does (`age: must be ...`).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from alltx.core.facts import FactError, date_refusal, facts_from, parse_date
from alltx.model.catalog import Catalog

_BATCH = 256  # rows answered at a time: records are yielded as they are made


def options(
    *, regulator: str | None = None, data: str | Path | None = None, **facts: object
) -> dict[str, Any]:
    """One patient's answer, as `alltx options --format json` prints it: the facts by their
    names (`age=19`, `lineage="B-ALL"`, `relapsed=True`; None or a fact left out is unknown;
    an age may be `birth_date="2019-05-31"`, taken at `as_of`, today where not given),
    under `regulator` (as --regulator takes it: one the data lists, the data's first where
    None; several with commas, or all: side by side), from the data file `data` (the bundled
    one by default)."""
    from alltx.answer.answers import compared, patient_answer

    catalogs = _catalogs(regulator, data)
    try:
        parsed = facts_from(facts, date.today())
    except FactError as error:
        raise ValueError(f"{error.field}: {error}" if error.field else str(error)) from None
    if len(catalogs) > 1:
        answer: Mapping[str, Any] = compared([patient_answer(parsed, c) for c in catalogs])
    else:
        answer = patient_answer(parsed, catalogs[0])
    # The answer itself, no JSON text between (its values are JSON's own kinds: a test holds
    # it equal to the command's JSON read back), copied so that the caller may change it.
    return dict(copy.deepcopy(answer))


def cohort(
    rows: Iterable[Mapping[str, object]] | Any,  # or a pandas DataFrame
    *,
    regulator: str | None = None,
    explain: bool = False,
    ignore_unknown_fields: bool = False,
    data: str | Path | None = None,
    as_of: str | date | None = None,
) -> Any:
    """Many patients, each a mapping of facts by name (and `id`), as JSON Lines rows are: an
    iterator of the records `--format jsonl` writes, in order, one for each row (a row that
    cannot be answered is an error record; its `line` is the row's number, from 1). A pandas
    DataFrame in gives a DataFrame out: the compact CSV's columns, one row each (as
    `--format parquet` writes them: text, but `line` and `version`; None where empty); a
    missing value (NaN, None) is unknown. `as_of` is the day a row's birth_date is taken at
    where the row has no as_of (today where not given), as `alltx options --as-of`."""
    catalog = _one(regulator, data)
    day = _day(as_of)
    if _is_frame(rows):
        if explain:
            raise ValueError(
                "explain: a DataFrame holds the compact records; give the rows "
                "as mappings for the full answers"
            )
        return _frame(rows, catalog, ignore_unknown_fields, day)
    return _answered(_rows(rows), catalog, explain, ignore_unknown_fields, day)


def fhir_cohort(
    lines: Iterable[str | bytes],
    *,
    regulator: str | None = None,
    explain: bool = False,
    all_patients: bool = False,
    fhir_codes: str | Path | None = None,
    data: str | Path | None = None,
    as_of: str | date | None = None,
) -> Iterator[dict[str, Any]]:
    """The records `alltx options --fhir FOLDER --format jsonl` writes for the Patients whose
    resources are `lines` (NDJSON lines of a Bulk export, in any order; a Patient's lines all
    here): those with an ALL diagnosis unless `all_patients`, in the order of their ids, each
    `line` its place among them; a deceased Patient's is an error record. The lines are read
    as a folder's are (alltx.io.fhir); a resource alltx cannot read raises ValueError in the
    command's words, as the command refuses the folder. `fhir_patient(line)` is the key to
    group an export's lines by."""
    from alltx.io.fhir import FhirError, cohort_rows, read_lines
    from alltx.model.data_files import load_fhir_codes

    catalog = _one(regulator, data)
    day = _day(as_of)
    table = load_fhir_codes(None if fhir_codes is None else Path(fhir_codes))
    try:
        found = read_lines(lines, table, day)
    except FhirError as error:
        raise ValueError(str(error)) from None
    return _answered(iter(cohort_rows(found.answered(all_patients))), catalog, explain, False, day)


def fhir_patient(line: str | bytes) -> str | None:
    """The id of the Patient an NDJSON line of a Bulk export is about (a Patient's own id, or
    the `Patient/ID` its subject names), None where it names none (the export's log, an
    Organization): the key to group an export's lines by for `fhir_cohort`, where the export
    lives (a Spark job). A line that is not a JSON object raises ValueError, in the command's
    words."""
    from alltx.io.fhir import FhirError, patient_of_line

    try:
        return patient_of_line(line)
    except FhirError as error:
        raise ValueError(str(error)) from None


def _day(as_of: str | date | None) -> date:
    try:
        return date.today() if as_of is None else parse_date(as_of)
    except ValueError:
        raise ValueError(f"as_of: {date_refusal(as_of)}") from None


def _catalogs(regulator: str | None, data: str | Path | None) -> list[Catalog]:
    """The data as each regulator chosen authorises, as the command's --regulator reads the
    choice (model.catalog.regulators_named)."""
    from alltx.model.catalog import UnknownRegulator
    from alltx.model.data_files import load_catalogs

    try:
        return load_catalogs(None if data is None else Path(data), regulator)
    except UnknownRegulator as unknown:
        raise ValueError(f"regulator: {unknown}") from None


def _one(regulator: str | None, data: str | Path | None) -> Catalog:
    """One regulator's data: a cohort's records each name the one their answer comes from."""
    catalogs = _catalogs(regulator, data)
    if len(catalogs) > 1:
        ids = ", ".join(c.info.authority.id for c in catalogs)
        raise ValueError(f"regulator: a cohort is answered under one regulator; give one ({ids})")
    return catalogs[0]


def _answered(
    read: Iterator[Any],
    catalog: Catalog,
    explain: bool,
    ignore_unknown: bool,
    as_of: date,
) -> Iterator[dict[str, Any]]:
    from alltx.batch.streaming import Answering, JsonLines, Tally, stream

    fmt = JsonLines(catalog, explain)
    answering = Answering(catalog, fmt, ignore_unknown, as_of)
    written: list[str] = []
    tally = Tally()
    while batch := list(islice(read, _BATCH)):
        stream(batch, answering, fmt, written.append, _unreported, False, tally, whole=False)
        lines = "".join(written).split("\n")  # a record is one line (U+2028 stays inside)
        written.clear()
        yield from (json.loads(line) for line in lines if line)


def _frame(frame: Any, catalog: Catalog, ignore_unknown: bool, as_of: date) -> Any:
    """A pandas DataFrame of rows answered as a DataFrame of compact records."""
    import pandas

    from alltx.batch.streaming import Answering, Csv, Tally, as_is, stream

    frame = _named_columns(frame, ignore_unknown)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    fmt = Csv(catalog, as_is)
    out = io.StringIO()
    stream(
        _rows(rows),
        Answering(catalog, fmt, ignore_unknown, as_of),
        fmt,
        out.write,
        _unreported,
        False,
        Tally(),
    )
    header, *body = csv.reader(io.StringIO(out.getvalue()))
    cells = [[cell or None for cell in row] for row in body]
    # Text columns hold objects (None where empty; pandas would make an empty column NaN)
    answers = pandas.DataFrame(cells, columns=header, dtype=object)
    return answers.astype({"line": "int64", "version": "int64"})


def _named_columns(frame: Any, ignore_unknown: bool) -> Any:
    """A DataFrame's columns read as a CSV header or a Parquet file's columns are on the
    command's road (input_rows.header_names): in any case, each once, an unknown one refused
    unless `ignore_unknown` (then left out), all before any row is read, in the command's
    words (a DataFrame with a column given twice used the last; one unknown column gave an
    error record for every row: issue 42, 6). Columns of more than one level, or that are
    not names, are refused (issue 42, 12: a MultiIndex raised TypeError)."""
    from alltx.io.input_rows import InputError, header_names

    if getattr(frame.columns, "nlevels", 1) > 1:
        raise ValueError(
            f"columns: these have {frame.columns.nlevels} levels (a MultiIndex); "
            "name each column by its fact, in one level"
        )
    written = list(frame.columns)
    not_named = [column for column in written if not isinstance(column, str)]
    if not_named:
        raise ValueError(
            f"columns: {not_named[0]!r} is not a name; name each column by its "
            "fact (alltx schema input lists them)"
        )
    try:
        names = header_names(written, ignore_unknown, "DataFrame columns")
    except InputError as error:  # in the command's words, the option as it is named here
        said = str(error).replace("--ignore-unknown-fields", "ignore_unknown_fields=True")
        raise ValueError(said) from None
    kept = [at for at, name in enumerate(names) if name]
    return frame.iloc[:, kept].set_axis([names[at] for at in kept], axis=1)


def _rows(rows: Iterable[Mapping[str, object]]) -> Iterator[Any]:
    """The rows as JSON Lines rows, read by the one JSON reader (input_rows.jsonl_rows): a
    value is what its JSON is (a NumPy number its number, a Decimal or Fraction its text), and
    a row that is no mapping is that row's error, as a JSON line that is no object is."""
    from alltx.io.input_rows import jsonl_rows

    lines = (
        json.dumps(_plain(row), default=_value).encode("utf-8", "surrogatepass") for row in rows
    )
    return jsonl_rows(lines)


def _plain(row: object) -> object:
    return dict(row) if isinstance(row, Mapping) else row


def _value(value: object) -> object:
    """A value json cannot write as it is: a date (a datetime, a pandas Timestamp, a NumPy
    datetime64: the day it falls on) as YYYY-MM-DD; a NumPy scalar as its Python value;
    anything else (a Decimal) as its text, which the fact's parser reads or refuses as a
    cell's."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if type(value).__name__ == "datetime64":  # its item() may be nanoseconds, not a date
        return str(value.astype("datetime64[D]"))  # type: ignore[attr-defined]
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def _is_frame(rows: object) -> bool:
    return type(rows).__module__.startswith("pandas") and hasattr(rows, "to_dict")


def _unreported(failure: object) -> None:
    """Row errors are in the records themselves; nothing goes to stderr from the API."""
