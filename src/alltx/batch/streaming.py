"""A cohort through alltx: rows in, exactly one record out per row, in input order, streamed.

One road: every row is answered by the functions that answer one patient (`facts_from`, then
`assess_therapy`/`refer`, then the compact builders in `alltx.answer.answers`). A million
rows are fast because of bounded memos around them, keyed on what decides a compact answer:
- each cell's class, worked out once per raw value by the ordinary parser: the results of the
  label's tests on its fact (which interval an age falls in, whether a marker is positive),
  numbered; the facts derived from each other (`facts.STATE`) are first derived by the
  ordinary `derive`, once per combination;
- each therapy's (and referral's) part of the record, once per combination of the classes of
  the facts its rules read; and, where that memo misses, once per combination of the results
  of its own tests (blinatumomab reads nine facts in thousands of combinations of classes that
  its own tests tell apart far less often), so a miss seldom costs the ordinary path.
A compact record shows no patient values, so rows alike in those classes share the text. A row
the memo cannot key (a parse error, an unhashable cell, an unknown field, an age at diagnosis
beside an age, which must be compared exactly) takes the ordinary path. `--explain` records
show the patient's values, so each is built in full, by the same functions.

Memory stays flat: each memo drops its older half when full.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from functools import partial
from operator import itemgetter
from typing import Any, Generic, Protocol, TypeVar, cast

from alltx.answer.answers import (
    BRIEF_IDS,
    OPTION_PARTS,
    REFERRAL_PARTS,
    VERSION,
    columns,
    compact_option,
    compact_referral,
    option_brief,
    options_json,
    referral_brief,
)
from alltx.answer.summary import Brief, Summary
from alltx.assessment.assess import (
    ReferralResult,
    TherapyOption,
    assess,
    assess_therapy,
    refer,
    referrals,
)
from alltx.core.facts import (
    AGE_UNITS,
    FACTS,
    FIELDS,
    NEAR,
    NOT_AFTER,
    PARSERS,
    RULE_FACTS,
    STATE,
    FactError,
    Facts,
    MonthEnd,
    dated_age,
    derive,
    facts_from,
    parse_fact,
    quick_months,
    quick_percent,
    rule_values,
)
from alltx.core.plain import one_line, utf8, visible
from alltx.core.rules import Atom, Node, atom_result, atoms
from alltx.io.input_rows import Failure, RecordRow, Row
from alltx.model.catalog import Catalog, Referral, Therapy

S = TypeVar("S")  # what a format keeps of one therapy's (or referral's) answer
K = TypeVar("K")
V = TypeVar("V")
# Per memo of parts. Blinatumomab reads nine facts: the realistic cohort (benchmarks/bench.py)
# gives it 8,056 combinations of their classes in 300,000 rows. A miss here is a look-up in the
# memo by its own tests' results, but at 4,096 entries the memo kept dropping half of itself:
# 42,194 such look-ups against 9,935 at 16,384, and the run 4% to 11% slower (jsonl, 300,000
# rows, medians of interleaved runs on a noisy machine: 0.395 of the floor against 0.44, then
# 0.427 against 0.444; 1,000,000 rows, one run each, 12.9 s against 11.3 s). Peak memory
# stays flat: 27.3 MB for 1,000,000 rows, 26.9 MB for 100,000.
MAX_ENTRIES = 16384
# For the cells: a miss is a parse, so this holds a cohort's distinct values (continuous ages
# and MRDs give some 6,000 in a million rows).
MAX_CELLS = 8192


def _bounded_set(cache: dict[K, V], key: K, value: V, limit: int | None = None) -> V:
    """cache[key] = value, first dropping the older half of a full cache (`limit` entries;
    MAX_ENTRIES unless given). Not lru_cache: the value is computed from the row, which is
    not part of the key."""
    limit = MAX_ENTRIES if limit is None else limit
    if len(cache) >= limit:
        for old in list(cache)[: limit // 2]:
            del cache[old]
    cache[key] = value
    return value


class _Unkeyed(Exception):
    """This row cannot be memoized: answer it on the ordinary path."""


class Answering(Generic[S]):
    """Answers rows for one catalog, in the parts `fmt` keeps: one per therapy, then one per
    referral (compact formats), or one for the whole answer (`--explain`).

    A compact part depends only on what that therapy's (or referral's) rules read, so each is
    memoized by the classes of the facts it reads, after the ordinary derivation.
    """

    def __init__(
        self,
        catalog: Catalog,
        fmt: Format[S],
        ignore_unknown: bool = False,
        as_of: date | None = None,
    ) -> None:
        """`as_of`: the day an age is taken at from a row's birth date where the row gives
        no as_of."""
        self.catalog, self.fmt, self.ignore_unknown = catalog, fmt, ignore_unknown
        self.as_of = as_of
        tests = [a for rule in catalog.rules() for a in atoms(rule)]
        tests += [bound for a in tests for bound in _bounds(a)]
        # Every test on each input fact: a value's class is their results.
        self.tests = {
            name: tuple(dict.fromkeys(a for a in tests if RULE_FACTS[a.fact].source == name))
            for name in PARSERS
        }
        self.blank: dict[str, object] = dict.fromkeys(PARSERS)  # every fact unknown
        self.classes: dict[tuple[str, type, object], object] = {}
        self.states: dict[tuple[object, ...], dict[str, object]] = {}
        self.state = itemgetter(*STATE)
        # Each class as a small number: keys of small numbers hash fast (a tuple does not keep
        # its hash). Bounded by the catalog: a fact's tests fall in a few intervals.
        self.numbers: dict[tuple[str, ...], int] = {}
        self.results: list[tuple[str, ...]] = []  # the test results each number stands for
        self.own: dict[tuple[str, ...], tuple[str, ...]] = {}  # one copy of each subject's part
        # One copy of each distinct part (bounded by the catalog: statuses and ids).
        self.parts: dict[S, S] = {}
        self.subjects: list[_Subject[S]] = []
        for index, therapy in enumerate(catalog.therapies):
            build = partial(_option, therapy, fmt, index)
            self.subjects.append(self._subject(build, therapy.rules()))
        for index, referral in enumerate(catalog.referrals):
            build = partial(_referral, referral, fmt, index)
            self.subjects.append(self._subject(build, [referral.rule]))
        self.hot = [(s.getter, s.memo, s) for s in self.subjects]  # what each row reads
        # The facts whose class a value's completed months, or its side of each bound, tells
        # without exact arithmetic (core.facts.quick_months, quick_percent): their classes are
        # kept by those, a few hundred whatever the cohort's distinct values.
        self.quick: dict[str, Callable[[object], object]] = {}
        self.sides: dict[tuple[object, ...], object] = {}
        for name, fact in FACTS.items():
            sources = [r for r in RULE_FACTS.values() if r.source == name]
            if name in STATE or not sources:
                continue
            if fact.form == "age" and all(r.unit in AGE_UNITS for r in sources):
                self.quick[name] = partial(self._age_class, name)
            elif fact.form == "percent" and all(
                t.op in ("at_least", "at_most") for t in self.tests[name]
            ):
                bounds = sorted({float(cast(Fraction, t.bound)) for t in self.tests[name]})
                self.quick[name] = partial(self._percent_class, name, bounds)
        if not fmt.keyed:
            self.answer = self._ordinary  # type: ignore[method-assign]

    def _subject(self, build: Callable[[dict[str, object]], S], rules: list[Node]) -> _Subject[S]:
        read = {a for rule in rules for a in atoms(rule)}
        # A test on an age not given is settled by the other age of its pair, by the same
        # bound (rules.result_of): that age is read too, classed by those bounds.
        read |= {bound for a in read for bound in _bounds(a)}
        # the input facts read (an open point, facts.READING, is no input: unknown in every row)
        names = sorted({RULE_FACTS[a.fact].source for a in read} & PARSERS.keys())
        getter = itemgetter(*names) if len(names) > 1 else _one(names[0])
        own = tuple(
            (name, tuple(i for i, test in enumerate(self.tests[name]) if test in read))
            for name in names
        )
        return _Subject(build, getter, own)

    def answer(self, row: Row) -> list[S] | Failure:
        try:
            values = self._values(row.fields)
        except (_Unkeyed, TypeError):  # TypeError: a list or an object is no dict key
            return self._ordinary(row)
        parts: list[S] = []
        for getter, memo, subject in self.hot:
            key = getter(values)
            part = memo.get(key)
            if part is None:
                part = _bounded_set(memo, key, self._part(subject, values, row))
            parts.append(part)
        return parts

    def _part(self, subject: _Subject[S], values: dict[str, object], row: Row) -> S:
        """A part the first memo did not hold: by the results of the subject's own tests
        (many classes of the facts it reads differ only in tests of other subjects), else made
        by the ordinary functions."""
        own: list[object] = []
        for name, tests in subject.own:
            number = values[name]  # a class number once derived, or None (unknown)
            if number is None:
                own.append(None)
            else:
                results = self.results[cast(int, number)]
                mine = tuple(results[i] for i in tests)
                own.append(self.own.setdefault(mine, mine))  # one copy: keys stay small
        key = tuple(own)
        part = subject.deciding.get(key)
        if part is None:
            made = subject.build(facts_from(self._known(row.fields), self.as_of).rule_values())
            # Thousands of keys share a few dozen answers: keep one copy of each.
            part = _bounded_set(subject.deciding, key, self.parts.setdefault(made, made))
        return part

    def _values(self, fields: dict[str, object]) -> dict[str, object]:
        """Each fact's class, every fact present (None: unknown), after the derivation."""
        values = self.blank.copy()
        classes, quick = self.classes, self.quick
        try:  # an age as a birth date: its completed months are its class
            given, age = dated_age(fields, self.as_of)
        except FactError:
            raise _Unkeyed from None  # the ordinary path words it
        for name, value in given.items():
            how = quick.get(name)
            if how is not None and (known := how(value)) is not _MISSING:
                values[name] = known
                continue
            cell = (name, value.__class__, value)  # the class too: True == 1, but not as a fact
            known = classes.get(cell, _MISSING)
            if known is _MISSING:
                known = _bounded_set(classes, cell, self._classify(name, value), MAX_CELLS)
            values[name] = known
        if age is not None:  # (a blank age beside it is unknown: this is its value)
            values["age"] = self._months_class("age", age.months, age.month_end)
        state = self.state(values)
        derived = self.states.get(state)
        if derived is None:
            derived = _bounded_set(self.states, state, self._derive(state))
        values.update(derived)
        for pair in NOT_AFTER:  # compared with each other exactly: the ordinary path does it
            # An earlier age without the later: the facts to decide check a later age they
            # choose against it exactly (alltx.core.deciding), which no class holds.
            if values[pair.earlier] is not None:
                raise _Unkeyed
        return values

    def _classify(self, name: str, value: object) -> object:
        """A cell's class: what the rules can tell of it (its parsed value, or for an
        open-ended fact the results of the tests on it)."""
        if name not in PARSERS:  # (the dates of an age are taken out before)
            if self.ignore_unknown:
                return None
            raise _Unkeyed
        try:
            parsed = parse_fact(name, value)
        except FactError:
            raise _Unkeyed from None
        if parsed is None or name in STATE:  # the state is derived first, then reduced
            return parsed
        return self._reduce(name, parsed)

    def _age_class(self, name: str, value: object) -> object:
        """An age's class by its completed months (what every test on an age reads), or
        _MISSING where only the exact parser can tell them."""
        months = quick_months(value)
        return _MISSING if months is None else self._months_class(name, months)

    def _months_class(self, name: str, months: int, month_end: bool = False) -> object:
        """The class of an age of `months` completed months; `month_end`: from dates at a
        month's end, one more by another count of a month (facts.MonthEnd)."""
        key = (name, months, month_end)
        known = self.sides.get(key)
        if known is None:
            age = (MonthEnd if month_end else Fraction)(months, 12)
            known = self.sides[key] = self._reduce(name, age)
        return known

    def _percent_class(self, name: str, bounds: list[float], value: object) -> object:
        """A percent's class by its side of each bound its tests have, or _MISSING where
        only the exact parser can tell (close to a bound)."""
        number = quick_percent(value)
        if number is None or any(abs(number - bound) < NEAR for bound in bounds):
            return _MISSING
        side = bisect(bounds, number)
        known = self.sides.get((name, side))
        if known is None:  # its own value stands for its side: every test reads the same
            known = self.sides[(name, side)] = self._reduce(name, Fraction(str(number)))
        return known

    def _reduce(self, name: str, parsed: object) -> int:
        """What the rules can tell of a value: the results of every test on its fact."""
        values = rule_values({name: parsed})
        results = tuple(atom_result(test, values.get(test.fact)) for test in self.tests[name])
        number = self.numbers.get(results)
        if number is None:
            number = self.numbers[results] = len(self.results)
            self.results.append(results)
        return number

    def _derive(self, state: tuple[object, ...]) -> dict[str, object]:
        given = {name: value for name, value in zip(STATE, state, strict=True) if value is not None}
        try:
            derived = derive(given)
        except FactError:
            raise _Unkeyed from None  # the ordinary path words the contradiction
        return {
            name: None if derived.get(name) is None else self._reduce(name, derived[name])
            for name in STATE
        }

    def _known(self, fields: dict[str, object]) -> dict[str, object]:
        if self.ignore_unknown:
            return {name: value for name, value in fields.items() if name in FIELDS}
        return fields

    def _ordinary(self, row: Row) -> list[S] | Failure:
        """The row answered without the memo, as one patient is."""
        try:
            facts = facts_from(self._known(row.fields), self.as_of)
        except FactError as error:
            where = f"{error.field}: " if error.field else ""
            return Failure(row.line, row.id, f"{where}{error}", error.field)
        if not self.fmt.keyed:
            if isinstance(row, RecordRow):  # read from records: said in the full answer
                facts = facts.told(row.origins, row.unread)
            options, advice = assess(facts, self.catalog), referrals(facts, self.catalog)
            return [self.fmt.full(facts, options, advice)]
        values = facts.rule_values()
        return [subject.build(values) for subject in self.subjects]


