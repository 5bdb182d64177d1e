"""Differential test: alltx --regulator ema against an oracle written straight from the EU
indication table in shared/reference/labels.md (section C, and notes H1, H4, H5, H6, H8, H10),
in plain if/else, sharing no code with alltx's facts or rules, nor with the US oracle (the
loop that runs both, tests/conftest.disagreements, is the only thing shared). An open reading of
the wording (H8; H22, leukemia in remission now after relapses) is `possible`, as an unknown
fact is; an age of 0 in whole years may be 0 to 11 months (H21).

The facts the EU wording needs are read here as alltx documents them (README, "Choosing the
regulator"): a relapse after transplant is a relapse now with an allogeneic transplant before
it; newly diagnosed means no relapse so far; a high-risk first relapse is ruled out by a second
relapse, by a new diagnosis, or by a first complete remission (H17: it never came back).
Tisagenlecleucel's "in relapse post-transplant" names no kind of transplant, so a relapse after
an autologous one counts too (C). Contradictory facts must be refused by both.

The grids: for each therapy, every combination of the facts its EU indications read (values at
and beside every boundary: 25 and 26 for the CAR-Ts, 1 month and 18 years for blinatumomab,
18 for inotuzumab, 1 and 2 failed TKIs), the rest cycled through their values.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import pytest

from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog
from tests.conftest import disagreements

Y, N, U = "yes", "no", "unknown"


def all_of(*answers: str) -> str:
    return N if N in answers else U if U in answers else Y


def any_of(*answers: str) -> str:
    return Y if Y in answers else U if U in answers else N


def equals(value: object, wanted: object) -> str:
    return U if value is None else Y if value == wanted else N


def at_least(value: Any, bound: Any) -> str:
    return U if value is None else Y if value >= bound else N


def at_most(value: Any, bound: Any) -> str:
    return U if value is None else Y if value <= bound else N


def years_of(age: object) -> Fraction | None:
    if age is None:
        return None
    if isinstance(age, str) and age.endswith("m"):
        return Fraction(age[:-1]) / 12
    return Fraction(str(age))


def at_least_a_month(age: object) -> str:
    """'1 month or older': whole years are completed years, so 0 of them leaves it open (H21)."""
    years = years_of(age)
    if years is None:
        return U
    if not (isinstance(age, str) and age.endswith("m")) and years == int(years):
        return Y if years >= 1 else U
    return Y if math.floor(years * 12) >= 1 else N


def understood(given: dict[str, Any]) -> dict[str, Any] | None:
    """The oracle's own reading of one patient; None for facts that contradict each other."""
    g = given.get
    relapsed, relapse, refractory, remission = (
        g("relapsed"),
        g("relapse"),
        g("refractory"),
        g("remission"),
    )
    transplant, after = g("prior_transplant"), g("relapse_after_transplant")
    new, high_risk = g("newly_diagnosed"), g("high_risk_first_relapse")
    # What each fact says about relapsing now: True, False, or None (says nothing).
    says = [relapsed]
    says.append(None if relapse is None else relapse >= 1)
    says.append(True if after else None)  # a relapse after transplant is a relapse now
    says.append(False if new else None)  # newly diagnosed: no relapse so far
    says.append(False if (remission or 0) >= 1 else None)  # in complete remission now
    known = {said for said in says if said is not None}
    if len(known) > 1:
        return None
    if (remission or 0) >= 1 and refractory:
        return None
    if after and transplant is False:
        return None
    now = known.pop() if known else None
    if after is False and now and transplant:
        return None  # a relapse now, after a transplant, is a relapse after transplant
    if new and (remission or 0) >= 2:
        return None  # a second remission: it came back before
    if high_risk and ((relapse or 0) >= 2 or new or remission == 1):
        return None
    if (remission or 0) >= 1:
        refractory = False
    if after is None:
        after = (
            True
            if (now and transplant)
            else False
            if (now is False or transplant is False)
            else None
        )
    if new is None and (now or (remission or 0) >= 2):
        new = False
    if high_risk is None and ((relapse or 0) >= 2 or new or remission == 1):
        high_risk = False
    years = years_of(g("age"))
    return {
        "years": None if years is None else math.floor(years),
        "a_month_or_older": at_least_a_month(g("age")),
        # in the Nth or a later complete remission now (H22): unknown until given, unless the
        # leukemia is back or refractory now, or newly diagnosed (no relapse so far)
        "cr2_or_later": Y
        if (remission or 0) >= 2
        else N
        if remission is not None or now or refractory or new
        else U,
        "cr3_or_later": Y
        if (remission or 0) >= 3
        else N
        if remission is not None or now or refractory or new
        else U,
        "relapsed": now,
        "refractory": refractory,
        "second_relapse": Y
        if (relapse or 0) >= 2
        else N
        if relapse is not None or now is False
        else U,
        "cr1_or_cr2": Y
        if remission in (1, 2)
        else N
        if remission is not None or now or refractory
        else U,
        "after_transplant": after,
        "transplant_before": any_of(
            equals(transplant, True), equals(g("prior_autologous_transplant"), True)
        ),
        "after_own_cells": all_of(
            equals(now, True), equals(g("prior_autologous_transplant"), True)
        ),
        "newly_diagnosed": new,
        "high_risk_first_relapse": high_risk,
        **{
            k: g(k)
            for k in (
                "lineage",
                "cd19",
                "cd22",
                "ph",
                "mrd",
                "phase",
                "prior_therapies",
                "tkis_failed",
                "no_alternative",
            )
        },
    }


