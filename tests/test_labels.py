"""The bundled data against the US labels, one row per boundary, readable beside the label.

Each row: the patient's facts, the therapy, the status the label's words give.
"""

from __future__ import annotations

from typing import Any

import pytest

from alltx.model.catalog import Catalog
from tests.conftest import options_for

TISA, BREXU, OBE = "tisagenlecleucel", "brexucabtagene-autoleucel", "obecabtagene-autoleucel"
BLINA, INO = "blinatumomab", "inotuzumab-ozogamicin"
THERAPIES = (TISA, BREXU, OBE, BLINA, INO)

# Relapsed or refractory B-cell precursor ALL, with both target markers present.
RR_B: dict[str, Any] = {"lineage": "b", "refractory": True, "cd19": "+", "cd22": "+"}

ROWS: list[tuple[str, dict[str, Any], str, str]] = [
    # --- ages (labels count completed years; blinatumomab counts months) ---
    ("under one month", {**RR_B, "age": "0.5m"}, BLINA, "not_eligible"),
    ("newborn, 0 months", {**RR_B, "age": "0m"}, BLINA, "not_eligible"),
    ("0 years: 0 to 11 months, so one month is open (H21)", {**RR_B, "age": 0}, BLINA, "possible"),
    ("exactly one month", {**RR_B, "age": "1m"}, BLINA, "eligible"),
    ("one month, for inotuzumab", {**RR_B, "age": "1m"}, INO, "not_eligible"),
    ("11 months, for inotuzumab", {**RR_B, "age": "11m"}, INO, "not_eligible"),
    ("one year, for inotuzumab", {**RR_B, "age": 1}, INO, "eligible"),
    ("17, adult-only CAR-T", {**RR_B, "age": 17}, BREXU, "not_eligible"),
    ("17, adult-only CAR-T", {**RR_B, "age": 17}, OBE, "not_eligible"),
    ("17 years 11 months is not 18", {**RR_B, "age": "215m"}, BREXU, "not_eligible"),
    ("18, adult-only CAR-T", {**RR_B, "age": 18}, BREXU, "eligible"),
    ("18, adult-only CAR-T", {**RR_B, "age": 18}, OBE, "eligible"),
    ("17, tisagenlecleucel", {**RR_B, "age": 17}, TISA, "eligible"),
    ("25, tisagenlecleucel", {**RR_B, "age": 25}, TISA, "eligible"),
    ("25 years 11 months is still 25", {**RR_B, "age": "311m"}, TISA, "eligible"),
    ("25.9 is still 25", {**RR_B, "age": 25.9}, TISA, "eligible"),
    ("26, tisagenlecleucel", {**RR_B, "age": 26}, TISA, "not_eligible"),
    ("no lower age for tisagenlecleucel", {**RR_B, "age": "2m"}, TISA, "eligible"),
    # --- disease state: tisagenlecleucel needs refractory or second or later relapse ---
    (
        "first relapse, not refractory",
        {"age": 10, "lineage": "b", "relapse": 1, "refractory": False},
        TISA,
        "not_eligible",
    ),
    (
        "first relapse, refractory unknown",
        {"age": 10, "lineage": "b", "relapse": 1},
        TISA,
        "possible",
    ),
    ("second relapse", {"age": 10, "lineage": "b", "relapse": 2}, TISA, "eligible"),
    ("third relapse", {"age": 10, "lineage": "b", "relapse": 3}, TISA, "eligible"),
    ("refractory", {"age": 10, "lineage": "b", "refractory": True}, TISA, "eligible"),
    (
        "first relapse is enough for the adult CAR-T",
        {"age": 30, "lineage": "b", "relapse": 1},
        BREXU,
        "eligible",
    ),
    (
        "in remission, not relapsed",
        {"age": 30, "lineage": "b", "remission": 1},
        OBE,
        "not_eligible",
    ),
    # --- markers ---
    (
        "CD19-negative rules out blinatumomab",
        {**RR_B, "age": 30, "cd19": "neg"},
        BLINA,
        "not_eligible",
    ),
    (
        "CD19-negative is a caution for CAR-T, not an exclusion",
        {**RR_B, "age": 30, "cd19": "neg"},
        OBE,
        "eligible",
    ),
    ("CD22-negative rules out inotuzumab", {**RR_B, "age": 30, "cd22": "neg"}, INO, "not_eligible"),
    ("Ph-positive does not matter for inotuzumab", {**RR_B, "age": 30, "ph": "+"}, INO, "eligible"),
    (
        "Ph-positive does not matter for relapsed disease",
        {**RR_B, "age": 30, "ph": "+"},
        BLINA,
        "eligible",
    ),
    (
        "prior transplant is a caution, not an exclusion",
        {**RR_B, "age": 30, "prior_transplant": True},
        INO,
        "eligible",
    ),
]

