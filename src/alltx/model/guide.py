"""The guide: transplant, side effects, grading scales, practice, glossary and questions.

Pure, like the catalog: it takes the guide file's text and returns plain frozen objects, or
raises DataError naming the place. Each entity is declared once, here (`alltx.model.declared`);
the bundled file is checked against the schema derived from them in CI, any other file at load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any, Literal, NamedTuple

from alltx.core.rules import Atom, Node, RuleError, compile_criteria
from alltx.model import declared
from alltx.model.catalog import (
    Source,
    Statement,
    find,
    read_data_file,
    read_toml,
    unknown_sources,
)
from alltx.model.declared import Criteria, Key, Release, SourceIds, Text, derived, key, outside


@dataclass(frozen=True, kw_only=True)
class GuideInfo:
    release: Release
    updated: date
    scope: Text


@dataclass(frozen=True, kw_only=True)
class Transplant:
    what: tuple[Statement, ...]
    steps: tuple[Statement, ...]
    first_visit: tuple[Statement, ...]
    relapse_risk: tuple[Statement, ...]


@dataclass(frozen=True, kw_only=True)
class SideEffect:
    id: Text
    name: Text
    aliases: tuple[str, ...] = ()
    what: Statement
    therapies: Annotated[tuple[str, ...], Key(min_length=1, description="therapy ids")]
    boxed: tuple[str, ...] = key("therapies whose boxed warning names it", default=())
    carried: Statement = key("which therapies carry it, with the source")
    symptoms: tuple[Statement, ...] = ()
    timing: tuple[Statement, ...] = ()
    figures: tuple[Statement, ...] = ()
    grading: str | None = key("the id of a [[scales]] entry", default=None)


Grade = Annotated[int, Key(ge=0, le=5)]


@dataclass(frozen=True, kw_only=True)
class Level:
    """One level of a finding: the grade it gives where its test matches (none: any value)."""

    grade: Grade | None = None
    grades: Annotated[tuple[Grade, ...], Key(min_length=2)] | None = key(
        "every grade the readings allow, where the sources differ", default=None
    )
    why: Statement | None = key("why the grade is open", default=None)
    text: Text
    is_: str | None = key(alias="is", default=None)
    at_least: float | None = None
    at_most: float | None = None
    excludes: Mapping[str, tuple[str, ...]] | None = key(
        "other findings' values this level cannot stand beside (an unarousable patient is not "
        "awake): given together, they are refused",
        default=None,
        compare=False,  # a mapping: the level stays hashable
    )
    # One grade; several, in order, where the sources leave the point open.
    allowed: tuple[int, ...] = derived()

    def __post_init__(self) -> None:
        if (self.grade is None) == (self.grades is None):
            raise ValueError("give `grade`, or `grades` with `why`, not both")
        if self.grades is not None and self.why is None:
            raise ValueError("a level with several `grades` must say `why`")
        allowed = tuple(sorted(self.grades)) if self.grades else (self.grade,)
        object.__setattr__(self, "allowed", allowed)

    @property
    def lowest(self) -> int:
        """The lowest grade this finding gives."""
        return self.allowed[0]

    @property
    def shown(self) -> str:
        """`3`, or `0-1` where the sources leave the grade open."""
        low, high = self.allowed[0], self.allowed[-1]
        return str(low) if low == high else f"{low}-{high}"

    @property
    def tests(self) -> dict[str, Any]:
        """Its test as the file writes it (`is`, `at_least`, `at_most`); empty: any value."""
        found = {"is": self.is_, "at_least": self.at_least, "at_most": self.at_most}
        return {name: value for name, value in found.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class Part:
    id: Text
    label: Text
    most: Annotated[int, Key(ge=1)]


class _Words(NamedTuple):
    """A finding as its levels' tests read it (the rules module's FactSpec)."""

    kind: str
    unit: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Feature:
    """One finding a scale grades, e.g. oxygen support. Also the rules module's FactSpec."""

    id: Text
    kind: Literal["number", "category", "bool"]
    label: Text
    flag: Text = key("as answers name its option: --oxygen none|low-flow")
    help: Text | None = key("its option's help in alltx grade", default=None)
    metavar: Text | None = key("its option's value form: 0-10|unable", default=None)
    unit: str = ""
    range: Annotated[tuple[int, ...], Key(min_length=1, max_length=2)] | None = key(
        "[lowest, highest] for a number, or [lowest] alone", default=None
    )
    whole: bool = key("a score: whole numbers only", default=False)
    parts: tuple[Part, ...] = ()
    levels: tuple[Level, ...] = key("tried in order; the first that matches counts")
    # The words its levels name with `is`: a category's values, or the words a number finding
    # may be given instead of a number (`unable`).
    values: tuple[str, ...] = derived()
    # Each level's test, compiled; None matches anything.
    tests: tuple[Atom | None, ...] = derived()

    def __post_init__(self) -> None:
        values = tuple(level.is_ for level in self.levels if level.is_ is not None)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "tests", tuple(self._test(n) for n in range(len(self.levels))))

    def _test(self, index: int) -> Atom | None:
        level = self.levels[index]
        if not level.tests:
            return None
        criteria = {"fact": self.id, "text": level.text, **level.tests}
        # A word a number finding may be given instead (`unable`) is tested as a category.
        kind = "category" if level.is_ is not None and self.kind == "number" else self.kind
        node = compile_criteria(
            criteria, {self.id: _Words(kind, self.unit, self.values)}, f"levels[{index}]"
        )
        assert isinstance(node, Atom)
        return node

    @property
    def bounds(self) -> tuple[int, int | None] | None:
        """A number's bounds; None: none; a None upper bound: none above."""
        if self.range is None:
            return None
        return self.range[0], self.range[1] if len(self.range) > 1 else None


