"""Many patients: reading rows from JSON Lines or CSV, and answering each one fast.

Everything here is lazy (iterators in, iterators out), so a cohort of any length streams through
in flat memory, and pure: the caller opens the files and writes the records.

Speed comes from reuse. A patient's options depend on the result (met / unmet / unknown) of each
distinct test in the labels, plus the patient's values shown beside the tests. So the answer for
each combination of results is assessed and serialized once, as a template, and each later
patient with the same results only has their values filled in.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from alltx.assess import Status, assess_therapy
from alltx.catalog import Catalog, Therapy
from alltx.facts import PARSERS, FactError, Facts, facts_from, unknown_field
from alltx.output import option_json
from alltx.rules import Atom, Evaluation, Group, Node, Result, atom_result


class InputError(ValueError):
    """The input as a whole cannot be read (a bad CSV header): a usage error, exit 2."""


# --- rows in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One input row: its line number, its id (carried through untouched) and its fields."""

    line: int
    id: object
    fields: dict[str, object]


@dataclass(frozen=True)
class Failure:
    """A row that could not be answered, and why; `field` names the culprit when there is one."""

    line: int | None
    id: object
    message: str
    field: str | None = None


def decoded(lines: Iterable[bytes]) -> Iterator[tuple[int, str | None]]:
    """Number the lines and decode them; a line that is not UTF-8 comes back as None."""
    for number, raw in enumerate(lines, 1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None


NOT_TEXT = "not UTF-8 text; save the file as UTF-8"


def jsonl_rows(lines: Iterable[bytes]) -> Iterator[Row | Failure]:
    """Rows from JSON Lines, one object per line; blank lines are not rows."""
    for number, line in decoded(lines):
        if line is None:
            yield Failure(number, None, NOT_TEXT)
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield Failure(number, None, f"not valid JSON: {error.msg} at column {error.colno}")
            continue
        if not isinstance(value, dict):
            yield Failure(number, None, 'a row must be a JSON object, like {"age": 19}')
            continue
        row_id = value.pop("id", None)
        yield Row(number, row_id, value)


def csv_rows(lines: Iterable[bytes], ignore_unknown: bool = False) -> Iterator[Row | Failure]:
    """Rows from CSV with a header row; an empty cell is unknown.

    An unknown column is refused before any row (InputError) unless `ignore_unknown`: a typo
    such as `relpased` must not quietly turn a whole column into "unknown".
    """
    numbered = decoded(lines)
    current = {"line": 0, "bad": False}

    def text() -> Iterator[str]:
        for number, line in numbered:
            current["line"], current["bad"] = number, line is None
            yield "" if line is None else line

    reader = csv.reader(text())
    header: list[str] | None = None
    for cells in reader:
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
    names = [cell.strip().lstrip("\ufeff").strip() for cell in cells]
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
    """Tell JSON Lines from CSV by the first line, when that is safe; else None."""
    text = first.lstrip(b"\xef\xbb\xbf").strip()
    if text.startswith(b"{"):
        return "jsonl"
    # A header row: several comma-separated names, or one known name.
    if b"," in text or text.decode("utf-8", "replace").strip('"') in {"id", *PARSERS}:
        return "csv"
    return None


# --- answers out ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Everything one therapy's test results decide, its JSON serialized once."""

    status: Status
    missing: tuple[str, ...]
    pieces: tuple[str, ...]  # the option's JSON, split where a patient's value goes
    slots: tuple[str, ...]  # the rule fact whose value goes after each piece but the last

    def text(self, scalars: dict[str, str]) -> str:
        parts = [self.pieces[0]]
        for slot, piece in zip(self.slots, self.pieces[1:], strict=True):
            parts.append(scalars[slot])
            parts.append(piece)
        return "".join(parts)


@dataclass(frozen=True)
class Answer:
    """One patient's answer: a verdict per therapy, in catalog order."""

    line: int | None
    id: object
    facts: Facts
    verdicts: tuple[Verdict, ...]
    scalars: dict[str, str]  # each rule fact's value, as JSON

    @property
    def options_text(self) -> str:
        return "[" + ", ".join(v.text(self.scalars) for v in self.verdicts) + "]"


_SLOT = re.compile(r'"\\u0000(\w+)\\u0000"')
MAX_VERDICTS = 2048  # per therapy; bounds memory however varied the cohort


class Answerer:
    """Answers patients against one catalog, reusing each therapy's work for repeated results."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Each therapy's verdict depends only on the results of its own tests.
        self.tests: list[tuple[Therapy, tuple[Atom, ...]]] = []
        for therapy in catalog.therapies:
            tests: dict[tuple[str, str, object], Atom] = {}
            for indication in therapy.indications:
                _collect(indication.rule, tests)
            for caution in therapy.cautions:
                if caution.rule is not None:
                    _collect(caution.rule, tests)
            self.tests.append((therapy, tuple(tests.values())))
        self.verdicts: list[dict[tuple[Result, ...], Verdict]] = [{} for _ in self.tests]

    def answer(self, facts: Facts, line: int | None = None, row_id: object = None) -> Answer:
        values = facts.rule_values()
        verdicts = []
        for (therapy, tests), cache in zip(self.tests, self.verdicts, strict=True):
            key = tuple([atom_result(test, values[test.fact]) for test in tests])
            verdict = cache.get(key)
            if verdict is None:
                if len(cache) >= MAX_VERDICTS:
                    cache.clear()
                verdict = cache[key] = self._verdict(therapy, values)
            verdicts.append(verdict)
        scalars = {name: json_scalar(value) for name, value in values.items()}
        return Answer(line, row_id, facts, tuple(verdicts), scalars)

    def _verdict(self, therapy: Therapy, values: dict[str, object]) -> Verdict:
        option = assess_therapy(therapy, values)
        marked = option_json(option, self.catalog, value=_slot)
        parts = _SLOT.split(json.dumps(marked, ensure_ascii=False))
        return Verdict(option.status, option.missing, tuple(parts[0::2]), tuple(parts[1::2]))

    def answer_row(self, row: Row | Failure, ignore_unknown: bool = False) -> Answer | Failure:
        if isinstance(row, Failure):
            return row
        fields = row.fields
        if ignore_unknown:
            fields = {name: value for name, value in fields.items() if name in PARSERS}
        try:
            facts = facts_from(fields)
        except FactError as error:
            if error.field and error.field not in PARSERS:  # an unknown field
                return Failure(
                    row.line, row.id, f"{error} (or --ignore-unknown-fields)", error.field
                )
            where = f"{error.field}: " if error.field else ""
            return Failure(row.line, row.id, f"{where}{error}", error.field)
        return self.answer(facts, row.line, row.id)


def _slot(evaluation: Evaluation) -> str:
    """A marker where the patient's value goes; only atoms have values."""
    assert isinstance(evaluation.node, Atom)
    return f"\0{evaluation.node.fact}\0"


def _collect(node: Node, tests: dict[tuple[str, str, object], Atom]) -> None:
    if isinstance(node, Group):
        for child in node.children:
            _collect(child, tests)
    else:
        tests.setdefault((node.fact, node.op, node.bound), node)


def json_scalar(value: object) -> str:
    """A fact's value as JSON. Category values are from a fixed vocabulary, safe to quote."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else repr(float(value))
    return str(value)
