"""The guide: transplant, side effects, grading scales, practice, glossary and questions.

Pure, like the catalog: it takes the guide file's text and returns plain frozen objects, or
raises DataError naming the place. The schema is `GuideFile` in `alltx.model.schemas`; the bundled
file is checked against it in CI, any other file at load.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from alltx.core.rules import Atom, Node, RuleError, compile_criteria
from alltx.model.catalog import (
    Source,
    Statement,
    as_date,
    as_source_ids,
    find,
    read_data_file,
    source_of,
    statement_of,
    statements_of,
)


@dataclass(frozen=True)
class GuideInfo:
    release: str
    updated: date
    scope: str


@dataclass(frozen=True)
class Transplant:
    what: tuple[Statement, ...]
    steps: tuple[Statement, ...]
    first_visit: tuple[Statement, ...]
    relapse_risk: tuple[Statement, ...]


@dataclass(frozen=True)
class SideEffect:
    id: str
    name: str
    aliases: tuple[str, ...]
    what: Statement
    therapies: tuple[str, ...]
    boxed: tuple[str, ...]
    carried: Statement
    symptoms: tuple[Statement, ...]
    timing: tuple[Statement, ...]
    figures: tuple[Statement, ...]
    grading: str | None


@dataclass(frozen=True)
class Level:
    grades: tuple[int, ...]  # one grade; several where the sources leave the point open
    text: str
    test: Atom | None  # None matches anything
    why: Statement | None = None  # why the sources leave it open, where they do

    @property
    def grade(self) -> int:
        """The lowest grade this finding gives."""
        return self.grades[0]

    @property
    def shown(self) -> str:
        """`3`, or `0-1` where the sources leave the grade open."""
        low, high = self.grades[0], self.grades[-1]
        return str(low) if low == high else f"{low}-{high}"


@dataclass(frozen=True)
class Part:
    id: str
    label: str
    most: int


@dataclass(frozen=True)
class Feature:
    """One finding a scale grades, e.g. oxygen support. Also the rules module's FactSpec."""

    id: str
    kind: str
    label: str
    flag: str
    levels: tuple[Level, ...]
    unit: str = ""
    range: tuple[int, int | None] | None = None  # a number's bounds; None: no upper bound
    whole: bool = False  # a score: whole numbers only
    parts: tuple[Part, ...] = ()
    # The words its levels name with `is`: a category's values, or the words a number finding
    # may be given instead of a number (`unable`).
    values: tuple[str, ...] = ()
    help: str = ""  # its option's help in alltx grade, and the option's value form
    metavar: str = ""


@dataclass(frozen=True)
class ByAge:
    """One finding assessed with one tool (`under`) below an age and another (`over`) from it
    on, in completed years; where the sources differ on the boundary (`unsettled`), both
    readings count at it. `older`: why the `under` tool may still be given past the age."""

    under: str
    over: str
    age: int
    unsettled: Statement | None
    older: Statement | None


@dataclass(frozen=True)
class Scale:
    id: str
    name: str
    source: tuple[str, ...]
    features: tuple[Feature, ...]
    requires: Node | None
    notes: tuple[Statement, ...]
    by_age: ByAge | None = None
    # Where the scale applies but no finding gives a grade, the sources may give none at all
    # (CRS after antipyretic or anticytokine therapy, with neither hypotension nor hypoxia).
    ungraded: Statement | None = None

    def feature(self, feature_id: str) -> Feature:
        return next(f for f in self.features if f.id == feature_id)


@dataclass(frozen=True)
class Step:
    label: str
    span: str
    kind: Literal["step", "wait", "dose"]
    days: int | None
    source: tuple[str, ...]


@dataclass(frozen=True)
class Practice:
    therapy: str
    how: Statement
    where: Statement | None
    duration: Statement
    hospital_stay: Statement | None
    timeline: tuple[Step, ...]
    timeline_note: Statement | None
    regulator: str | None = None  # the practice one regulator's documents describe; None: all

    @property
    def to_scale(self) -> bool:
        return all(step.days is not None for step in self.timeline)


@dataclass(frozen=True)
class Term:
    id: str
    term: str
    aliases: tuple[str, ...]
    text: str
    source: tuple[str, ...]


@dataclass(frozen=True)
class Question:
    topic: str
    text: str
    source: tuple[str, ...]