class Answers(Protocol[S]):
    """What answers rows for `records`: an Answering, or FromQuery."""

    def answer(self, row: Row) -> list[S] | Failure: ...


@dataclass(slots=True)
class QueryRow(Row):
    """A row the compiled query (alltx.sql) has answered: its result columns."""

    result: tuple[Any, ...] = ()


def _bounds(test: Atom) -> list[Atom]:
    """The same test on the facts that bound its fact (rules.result_of): what their value
    tells of this test where its own fact is unknown."""
    return [
        replace(test, fact=name, floor="", ceiling="")
        for name in (test.floor, test.ceiling)
        if name
    ]


def query_rows(
    catalog: Catalog,
    results: Iterable[tuple[Any, ...]],
    error_field: Callable[[str], str | None],
) -> Iterator[Row | Failure]:
    """The compiled query's results (alltx.sql, compiled for the engine: the compact CSV's
    columns but `line`, then the line), each as a row for FromQuery to answer, or as the
    Failure it reports."""
    error = [name for name, _ in columns(catalog) if name != "line"].index("error")
    for result in results:
        message, line = result[error], result[-1]
        if message is None:
            yield QueryRow(line, result[0], _NO_FIELDS, result)
        else:
            yield Failure(line, result[0], message, error_field(message))


class FromQuery(Generic[S]):
    """Answers rows from the compiled query, in the parts `fmt` keeps: each therapy's (and
    referral's) part made from its columns by the builders of the Python path's compact answer
    (`output.option_brief`), once per distinct set of columns (a few dozen)."""

    def __init__(self, catalog: Catalog, fmt: Format[S]) -> None:
        self.spans: list[tuple[int, int, Callable[[tuple[Any, ...]], S], dict[Any, S]]] = []
        start = 1  # after the id
        for index, therapy in enumerate(catalog.therapies):
            make = partial(_brief_option, fmt, therapy.id, index)
            self.spans.append((start, start + 1 + len(OPTION_PARTS), make, {}))
            start += 1 + len(OPTION_PARTS)
        for index, referral in enumerate(catalog.referrals):
            make = partial(_brief_referral, fmt, referral.id, index)
            self.spans.append((start, start + 1 + len(REFERRAL_PARTS), make, {}))
            start += 1 + len(REFERRAL_PARTS)

    def answer(self, row: Row) -> list[S] | Failure:
        result = cast(QueryRow, row).result
        parts = []
        for start, stop, make, memo in self.spans:
            key = result[start:stop]
            part = memo.get(key)
            if part is None:
                part = _bounded_set(memo, key, make(key))
            parts.append(part)
        return parts