def eu(therapy: str, f: dict[str, Any]) -> str:
    """The EU status, from section C's wording."""
    b_cell = equals(f["lineage"], "b")
    back = any_of(equals(f["relapsed"], True), equals(f["refractory"], True))
    ph_negative = equals(f["ph"], "negative")
    cd19 = equals(f["cd19"], "positive")
    adult, child = (
        at_least(f["years"], 18),
        all_of(f["a_month_or_older"], at_most(f["years"], 17)),
    )
    if therapy == "tisagenlecleucel":
        # up to and including 25; refractory, in relapse post-transplant, or 2nd or later relapse
        post_transplant = any_of(equals(f["after_transplant"], True), f["after_own_cells"])
        # in remission now after two or more relapses, or after a relapse with a transplant
        # before: whether the wording covers it is open (H22)
        open_readings = any_of(
            all_of(f["cr3_or_later"], U), all_of(f["cr2_or_later"], f["transplant_before"], U)
        )
        disease = any_of(
            equals(f["refractory"], True), post_transplant, f["second_relapse"], open_readings
        )
        answer = all_of(at_most(f["years"], 25), b_cell, disease)
    elif therapy in ("brexucabtagene-autoleucel", "obecabtagene-autoleucel"):
        # adults 26 and above; in remission now after a relapse: an open reading (H22)
        answer = all_of(
            at_least(f["years"], 26), b_cell, any_of(back, all_of(f["cr2_or_later"], U))
        )
    elif therapy == "blinatumomab":
        ph_positive_ok = all_of(at_least(f["tkis_failed"], 2), equals(f["no_alternative"], True))
        adult_rr = all_of(adult, b_cell, cd19, back, any_of(ph_negative, ph_positive_ok))
        adult_mrd = all_of(
            adult, b_cell, ph_negative, cd19, f["cr1_or_cr2"], at_least(f["mrd"], Fraction(1, 10))
        )
        after_two = all_of(equals(f["relapsed"], True), at_least(f["prior_therapies"], 2))
        # H8: refractory after at least two prior therapies fits both readings; after fewer
        # (or their number unknown), only the wider one: open
        refractory = equals(f["refractory"], True)
        disease = any_of(
            all_of(refractory, at_least(f["prior_therapies"], 2)),
            all_of(refractory, U),
            after_two,
            equals(f["after_transplant"], True),
        )
        child_rr = all_of(child, b_cell, ph_negative, cd19, disease)
        consolidation = equals(f["phase"], "consolidation")
        high_risk = equals(f["high_risk_first_relapse"], True)
        child_high_risk = all_of(child, b_cell, ph_negative, cd19, high_risk, consolidation)
        adult_new = all_of(
            adult, b_cell, ph_negative, cd19, equals(f["newly_diagnosed"], True), consolidation
        )
        answer = any_of(adult_rr, adult_mrd, child_rr, child_high_risk, adult_new)
    else:
        # inotuzumab: adults; CD22-positive; Ph-positive only after at least 1 failed TKI
        answer = all_of(
            adult,
            b_cell,
            equals(f["cd22"], "positive"),
            back,
            any_of(ph_negative, at_least(f["tkis_failed"], 1)),
        )
    return {Y: "eligible", U: "possible", N: "not_eligible"}[answer]


