"""Parsing patient facts and the derivations between them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from alltx.facts import (
    PARSERS,
    FactError,
    facts_from,
    parse_age,
    parse_bool,
    parse_facts,
    parse_lineage,
    parse_marker,
    parse_percent,
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
    assert all(value is None for value in vars(facts).values())


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
    from alltx.contract import PatientRow

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
    from alltx.contract import PatientRow

    validated = PatientRow.model_validate(row)
    from_model = {name: getattr(validated, name) for name in PARSERS}
    assert {k: v for k, v in from_model.items() if v is not None} == parse_facts(row)
