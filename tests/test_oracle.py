"""Differential test: alltx against an oracle written straight from the US label table in
shared/reference/labels.md (section B, and notes H3, H6, H9, H11 for the cautions; H21 for an age
of 0 years, H22 for leukemia in remission now after relapses), in plain if/else, sharing no
code with alltx's facts or rules. An open reading (H22) is `possible`, as an unknown fact is.

The grid: for each therapy, every combination of the facts its label reads (known values at and
around every boundary, and unknown), with the facts it does not read cycled through all their
values. Contradictory facts must be refused by both. There must be no disagreement.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import pytest

from alltx.model.catalog import Catalog
from tests.conftest import disagreements

YES, NO, UNKNOWN = "yes", "no", "unknown"


def both(*answers: str) -> str:
    if NO in answers:
        return NO
    if UNKNOWN in answers:
        return UNKNOWN
    return YES


def either(*answers: str) -> str:
    if YES in answers:
        return YES
    if UNKNOWN in answers:
        return UNKNOWN
    return NO


def is_(value: object, wanted: object) -> str:
    if value is None:
        return UNKNOWN
    return YES if value == wanted else NO


def at_least(value: Any, bound: Any) -> str:
    if value is None:
        return UNKNOWN
    return YES if value >= bound else NO


def at_most(value: Any, bound: Any) -> str:
    if value is None:
        return UNKNOWN
    return YES if value <= bound else NO


def age_in_years(age: object) -> Fraction | None:
    if age is None:
        return None
    if isinstance(age, str) and age.endswith("m"):
        return Fraction(age[:-1]) / 12
    return Fraction(str(age))


def one_month_or_older(age: object) -> str:
    """'One month and older' (H21): an age in whole years is completed years, so 0 years may
    be 0 to 11 months: open, never no. Months (8m) and decimals of a year are exact."""
    years = age_in_years(age)
    if years is None:
        return UNKNOWN
    whole_years = not (isinstance(age, str) and age.endswith("m")) and years == int(years)
    if whole_years:
        return YES if years >= 1 else UNKNOWN
    return YES if math.floor(years * 12) >= 1 else NO


def remission_at_least(given: dict[str, Any], number: int) -> str:
    """Whether the leukemia is now in the Nth or a later complete remission: unknown until the
    remission number is given, unless a relapse or refractory disease now rules it out."""
    remission = given.get("remission")
    if remission is not None:
        return YES if remission >= number else NO
    now = given.get("relapsed") is True or given.get("refractory") is True
    return NO if now or (given.get("relapse") or 0) >= 1 else UNKNOWN


def read(given: dict[str, Any]) -> dict[str, Any] | None:
    """The oracle's own reading of the facts; None when they contradict each other."""
    relapsed, relapse = given.get("relapsed"), given.get("relapse")
    refractory, remission = given.get("refractory"), given.get("remission")
    # "now in the Nth relapse" and "relapsed now" must agree
    if relapse is not None and relapsed is not None and (relapse >= 1) != relapsed:
        return None
    # in complete remission now: not relapsed, not in a relapse, not refractory
    if (
        remission is not None
        and remission >= 1
        and (relapsed is True or (relapse or 0) >= 1 or refractory is True)
    ):
        return None
    if relapsed is None and relapse is not None:
        relapsed = relapse >= 1
    if remission is not None and remission >= 1:
        relapsed, refractory = False, False
    years = age_in_years(given.get("age"))
    return {
        "years": None if years is None else math.floor(years),
        "one_month": one_month_or_older(given.get("age")),
        # in remission now after relapses: whether the label's words cover it is open (H22)
        "cr3_or_later": remission_at_least(given, 3),
        "cr2_or_later": remission_at_least(given, 2),
        "relapsed": relapsed,
        "refractory": refractory,
        # second or later relapse: known only from the relapse number, or ruled out
        "later_relapse": YES
        if (relapse or 0) >= 2
        else NO
        if relapse is not None or relapsed is False
        else UNKNOWN,
        # first or second complete remission
        "cr1_or_cr2": YES
        if remission in (1, 2)
        else NO
        if remission is not None or relapsed or refractory
        else UNKNOWN,
        **{
            key: given.get(key)
            for key in ("lineage", "cd19", "cd22", "ph", "mrd", "phase", "prior_transplant")
        },
    }