@dataclass(frozen=True)
class Guide:
    info: GuideInfo
    sources: dict[str, Source]
    transplant: Transplant
    side_effects: tuple[SideEffect, ...]
    scales: tuple[Scale, ...]
    practice: tuple[Practice, ...]
    terms: tuple[Term, ...]
    questions: tuple[Question, ...]
    origin: str

    def practice_for(self, therapy_id: str, regulator: str = "fda") -> Practice | None:
        """How a therapy is given, as the documents of `regulator` describe it (a US REMS
        change is no EU fact); None where the guide has nothing for it."""
        return next((p for p in self.practice if p.therapy == therapy_id
                     and p.regulator in (None, regulator)), None)  # fmt: skip

    def side_effect(self, name: str) -> SideEffect:
        named = [(s.id, (s.id, s.name, *s.aliases), s) for s in self.side_effects]
        return find(name, named, "side effect")

    def term(self, name: str) -> Term:
        return find(name, [(t.id, (t.id, t.term, *t.aliases), t) for t in self.terms], "term")

    def scale(self, scale_id: str) -> Scale:
        return next(s for s in self.scales if s.id == scale_id)

    @property
    def topics(self) -> list[str]:
        return list(dict.fromkeys(q.topic for q in self.questions))


# --- reading a file -------------------------------------------------------------------------


def parse_guide(
    text: str,
    origin: str,
    *,
    checked: bool = False,
    parse: Callable[[str], dict[str, Any]] = tomllib.loads,
) -> Guide:
    """Read a guide file's text; `checked=True` skips the schema check (the bundled file)."""

    def build(raw: dict[str, Any], problems: list[str]) -> Guide:
        guide = _guide(raw, origin, problems)
        problems += _cross_check(guide)
        return guide

    return read_data_file(text, origin, checked, _schema_problems, build, parse)


def _schema_problems(raw: dict[str, Any]) -> list[str]:
    from alltx.model.schemas import guide_file_problems  # pydantic: only when it is needed

    return guide_file_problems(raw)


def _guide(raw: dict[str, Any], origin: str, problems: list[str]) -> Guide:
    info = raw["guide"]
    transplant = raw["transplant"]
    return Guide(
        info=GuideInfo(info["release"], as_date(info["updated"]), info["scope"]),
        sources={s["id"]: source_of(s) for s in raw["sources"]},
        transplant=Transplant(
            *(
                statements_of(transplant, f)
                for f in ("what", "steps", "first_visit", "relapse_risk")
            )
        ),
        side_effects=tuple(_side_effect(s) for s in raw.get("side_effects", ())),
        scales=tuple(
            _scale(s, f"scales[{i}]", problems) for i, s in enumerate(raw.get("scales", ()))
        ),
        practice=tuple(_practice(p) for p in raw.get("practice", ())),
        terms=tuple(
            Term(
                t["id"],
                t["term"],
                tuple(t.get("aliases", ())),
                t["text"],
                as_source_ids(t["source"]),
            )
            for t in raw.get("terms", ())
        ),
        questions=tuple(
            Question(q["for"], q["text"], as_source_ids(q["source"]))
            for q in raw.get("questions", ())
        ),
        origin=origin,
    )


def _optional(raw: dict[str, Any], field: str) -> Statement | None:
    return statement_of(raw[field]) if field in raw else None


def _side_effect(raw: dict[str, Any]) -> SideEffect:
    return SideEffect(
        id=raw["id"],
        name=raw["name"],
        aliases=tuple(raw.get("aliases", ())),
        what=statement_of(raw["what"]),
        therapies=tuple(raw["therapies"]),
        boxed=tuple(raw.get("boxed", ())),
        carried=statement_of(raw["carried"]),
        symptoms=statements_of(raw, "symptoms"),
        timing=statements_of(raw, "timing"),
        figures=statements_of(raw, "figures"),
        grading=raw.get("grading"),
    )


def _scale(raw: dict[str, Any], where: str, problems: list[str]) -> Scale:
    features: dict[str, Feature] = {}
    for index, item in enumerate(raw["features"]):
        place = f"{where}.features[{index}]"
        # The levels test the feature itself: a registry of that one fact compiles them.
        spec = _feature(item, ())
        levels = tuple(_level(level, spec, f"{place}.levels[{n}]", problems)
                       for n, level in enumerate(item.get("levels", ())))  # fmt: skip
        features[item["id"]] = _feature(item, levels)
    requires = None
    if "requires" in raw:
        try:
            requires = compile_criteria(raw["requires"], features, f"{where}.requires")
        except RuleError as error:
            problems.append(str(error))
    by_age = None
    if "by_age" in raw:
        split = raw["by_age"]
        by_age = ByAge(split["under"], split["over"], split["age"],
                       _optional(split, "unsettled"), _optional(split, "older"))  # fmt: skip
        problems += [
            f"{where}.by_age: unknown feature {name!r}"
            for name in (by_age.under, by_age.over)
            if name not in features
        ]
    return Scale(
        id=raw["id"],
        name=raw["name"],
        source=as_source_ids(raw["source"]),
        features=tuple(features.values()),
        requires=requires,
        notes=statements_of(raw, "notes"),
        by_age=by_age,
        ungraded=_optional(raw, "ungraded"),
    )