@dataclass(frozen=True, kw_only=True)
class ByAge:
    """One finding assessed with one tool (`under`) below an age and another (`over`) from it
    on, in completed years; where the sources differ on the boundary (`unsettled`), both
    readings count at it. `older`: why the `under` tool may still be given past the age."""

    under: Text = key("the feature used under `age` (completed years)")
    over: Text = key("the feature used from `age` on")
    age: Annotated[int, Key(ge=0)]
    unsettled: Statement | None = key(
        "where the sources differ at `age` itself: both count there", default=None
    )
    older: Statement | None = key(
        "why the `under` tool may still be given past the age", default=None
    )
    assumed: Statement | None = key(
        "what a grade from the `over` tool assumes where no age is given", default=None
    )


@dataclass(frozen=True, kw_only=True)
class Scale:
    id: Text
    name: Text
    source: SourceIds
    requires: Criteria | None = key(default=None, compare=False)
    notes: tuple[Statement, ...] = ()
    by_age: ByAge | None = None
    # Where the scale applies but no finding gives a grade, the sources may give none at all
    # (CRS after antipyretic or anticytokine therapy, with neither hypotension nor hypoxia).
    ungraded: Statement | None = key(
        "why there is no grade when the scale applies but no finding gives one", default=None
    )
    features: Annotated[tuple[Feature, ...], Key(min_length=1)]
    rule: Node | None = derived()  # `requires` compiled over the findings; None: always applies

    def __post_init__(self) -> None:
        by_id = {f.id: f for f in self.features}
        if self.by_age is not None:
            for name in (self.by_age.under, self.by_age.over):
                if name not in by_id:
                    raise RuleError("by_age", f"unknown feature {name!r}")
        rule = None if self.requires is None else compile_criteria(self.requires, by_id, "requires")
        object.__setattr__(self, "rule", rule)

    def feature(self, feature_id: str) -> Feature:
        return next(f for f in self.features if f.id == feature_id)


@dataclass(frozen=True, kw_only=True)
class Step:
    label: str
    span: str
    kind: Literal["step", "wait", "dose"]
    days: Annotated[int, Key(ge=1)] | None = None
    source: SourceIds