def eu_cautions(therapy: str, f: dict[str, Any], status: str) -> list[str]:
    """H6: no CAR-T indication (US or EU) states CD19: CD19-negative disease is a caution. (H8's
    open reading is in the status, `possible`, not a caution.)"""
    if status == "not_eligible":
        return []
    if therapy.endswith("leucel"):
        return ["the leukemia cells are CD19-negative"] if f["cd19"] == "negative" else []
    return []


# --- the grids -------------------------------------------------------------------------------

STATES = [
    dict(zip(("relapsed", "relapse", "refractory", "remission"), values, strict=True))
    for values in itertools.product(
        [None, True, False], [None, 0, 1, 2], [None, True], [None, 1, 2, 3]
    )
]
VALUES: dict[str, list[Any]] = {
    "lineage": [None, "b", "t"],
    "cd19": [None, "positive", "negative"],
    "cd22": [None, "positive", "negative"],
    "ph": [None, "positive", "negative"],
    "mrd": [None, 0.09, 0.1],
    "phase": [None, "consolidation", "maintenance"],
    "prior_transplant": [None, True, False],
    "prior_autologous_transplant": [None, True, False],
    "relapse_after_transplant": [None, True, False],
    "newly_diagnosed": [None, True, False],
    "high_risk_first_relapse": [None, True, False],
    "prior_therapies": [None, 1, 2],
    "tkis_failed": [None, 0, 1, 2],
    "no_alternative": [None, True, False],
}
CAR_T_AGES = [None, 17, 18, 25, "311m", 25.9, 26, 80]
GRIDS: dict[str, list[tuple[list[Any], list[str]]]] = {  # (ages, facts read in full) per grid
    "tisagenlecleucel": [(CAR_T_AGES, ["lineage", "cd19", "prior_transplant",
                                       "relapse_after_transplant", "prior_autologous_transplant"])],
    "brexucabtagene-autoleucel": [(CAR_T_AGES, ["lineage", "cd19"])],
    "obecabtagene-autoleucel": [(CAR_T_AGES, ["lineage", "cd19"])],
    "blinatumomab": [
        ([None, 17, 18], ["ph", "cd19", "tkis_failed", "no_alternative", "prior_therapies",
                          "relapse_after_transplant"]),
        ([None, 0, "0.5m", "1m", "215m", 18, 80], ["ph", "mrd", "phase", "high_risk_first_relapse",
                                                "newly_diagnosed"]),
    ],
    "inotuzumab-ozogamicin": [([None, 1, 17, "215m", 18, 80], ["lineage", "cd22", "ph",
                                                               "tkis_failed"])],
}  # fmt: skip


def grid(ages: list[Any], reads: list[str]) -> list[dict[str, Any]]:
    others = [name for name in VALUES if name not in reads]
    patients = []
    for index, (age, state, *values) in enumerate(
        itertools.product(ages, STATES, *(VALUES[name] for name in reads))
    ):
        given = {"age": age, **state, **dict(zip(reads, values, strict=True))}
        for name in others:
            given[name] = VALUES[name][(index // 7) % len(VALUES[name])]
        patients.append({key: value for key, value in given.items() if value is not None})
    return patients


@pytest.fixture(scope="module")
def eu_catalog() -> Catalog:
    return load_catalog(regulator="ema")


@pytest.mark.slow
@pytest.mark.parametrize("therapy", list(GRIDS))
def test_alltx_agrees_with_the_eu_table(eu_catalog: Catalog, therapy: str) -> None:
    [entry] = [t for t in eu_catalog.therapies if t.id == therapy]
    patients = [given for ages, reads in GRIDS[therapy] for given in grid(ages, reads)]

    def judge(f: dict[str, Any]) -> tuple[str, list[str]]:
        status = eu(therapy, f)
        return status, eu_cautions(therapy, f, status)

    wrong, refused, total = disagreements(entry, patients, understood, judge)
    assert wrong == [], f"{len(wrong)} of {total}: {wrong[:5]}"
    assert 0 < refused < total  # contradictions were in the grid, and refused by both
