"""Grading a side effect on a scale from the guide data: the worst feature sets the grade.

Pure and generic: nothing here knows CRS or ICANS. Each feature's finding picks the first of its
levels that matches; a feature not given is unknown, so the grade becomes a range (lowest to
highest it could be) and the answer names what would settle it, as the eligibility rules do.
Where the sources themselves leave a point open (a level with several grades, an age at which
they differ on the tool), the range shows every grade the readings allow, and says why.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from fractions import Fraction

from alltx.core.rules import MET, UNKNOWN, Atom, Result, atom_result, evaluate, undecided
from alltx.model.catalog import Statement
from alltx.model.guide import ByAge, Feature, Level, Scale


class GradingError(ValueError):
    """A finding that cannot be graded as given (a value out of range, ICE under 12)."""


@dataclass(frozen=True)
class FeatureGrade:
    feature: Feature
    value: object  # as given (the ICE total, if from its parts); None if unknown
    level: Level | None  # the matching level, if known
    possible: tuple[int, ...]  # the grades it could give; () if it does not count
    note: str = ""
    used: bool = True  # False: another tool assesses this finding at this patient's age


@dataclass(frozen=True)
class Grading:
    scale: Scale
    applies: Result  # whether the scale's `requires` holds (met if it has none)
    low: int  # the grade so far
    high: int  # the highest it could be once everything is known
    features: tuple[FeatureGrade, ...]
    deciding: tuple[Feature, ...] = ()  # findings not given that decide whether it applies
    age_note: Statement | None = None  # why both tools of an age split count, where they do
    assumed: Statement | None = None  # whom a grade assumes where no age is given (H24)

    @property
    def ungraded(self) -> Statement | None:
        """Why there is no grade: the scale applies, every finding is known, and none gives a
        grade, where the sources give none (the scale's `ungraded`)."""
        none = self.applies == MET and self.high == 0
        return self.scale.ungraded if none else None

    @property
    def decided(self) -> bool:
        return self.low == self.high and self.ungraded is None

    @property
    def set_by(self) -> list[FeatureGrade]:
        """The known findings that set the grade (the worst ones)."""
        if self.low == 0:
            return []
        return [f for f in self.counted if f.level is not None and f.level.lowest == self.low]

    @property
    def counted(self) -> list[FeatureGrade]:
        return [f for f in self.features if f.used]

    @property
    def unknown(self) -> list[FeatureGrade]:
        """The findings not given that could still raise the grade."""
        return [f for f in self.counted if f.level is None and max(f.possible) > self.low]

    @property
    def open(self) -> list[FeatureGrade]:
        """Findings given whose grade the sources leave open (a range)."""
        return [f for f in self.counted if f.level is not None and len(f.possible) > 1]


def grade(scale: Scale, findings: dict[str, object], age: Fraction | None = None) -> Grading:
    """Grade `findings` (feature id -> parsed value; absent = unknown) on `scale`; `age` in
    years, for a scale whose tools depend on it."""
    unused, age_note = _tools(scale, findings, age)
    split = scale.by_age
    # The adults' tool graded with no age assumes a patient past the split (labels.md H24).
    assumed = None
    if split is not None and age is None and _given(scale.feature(split.over), findings):
        assumed = split.assumed if not _given(scale.feature(split.under), findings) else None
    features = tuple(
        _feature_grade(f, findings, f.id not in unused) for f in scale.features if f.levels
    )
    values = {f.feature.id: f.value for f in features} | findings
    applies: Result = MET
    deciding: tuple[Feature, ...] = ()
    if scale.rule is not None:
        evaluation = evaluate(scale.rule, values)
        applies = evaluation.result
        deciding = tuple(dict.fromkeys(scale.feature(a.fact) for a in undecided(evaluation)))
    domains = _domains(scale.by_age, features)
    low = max((min(d) for d in domains), default=0)
    high = max((max(d) for d in domains), default=0)
    if applies == UNKNOWN:
        low = 0  # it may not be this side effect at all
    elif applies != MET:
        low = high = 0
    return Grading(scale, applies, low, high, features, deciding, age_note, assumed)


def _given(feature: Feature, findings: dict[str, object]) -> bool:
    return feature.id in findings or any(p.id in findings for p in feature.parts)


def _tools(
    scale: Scale, findings: dict[str, object], age: Fraction | None
) -> tuple[set[str], Statement | None]:
    """Which of an age split's two tools do not count for this patient (every other feature
    counts), and the sources' note where both do because of the age."""
    split = scale.by_age
    if split is None:
        return set(), None
    under, over = split.under, split.over
    given = {name for name in (under, over) if _given(scale.feature(name), findings)}
    if age is None:  # the tool given is the one the care team used
        return ({under, over} - given if given else set()), None
    years = math.floor(age)
    if years < split.age:
        if over in given:
            label = scale.feature(over).label.split(" (")[0]
            raise GradingError(
                f"the {label} is for patients {split.age} and older; under {split.age}, give "
                f"--{under}, the {scale.feature(under).label}, instead and leave out --{over} "
                "and its parts"
            )
        return {over}, None
    if years == split.age and split.unsettled is not None:
        return set(), split.unsettled
    if under in given:  # past the age, only for some patients (the `older` note says who)
        return {under, over} - given, split.older
    return {under}, None


def _domains(split: ByAge | None, features: tuple[FeatureGrade, ...]) -> list[tuple[int, ...]]:
    """The grades each finding could give. The two tools of an age split assess one finding:
    where both count, every grade either reading allows."""
    tools = {split.under, split.over} if split else set()
    domains = [f.possible for f in features if f.used and f.feature.id not in tools]
    either = sorted({g for f in features if f.used and f.feature.id in tools for g in f.possible})
    if either:
        domains.append(tuple(either))
    return domains


def _feature_grade(feature: Feature, findings: dict[str, object], used: bool) -> FeatureGrade:
    value = findings.get(feature.id)
    parts = {p.id: findings.get(p.id) for p in feature.parts}
    given = [name for name, part in parts.items() if part is not None]
    if given and value is not None:
        raise GradingError(f"give --{feature.id} or its parts ({', '.join(given)}), not both")
    if not used:
        return FeatureGrade(feature, None, None, (), "not used for this patient", used=False)
    if value is None and given:
        totals = _totals(feature, parts)
        if len(totals) == 1:
            value = totals[0]
        else:
            grades = sorted({g for total in totals for g in _match(feature, total).allowed})
            note = f"{feature.id} between {totals[0]} and {totals[-1]} from the parts given"
            return FeatureGrade(feature, None, None, tuple(grades), note)
    if value is None:
        return FeatureGrade(feature, None, None, _grades(feature.levels))
    level = _match(feature, value)
    note = level.why.text if level.why else ""
    return FeatureGrade(feature, value, level, level.allowed, note)


def _totals(feature: Feature, parts: dict[str, object]) -> list[int]:
    """Every total the parts could add up to, the unknown ones taking any score."""
    ranges = [
        [part] if part is not None else range(p.most + 1)
        for p, part in zip(feature.parts, parts.values(), strict=True)
    ]
    return sorted({sum(combo) for combo in itertools.product(*ranges)})  # type: ignore[arg-type]


def _match(feature: Feature, value: object) -> Level:
    word = isinstance(value, str)
    for level, test in zip(feature.levels, feature.tests, strict=True):
        if test is None or (_tests_words(test) == word and atom_result(test, value) == MET):
            return level
    raise GradingError(f"no level matches {value!r}")  # the data's last level should catch all


def _tests_words(test: Atom) -> bool:
    """A test on a word (`is`, `in`) rather than on a number: a number finding's word levels
    (`unable`) match only that word, and its numeric ones only numbers."""
    return test.op in ("is", "in")


def _grades(levels: tuple[Level, ...]) -> tuple[int, ...]:
    return tuple(sorted({grade for level in levels for grade in level.allowed}))


def _consistent(scale: Scale, findings: dict[str, object]) -> None:
    """Refuse findings that cannot both be true, as the levels declare them (`excludes`: ICE
    'unable' is a patient who cannot be roused, not one awake or roused by touch)."""
    for feature in scale.features:
        value = findings.get(feature.id)
        for level in feature.levels:
            if value is None or level.excludes is None or level.is_ != value:
                continue
            for other, words in level.excludes.items():
                if findings.get(other) in words:
                    raise GradingError(
                        f"--{feature.id} {value} ({level.text}) and --{other} {findings[other]} "
                        "cannot both be true; give the one that is"
                    )


def parse_findings(scale: Scale, given: dict[str, object]) -> dict[str, object]:
    """Findings as given on the command line (strings, numbers, booleans; None = not given),
    checked against the scale's features and parts; one GradingError says what is wrong."""
    parts = {part.id: (feature, part) for feature in scale.features for part in feature.parts}
    findings: dict[str, object] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name in parts:
            findings[name] = _whole(value, 0, parts[name][1].most, parts[name][1].label)
            continue
        feature = scale.feature(name)
        word = str(value).strip().lower()
        if feature.kind == "category":
            if word not in feature.values:
                raise GradingError(
                    f"--{name.replace('_', '-')}: expected one of "
                    f"{', '.join(feature.values)}; got {value!r}"
                )
            findings[name] = word
        elif feature.kind == "number":
            findings[name] = word if word in feature.values else _number(value, feature)
        else:
            findings[name] = bool(value)
    _consistent(scale, findings)
    return findings


def _whole(value: object, least: int, most: int | None, label: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = -1
    if number < least or (most is not None and number > most):
        span = f"from {least} to {most}" if most is not None else f"{least} or more"
        raise GradingError(f"{label} must be a whole number {span}, got {value!r}")
    return number


# A measured number: at most 15 digits (no real finding has more), a unit letter allowed after
# it (38.5, 38.5 C, 101.3°F).
_MEASURE = re.compile(r"\s*([+-]?\d{1,15}(?:\.\d{1,15})?)\s*°?\s*([A-Za-z])?\s*")


def _number(value: object, feature: Feature) -> Fraction | int:
    words = f" (or {', '.join(feature.values)})" if feature.values else ""
    if feature.whole:
        low, high = feature.bounds or (0, None)
        return _whole(value, low, high, feature.label.split(" (")[0] + words)
    match = _MEASURE.fullmatch(str(value))
    unit = (match.group(2) or "").upper() if match else ""
    if not match or (unit and (feature.unit != "C" or unit not in "CF")):
        raise GradingError(f"--{feature.id}: expected a number{words}, got {value!r}")
    number = Fraction(match.group(1))
    if unit == "F":  # Fahrenheit, converted exactly; the answer shows the Celsius value
        number = (number - 32) * 5 / 9
    if feature.bounds is None:
        return number
    low, high = feature.bounds
    if number < low or (high is not None and number > high):
        span = f"outside {low} to {high}" if high is not None else f"below {low}"
        hint = "; give degrees Celsius, or Fahrenheit with F (101F)" if feature.unit == "C" else ""
        message = f"--{feature.id}: {value} is {span} {feature.unit}".rstrip()
        raise GradingError(message + hint)
    return number
