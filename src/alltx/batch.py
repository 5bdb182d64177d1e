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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from fractions import Fraction
from functools import partial
from operator import itemgetter
from typing import Any

from alltx.assess import assess_therapy, refer
from alltx.catalog import Catalog
from alltx.facts import (
    PARSERS,
    RULE_FACTS,
    CellCache,
    FactError,
    Facts,
    derive,
    parse_facts,
    rule_values,
    unknown_field,
)
from alltx.output import option_json, patient_value, referral_json
from alltx.rules import Atom, Check, Evaluation, Group, Node, checker


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
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # a bare carriage return, an over-long field
            if header is None:
                raise InputError(f"line {current['line']}: the CSV header: {error}") from None
            yield Failure(current["line"], None, f"not valid CSV: {error}")
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

# Facts with open-ended values (ages, MRD) are left as slots in the cached JSON and keyed by their
# test results; every other fact has a handful of values, so it is part of the cache key and
# written into the cached text.
SLOTTED = frozenset(name for name, fact in RULE_FACTS.items() if fact.kind == "number" or fact.unit)
_SLOT = re.compile(r'"\\u0000(\w+)\\u0000"')
# Per therapy. Small enough that a 10,000-row cohort fills it about as much as a long one, so
# memory stays flat with the length of the input; large enough for most rows to hit.
MAX_VERDICTS = 1024


@dataclass(frozen=True)
class Verdict:
    """Everything one therapy's answer needs for a class of patients, its JSON ready to fill."""

    status: str  # a therapy's Status, or a referral's Advice
    missing: tuple[str, ...]
    template: str  # the option's JSON, `%s` where a patient's value goes and `%%` for `%`
    slots: tuple[str, ...]  # the rule fact whose value fills each `%s`, in order

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pick", picker(self.slots))

    def text(self, values: dict[str, str]) -> str:
        return self.template % self._pick(values)  # type: ignore[attr-defined, no-any-return]


@dataclass(slots=True)  # not frozen: one is made per patient, and frozen init is slower
class Answer:
    """One patient's answer: the facts as understood and a verdict per therapy."""

    line: int | None
    id: object
    facts: dict[str, object]  # as understood; an absent fact is unknown
    rules: dict[str, object]  # the values the rules tested
    verdicts: tuple[Verdict, ...]  # one per therapy
    referrals: tuple[Verdict, ...]  # one per referral

    def texts(self) -> tuple[str, str]:
        """The options and referrals lists of the JSON contract, the patient's values filled in
        (written once for both)."""
        values = {name: json_scalar(self.rules[name]) for name in SLOTTED}

        def joined(verdicts: tuple[Verdict, ...]) -> str:
            return "[" + ", ".join(verdict.text(values) for verdict in verdicts) + "]"

        return joined(self.verdicts), joined(self.referrals)

    @property
    def patient_text(self) -> str:
        """The patient object of the JSON contract, as output.patient_json makes it."""
        facts = self.facts
        age = facts.get("age")
        months = None if age is None else age * 12  # type: ignore[operator]
        parts = [f'"age": {json_scalar(age)}', f'"age_months": {json_scalar(months)}']
        parts += [f'"{name}": {json_scalar(facts.get(name))}' for name in _PATIENT_REST]
        return "{" + ", ".join(parts) + "}"


# In the order of Facts' fields, as output.patient_json writes them.
_PATIENT_REST = [field.name for field in dataclass_fields(Facts) if field.name != "age"]


