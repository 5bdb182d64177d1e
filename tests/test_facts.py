"""Parsing patient facts and the derivations between them."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from alltx.facts import (
    PARSERS,
    FactError,
    facts_from,
    parse_age,
    parse_bool,
    parse_count,
    parse_fact,
    parse_facts,
    parse_lineage,
    parse_marker,
    parse_percent,
    parse_phase,
    unknown_field,
)


@pytest.mark.parametrize(
    ("given", "years"),
    [
        (19, Fraction(19)),
        ("19", Fraction(19)),
        (2.5, Fraction(5, 2)),
        ("8m", Fraction(8, 12)),
        ("1m", Fraction(1, 12)),
        ("0.5m", Fraction(1, 24)),
        ("18 months", Fraction(18, 12)),
        ("25.9", Fraction(259, 10)),
        (0, Fraction(0)),
        (130, Fraction(130)),
    ],
)
def test_age_in_years_or_months(given: object, years: Fraction) -> None:
    assert parse_age(given) == years


@pytest.mark.parametrize("given", [-1, "-3", 131, "200", "abc", "", True, "8 weeks", float("nan")])
def test_impossible_or_unreadable_ages_are_refused(given: object) -> None:
    with pytest.raises(ValueError, match="years"):
        parse_age(given)


@pytest.mark.parametrize(
    ("given", "marker"),
    [
        ("positive", "positive"),
        ("POS", "positive"),
        ("+", "positive"),
        ("neg", "negative"),
        ("-", "negative"),
        (" Negative ", "negative"),
    ],
)
def test_marker_spellings(given: str, marker: str) -> None:
    assert parse_marker(given) == marker


@pytest.mark.parametrize(("given", "lineage"), [("b", "b"), ("B-cell", "b"), ("t-cell", "t")])
def test_lineage_spellings(given: str, lineage: str) -> None:
    assert parse_lineage(given) == lineage


def test_percent_accepts_a_percent_sign_and_stays_exact() -> None:
    assert parse_percent("0.1%") == Fraction(1, 10)
    assert parse_percent(0.1) == Fraction(1, 10)
    with pytest.raises(ValueError, match="0 to 100"):
        parse_percent(100.5)


@pytest.mark.parametrize(
    ("given", "value"), [("yes", True), ("FALSE", False), (1, True), (0, False)]
)
def test_booleans_from_batch_cells(given: object, value: bool) -> None:
    assert parse_bool(given) is value


def test_a_fact_not_given_is_unknown_not_false() -> None:
    facts = facts_from({})
    assert list(facts.values) == list(PARSERS)  # every fact is there
    assert all(value is None for value in facts.values.values())


def test_relapse_number_implies_relapsed_and_not_in_remission() -> None:
    facts = facts_from({"relapse": 2})
    assert (facts.relapsed, facts.relapse, facts.remission) == (True, 2, 0)


def test_relapse_zero_means_not_relapsed() -> None:
    assert facts_from({"relapse": 0}).relapsed is False


def test_remission_implies_not_relapsed_and_not_refractory() -> None:
    facts = facts_from({"remission": 1})
    assert (facts.relapsed, facts.refractory, facts.relapse) == (False, False, 0)


def test_relapsed_or_refractory_means_not_in_remission() -> None:
    assert facts_from({"relapsed": True}).remission == 0
    assert facts_from({"refractory": True}).remission == 0
    assert facts_from({"relapsed": True}).relapse is None  # which relapse is still unknown


def test_not_relapsed_means_relapse_zero_but_remission_unknown() -> None:
    facts = facts_from({"relapsed": False})
    assert (facts.relapse, facts.remission) == (0, None)


@pytest.mark.parametrize(
    "given",
    [
        {"remission": 1, "relapsed": True},
        {"remission": 2, "refractory": True},
        {"remission": 1, "relapse": 1},
        {"relapse": 2, "relapsed": False},
        {"relapse": 0, "relapsed": True},
    ],
)
def test_contradictions_are_refused(given: dict[str, object]) -> None:
    with pytest.raises(FactError, match="contradictory facts"):
        facts_from(given)


def test_errors_name_the_field() -> None:
    with pytest.raises(FactError) as caught:
        facts_from({"cd19": "maybe"})
    assert caught.value.field == "cd19"
    with pytest.raises(FactError, match="unknown field 'relpased'"):
        facts_from({"relpased": True})


def test_rules_see_completed_years_and_months() -> None:
    values = facts_from({"age": "311m"}).rule_values()  # 25 years 11 months
    assert (values["age_years"], values["age_months"]) == (25, 311)
    values = facts_from({"age": "0.5m"}).rule_values()
    assert (values["age_years"], values["age_months"]) == (0, 0)


def test_the_row_schema_has_a_field_for_every_fact() -> None:
    from alltx.schemas import PatientRow

    assert set(PatientRow.model_fields) == {"id", *PARSERS}


@pytest.mark.parametrize(
    "row",
    [
        {"age": "8m", "cd19": "+", "relapse": "2"},
        {"age": 30.5, "mrd": "0.1%", "prior_transplant": "yes", "lineage": "B-cell"},
        {"age": "", "cd19": None, "phase": "consolidation"},
    ],
)
def test_the_row_schema_parses_like_the_flags(row: dict[str, object]) -> None:
    from alltx.schemas import PatientRow

    validated = PatientRow.model_validate(row)
    from_model = {name: getattr(validated, name) for name in PARSERS}
    assert {k: v for k, v in from_model.items() if v is not None} == parse_facts(row)


AGE_HINT = "give years (19, 2.5) or months with m (8m)"
# Every way a value can be wrong, with the exact words the user reads after the field name.
REFUSALS = [
    (parse_age, True, f"must be a number, not true/false; {AGE_HINT}"),
    (parse_age, float("inf"), f"must be a number; {AGE_HINT}"),
    (parse_age, [19], f"must be a number; {AGE_HINT}"),
    (parse_age, "abc", f"'abc' is not a number; {AGE_HINT}"),
    (parse_age, 131, "must be between 0 and 130 years, got 131"),
    (parse_age, "-2.5", "must be between 0 and 130 years, got -2.5"),
    (parse_bool, "maybe", "expected true or false, got 'maybe'"),
    (parse_bool, 2, "expected true or false, got 2"),
    (parse_count, True, "expected a whole number, got True"),
    (parse_count, -1, "expected a whole number 0 or more, got -1"),
    (parse_count, 1.5, "expected a whole number 0 or more, got 1.5"),
    (parse_count, "two", "expected a whole number 0 or more, got 'two'"),
    (parse_count, 1e300, "expected a whole number of at most 15 digits, got a longer one"),
    (parse_count, 10**15, "expected a whole number of at most 15 digits, got a longer one"),
    (parse_count, 10**5000, "expected a whole number of at most 15 digits, got a longer one"),
    (parse_marker, "weak", "expected positive or negative (pos, neg, +, - also work), got 'weak'"),
    (parse_marker, 1, "expected positive or negative (pos, neg, +, - also work), got 1"),
    (parse_lineage, "x", "expected b or t (b-cell, t-cell also work), got 'x'"),
    (parse_phase, "relapse", "expected induction, consolidation or maintenance, got 'relapse'"),
    (parse_percent, "lots", "expected a percent from 0 to 100, got 'lots'"),
    (parse_percent, "1/0", "expected a percent from 0 to 100, got '1/0'"),
    (parse_percent, float("nan"), "expected a percent from 0 to 100"),
    (parse_percent, True, "expected a percent from 0 to 100, got True"),
    (parse_percent, [1], "expected a percent from 0 to 100, got [1]"),
    (parse_percent, -0.5, "must be a percent from 0 to 100, got -0.5"),
    (parse_percent, "100.5%", "must be a percent from 0 to 100, got 100.5%"),  # as given
]  # fmt: skip


def test_a_count_has_at_most_fifteen_digits() -> None:
    assert parse_count(10**15 - 1) == parse_count(float(10**15 - 1)) == 999_999_999_999_999


@pytest.mark.parametrize(("parse", "value", "message"), REFUSALS, ids=[r[2] for r in REFUSALS])
def test_each_refusal_says_what_is_wrong(parse: Any, value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(value)
    assert str(caught.value) == message


def test_the_bounds_themselves_are_accepted() -> None:
    assert parse_percent(0) == 0 and parse_percent(100) == 100 and parse_percent("100%") == 100
    assert parse_age(0) == 0 and parse_age("130") == 130
    assert parse_count(0) == 0 and parse_count("3") == 3 and parse_count(2.0) == 2


def test_unknown_fields_get_a_suggestion_or_the_list() -> None:
    assert unknown_field("relpased") == "unknown field 'relpased'; did you mean 'relapsed'?"
    assert unknown_field("zzz") == f"unknown field 'zzz'; known fields: {', '.join(PARSERS)}"


def test_each_input_fact_has_a_short_name_and_a_flag() -> None:
    from alltx.facts import FACTS

    assert set(FACTS) == set(PARSERS)
    shorts = {name: fact.short for name, fact in FACTS.items()}
    assert shorts["cd19"] == "CD19" and shorts["age"] == "age"
    assert all(fact.how.startswith("--" + name.replace("_", "-")) for name, fact in
               FACTS.items())  # fmt: skip


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"relapse": 2, "relapsed": False}, "relapse 2 means a relapse now, but relapsed is no"),
        ({"relapse": 0, "relapsed": True}, "relapse 0 means no relapse now, but relapsed is yes"),
        ({"remission": 1, "relapsed": True},
         "remission 1 means in complete remission now, but the facts say relapsed (come back now)"),
        ({"remission": 2, "refractory": True},
         "remission 2 means in complete remission now, but refractory says not responding to "
         "treatment"),
    ],
)  # fmt: skip
def test_contradictions_say_which_facts_disagree(given: dict[str, object], message: str) -> None:
    with pytest.raises(FactError) as caught:
        facts_from(given)
    expected = f"contradictory facts: {message}; give only the one that is true"
    assert str(caught.value) == expected and caught.value.field is None


def test_unknown_and_bad_fields_are_named() -> None:
    for raw, field in (({"relpased": True}, "relpased"), ({"mrd": "x"}, "mrd")):
        with pytest.raises(FactError) as caught:
            parse_facts(raw)
        assert caught.value.field == field
    with pytest.raises(FactError, match=r"^'x' is not a number"):
        parse_facts({"age": "x"})


def test_huge_values_are_shown_in_full() -> None:
    with pytest.raises(ValueError, match=r"got 1000000$"):
        parse_age(1000000)


# Spellings clinicians use, each read as the flag's own value (issue 16).
SPELLINGS = [
    ("cd19", "CD19+", "positive"), ("cd19", "cd19-negative", "negative"),
    ("cd19", "CD19 positive", "positive"), ("cd22", "CD22-", "negative"),
    ("ph", "Ph+", "positive"), ("ph", "Ph-", "negative"), ("ph", "Ph negative", "negative"),
    ("remission", "CR1", 1), ("remission", "cr 2", 2), ("lineage", "B-ALL", "b"),
    ("lineage", "pre-B", "b"), ("lineage", "BCP-ALL", "b"), ("lineage", "T-ALL", "t"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "given", "read"), SPELLINGS)
def test_clinicians_spellings(name: str, given: str, read: object) -> None:
    assert parse_fact(name, given) == read


@pytest.mark.parametrize(
    ("name", "given"), [("cd19", "CD22+"), ("ph", "CD19+"), ("remission", "CRx")]
)
def test_another_markers_spelling_is_refused(name: str, given: str) -> None:
    with pytest.raises(FactError, match=repr(given).replace("+", r"\+")):
        parse_fact(name, given)
