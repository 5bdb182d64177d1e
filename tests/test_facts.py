"""Parsing patient facts and the derivations between them."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alltx.core.facts import (
    CYCLE,
    FEWER,
    FIELDS,
    MAX_AGE_DAYS,
    MORE,
    PARSERS,
    Counted,
    FactError,
    InDays,
    Span,
    facts_from,
    month_days,
    months_between,
    months_in_days,
    parse_age,
    parse_bool,
    parse_count,
    parse_fact,
    parse_facts,
    parse_lineage,
    parse_marker,
    parse_percent,
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
        ("25y11m", 25 + Fraction(11, 12)),
        ("2 years 3 months", 2 + Fraction(3, 12)),
        (" 7Y 0M ", Fraction(7)),
        ("130y0m", Fraction(130)),
        (0, Fraction(0)),
        (130, Fraction(130)),
    ],
)
def test_age_in_years_or_months(given: object, years: Fraction) -> None:
    assert parse_age(given) == years


@pytest.mark.parametrize(
    "given",
    [
        -1,
        "-3",
        131,
        "200",
        "abc",
        "",
        True,
        "8.5 weeks",
        "47508d",
        "6787w",
        float("nan"),
        "1y12m",
        "130y1m",
        "2.5y3m",
        "3m2y",
        "25y-1m",
        "30d2w",
        "-3d",
    ],
)
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
    from alltx.answer.schemas import PatientRow

    assert set(PatientRow.model_fields) == {"id", *FIELDS}


@pytest.mark.parametrize(
    "row",
    [
        {"age": "8m", "cd19": "+", "relapse": "2"},
        {"age": 30.5, "mrd": "0.1%", "prior_transplant": "yes", "lineage": "B-cell"},
        {"age": "", "cd19": None, "phase": "consolidation"},
    ],
)
def test_the_row_schema_parses_like_the_flags(row: dict[str, object]) -> None:
    from alltx.answer.schemas import PatientRow

    validated = PatientRow.model_validate(row)
    from_model = {name: getattr(validated, name) for name in PARSERS}
    assert {k: v for k, v in from_model.items() if v is not None} == parse_facts(row)


AGE = (
    "must be an age of 0 to 130 years written as years, with at most 11 decimals (19, 2.5), "
    "months with m (8m), years and under 12 months (25y11m), or whole days or weeks (30d, 3w)"
)
YES_NO = "must be yes or no (true, false, y, n, 1, 0 also work)"
COUNT = "must be a whole number from 0, of at most 15 digits"
MARKER = "must be positive or negative (pos, neg, +, -, CD19+ also work)"
PERCENT = (
    "must be a percent of 0 to 100, with at most 12 decimals (0.1 or 0.1%), or as a lab "
    "reports a level its test cannot measure: negative, negative at 0.01%, <0.01%, positive, "
    "not quantifiable"
)
# Every way a value can be wrong, with the exact words the user reads after the field name, on
# every road (the SQL query writes the same): what it must be, and the text given where it was
# text (a number is not repeated: engines write numbers each their own way).
REFUSALS = [
    ('age', True, AGE),
    ('age', float("inf"), AGE),
    ('age', [19], AGE),
    ('age', "abc", f"{AGE}; got 'abc'"),
    ('age', 131, AGE),
    ('age', "-2.5", f"{AGE}; got '-2.5'"),
    ('relapsed', "maybe", f"{YES_NO}; got 'maybe'"),
    ('relapsed', 2, YES_NO),
    ('relapse', True, COUNT),
    ('relapse', -1, COUNT),
    ('relapse', 1.5, COUNT),
    ('relapse', "two", f"{COUNT}; got 'two'"),
    ('relapse', 1e300, COUNT),
    ('relapse', 10**15, COUNT),
    ('relapse', 10**5000, COUNT),
    ('cd19', "weak", f"{MARKER}; got 'weak'"),
    ('cd19', 1, MARKER),
    ('lineage', "x", "must be b or t (b-cell, t-cell, B-ALL, pre-B, T-ALL also work); got 'x'"),
    ('phase', "relapse", "must be induction, consolidation or maintenance; got 'relapse'"),
    ('mrd', "lots", f"{PERCENT}; got 'lots'"),
    ('mrd', "1/0", f"{PERCENT}; got '1/0'"),
    ('mrd', float("nan"), PERCENT),
    ('mrd', True, PERCENT),
    ('mrd', [1], PERCENT),
    ('mrd', -0.5, PERCENT),
    ('mrd', "100.5%", f"{PERCENT}; got '100.5%'"),  # as given
    ('mrd', "negative at 0%", f"{PERCENT}; got 'negative at 0%'"),  # no test reaches 0
    ('mrd', "<101%", f"{PERCENT}; got '<101%'"),
    ('mrd', "positive", f"{PERCENT}; got 'positive'"),  # a number, or not quantifiable
    ("lineage", "y" * 50, "must be b or t (b-cell, t-cell, B-ALL, pre-B, T-ALL also work); "
     f"got '{'y' * 40}...'"),
]  # fmt: skip


def test_a_count_has_at_most_fifteen_digits() -> None:
    assert parse_count(10**15 - 1) == parse_count(float(10**15 - 1)) == 999_999_999_999_999


@pytest.mark.parametrize(("name", "value", "message"), REFUSALS, ids=[r[2] for r in REFUSALS])
def test_each_refusal_says_what_is_wrong(name: str, value: object, message: str) -> None:
    with pytest.raises(FactError) as caught:
        parse_fact(name, value)
    assert str(caught.value) == message and caught.value.field == name


def test_the_bounds_themselves_are_accepted() -> None:
    assert parse_percent(0) == 0 and parse_percent(100) == 100 and parse_percent("100%") == 100
    assert parse_age(0) == 0 and parse_age("130") == 130
    assert parse_count(0) == 0 and parse_count("3") == 3 and parse_count(2.0) == 2


def test_unknown_fields_get_a_suggestion_or_the_list() -> None:
    assert unknown_field("relpased") == "unknown field 'relpased'; did you mean 'relapsed'?"
    assert unknown_field("zzz") == f"unknown field 'zzz'; known fields: {', '.join(FIELDS)}"
    assert FIELDS[-2:] == ("birth_date", "as_of")


def test_each_input_fact_has_a_short_name_and_a_flag() -> None:
    from alltx.core.facts import FACTS

    assert set(FACTS) == set(PARSERS)
    shorts = {name: fact.short for name, fact in FACTS.items()}
    assert shorts["cd19"] == "CD19" and shorts["age"] == "age"
    assert all(fact.how.startswith("--" + name.replace("_", "-")) for name, fact in FACTS.items())


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"relapse": 2, "relapsed": False}, "relapse 2 means a relapse now, but relapsed is no"),
        ({"relapse": 0, "relapsed": True}, "relapse 0 means no relapse now, but relapsed is yes"),
        (
            {"remission": 1, "relapsed": True},
            "remission 1 means in complete remission now, but the facts say relapsed "
            "(come back now)",
        ),
        (
            {"remission": 2, "refractory": True},
            "remission 2 means in complete remission now, but refractory says not responding to "
            "treatment",
        ),
    ],
)
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
    with pytest.raises(FactError, match=r"^must be an age .*; got 'x'$"):
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


@given(st.fractions(min_value=0, max_value=120))
def test_an_age_in_words_never_reaches_an_age_not_reached(years: Fraction) -> None:
    """Shown cut, not rounded: 25.9999999 years is never said as 26, nor 0.99 months as 1."""
    from alltx.views.words import age_words

    number, unit = age_words(years).split(" ")
    exact = years * 12 if unit.startswith("month") else years
    assert Fraction(number) <= exact
    assert exact - Fraction(number) < (
        Fraction(1, 10) if unit.startswith("month") else Fraction(1, 100)
    )
    assert unit == ("month" if number == "1" else "months") if years < 2 else unit == "years"


def test_an_age_just_under_a_bound_is_said_under_it() -> None:
    from alltx.views.words import age_words

    assert age_words(Fraction("25.9999999")) == "25.99 years"
    assert age_words(Fraction(1, 12) - Fraction(1, 10**9)) == "0.9 months"
    assert age_words(Fraction(1, 12)) == "1 month"


# --- an age from two dates (issue 28) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "at", "months"),
    [
        ("2026-10-20", "2026-12-01", 1),  # the infant of issue 28: one completed month
        ("2026-10-20", "2026-11-19", 0),  # a day short of it
        ("2026-10-20", "2026-11-20", 1),  # the same day of the next month completes it
        ("2026-01-31", "2026-02-28", 0),  # no 31 February: the month ends on 1 March
        ("2026-01-31", "2026-03-01", 1),
        ("2008-02-29", "2026-02-28", 12 * 17 + 11),  # a leap-day birthday, in a common year
        ("2008-02-29", "2026-03-01", 12 * 18),
        ("2000-12-06", "2026-12-06", 12 * 26),  # 26 today: out of Kymriah's "up to 25"
        ("2000-12-07", "2026-12-06", 12 * 25 + 11),
        (" 2019-05-31 ", "2019-05-31", 0),  # white space around, as in a CSV cell
    ],
)
def test_an_age_from_dates_is_the_completed_months_between_them(
    born: str, at: str, months: int
) -> None:
    facts = facts_from({"birth_date": born, "as_of": at})
    assert facts.age == Fraction(months, 12)  # the calendar's count
    said = facts.origins["age"]
    assert said.startswith(f"from the birth date {born.strip()}, at {at}")
    # At a month's end the birth day's number does not reach (31 January, on 28 February;
    # a leap day, on 28 February), a count that ends a month on its last day gives one more
    # (labels.md H23): the completed months are both, and the age's words say so.
    if born.strip()[8:] > at[8:] and at in ("2026-02-28",):
        assert facts.rule_values()["age_months"] == Counted(
            months, months + 1, f"{months} or {months + 1}"
        )
        assert "no source settles which" in said
        return
    assert facts.rule_values()["age_months"] == months
    assert facts.rule_values()["age_years"] == months // 12
    assert said == f"from the birth date {born.strip()}, at {at}"


def test_as_of_comes_from_the_row_or_else_from_the_caller() -> None:
    row = {"birth_date": "2026-10-20"}
    assert facts_from(row, date(2026, 12, 1)).rule_values()["age_months"] == 1
    assert facts_from({**row, "as_of": "2026-11-01"}, date(2026, 12, 1)).age == 0
    with pytest.raises(FactError, match=r"give the day the age is taken at too \(as_of\)"):
        facts_from(row)
    # as_of alone says nothing of the patient, but a wrong one is refused
    assert facts_from({"as_of": "2026-11-01", "relapsed": "yes"}).age is None
    with pytest.raises(FactError, match=r"\(2019-05-31\); got '2026-13-01'$") as refused:
        facts_from({"as_of": "2026-13-01"})
    assert refused.value.field == "as_of"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (
            {"birth_date": "2026-02-30"},
            "birth_date",
            "must be a date as YYYY-MM-DD (2019-05-31); got '2026-02-30'",
        ),
        (
            {"birth_date": "20/10/2026"},
            "birth_date",
            "must be a date as YYYY-MM-DD (2019-05-31); got '20/10/2026'",
        ),
        ({"birth_date": 20261020}, "birth_date", "must be a date as YYYY-MM-DD (2019-05-31)"),
        (
            {"birth_date": "2026-10-20", "as_of": "0000-01-01"},
            "as_of",
            "must be a date as YYYY-MM-DD (2019-05-31); got '0000-01-01'",
        ),
        (
            {"birth_date": "2026-12-02"},
            "birth_date",
            "the birth date is after the as-of date (2026-12-01); check both",
        ),
        (
            {"birth_date": "1890-01-01"},
            "birth_date",
            "the birth date is more than 130 years before the as-of date (2026-12-01); check both",
        ),
        (
            {"birth_date": "2020-01-01", "age": "6"},
            "birth_date",
            "give the age or the birth date, not both",
        ),
        # the dates stand for the age, the first fact: their error comes before the others'
        (
            {"birth_date": "x", "relapsed": "maybe"},
            "birth_date",
            "must be a date as YYYY-MM-DD (2019-05-31); got 'x'",
        ),
    ],
)
def test_dates_that_cannot_be_right_are_refused_with_the_field(
    row: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(FactError) as refused:
        facts_from(row, date(2026, 12, 1))
    assert (refused.value.field, str(refused.value)) == (field, message)


def test_a_blank_age_beside_a_birth_date_is_no_age_given() -> None:
    facts = facts_from({"birth_date": "2020-01-01", "age": " "}, date(2026, 12, 1))
    assert facts.age == Fraction(83, 12)


# --- MRD as a lab reports it (issue 28) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "words", "against_01"),
    [
        ("negative at 0.01%", "negative at 0.01%", "unmet"),  # under 0.01%: under 0.1% too
        ("neg at 0.1", "negative at 0.1%", "unmet"),  # under 0.1%: not 0.1% or more
        ("<0.01%", "under 0.01%", "unmet"),
        ("negative at 0.5%", "negative at 0.5%", "unknown"),  # 0.2% is under 0.5%
        ("< 1", "under 1%", "unknown"),
        ("negative", "negative (the test's sensitivity not given)", "unknown"),
        ("positive, not quantifiable", "positive, not quantifiable", "unknown"),
    ],
)
def test_mrd_as_a_lab_reports_it_is_tested_against_the_labels_level(
    given: str, words: str, against_01: str
) -> None:
    from alltx.core.rules import Atom, atom_result

    value = parse_percent(given)
    assert isinstance(value, Span) and value.words == words
    assert atom_result(Atom("mrd", "at_least", Fraction(1, 10), "MRD 0.1%+"), value) == against_01
    # as the Python path shows it in an answer: what was given, in words
    assert facts_from({"mrd": given}).mrd == value


# --- ages in days or weeks (issue 28) -----------------------------------------------------------
# A month is 28 to 31 days, so how many months d days complete depends on the months they fell
# in: the age is known as the fewest and the most, over every birth day of the calendar.


def _months_over_the_calendar(days: int, births: range) -> set[int]:
    """What months_between gives `days` after each birth day (ordinals) in `births`."""
    return {months_between(date.fromordinal(b), date.fromordinal(b + days)) for b in births}


# One whole 400-year cycle of birth days (the calendar repeats after it), from 1 January 2000.
_CYCLE = range(date(2000, 1, 1).toordinal(), date(2400, 1, 1).toordinal())


@pytest.mark.parametrize("days", [0, 21, 27, 28, 30, 31, 32, 58, 59, 62, 63, 364, 365, 366, 367])
def test_days_are_the_fewest_and_most_months_any_birth_day_gives(days: int) -> None:
    # every birth day of the cycle, by months_between itself: the parser's table must agree
    low, high = months_in_days(days)
    assert _months_over_the_calendar(days, _CYCLE) == set(range(low, high + 1))


@pytest.mark.parametrize("months", [1, 12, 216, 300, 312, 1560])
def test_near_each_bound_of_the_labels_the_table_is_the_calendar(months: int) -> None:
    # the ages the labels test (1 month, 1, 18, 25, 26 years) and the last, 130 years: the
    # days a day either side of each end of the table, over every birth day of the cycle
    fewest, most = month_days(months)
    for days in (fewest - 1, fewest, most - 1, most):
        low, high = months_in_days(days)
        assert _months_over_the_calendar(days, _CYCLE) == set(range(low, high + 1)), days
    assert months_in_days(fewest - 1)[1] == months - 1 and months_in_days(fewest)[1] == months
    assert months_in_days(most - 1)[0] == months - 1 and months_in_days(most)[0] == months


@pytest.mark.slow
def test_the_bounds_the_order_check_uses_hold_for_every_number_of_months() -> None:
    # facts.age_after and the SQL query refuse two ages out of order by these bounds, which
    # must hold for every count of months to 130 years (and one more, for MAX_AGE_DAYS)
    for months in range(1562):
        fewest, most = month_days(months)
        assert 4800 * fewest >= months * CYCLE - FEWER, months
        assert 4800 * most <= months * CYCLE + MORE, months
    assert month_days(1561)[0] == MAX_AGE_DAYS + 1  # the first day count that may pass 130 years


@pytest.mark.parametrize(
    ("given", "words", "months"),
    [
        ("21d", "21 days", 0),  # three weeks: under a month whatever the month
        ("3w", "3 weeks", 0),
        (
            "30 days",
            "30 days",
            Counted(0, 1, "0 or 1"),
        ),  # a month from 1 February, not from 1 January
        ("31D", "31 days", 1),  # a month from any day
        ("1 week", "1 week", 0),
        ("365 days", "365 days", Counted(11, 12, "11 or 12")),  # a year, but over a 29 February
        ("047507d", "47507 days", 1560),
    ],
)
def test_an_age_in_days_is_known_as_its_completed_months_allow(
    given: str, words: str, months: object
) -> None:
    age = parse_age(given)
    assert isinstance(age, InDays) and age.words == words
    facts = facts_from({"age": given})
    assert facts.rule_values()["age_months"] == months
    years = facts.rule_values()["age_years"]
    assert years == (months // 12 if isinstance(months, int) else years) and years is not None


def test_thirty_days_leaves_one_month_open_and_names_the_age_to_decide() -> None:
    from alltx.answer.answers import patient_answer
    from alltx.model.data_files import load_catalog

    catalog = load_catalog(None, regulator="fda")
    facts = {"relapsed": "yes", "lineage": "b", "cd19": "positive"}

    def blinatumomab(age: str) -> tuple[str, list[str]]:
        answer = patient_answer(facts_from({**facts, "age": age}), catalog)
        (option,) = [o for o in answer["options"] if o["therapy"] == "blinatumomab"]
        return option["status"], option["missing"]

    assert blinatumomab("30d") == ("possible", ["age"])  # 0 or 1 month: the label's bound
    assert blinatumomab("31d")[0] == "eligible"  # a month whatever the month
    assert blinatumomab("27d")[0] == "not_eligible"  # under a month whatever the month
    assert blinatumomab("4w") == ("possible", ["age"])  # 28 days: a month only from 1 February


@pytest.mark.parametrize(
    ("row", "refused"),
    [
        ({"age": "10d", "age_at_diagnosis": "11d"}, True),  # both in days: by the days
        ({"age": "10d", "age_at_diagnosis": "10d"}, False),
        ({"age": "40d", "age_at_diagnosis": "2m"}, True),  # 40 days: never 2 months
        ({"age": "60d", "age_at_diagnosis": "2m"}, False),  # 2 months are 59 to 62 days
        ({"age": "2m", "age_at_diagnosis": "96d"}, True),  # 96 days: 3 months, whatever the month
        ({"age": "2m", "age_at_diagnosis": "60d"}, False),
    ],
)
def test_ages_in_days_are_refused_out_of_order_only_where_every_calendar_has_them_so(
    row: dict[str, object], refused: bool
) -> None:
    if refused:
        with pytest.raises(FactError, match="the age at diagnosis is after the age now"):
            facts_from(row)
    else:
        assert facts_from(row).age is not None