class Answerer:
    """Answers patients against one catalog, reusing each therapy's work for similar patients.

    A therapy's answer depends only on the facts its own tests read. Patients who agree on those
    facts (and on the results of the tests on ages and MRD) share one cached verdict, its JSON
    already written; only their ages and MRD are filled in. Referrals are cached the same way.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Per therapy, then per referral: how to build its verdict, its facts with few values
        # (read in one call), and its tests on the others.
        self.parts: list[tuple[Callable[[dict[str, object]], Verdict], Picks, Slotted]] = []
        for therapy in catalog.therapies:
            rules = [i.rule for i in therapy.indications]
            rules += [c.rule for c in therapy.cautions if c.rule is not None]
            build = self._builder(partial(assess_therapy, therapy), option_json)
            self.parts.append((build, *_keys(rules)))
        for referral in catalog.referrals:
            build = self._builder(partial(refer, referral), referral_json)
            self.parts.append((build, *_keys([referral.rule])))
        self.therapy_count = len(catalog.therapies)
        self.verdicts: list[dict[tuple[object, ...], Verdict]] = [{} for _ in self.parts]
        self.cells: CellCache = {}

    def facts(self, fields: dict[str, object]) -> dict[str, object]:
        """One row's facts, parsed and derived; FactError names what is wrong."""
        return derive(parse_facts(fields, self.cells))

    def answer(
        self, facts: dict[str, object], line: int | None = None, row_id: object = None
    ) -> Answer:
        rules = rule_values(facts)
        verdicts = []
        for (build, baked, slotted), cache in zip(self.parts, self.verdicts, strict=True):
            key = (baked(rules), *[check(rules[name]) for name, check in slotted])
            verdict = cache.get(key)
            if verdict is None:
                if len(cache) >= MAX_VERDICTS:
                    cache.clear()
                verdict = cache[key] = build(rules)
            verdicts.append(verdict)
        count = self.therapy_count
        return Answer(line, row_id, facts, rules, tuple(verdicts[:count]), tuple(verdicts[count:]))

    def _builder(
        self, judge: Callable[[dict[str, object]], Any], to_json: Callable[..., dict[str, Any]]
    ) -> Callable[[dict[str, object]], Verdict]:
        """How to build a verdict: `judge` the rule values (a therapy's option, a referral's
        result), then write its JSON with open-ended values left as slots."""

        def build(rules: dict[str, object]) -> Verdict:
            result = judge(rules)
            marked = to_json(result, self.catalog, value=_slot_or_value)
            return _template(result.status, result.missing, marked)

        return build

    def answer_row(self, row: Row | Failure, ignore_unknown: bool = False) -> Answer | Failure:
        if isinstance(row, Failure):
            return row
        fields = row.fields
        if ignore_unknown:
            fields = {name: value for name, value in fields.items() if name in PARSERS}
        try:
            facts = self.facts(fields)
        except FactError as error:
            if error.field and error.field not in PARSERS:  # an unknown field
                return Failure(
                    row.line, row.id, f"{error} (or --ignore-unknown-fields)", error.field
                )
            where = f"{error.field}: " if error.field else ""
            return Failure(row.line, row.id, f"{where}{error}", error.field)
        return self.answer(facts, row.line, row.id)


Picks = Callable[[Mapping[str, Any]], tuple[Any, ...]]
Slotted = tuple[tuple[str, Check], ...]


def _keys(rules: list[Node]) -> tuple[Picks, Slotted]:
    """What a cached verdict is keyed by: the few-valued facts these rules read, and the
    results of their tests on open-ended values."""
    tests: dict[tuple[str, str, object], Atom] = {}
    for rule in rules:
        _collect(rule, tests)
    baked = sorted({a.fact for a in tests.values()} - SLOTTED)
    slotted = tuple((a.fact, checker(a)) for a in tests.values() if a.fact in SLOTTED)
    return picker(baked), slotted


def _template(status: str, missing: tuple[str, ...], marked: dict[str, Any]) -> Verdict:
    parts = _SLOT.split(json.dumps(marked, ensure_ascii=False).replace("%", "%%"))
    return Verdict(status, missing, "%s".join(parts[0::2]), tuple(parts[1::2]))


def picker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Read several keys in one C-level call, always as a tuple: this runs for every patient."""
    if len(names) >= 2:
        return itemgetter(*names)
    if names:
        name = names[0]
        return lambda mapping: (mapping[name],)
    return lambda mapping: ()


def _slot_or_value(evaluation: Evaluation) -> object:
    """An open-ended value becomes a marker to fill per patient; any other is written in."""
    assert isinstance(evaluation.node, Atom)
    fact = evaluation.node.fact
    return f"\0{fact}\0" if fact in SLOTTED else patient_value(evaluation)


def _collect(node: Node, tests: dict[tuple[str, str, object], Atom]) -> None:
    if isinstance(node, Group):
        for child in node.children:
            _collect(child, tests)
    else:
        tests.setdefault((node.fact, node.op, node.bound), node)


_CONSTANTS = {None: "null", True: "true", False: "false"}


def json_scalar(value: object) -> str:
    """A fact's value as JSON. Category values are from a fixed vocabulary, safe to quote."""
    kind = value.__class__
    if kind is str:
        return f'"{value}"'
    if kind is int:
        return str(value)
    if kind is Fraction:
        number: Fraction = value  # type: ignore[assignment]
        return str(number.numerator) if number.denominator == 1 else repr(float(number))
    return _CONSTANTS[value]  # type: ignore[index]