_NO_FIELDS: dict[str, object] = {}


def _ids(cell: object) -> list[str]:
    """A space-separated list of ids from a query's cell (NULL: none)."""
    return [] if cell is None else str(cell).split(LIST_SEPARATOR)


def _brief_option(fmt: Format[S], therapy: str, index: int, cells: tuple[Any, ...]) -> S:
    status, *lists = cells
    by_part = dict(zip(OPTION_PARTS, lists, strict=True))
    brief = option_brief(status, _ids(by_part[BRIEF_IDS[status]]), _ids(by_part["cautions"]))
    return fmt.brief_option(therapy, brief, index)


def _brief_referral(fmt: Format[S], referral: str, index: int, cells: tuple[Any, ...]) -> S:
    status, *lists = cells
    by_part = dict(zip(REFERRAL_PARTS, lists, strict=True))
    key = BRIEF_IDS.get(status)
    ids = [] if key is None else _ids(by_part[key])
    return fmt.brief_referral(referral, referral_brief(status, ids), index)


_MISSING = object()
Getter = Callable[[dict[str, object]], object]


def _one(name: str) -> Getter:
    return lambda values: values[name]


@dataclass
class _Subject(Generic[S]):
    """A therapy or referral: how its part of a record is made, and its two memos."""

    build: Callable[[dict[str, object]], S]
    getter: Getter  # the classes of the input facts its rules read (the state as derived)
    own: tuple[tuple[str, tuple[int, ...]], ...]  # each fact read, and which of its tests
    memo: dict[Any, S] = field(default_factory=dict)  # by the getter's classes
    deciding: dict[Any, S] = field(default_factory=dict)  # by the results of its own tests


