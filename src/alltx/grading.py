"""Grading a side effect on a scale from the guide data: the worst feature sets the grade.

Pure and generic: nothing here knows CRS or ICANS. Each feature's finding picks the first of its
levels that matches; a feature not given is unknown, so the grade becomes a range (lowest to
highest it could be) and the answer names what would settle it, as the eligibility rules do.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from alltx.guide import Feature, Level, Scale
from alltx.rules import MET, UNKNOWN, Result, atom_result, evaluate


class GradingError(ValueError):
    """A finding that cannot be graded as given (a value out of range, ICE under 12)."""


@dataclass(frozen=True)
class FeatureGrade:
    feature: Feature
    value: object  # as given (the ICE total, if from its parts); None if unknown
    level: Level | None  # the matching level, if known
    possible: tuple[int, ...]  # the grades it could give
    note: str = ""
    scored_elsewhere: bool = False  # assessed with another tool alltx cannot score


@dataclass(frozen=True)
class Grading:
    scale: Scale
    applies: Result  # whether the scale's `requires` holds (met if it has none)
    low: int  # the grade so far
    high: int  # the highest it could be once everything is known
    features: tuple[FeatureGrade, ...]

    @property
    def decided(self) -> bool:
        return self.low == self.high

    @property
    def set_by(self) -> list[FeatureGrade]:
        """The known findings that set the grade (the worst ones)."""
        if self.low == 0:
            return []
        return [f for f in self.features if f.level is not None and f.level.grade == self.low]

    @property
    def unknown(self) -> list[FeatureGrade]:
        """The findings not given that could still raise the grade."""
        return [
            f
            for f in self.features
            if f.level is None and max(f.possible) > self.low and not f.scored_elsewhere
        ]


def grade(scale: Scale, findings: dict[str, object], age: Fraction | None = None) -> Grading:
    """Grade `findings` (feature id -> parsed value; absent = unknown) on `scale`."""
    features = tuple(_feature_grade(f, findings, age) for f in scale.features if f.levels)
    values = {f.feature.id: f.value for f in features} | findings
    applies = MET if scale.requires is None else evaluate(scale.requires, values).result
    low = max((min(f.possible) for f in features), default=0)
    high = max((max(f.possible) for f in features), default=0)
    if applies == UNKNOWN:
        low = 0  # it may not be this side effect at all
    elif applies != MET:
        low = high = 0
    return Grading(scale, applies, low, high, features)


def _feature_grade(
    feature: Feature, findings: dict[str, object], age: Fraction | None
) -> FeatureGrade:
    value = findings.get(feature.id)
    parts = {p.id: findings.get(p.id) for p in feature.parts}
    given = [name for name, part in parts.items() if part is not None]
    if given and value is not None:
        raise GradingError(f"give --{feature.id} or its parts ({', '.join(given)}), not both")
    young = feature.min_age is not None and age is not None and age < feature.min_age
    if young:
        if value is not None or given:
            raise GradingError(
                f"the {feature.label.split(' (')[0]} is for patients {feature.min_age} and older; "
                f"under {feature.min_age}, use {feature.instead} and leave out --{feature.id} "
                "and its parts"
            )
        note = f"under {feature.min_age}: assessed with {feature.instead}, which alltx cannot score"
        return FeatureGrade(feature, None, None, _grades(feature.levels), note, True)
    if value is None and given:
        totals = _totals(feature, parts)
        if len(totals) == 1:
            value = totals[0]
        else:
            grades = sorted({_match(feature.levels, total).grade for total in totals})
            note = f"{feature.id} between {totals[0]} and {totals[-1]} from the parts given"
            return FeatureGrade(feature, None, None, tuple(grades), note)
    if value is None:
        return FeatureGrade(feature, None, None, _grades(feature.levels))
    level = _match(feature.levels, value)
    return FeatureGrade(feature, value, level, (level.grade,))


def _totals(feature: Feature, parts: dict[str, object]) -> list[int]:
    """Every total the parts could add up to, the unknown ones taking any score."""
    ranges = [
        [part] if part is not None else range(p.most + 1)
        for p, part in zip(feature.parts, parts.values(), strict=True)
    ]
    return sorted({sum(combo) for combo in itertools.product(*ranges)})  # type: ignore[arg-type]


def _match(levels: tuple[Level, ...], value: object) -> Level:
    for level in levels:
        if level.test is None or atom_result(level.test, value) == MET:
            return level
    raise GradingError(f"no level matches {value!r}")  # the data's last level should catch all


def _grades(levels: tuple[Level, ...]) -> tuple[int, ...]:
    return tuple(sorted({level.grade for level in levels}))


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
        if feature.kind == "category":
            word = str(value).strip().lower()
            if word not in feature.values:
                raise GradingError(f"--{name.replace('_', '-')}: expected one of "
                                   f"{', '.join(feature.values)}; got {value!r}")  # fmt: skip
            findings[name] = word
        elif feature.kind == "number":
            findings[name] = _number(value, feature)
        else:
            findings[name] = bool(value)
    return findings


def _whole(value: object, least: int, most: int, label: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = -1
    if not least <= number <= most:
        raise GradingError(f"{label} must be a whole number from {least} to {most}, got {value!r}")
    return number


def _number(value: object, feature: Feature) -> Fraction | int:
    if feature.parts:  # a score: whole numbers
        low, high = feature.range or (0, 0)
        return _whole(value, low, high, feature.label.split(" (")[0])
    try:
        number = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise GradingError(f"--{feature.id}: expected a number, got {value!r}") from None
    if feature.range and not feature.range[0] <= number <= feature.range[1]:
        low, high = feature.range
        hint = "; give degrees Celsius" if feature.unit == "C" and number > high else ""
        raise GradingError(
            f"--{feature.id}: {value} is outside {low} to {high} {feature.unit}".rstrip() + hint
        )
    return number