def oracle(therapy: str, f: dict[str, Any]) -> str:
    b_cell = is_(f["lineage"], "b")
    relapsed_or_refractory = either(is_(f["relapsed"], True), is_(f["refractory"], True))
    if therapy == "tisagenlecleucel":
        # up to 25 years; B-cell precursor; refractory or in second or later relapse
        # (in remission after two or more relapses: an open reading, H22)
        open_reading = both(f["cr3_or_later"], UNKNOWN)
        disease = either(is_(f["refractory"], True), f["later_relapse"], open_reading)
        answer = both(at_most(f["years"], 25), b_cell, disease)
    elif therapy in ("brexucabtagene-autoleucel", "obecabtagene-autoleucel"):
        # adults; relapsed or refractory B-cell precursor (in remission now after a relapse:
        # an open reading, H22)
        disease = either(relapsed_or_refractory, both(f["cr2_or_later"], UNKNOWN))
        answer = both(at_least(f["years"], 18), b_cell, disease)
    elif therapy == "blinatumomab":
        # one month and older; CD19-positive B-cell precursor; in one of three settings
        consolidation = both(is_(f["ph"], "negative"), is_(f["phase"], "consolidation"))
        mrd = both(f["cr1_or_cr2"], at_least(f["mrd"], Fraction(1, 10)))
        setting = either(consolidation, mrd, relapsed_or_refractory)
        answer = both(f["one_month"], b_cell, is_(f["cd19"], "positive"), setting)
    else:
        # inotuzumab: 1 year and older; relapsed or refractory CD22-positive B-cell precursor
        answer = both(
            at_least(f["years"], 1), b_cell, is_(f["cd22"], "positive"), relapsed_or_refractory
        )
    return {YES: "eligible", UNKNOWN: "possible", NO: "not_eligible"}[answer]


def cautions_apply(therapy: str, f: dict[str, Any], status: str) -> list[str]:
    """The cautions whose condition holds, for a therapy that could be given: CD19-negative
    disease for the CD19 CAR-Ts (H6), age 25 for Kymriah's 'up to 25' (H3), the consolidation
    phase for blinatumomab's studied populations (H9), a prior transplant for inotuzumab (H11)."""
    if status == "not_eligible":
        return []
    applying = []
    if therapy == "tisagenlecleucel" and f["years"] == 25:
        applying.append("age 25")
    if therapy.endswith("leucel") and f["cd19"] == "negative":
        applying.append("CD19-negative")
    if therapy == "blinatumomab" and f["phase"] == "consolidation":
        applying.append("consolidation")
    if therapy == "inotuzumab-ozogamicin" and f["prior_transplant"] is True:
        applying.append("prior transplant")
    return applying


# What each caution's condition says, in the data's words: how alltx's answer is read here.
CONDITIONS = {
    "the patient is 25": "age 25",
    "the leukemia cells are CD19-negative": "CD19-negative",
    "the patient is in the consolidation phase": "consolidation",
    "there has been an allogeneic stem-cell transplant before": "prior transplant",
}


# --- the grid --------------------------------------------------------------------------------

AGES = [None, 0, "0.5m", "1m", "11m", 1, "13m", 17, "215m", 18, 24, 25, "311m", 25.9, 26, 80]
VALUES: dict[str, list[Any]] = {
    "lineage": [None, "b", "t"],
    "cd19": [None, "positive", "negative"],
    "cd22": [None, "positive", "negative"],
    "ph": [None, "positive", "negative"],
    "mrd": [None, 0.09, 0.1],
    "phase": [None, "consolidation", "maintenance"],
    "prior_transplant": [None, True, False],
}
STATES = [
    dict(zip(("relapsed", "relapse", "refractory", "remission"), combination, strict=True))
    for combination in itertools.product(
        [None, True, False], [None, 0, 1, 2, 3], [None, True, False], [None, 0, 1, 2, 3]
    )
]
READS = {
    "tisagenlecleucel": ["lineage", "cd19"],  # CD19: a caution, not a criterion
    "brexucabtagene-autoleucel": ["lineage", "cd19"],
    "obecabtagene-autoleucel": ["lineage", "cd19"],
    "blinatumomab": ["lineage", "cd19", "ph", "mrd", "phase"],
    "inotuzumab-ozogamicin": ["lineage", "cd22", "prior_transplant"],
}


def grid(therapy: str) -> list[dict[str, Any]]:
    """Every combination of the facts this label reads; the rest cycled through their values."""
    reads = READS[therapy]
    others = [name for name in VALUES if name not in reads]
    patients = []
    for index, (age, state, *read_values) in enumerate(
        itertools.product(AGES, STATES, *(VALUES[name] for name in reads))
    ):
        given = {"age": age, **state, **dict(zip(reads, read_values, strict=True))}
        for name in others:
            given[name] = VALUES[name][index % len(VALUES[name])]
        patients.append({key: value for key, value in given.items() if value is not None})
    return patients


@pytest.mark.slow
@pytest.mark.parametrize("therapy", list(READS))
def test_alltx_agrees_with_the_label_table(catalog: Catalog, therapy: str) -> None:
    [entry] = [t for t in catalog.therapies if t.id == therapy]
    patients = grid(therapy)

    def judge(f: dict[str, Any]) -> tuple[str, list[str]]:
        status = oracle(therapy, f)
        return status, cautions_apply(therapy, f, status)

    wrong, refused, _ = disagreements(entry, patients, read, judge, CONDITIONS.__getitem__)
    assert wrong == [], f"{len(wrong)} of {len(patients)}: {wrong[:5]}"
    reads = [len(AGES), len(STATES), *(len(VALUES[name]) for name in READS[therapy])]
    assert len(patients) == math.prod(reads)
    assert 0 < refused < len(patients)  # contradictions were in the grid, and refused by both