def _option(therapy: Therapy, fmt: Format[S], index: int, values: dict[str, object]) -> S:
    return fmt.option(assess_therapy(therapy, values), index)


def _referral(referral: Referral, fmt: Format[S], index: int, values: dict[str, object]) -> S:
    return fmt.referral(refer(referral, values), index)


# --- what each output format keeps of an answer ------------------------------------------------


def _one_line(value: object) -> str:
    """An id or a message as JSON on one line, writable as UTF-8: the characters some line
    readers take for a break (U+0085, U+2028, U+2029) are escaped, and so is a lone surrogate
    (valid in a JSON string, not in UTF-8)."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isascii():
        return text
    if utf8(text) is text:
        return text.translate(_BREAKS)
    return json.dumps(value)


_PLAIN_ID = re.compile(r"[ !#-\[\]-~]*").fullmatch  # printable ASCII but " and \\
_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class Format(Generic[S]):
    """An output format: what it keeps of each therapy's and referral's answer (compact), or of
    the whole answer (`keyed` False: --explain), and the text of a record."""

    header: str = ""
    keyed = True

    def option(self, option: TherapyOption, index: int) -> S:
        """What it keeps of the `index`th therapy's answer."""
        return self.brief_option(option.therapy.id, compact_option(option), index)

    def referral(self, result: ReferralResult, index: int) -> S:
        return self.brief_referral(result.referral.id, compact_referral(result), index)

    def brief_option(self, therapy: str, brief: Mapping[str, Any], index: int) -> S:
        """What it keeps of a therapy's compact answer (`output.option_brief`), however made."""
        raise NotImplementedError

    def brief_referral(self, referral: str, brief: Mapping[str, Any], index: int) -> S:
        raise NotImplementedError

    def full(self, facts: Facts, options: list[TherapyOption], advice: list[ReferralResult]) -> S:
        raise NotImplementedError

    def answer(self, row: Row, parts: Sequence[S]) -> str:
        raise NotImplementedError

    def failure(self, failure: Failure) -> str:
        raise NotImplementedError

    def close(self) -> str:
        """What ends the output."""
        return ""