# Blinatumomab's three settings. Not relapsed, CD19+ B-ALL, 40 years old.
CR: dict[str, Any] = {
    "age": 40,
    "lineage": "b",
    "cd19": "+",
    "relapsed": False,
    "refractory": False,
}
BLINA_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("consolidation, Ph-negative", {**CR, "ph": "-", "phase": "consolidation"}, "eligible"),
    (
        "consolidation, Ph-negative, any MRD",
        {**CR, "ph": "-", "phase": "consolidation", "mrd": 0},
        "eligible",
    ),
    (
        "consolidation, Ph-positive, no MRD result",
        {**CR, "ph": "+", "phase": "consolidation"},
        "possible",
    ),
    (
        "consolidation, Ph-positive, CR1, MRD 0.05%",
        {**CR, "ph": "+", "phase": "consolidation", "remission": 1, "mrd": 0.05},
        "not_eligible",
    ),
    (
        "maintenance, CR1, MRD 0.1%",
        {**CR, "phase": "maintenance", "remission": 1, "mrd": 0.1},
        "eligible",
    ),
    (
        "maintenance, CR2, MRD 2%",
        {**CR, "phase": "maintenance", "remission": 2, "mrd": "2%"},
        "eligible",
    ),
    (
        "maintenance, CR1, MRD 0.09%",
        {**CR, "phase": "maintenance", "remission": 1, "mrd": 0.09},
        "not_eligible",
    ),
    (
        "maintenance, CR3, MRD 1%",
        {**CR, "phase": "maintenance", "remission": 3, "mrd": 1},
        "not_eligible",
    ),
    ("maintenance, CR1, MRD unknown", {**CR, "phase": "maintenance", "remission": 1}, "possible"),
    ("relapsed", {"age": 40, "lineage": "b", "cd19": "+", "relapsed": True}, "eligible"),
    ("refractory", {"age": 40, "lineage": "b", "cd19": "+", "refractory": True}, "eligible"),
]


@pytest.mark.parametrize(
    ("case", "facts", "therapy", "status"), ROWS, ids=[f"{r[2]}: {r[0]}" for r in ROWS]
)
def test_label_boundaries(
    catalog: Catalog, case: str, facts: dict[str, Any], therapy: str, status: str
) -> None:
    assert options_for(catalog, **facts)[therapy].status == status


@pytest.mark.parametrize(("case", "facts", "status"), BLINA_ROWS, ids=[r[0] for r in BLINA_ROWS])
def test_blinatumomab_settings(
    catalog: Catalog, case: str, facts: dict[str, Any], status: str
) -> None:
    assert options_for(catalog, **facts)[BLINA].status == status


def test_t_cell_all_is_never_eligible_or_possible(catalog: Catalog) -> None:
    # Everything else favourable, everything else unknown: T-cell still rules all five out.
    for facts in ({"lineage": "t"}, {**RR_B, "age": 20, "lineage": "t"}):
        statuses = {o.status for o in options_for(catalog, **facts).values()}
        assert statuses == {"not_eligible"}


def test_no_facts_makes_everything_possible_with_the_deciding_facts(catalog: Catalog) -> None:
    options = options_for(catalog)
    assert {o.status for o in options.values()} == {"possible"}
    # the remission number too: in a third remission the label's words are open (H22)
    assert options[TISA].missing == ("age", "lineage", "refractory", "relapse", "remission")
    assert options[INO].missing == ("age", "lineage", "cd22", "relapsed", "refractory")


