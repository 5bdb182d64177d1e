"""The quick classes of ages and percents (issue 27) are the exact ones: a cohort's memo keeps
a value's class by its completed months, or by its side of each bound, computed in floating
point where that is as exact; everywhere it answers, the exact parser agrees."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from alltx.batch import streaming
from alltx.batch.streaming import Answering, JsonLines
from alltx.core.facts import (
    completed_months,
    parse_age,
    parse_percent,
    quick_months,
    quick_percent,
)
from alltx.model.data_files import load_catalog

# Ages as registries write them: decimals (up to the parser's 11), a unit, whole numbers,
# JSON floats; and the values that hug a month's boundary from either side.
DECIMALS = st.decimals(0, 1600, places=11, allow_nan=False, allow_infinity=False)
HUGGING = st.builds(lambda k, tiny, sign: Fraction(k, 12) + sign * Fraction(tiny, 10**11),
                    st.integers(0, 1570), st.integers(0, 3), st.sampled_from([-1, 1]))  # fmt: skip
AGE_TEXT = st.one_of(
    DECIMALS.map(lambda d: format(d.normalize(), "f")),
    st.builds(
        lambda d, unit: f"{format(d.normalize(), 'f')}{unit}",
        DECIMALS,
        st.sampled_from(["m", " months", "y", " years", "M", "Yrs"]),
    ),
    HUGGING.map(lambda f: format(Decimal(f.numerator) / Decimal(f.denominator), ".11f")),
    st.integers(-5, 1600).map(str),
)
AGE = st.one_of(AGE_TEXT, st.integers(-5, 200), st.floats(-1, 140), st.booleans())


def _exact_months(value: object) -> int | None:
    try:
        return completed_months(parse_age(value))
    except ValueError:
        return None


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(AGE)
@example("0.08333333333")
@example("25.99999999999")
@example("311.99999999999m")
@example("130")
@example("130.00000000001")
@example(2.0833333333333335)
def test_quick_months_are_the_exact_parsers_months(value: object) -> None:
    quick = quick_months(value)
    if quick is not None:
        assert quick == _exact_months(value)


PERCENT = st.one_of(
    st.decimals(0, 101, places=12, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(0, 101, places=4, allow_nan=False, allow_infinity=False).map(lambda d: f"{d}%"),
    st.floats(0, 101),
    st.sampled_from(["0.1", "0.1000000000001", "0.0999999999999", "1e-05", "1E-01", ".1"]),
)


@settings(max_examples=2000, deadline=None)
@given(PERCENT)
def test_quick_percent_is_a_percent_the_parser_takes(value: object) -> None:
    quick = quick_percent(value)
    if quick is not None:
        exact = parse_percent(value)  # it takes it
        assert abs(Fraction(quick) - exact) < Fraction(1, 10**12)


MISSING, Unkeyed = streaming._MISSING, streaming._Unkeyed  # the memo's own words for "exactly"
_ANSWERING = {r: Answering(load_catalog(regulator=r), JsonLines(load_catalog(regulator=r)))
              for r in ("fda", "ema")}  # fmt: skip


@pytest.mark.slow
@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(["fda", "ema"]),
    st.one_of(AGE.map(lambda v: ("age", v)), PERCENT.map(lambda v: ("mrd", v))),
)
def test_a_quick_class_is_the_exact_class(regulator: str, cell: tuple[str, object]) -> None:
    answering = _ANSWERING[regulator]
    name, value = cell
    quick = answering.quick[name](value)
    try:
        exact = answering._classify(name, value)
    except Unkeyed:  # refused by the exact parser: the quick class must not answer
        assert quick is MISSING
        return
    if quick is not MISSING:
        assert quick == exact


def test_the_quick_classes_stay_few_whatever_the_cohort() -> None:
    # 20,000 distinct ages and MRD values give at most a class per completed month and per
    # side of the bounds: the cell cache they used to fill is not touched.
    answering = _ANSWERING["fda"]
    for n in range(20_000):
        answering.quick["age"](f"{n % 8000 / 100 + 0.003:.3f}")
        answering.quick["mrd"](f"{(n % 5000) / 1000 + 0.0004:.4f}")
    assert len(answering.sides) <= 131 * 12 + 1 + 10  # a class a completed month, a few sides
    assert not [cell for cell in answering.classes if cell[0] in ("age", "mrd")]


def test_a_refused_value_is_never_classed_quickly() -> None:
    answering = _ANSWERING["fda"]
    refused = [
        ("age", "-1.5"),
        ("age", "131.5"),
        ("age", "1.5x"),
        ("age", True),
        ("mrd", "101.5"),
        ("mrd", "-0.5"),
        ("mrd", "abc"),
        ("mrd", 10**400),
    ]
    for name, value in refused:
        assert answering.quick[name](value) is MISSING, (name, value)
        try:
            answering._classify(name, value)
        except Unkeyed:
            continue
        raise AssertionError(f"{name} {value!r} should be refused")