class JsonLines(Format[str]):
    """One JSON object per line: compact by default, the full answer with `explain`."""

    def __init__(self, catalog: Catalog, explain: bool = False) -> None:
        self.catalog, self.keyed = catalog, not explain
        self.therapies, self.referrals = len(catalog.therapies), len(catalog.referrals)
        info = catalog.info
        release, regulator = json.dumps(info.release), json.dumps(info.authority.id)
        self.tail = f'"data_release": {release}, "regulator": {regulator}, "version": {VERSION}}}'

    # Each part is written once per memo entry with what goes around it in the record, so a
    # record is its start and its parts joined.
    def brief_option(self, therapy: str, brief: Mapping[str, Any], index: int) -> str:
        text = f"{json.dumps(therapy)}: {_json(brief)}"
        before = '"options": {' if index == 0 else ", "
        after = "}, " if index == self.therapies - 1 else ""
        if after and not self.referrals:
            after += '"referrals": {}, ' + self.tail
        return before + text + after

    def brief_referral(self, referral: str, brief: Mapping[str, Any], index: int) -> str:
        text = f"{json.dumps(referral)}: {_json(brief)}"
        before = '"referrals": {' if index == 0 else ", "
        after = "}, " + self.tail if index == self.referrals - 1 else ""
        return before + text + after

    def full(self, facts: Facts, options: list[TherapyOption], advice: list[ReferralResult]) -> str:
        # The one-patient answer, after its `{`: the row's id and line go before it.
        return _json(options_json(facts, options, advice, self.catalog))[1:]

    def answer(self, row: Row, parts: Sequence[str]) -> str:
        line = "null" if row.line is None else row.line
        found = row.id
        # Most ids are printable ASCII without a quote or a backslash, which json.dumps writes
        # as they are between quotes: so written here, 4.8 times as fast as _one_line on the
        # realistic cohort's ids, a twentieth of a record's cost (tests/test_cohort.py holds
        # the two equal).
        shown = f'"{found}"' if found.__class__ is str and _PLAIN_ID(found) else _one_line(found)
        return f'{{"id": {shown}, "line": {line}, {"".join(parts)}\n'

    def failure(self, failure: Failure) -> str:
        return (
            f'{{"id": {_one_line(failure.id)}, "line": {json.dumps(failure.line)}, '
            f'"error": {_one_line(failure.message)}, "field": {json.dumps(failure.field)}, '
            f"{self.tail}\n"
        )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class JsonArray(JsonLines):
    """The records as one JSON array, for small inputs and tools that want one document."""

    header = "["

    def __init__(self, catalog: Catalog, explain: bool = False) -> None:
        super().__init__(catalog, explain)
        self.first = True

    def _item(self, text: str) -> str:
        separator = "\n" if self.first else ",\n"
        self.first = False
        return separator + text.rstrip("\n")

    def answer(self, row: Row, parts: Sequence[str]) -> str:
        return self._item(super().answer(row, parts))

    def failure(self, failure: Failure) -> str:
        return self._item(super().failure(failure))

    def close(self) -> str:
        return "]\n" if self.first else "\n]\n"