def test_age_19_relapsed_names_what_would_decide(catalog: Catalog) -> None:
    options = options_for(catalog, age=19, relapsed=True)
    assert options[TISA].status == "possible"
    assert options[TISA].missing == ("lineage", "refractory", "relapse")
    assert options[BREXU].missing == ("lineage",)
    # In relapse means not in remission: the MRD setting is ruled out, not left open.
    blina = {r.indication.id: r.evaluation.result for r in options[BLINA].indications}
    assert blina["blinatumomab-mrd-positive-cr1-cr2"] == "unmet"


def test_a_ruled_out_therapy_names_the_failed_criterion(catalog: Catalog) -> None:
    from alltx.core.rules import failed

    option = options_for(catalog, **RR_B, age=30)[TISA]
    assert option.status == "not_eligible"
    [why] = failed(option.indications[0].evaluation)
    assert (why.node.fact, why.node.test, why.value) == ("age_years", "at most 25 years", 30)  # type: ignore[union-attr]


def test_cautions(catalog: Catalog) -> None:
    options = options_for(catalog, **{**RR_B, "cd19": "neg"}, age=30, prior_transplant=True)
    assert any("CD19" in c and not c.startswith("If") for c in options[OBE].cautions)
    assert any("infections" in c and not c.startswith("If") for c in options[INO].cautions)
    # a caution that applies is named with the status, by its condition
    assert options[OBE].cautions_apply == ("the leukemia cells are CD19-negative",)
    assert options[INO].cautions_apply == (
        "there has been an allogeneic stem-cell transplant before",
    )
    unknown = options_for(catalog, **RR_B, age=30)
    assert any(c.startswith("If there has been") for c in unknown[INO].cautions)
    ruled_out = options_for(catalog, lineage="t", cd19="neg")
    assert all(o.cautions == () for o in ruled_out.values())


def test_every_answer_lists_all_five_in_data_order(catalog: Catalog) -> None:
    assert tuple(options_for(catalog, age=19)) == THERAPIES


# Cautions that apply, shown with the status: (case, facts, therapy, status, conditions).
CAUTION_ROWS: list[tuple[str, dict[str, Any], str, str, tuple[str, ...]]] = [
    ("25: inside, with the 'up to 25' caution", {**RR_B, "age": 25}, TISA, "eligible",
     ("the patient is 25",)),
    ("25.9 is 25: the same caution", {**RR_B, "age": 25.9}, TISA, "eligible",
     ("the patient is 25",)),
    ("24: no age caution", {**RR_B, "age": 24}, TISA, "eligible", ()),
    ("26: ruled out, so no caution", {**RR_B, "age": 26}, TISA, "not_eligible", ()),
    ("CD19-negative, Kymriah", {**RR_B, "cd19": "-", "age": 20}, TISA, "eligible",
     ("the leukemia cells are CD19-negative",)),
    ("CD19-negative and 25: both", {**RR_B, "cd19": "-", "age": 25}, TISA, "eligible",
     ("the patient is 25", "the leukemia cells are CD19-negative")),
    ("consolidation: who E1910 and 20120215 studied",
     {"age": 45, "lineage": "b", "cd19": "+", "ph": "-", "phase": "consolidation"}, BLINA,
     "eligible", ("the patient is in the consolidation phase",)),
    ("maintenance: no consolidation caution",
     {"age": 45, "lineage": "b", "cd19": "+", "ph": "-", "phase": "maintenance",
      "relapsed": True}, BLINA, "eligible", ()),
    ("prior transplant, inotuzumab", {**RR_B, "age": 40, "prior_transplant": True}, INO,
     "eligible", ("there has been an allogeneic stem-cell transplant before",)),
    ("no prior transplant", {**RR_B, "age": 40, "prior_transplant": False}, INO, "eligible", ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "given", "therapy", "status", "conditions"),
    CAUTION_ROWS,
    ids=[row[0] for row in CAUTION_ROWS],
)
def test_cautions_that_apply(
    catalog: Catalog,
    case: str,
    given: dict[str, Any],
    therapy: str,
    status: str,
    conditions: tuple[str, ...],
) -> None:
    option = options_for(catalog, **given)[therapy]
    assert (option.status, option.cautions_apply) == (status, conditions)