@dataclass(frozen=True, kw_only=True)
class Practice:
    therapy: Text
    how: Statement
    where: Statement | None = None
    duration: Statement
    hospital_stay: Statement | None = None
    timeline: tuple[Step, ...] = ()
    timeline_note: Statement | None = None
    regulator: declared.RegulatorId | None = key(
        "the regulator whose documents describe this practice", default=None
    )

    @property
    def to_scale(self) -> bool:
        return all(step.days is not None for step in self.timeline)


@dataclass(frozen=True, kw_only=True)
class Term:
    id: Text
    term: Text
    aliases: tuple[str, ...] = ()
    text: Text
    source: SourceIds


@dataclass(frozen=True, kw_only=True)
class Question:
    topic: Text = key(alias="for")
    text: Text
    child: Text | None = key("the question in a parent's words, for a child's page", default=None)
    source: SourceIds

    def asked(self, for_child: bool) -> str:
        """The question as this page asks it: a parent's words on a child's page."""
        return self.child if for_child and self.child else self.text


GUIDE_FORMAT = 1


@dataclass(frozen=True, kw_only=True)
class Guide:
    """The guide file (data/guide.toml)."""

    format: int = key(f"the file format; this alltx reads format {GUIDE_FORMAT}")
    info: GuideInfo = key(alias="guide")
    listed: tuple[Source, ...] = key(alias="sources")
    transplant: Transplant
    side_effects: tuple[SideEffect, ...] = ()
    scales: tuple[Scale, ...] = ()
    practice: tuple[Practice, ...] = ()
    terms: tuple[Term, ...] = ()
    questions: tuple[Question, ...] = ()
    origin: str = outside(default="")  # where it was read
    sources: dict[str, Source] = derived()  # by id

    def __post_init__(self) -> None:
        declared.check_format(self.format, GUIDE_FORMAT)
        object.__setattr__(self, "sources", {s.id: s for s in self.listed})

    def practice_for(self, therapy_id: str, regulator: str) -> Practice | None:
        """How a therapy is given, as the documents of `regulator` describe it (a US REMS
        change is no EU fact); None where the guide has nothing for it."""
        return next(
            (
                p
                for p in self.practice
                if p.therapy == therapy_id and p.regulator in (None, regulator)
            ),
            None,
        )

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
    parse: Callable[[str], dict[str, Any]] = read_toml,
) -> Guide:
    """Read a guide file's text; `checked=True` skips the schema check (the bundled file)."""

    def build(raw: dict[str, Any], problems: list[str]) -> Guide | None:
        guide = declared.build(Guide, raw, problems)
        if guide is None:
            return None
        problems += _cross_check(guide, {s.get("id") for s in raw.get("scales", ())})
        return replace(guide, origin=origin)

    return read_data_file(text, origin, checked, _schema_problems, build, parse)


def _schema_problems(raw: dict[str, Any]) -> list[str]:
    from alltx.model.checking import file_problems  # pydantic: only when it is needed

    return file_problems(Guide, "GuideFile", raw)


def scale_statements(scale: Scale) -> list[Statement]:
    """A scale's sourced statements besides its notes: why a level is open, the age split."""
    split = scale.by_age
    statements = [level.why for f in scale.features for level in f.levels if level.why]
    statements += [s for s in (split.unsettled, split.older) if s] if split else []
    return statements


def _cross_check(guide: Guide, scale_ids: set[str]) -> list[str]:
    """Sources cited exist; ids are unique; a side effect's scale is in the file (`scale_ids`:
    a scale refused for a problem of its own is still there)."""
    problems = unknown_sources(declared.walk(guide), guide.sources)
    for i, effect in enumerate(guide.side_effects):
        place = f"side_effects[{i}] ({effect.id})"
        if effect.grading is not None and effect.grading not in scale_ids:
            problems.append(f"{place}: unknown scale {effect.grading!r}")
        if not set(effect.boxed) <= set(effect.therapies):
            problems.append(f"{place}: every therapy in `boxed` must also be in `therapies`")
    for what, ids in (
        ("side effect", [s.id for s in guide.side_effects]),
        ("scale", [s.id for s in guide.scales]),
        ("term", [t.id for t in guide.terms]),
    ):
        problems += [
            f"duplicate {what} id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})
        ]
    return problems