LIST_SEPARATOR = " "  # between the ids in one CSV cell: no id holds a space


class _LastLine:
    """A file for csv.writer that keeps the line just written (writerow writes one), without
    its line end. The writer ends lines with CRLF so that it quotes a cell holding either."""

    text = ""

    def write(self, text: str) -> int:
        self.text = text.removesuffix("\r\n")
        return len(text)


class Csv(Format[str]):
    """CSV, one row per input row: for each therapy its status, then the ids behind it (met
    indications, failed criteria, facts that would decide, cautions that apply), then the same
    for each referral; lists joined by a space. The columns are `columns(catalog)`.

    Each therapy's cells are written by the csv module once per memo entry, and a row is its
    id and line, written the same way, then those: the quoting is always the csv module's."""

    def __init__(self, catalog: Catalog, cell: Callable[[object], object] | None = None) -> None:
        # `cell`: how outside text (an id, an error) is written; by default escaped for a
        # spreadsheet or a terminal (_cell), as_is for DuckDB, which writes it to Parquet
        self.cell = _cell if cell is None else cell
        self.release = catalog.info.release
        self.regulator = catalog.info.authority.id
        self._line = _LastLine()
        self._writer = csv.writer(self._line, lineterminator="\r\n")
        self.names = columns(catalog)
        self.header = self._text(name for name, _ in self.names) + "\n"
        self.tail = "," + self._text(["", self.release, self.regulator, VERSION]) + "\n"

    def _text(self, cells: Iterable[object]) -> str:
        self._writer.writerow(cells)
        return self._line.text

    def brief_option(self, therapy: str, brief: Mapping[str, Any], index: int) -> str:
        cells = [brief["status"], *(LIST_SEPARATOR.join(brief.get(p, ())) for p in OPTION_PARTS)]
        return "," + self._text(cells)

    def brief_referral(self, referral: str, brief: Mapping[str, Any], index: int) -> str:
        parts = REFERRAL_PARTS
        cells = [brief["status"], *(LIST_SEPARATOR.join(brief.get(p, ())) for p in parts)]
        return "," + self._text(cells)

    def answer(self, row: Row, parts: Sequence[str]) -> str:
        cell = self.cell(row.id)
        line = "" if row.line is None else row.line
        if cell.__class__ is str and _plain(cell):
            start = f"{cell},{line}"  # as the csv module writes a cell it need not quote
        else:
            start = self._text([cell, line])
        return start + "".join(parts) + self.tail

    def failure(self, failure: Failure) -> str:
        blanks = [""] * (len(self.names) - 6)  # all but id, line, error and the last three
        cell = self.cell
        cells = [
            cell(failure.id),
            "" if failure.line is None else failure.line,
            *blanks,
            cell(failure.message),
        ]
        return self._text([*cells, self.release, self.regulator, VERSION]) + "\n"


