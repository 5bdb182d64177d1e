"""Many patients answered fast: the same answers as `assess`, reused across similar patients.

A therapy's answer depends only on the facts its own tests read. For the few-valued facts (a
lineage, a relapse number) that is their values; for the open-ended ones (ages, MRD) it is the
results of the tests on them, with the value itself only shown. So each therapy's answer is
assessed and written as JSON once per class of patients, with holes for the open-ended values,
and each later patient of that class only has their values filled in.

Memory stays flat however long the input: every cache here is bounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from itertools import islice
from operator import itemgetter
from typing import Any, TypeVar

from alltx.assess import assess_therapy, refer
from alltx.catalog import Catalog, Referral, Therapy
from alltx.facts import (
    INPUT_FACTS,
    PARSERS,
    RULE_FACTS,
    FactError,
    Facts,
    derive,
    parse_fact,
    rule_values,
)
from alltx.output import (
    indication_json,
    option_frame,
    patient_json,
    patient_value,
    referral_json,
)
from alltx.rows import Failure, Row
from alltx.rules import Atom, Check, Evaluation, Node, Result, atoms, checker, evaluate
from alltx.template import Template, hole

# Rule facts with open-ended values (ages, MRD): left as holes in cached JSON.
OPEN_ENDED = tuple(name for name, fact in RULE_FACTS.items() if fact.kind == "number" or fact.unit)
# The input facts those come from, and any whose rule value is not the input value itself (an
# age, tested in completed years): what each value of these means is worked out once, per value.
VALUED = tuple(
    dict.fromkeys(
        fact.source
        for name, fact in RULE_FACTS.items()
        if name in OPEN_ENDED or fact.source != name
    )
)
# Per cache. A 10,000-row cohort fills them about as much as a long one, so memory stays flat
# with the length of the input; large enough for nearly every row to hit.
MAX_ENTRIES = 3072
K = TypeVar("K")
V = TypeVar("V")


def _bounded_set(cache: dict[K, V], key: K, value: V) -> V:
    """cache[key] = value, first dropping the older half of a full cache."""
    if len(cache) >= MAX_ENTRIES:
        for old in list(islice(cache, MAX_ENTRIES // 2)):
            del cache[old]
    cache[key] = value
    return value


def _tested(fact: str) -> str:
    """The rule value holding the results of every test on an open-ended fact."""
    return f"{fact}:tested"


def _shown(name: str) -> str:
    """The text holding a valued input's fields in the patient object."""
    return f"patient:{name}"


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one value of a valued input means: the rule values it gives, the results of the
    tests on them, and all of that as JSON text (for the verdicts' holes and the patient)."""

    rules: dict[str, object]
    texts: dict[str, str]


@dataclass(frozen=True, slots=True)
class Cell:
    """A field's raw value, understood: parsed (None: blank) and, for a valued input, its
    meaning. `kind` is the raw value's class: True == 1 in Python, but not in a field."""

    kind: type
    value: object
    meaning: Meaning | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """One therapy's (or referral's) answer for a class of patients, its JSON ready to fill."""

    status: str  # a therapy's Status, or a referral's Advice
    missing: tuple[str, ...]
    template: Template  # as it sits in its list: with the `[`, `, ` or `]` around it
    cautions_apply: tuple[str, ...] = ()  # the conditions of a therapy's cautions that apply


@dataclass(slots=True)  # not frozen: one is made per patient, and frozen init is slower
class Answer:
    """One patient's answer: the facts as understood and a verdict per therapy."""

    line: int | None
    id: object
    facts: dict[str, object]  # every input fact as understood; None is unknown
    json_values: dict[str, str]  # the valued inputs' JSON, for the holes and the patient
    verdicts: tuple[Verdict, ...]  # one per therapy
    referrals: tuple[Verdict, ...]  # one per referral

    def write_options(self, out: list[str]) -> None:
        """Append the options list of the JSON contract, as pieces of text."""
        _write_list(self.verdicts, self.json_values, out)

    def write_referrals(self, out: list[str]) -> None:
        _write_list(self.referrals, self.json_values, out)

    def write_patient(self, out: list[str]) -> None:
        """Append the patient object of the JSON contract, as output.patient_json makes it."""
        _PATIENT.write(self.facts, self.json_values, out)

    def texts(self) -> tuple[str, str]:
        """The options and referrals lists as text."""
        options: list[str] = []
        referrals: list[str] = []
        self.write_options(options)
        self.write_referrals(referrals)
        return "".join(options), "".join(referrals)

    @property
    def patient_text(self) -> str:
        out: list[str] = []
        self.write_patient(out)
        return "".join(out)


def _write_list(verdicts: tuple[Verdict, ...], texts: Mapping[str, str], out: list[str]) -> None:
    if not verdicts:
        out.append("[]")
    for verdict in verdicts:  # each with its own separator and brackets
        verdict.template.write(texts, out)


def _placed(index: int, count: int) -> tuple[str, str]:
    """What goes before and after the list item `index` of `count`."""
    return "[" if index == 0 else ", ", "]" if index == count - 1 else ""


Key = Callable[[Mapping[str, Any]], object]


class Answerer:
    """Answers patients against one catalog, reusing each therapy's work for similar patients.

    Reuse at three levels. Each raw value of a field is parsed once (a cohort has hundreds of
    ages, not millions), and for ages and MRD the tests on it are run and its JSON written then.
    Each therapy's verdict is cached by what its tests read, a key read from the rule values in
    one C-level call. And when a class of patients is new to a therapy, its verdict is put
    together from each indication's evaluation and JSON, themselves cached by what that
    indication reads, so a therapy whose facts combine in thousands of ways (blinatumomab)
    costs little on a miss.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        rules = catalog.rules()
        # Every test on each open-ended fact: a value is tested once for all of them.
        tests: dict[str, dict[tuple[str, object], Check]] = {fact: {} for fact in OPEN_ENDED}
        for rule in rules:
            for atom in atoms(rule):
                if atom.fact in tests:
                    tests[atom.fact].setdefault((atom.op, atom.bound), checker(atom))
        self.tests = {fact: tuple(checks.values()) for fact, checks in tests.items()}
        # Each combination of test results seen, numbered. Bounded by the catalog, not the input:
        # a fact's tests are thresholds and values, so its values fall in a few intervals.
        self.results: dict[tuple[Result, ...], int] = {}
        self.memo = Memo({id(rule): _key([rule]) for rule in rules})
        self.frames: dict[tuple[object, ...], Template] = {}
        self.fragments: dict[tuple[int, object], Template] = {}
        # Per therapy, then per referral: how to build its verdict, and what it is keyed by.
        self.parts: list[tuple[Callable[[dict[str, object]], Verdict], Key]] = []
        count = len(catalog.therapies)
        for index, therapy in enumerate(catalog.therapies):
            place = _placed(index, count)
            self.parts.append((partial(self._option, therapy, place), _key(therapy.rules())))
        count = len(catalog.referrals)
        for index, referral in enumerate(catalog.referrals):
            place = _placed(index, count)
            self.parts.append((partial(self._referral, referral, place), _key([referral.rule])))
        self.therapy_count = len(catalog.therapies)
        self.verdicts: list[dict[object, Verdict]] = [{} for _ in self.parts]
        self.cells: dict[tuple[str, object], Cell] = {}
        self.meanings: dict[str, dict[object, Meaning]] = {name: {} for name in VALUED}
        # A patient of whom nothing is known; each row starts from this.
        self.blank_facts: dict[str, object] = dict.fromkeys(INPUT_FACTS)
        self.blank_rules: dict[str, object] = dict.fromkeys(RULE_FACTS)
        self.blank_texts: dict[str, str] = {}
        for name in VALUED:
            unknown = self._meaning(name, None)
            self.blank_rules.update(unknown.rules)
            self.blank_texts.update(unknown.texts)

    def facts(self, fields: Mapping[str, object]) -> dict[str, object]:
        """One row's facts, parsed and derived; FactError names what is wrong."""
        return self._understood(fields)[0]

    def answer(
        self, facts: Mapping[str, object], line: int | None = None, row_id: object = None
    ) -> Answer:
        """The answer for facts as understood (absent = unknown)."""
        given = [(name, facts.get(name)) for name in VALUED]
        meanings = [self._meaning(name, value) for name, value in given if value is not None]
        return self._answer({**self.blank_facts, **facts}, meanings, line, row_id)

    def answer_row(self, row: Row | Failure, ignore_unknown: bool = False) -> Answer | Failure:
        if isinstance(row, Failure):
            return row
        fields = row.fields
        if ignore_unknown:
            fields = {name: value for name, value in fields.items() if name in PARSERS}
        try:
            facts, meanings = self._understood(fields)
        except FactError as error:
            if error.field and error.field not in PARSERS:  # an unknown field
                return Failure(
                    row.line, row.id, f"{error} (or --ignore-unknown-fields)", error.field
                )
            where = f"{error.field}: " if error.field else ""
            return Failure(row.line, row.id, f"{where}{error}", error.field)
        return self._answer(facts, meanings, row.line, row.id)

    def _understood(self, fields: Mapping[str, object]) -> tuple[dict[str, object], list[Meaning]]:
        """Every input fact (None: unknown), derived, and the meanings of the valued ones."""
        facts = self.blank_facts.copy()
        meanings = []
        cells = self.cells
        for item in fields.items():
            try:
                cell = cells.get(item)
            except TypeError:  # an unhashable value (a list): it fails to parse
                cell = None
            if cell is None or cell.kind is not item[1].__class__:
                cell = self._cell(item)
            facts[item[0]] = cell.value
            if cell.meaning is not None:
                meanings.append(cell.meaning)
        return derive(facts), meanings

    def _cell(self, item: tuple[str, object]) -> Cell:
        name, raw = item
        value = parse_fact(name, raw)
        meaning = None if value is None or name not in VALUED else self._meaning(name, value)
        return _bounded_set(self.cells, item, Cell(raw.__class__, value, meaning))

    def _meaning(self, name: str, value: object) -> Meaning:
        """What a valued input's value means; worked out once per value."""
        known = self.meanings[name]
        found = known.get(value)
        if found is None:
            own = {
                k: v for k, v in rule_values({name: value}).items() if RULE_FACTS[k].source == name
            }
            texts = {_shown(name): _PATIENT.fields(name, value)}
            for fact, rule_value in list(own.items()):
                if fact in OPEN_ENDED:
                    results = tuple(check(rule_value) for check in self.tests[fact])
                    # as a small int: keys hash it once per therapy per row
                    own[_tested(fact)] = self.results.setdefault(results, len(self.results))
                    texts[fact] = json_scalar(rule_value)
            found = _bounded_set(known, value, Meaning(own, texts))
        return found

    def _answer(
        self,
        facts: dict[str, object],
        meanings: list[Meaning],
        line: int | None,
        row_id: object,
    ) -> Answer:
        rules = {**self.blank_rules, **facts}  # most rule facts are the input facts themselves
        texts = self.blank_texts
        if meanings:
            texts = texts.copy()
            for meaning in meanings:
                rules.update(meaning.rules)
                texts.update(meaning.texts)
        verdicts = []
        for (build, key), cache in zip(self.parts, self.verdicts, strict=True):
            which = key(rules)
            verdict = cache.get(which)
            if verdict is None:
                verdict = _bounded_set(cache, which, build(rules))
            verdicts.append(verdict)
        count = self.therapy_count
        return Answer(line, row_id, facts, texts, tuple(verdicts[:count]), tuple(verdicts[count:]))

    def _option(
        self, therapy: Therapy, place: tuple[str, str], rules: dict[str, object]
    ) -> Verdict:
        """A therapy's verdict: its frame (status, missing, cautions, sources) around its
        indications, each written once per class of patients."""
        option = assess_therapy(therapy, rules, self.memo.evaluate)
        shape = (therapy.id, option.status, option.missing, option.cautions, option.cautions_apply)
        frame = self.frames.get(shape)
        if frame is None:
            marked = option_frame(option, self.catalog, hole("indications"))
            frame = _bounded_set(self.frames, shape, Template.of(marked).around(*place))
        indications = []
        for result in option.indications:
            which = self.memo.key(result.indication.rule, rules)
            fragment = self.fragments.get(which)
            if fragment is None:
                fragment = Template.of(indication_json(result, _hole_or_value))
                _bounded_set(self.fragments, which, fragment)
            indications.append(fragment)
        listed = Template.joined(indications, "[", ", ", "]")
        filled = frame.put({"indications": listed})
        return Verdict(option.status, option.missing, filled, option.cautions_apply)

    def _referral(
        self, referral: Referral, place: tuple[str, str], rules: dict[str, object]
    ) -> Verdict:
        result = refer(referral, rules, self.memo.evaluate)
        marked = referral_json(result, self.catalog, value=_hole_or_value)
        return Verdict(result.status, result.missing, Template.of(marked).around(*place))


class Memo:
    """Evaluations of whole rules, reused for patients who agree on all that a rule reads.

    An evaluation keeps the first such patient's open-ended values; they are never shown from
    here (the JSON has holes for them), and the results do not depend on them.
    """

    def __init__(self, keys: dict[int, Key]) -> None:
        self.keys = keys  # by id() of the rule, which the catalog keeps alive
        self.cache: dict[tuple[int, object], Evaluation] = {}

    def key(self, rule: Node, values: Mapping[str, object]) -> tuple[int, object]:
        return id(rule), self.keys[id(rule)](values)

    def evaluate(self, rule: Node, values: Mapping[str, object]) -> Evaluation:
        which = self.key(rule, values)
        found = self.cache.get(which)
        if found is None:
            found = _bounded_set(self.cache, which, evaluate(rule, values))
        return found


def _key(rules: list[Node]) -> Key:
    """What answers to these rules depend on: the few-valued facts they read, and the results
    of the tests on each open-ended fact they read."""
    read = {atom.fact for rule in rules for atom in atoms(rule)}
    names = [fact for fact in RULE_FACTS if fact in read and fact not in OPEN_ENDED]
    names += [_tested(fact) for fact in OPEN_ENDED if fact in read]
    return _picker(names)


def _picker(names: Sequence[str]) -> Key:
    """Read these keys in one C-level call: a tuple of values, or the value if only one."""
    return itemgetter(*names) if names else lambda _: ()


def _hole_or_value(evaluation: Evaluation) -> object:
    """An open-ended value becomes a hole to fill per patient; any other is written in."""
    assert isinstance(evaluation.node, Atom)
    fact = evaluation.node.fact
    return hole(fact) if fact in OPEN_ENDED else patient_value(evaluation)


class PatientText:
    """The patient object of the JSON contract, in the order output.patient_json writes it.

    A valued input's fields (an age: in years and in months) are written once per value, as
    part of its meaning; the other facts in short runs, each run's text cached by its values.
    """

    RUN = 8  # facts per run: few enough that a run's combinations stay few (hundreds)

    def __init__(self) -> None:
        # patient_json's fields, each derived one (age_months) after the input it comes from
        self.groups: dict[str, list[str]] = {}
        for name in patient_json(Facts()):
            if name in INPUT_FACTS:
                self.groups[name] = [name]
            else:
                list(self.groups.values())[-1].append(name)
        # Each step: a valued input's text, or a run of facts and the cache of its texts.
        self.steps: list[tuple[str, tuple[str, ...], Key, dict[object, str]]] = []
        run: list[str] = []
        for name in [*self.groups, ""]:  # "" ends the last run
            if run and (name in VALUED or len(run) == self.RUN or not name):
                self.steps.append(("", tuple(run), _picker(run), {}))
                run = []
            if name in VALUED:
                self.steps.append((_shown(name), (), _picker([]), {}))
            elif name:
                run.append(name)

    def fields(self, name: str, value: object) -> str:
        """A valued input's fields in the patient object, as JSON text ending in ", "."""
        shown = patient_json(Facts(**{name: value}))  # type: ignore[arg-type]
        return "".join(f'"{field}": {json.dumps(shown[field])}, ' for field in self.groups[name])

    def write(self, facts: dict[str, object], texts: Mapping[str, str], out: list[str]) -> None:
        out.append("{")
        for shown, names, pick, runs in self.steps:
            if shown:
                out.append(texts[shown])
                continue
            values = pick(facts)
            text = runs.get(values)
            if text is None:
                given = [(name, facts[name]) for name in names]
                text = _bounded_set(
                    runs, values, "".join(f'"{n}": {json_scalar(v)}, ' for n, v in given)
                )
            out.append(text)
        out[-1] = out[-1][:-2] + "}"  # the last ", " closes the object


_PATIENT = PatientText()
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
