"""A patient's value in plain words, once for every view: the terminal and the printed page
say `age: 19 years`, `lineage: B-cell precursor`, where the rules hold 228 completed months,
`b` or 0."""

from __future__ import annotations

import math
from collections.abc import Collection
from fractions import Fraction
from typing import TYPE_CHECKING

from alltx.core.facts import FACTS, READING, Counted, Facts, InDays, MonthEnd, Span, Years

if TYPE_CHECKING:
    from alltx.answer.shapes import CriterionOut


def fact_words(fact: str, value: object) -> str:
    """A fact's value in plain words: `not in relapse now` rather than `relapse 0`."""
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Span | Counted):
        return value.words
    if isinstance(value, Fraction | float):  # a float: an answer's JSON number
        # as given, to the millionth (an MRD test's sensitivity is 0.0001%): 0.004% was
        # rounded to 0.0%, which reads as none found
        value = int(value) if value == int(value) else _decimal(float(value))
    words = FACTS[fact].words
    return next((said for known, said in words if known == value), str(value))


def _decimal(number: float) -> str:
    """A number to the millionth, without trailing zeros; a smaller one in full (1e-07), not 0."""
    shown = f"{number:.6f}".rstrip("0").rstrip(".")
    return shown if shown not in ("0", "-0") else repr(number)


def age_words(years: Fraction | InDays) -> str:
    """An age as people say it: in months under two years, else in years; days or weeks as
    given. A fraction is cut, not rounded: 25.9999999 years is shown as 25.99, never as a 26
    it has not reached."""
    if isinstance(years, InDays):
        return years.words
    if isinstance(years, Years):  # completed years, as given: 0 years is under one year
        return f"{int(years)} {'year' if years == 1 else 'years'}"
    if isinstance(years, MonthEnd) and years * 12 < 23:  # by the count: one month open
        completed = int(years * 12)
        return f"{completed} or {completed + 1} months"
    if years < 2:
        months = _cut(years * 12, 10)
        return f"{months} {'month' if months == '1' else 'months'}"
    return f"{_cut(years, 100)} years"


def _cut(number: Fraction, parts: int) -> str:
    """`number` to 1/`parts`, rounded down: 25.99 for 25.9999999, 19.5 for 19.5, 19 for 19."""
    whole = Fraction(math.floor(number * parts), parts)
    return str(whole.numerator) if whole.denominator == 1 else f"{float(whole):g}"


def criterion_words(
    fact: str, value: object, unit: str, age: Fraction | InDays | None, bound: str | None
) -> str:
    """What a criterion was tested on, named: `fact: value`. `value` is the rule's (completed
    years or months for an age, in `unit`); `age`, for an age, the patient's own, shown as
    given and, where the completed unit is what counts, that too; `bound`, for a value not
    given that another fact bounds, why the test is decided all the same."""
    label = FACTS[fact].short
    if value is None:
        return f"{label}: not given" + (f"; {bound}" if bound else "")
    if isinstance(age, InDays):  # days complete months by the calendar: say which
        return f"{label}: {age.words}, {fact_words(fact, value)} completed {unit}"
    if age is not None:
        shown = age_words(age)
        whole = age if unit == "years" else age * 12
        if whole.denominator != 1:  # at a boundary, what counts is the completed unit
            shown += f", {value} completed {unit}"
        return f"{label}: {shown}"
    return f"{label}: {fact_words(fact, value)}{unit if unit == '%' else ''}"


def facts_words(facts: Facts, read: Collection[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """The facts known, as (label, value) in plain words, and the labels of those not known:
    of the facts in `read`, those the data in use reads (the EU facts mean nothing to the US
    labels)."""
    given, unknown = [], []
    for name, value in facts.values.items():
        if name not in read:
            continue
        label = FACTS[name].short
        if value is None:
            unknown.append(label)
        elif FACTS[name].form == "age":
            given.append((label, age_words(value)))  # type: ignore[arg-type]
        else:
            given.append((label, fact_words(name, value)))
        if name in facts.origins:
            given[-1] = (label, f"{given[-1][1]} ({facts.origins[name]})")
    return given, unknown


def value_words(criterion: CriterionOut, facts: Facts) -> str:
    """What a test in an answer was tested on, in words (criterion_words): its `value` and
    `bound` from the answer, an age exactly from the facts (the answer's numbers are JSON's
    floats); the unit from the test's declaration (its id ends with the fact the rule reads)."""
    fact, unit = str(criterion["fact"]), criterion["unit"] or ""
    if fact == READING:  # no fact settles it (facts.READING)
        return "open: the sources do not settle it"
    age = getattr(facts, fact) if unit in ("years", "months") else None
    words = criterion_words(fact, criterion["value"], unit, age, criterion["bound"])
    if isinstance(age, Years | MonthEnd) and unit == "months" and criterion["result"] == "unknown":
        words += f", {fact_words(fact, criterion['value'])} completed months"  # which is open
    return words


def listed(words: Collection[str], last: str = "and") -> str:
    """Words as a sentence lists them: "A", "A and B", "A, B and C" (`last`: or)."""
    *rest, final = words
    return f"{', '.join(rest)} {last} {final}" if rest else final