def _plain(cell: str) -> bool:
    """Whether the csv module writes `cell` as it is: it quotes (QUOTE_MINIMAL) only a cell
    holding the delimiter, the quote character or a line-end character."""
    return not ("," in cell or '"' in cell or "\n" in cell or "\r" in cell)


# What a spreadsheet would run as a formula when a cell starts with it (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text from outside (an id, an error message) as a CSV cell: a JSON value as JSON text,
    control characters escaped (ESC as \\x1b), and a cell a spreadsheet would run as a
    formula (`=cmd|...`, `+1+1`, `@SUM(...)`, and so `-1`) written with a leading `'`, which
    spreadsheets show and do not run. JSON output keeps the value exact."""
    if isinstance(value, str) and value.isprintable():
        # Most ids: no control character or lone surrogate (neither is printable), so only
        # a formula start can need a change.
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        value = json.dumps(value, ensure_ascii=False)
    elif not isinstance(value, str):
        return value
    text = visible(utf8(value))  # a CSV is often printed to a terminal: no raw controls
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_is(value: object) -> object:
    """Text from outside as a cell of a CSV that only DuckDB reads (to write Parquet): as
    given, a JSON value as JSON text, a lone surrogate as its escape (no UTF-8 holds it)."""
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False)
    return utf8(value) if isinstance(value, str) else value


# --- the human summary ---------------------------------------------------------------------


class Briefly(Format[Brief]):
    """What the human summary keeps of an answer: each status, and whether a caution applies."""

    def brief_option(self, therapy: str, brief: Mapping[str, Any], index: int) -> Brief:
        return brief["status"], "cautions" in brief

    def brief_referral(self, referral: str, brief: Mapping[str, Any], index: int) -> Brief:
        return brief["status"], False


# --- running -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Rows read, answered and failed, for the closing line and the exit status."""

    read: int = 0
    answered: int = 0
    failed: int = 0