def _feature(raw: dict[str, Any], levels: tuple[Level, ...]) -> Feature:
    bounds = raw.get("range")
    return Feature(
        id=raw["id"],
        kind=raw["kind"],
        label=raw["label"],
        flag=raw["flag"],
        levels=levels,
        unit=raw.get("unit", ""),
        range=None if bounds is None else (bounds[0], bounds[1] if len(bounds) > 1 else None),
        whole=raw.get("whole", False),
        parts=tuple(Part(p["id"], p["label"], p["most"]) for p in raw.get("parts", ())),
        values=tuple(level["is"] for level in raw.get("levels", ()) if "is" in level),
        help=raw.get("help", ""),
        metavar=raw.get("metavar", ""),
    )


def _level(raw: dict[str, Any], spec: Feature, where: str, problems: list[str]) -> Level:
    tests: dict[str, Any] = {k: raw[k] for k in ("is", "at_least", "at_most") if k in raw}
    test = None
    if tests:
        criteria: dict[str, Any] = {"fact": spec.id, "text": raw["text"], **tests}
        # A word a number finding may be given instead (`unable`) is tested as a category.
        words = replace(spec, kind="category") if "is" in tests and spec.kind == "number" else spec
        try:
            node = compile_criteria(criteria, {spec.id: words}, where)
            assert isinstance(node, Atom)
            test = node
        except RuleError as error:
            problems.append(str(error))
    grades = raw["grades"] if "grades" in raw else [raw["grade"]]
    why = _optional(raw, "why")
    if len(grades) > 1 and why is None:
        problems.append(f"{where}: a level with several grades must say `why`")
    return Level(tuple(sorted(grades)), raw["text"], test, why)


def _practice(raw: dict[str, Any]) -> Practice:
    return Practice(
        therapy=raw["therapy"],
        how=statement_of(raw["how"]),
        where=_optional(raw, "where"),
        duration=statement_of(raw["duration"]),
        hospital_stay=_optional(raw, "hospital_stay"),
        timeline=tuple(
            Step(s["label"], s["span"], s["kind"], s.get("days"), as_source_ids(s["source"]))
            for s in raw.get("timeline", ())
        ),
        timeline_note=_optional(raw, "timeline_note"),
        regulator=raw.get("regulator"),
    )


def scale_statements(scale: Scale) -> list[Statement]:
    """A scale's sourced statements besides its notes: why a level is open, the age split."""
    split = scale.by_age
    statements = [level.why for f in scale.features for level in f.levels if level.why]
    statements += [s for s in (split.unsettled, split.older) if s] if split else []
    return statements


def _cross_check(guide: Guide) -> list[str]:
    """Sources cited exist; ids are unique; a side effect's scale exists."""
    cited: list[tuple[str, tuple[str, ...]]] = []
    t = guide.transplant
    for field in ("what", "steps", "first_visit", "relapse_risk"):
        cited += [(f"transplant.{field}[{i}]", s.source) for i, s in enumerate(getattr(t, field))]
    problems = []
    scale_ids = {s.id for s in guide.scales}
    for i, effect in enumerate(guide.side_effects):
        place = f"side_effects[{i}] ({effect.id})"
        statements = [
            effect.what,
            effect.carried,
            *effect.symptoms,
            *effect.timing,
            *effect.figures,
        ]
        cited += [(place, s.source) for s in statements]
        if effect.grading is not None and effect.grading not in scale_ids:
            problems.append(f"{place}: unknown scale {effect.grading!r}")
        if not set(effect.boxed) <= set(effect.therapies):
            problems.append(f"{place}: every therapy in `boxed` must also be in `therapies`")
    for i, scale in enumerate(guide.scales):
        cited += [(f"scales[{i}]", scale.source)]
        cited += [(f"scales[{i}].notes", s.source) for s in scale.notes]
        cited += [(f"scales[{i}]", s.source) for s in scale_statements(scale)]
    for i, practice in enumerate(guide.practice):
        place = f"practice[{i}] ({practice.therapy})"
        optional = [practice.where, practice.hospital_stay, practice.timeline_note]
        statements = [practice.how, practice.duration, *(s for s in optional if s is not None)]
        cited += [(place, s.source) for s in statements]
        cited += [(f"{place}.timeline", step.source) for step in practice.timeline]
    cited += [(f"terms[{i}] ({term.id})", term.source) for i, term in enumerate(guide.terms)]
    cited += [(f"questions[{i}]", q.source) for i, q in enumerate(guide.questions)]
    problems += [
        f"{where}: unknown source {source_id!r}"
        for where, sources in cited
        for source_id in sources
        if source_id not in guide.sources
    ]
    for what, ids in (
        ("side effect", [s.id for s in guide.side_effects]),
        ("scale", [s.id for s in guide.scales]),
        ("term", [t.id for t in guide.terms]),
    ):
        problems += [
            f"duplicate {what} id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})
        ]
    return problems