def answered(
    rows: Iterable[Row | Failure], answering: Answers[S], tally: Tally
) -> Iterator[tuple[Row | None, list[S] | Failure]]:
    """Each row with its answer (or its failure), in order, counted."""
    answer = answering.answer
    for row in rows:
        tally.read += 1
        if isinstance(row, Failure):
            tally.failed += 1
            yield None, row
            continue
        result = answer(row)
        if isinstance(result, Failure):
            tally.failed += 1
            yield None, result
        else:
            tally.answered += 1
            yield row, result


def summarize(
    catalog: Catalog,
    rows: Iterable[Row | Failure],
    ignore_unknown: bool,
    report: Callable[[Failure], object],
    fail_fast: bool,
    tally: Tally,
    answering: Answers[Brief] | None = None,
) -> Summary:
    """A cohort at a glance (`--format text`): every row counted, the first ones listed.
    The rows are answered by `answering` (FromQuery) if given, else in Python."""
    summary = Summary([t.id for t in catalog.therapies], [r.id for r in catalog.referrals])
    if answering is None:
        answering = Answering(catalog, Briefly(), ignore_unknown)
    for row, result in answered(rows, answering, tally):
        summary.add(row, result)
        if isinstance(result, Failure):
            report(result)
            if fail_fast:
                break
    return summary


def output_format(name: str, catalog: Catalog, explain: bool) -> Format[Any]:
    """A streaming format by its name: jsonl, json or csv."""
    if name == "csv":
        return Csv(catalog)
    return (JsonArray if name == "json" else JsonLines)(catalog, explain)


def error_line(failure: Failure) -> str:
    """The one stderr line that says which row failed and why."""
    who = "a row" if failure.line is None else f"line {failure.line}"
    who += f" (id {failure.id!r})" if failure.id is not None else ""
    return one_line(f"alltx: {who}: {failure.message}")  # a field name, a value: from outside


BATCH = 256  # records joined into one write: whole lines, so a reader never sees half of one


def stream(
    rows: Iterable[Row | Failure],
    answering: Answers[S],
    fmt: Format[S],
    write: Callable[[str], object],
    report: Callable[[Failure], object],
    fail_fast: bool,
    tally: Tally,
    whole: bool = True,
) -> None:
    """Answer and write every row as it comes, in order, a few hundred lines to a write;
    report each failure; stop after the first with `fail_fast`. `whole`: with what begins and
    ends the output (a worker answering part of a cohort writes the records alone). One loop:
    this runs per row."""
    # The first row first: reading it reads the input's own header, which may be refused, and
    # nothing is written before it is (issue 42, 15).
    rows = iter(rows)
    first = next(rows, None)
    if whole:
        write(fmt.header)
    if first is not None:
        rows = itertools.chain((first,), rows)
    answer, text, failure = answering.answer, fmt.answer, fmt.failure
    pending: list[str] = []
    try:
        for row in rows:
            tally.read += 1
            result = row if row.__class__ is Failure else answer(row)  # type: ignore[arg-type]
            if result.__class__ is Failure:
                tally.failed += 1
                report(result)
                pending.append(failure(result))
                if fail_fast:
                    break
            else:
                tally.answered += 1
                pending.append(text(row, result))  # type: ignore[arg-type]
                if len(pending) >= BATCH:
                    batch = "".join(pending)
                    pending.clear()  # before the write: an interrupt after it must not repeat it
                    write(batch)
    finally:  # what was answered is written, also when interrupted
        if pending:
            batch = "".join(pending)
            pending.clear()
            write(batch)
    if whole:
        write(fmt.close())
