"""The bundled data against the EU indications, one row per boundary, readable beside the EU
wording (shared/reference/labels.md, section C, notes H3-H10).

Each row: the patient's facts, the therapy, the status the EU wording gives, and the status
the US label gives the same patient, where the two differ.
"""

from __future__ import annotations

from typing import Any

import pytest

from alltx.assessment.assess import assess
from alltx.core.facts import facts_from
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog

TISA, BREXU, OBE = "tisagenlecleucel", "brexucabtagene-autoleucel", "obecabtagene-autoleucel"
BLINA, INO = "blinatumomab", "inotuzumab-ozogamicin"

RR: dict[str, Any] = {"lineage": "b", "refractory": True, "cd19": "+", "cd22": "+"}
PH_NEG_CHILD: dict[str, Any] = {"lineage": "b", "ph": "-", "cd19": "+"}

ROWS: list[tuple[str, dict[str, Any], str, str, str]] = [
    # (the EU wording tested, facts, therapy, EU status, US status)
    ("Tecartus: adults 26 years of age and above; 25 is not", {**RR, "age": 25}, BREXU,
     "not_eligible", "eligible"),
    ("Tecartus: 25 years 11 months is 25", {**RR, "age": "311m"}, BREXU, "not_eligible",
     "eligible"),
    ("Tecartus: 26 years of age", {**RR, "age": 26}, BREXU, "eligible", "eligible"),
    ("Aucatzyl: adults 26 and above; 18 is an adult in the US only", {**RR, "age": 18}, OBE,
     "not_eligible", "eligible"),
    ("Aucatzyl: 26 years of age", {**RR, "age": 26}, OBE, "eligible", "eligible"),
    ("Kymriah: up to and including 25 years of age", {**RR, "age": 25}, TISA, "eligible",
     "eligible"),
    ("Kymriah: 26 is above it", {**RR, "age": 26}, TISA, "not_eligible", "not_eligible"),
    ("Kymriah: in relapse post-transplant (a first relapse)",
     {"age": 19, "lineage": "b", "relapse": 1, "refractory": False, "prior_transplant": True},
     TISA, "eligible", "not_eligible"),
    ("Kymriah: a first relapse without a transplant is none of the three",
     {"age": 19, "lineage": "b", "relapse": 1, "refractory": False, "prior_transplant": False,
      "prior_autologous_transplant": False}, TISA, "not_eligible", "not_eligible"),
    ("Kymriah: post-transplant names no kind of transplant, so an autologous one is open",
     {"age": 19, "lineage": "b", "relapse": 1, "refractory": False, "prior_transplant": False},
     TISA, "possible", "not_eligible"),
    ("Kymriah: in relapse post-transplant, after an autologous transplant",
     {"age": 19, "lineage": "b", "relapse": 1, "refractory": False, "prior_transplant": False,
      "prior_autologous_transplant": True}, TISA, "eligible", "not_eligible"),
    ("Blincyto: a child in CR1 has never relapsed, so no high-risk first relapse (H17)",
     {**PH_NEG_CHILD, "age": 17, "remission": 1, "mrd": 0.5}, BLINA, "not_eligible",
     "eligible"),
    ("Blincyto children: refractory after one prior therapy, an open reading (H8)",
     {**PH_NEG_CHILD, "age": 8, "refractory": True, "prior_therapies": 1}, BLINA, "possible",
     "eligible"),
    ("Blincyto children: refractory after two prior therapies, both readings (H8)",
     {**PH_NEG_CHILD, "age": 8, "refractory": True, "prior_therapies": 2}, BLINA, "eligible",
     "eligible"),
    ("Besponsa: adults only; 17 is not", {**RR, "age": 17, "ph": "-"}, INO, "not_eligible",
     "eligible"),
    ("Besponsa: 18, Ph-negative", {**RR, "age": 18, "ph": "-"}, INO, "eligible", "eligible"),
    ("Besponsa: Ph+ with no TKI failed", {**RR, "age": 40, "ph": "+", "tkis_failed": 0}, INO,
     "not_eligible", "eligible"),
    ("Besponsa: Ph+ after at least 1 TKI", {**RR, "age": 40, "ph": "+", "tkis_failed": 1}, INO,
     "eligible", "eligible"),
    ("Besponsa: Ph+, TKIs not given", {**RR, "age": 40, "ph": "+"}, INO, "possible", "eligible"),
    ("Blincyto adults R/R: Ph+ after 1 TKI is not enough",
     {**RR, "age": 40, "ph": "+", "tkis_failed": 1, "no_alternative": True}, BLINA,
     "not_eligible", "eligible"),
    ("Blincyto adults R/R: Ph+ after at least 2 TKIs, with no alternative",
     {**RR, "age": 40, "ph": "+", "tkis_failed": 2, "no_alternative": True}, BLINA,
     "eligible", "eligible"),
    ("Blincyto adults R/R: 2 TKIs, but an alternative exists",
     {**RR, "age": 40, "ph": "+", "tkis_failed": 2, "no_alternative": False}, BLINA,
     "not_eligible", "eligible"),
    ("Blincyto children: aged 1 month or older; 2 weeks is not",
     {**PH_NEG_CHILD, "age": "0.5m", "refractory": True}, BLINA, "not_eligible", "not_eligible"),
    ("Blincyto children: 1 month, refractory, prior therapies not given (H8: they decide)",
     {**PH_NEG_CHILD, "age": "1m", "refractory": True}, BLINA, "possible", "eligible"),
    ("Blincyto children: 1 month, refractory after two prior therapies",
     {**PH_NEG_CHILD, "age": "1m", "refractory": True, "prior_therapies": 2}, BLINA, "eligible",
     "eligible"),
    ("Blincyto children: Ph-positive is not covered",
     {"lineage": "b", "ph": "+", "cd19": "+", "age": 8, "refractory": True}, BLINA,
     "not_eligible", "eligible"),
    ("Blincyto children: relapse after at least two prior therapies",
     {**PH_NEG_CHILD, "age": 8, "relapse": 1, "refractory": False, "prior_therapies": 2,
      "prior_transplant": False}, BLINA, "eligible", "eligible"),
    ("Blincyto children: relapse after one prior therapy, no transplant",
     {**PH_NEG_CHILD, "age": 8, "relapse": 1, "refractory": False, "prior_therapies": 1,
      "prior_transplant": False, "high_risk_first_relapse": False}, BLINA, "not_eligible",
     "eligible"),
    ("Blincyto children: the same, the first relapse's risk not given",
     {**PH_NEG_CHILD, "age": 8, "relapse": 1, "refractory": False, "prior_therapies": 1,
      "prior_transplant": False}, BLINA, "possible", "eligible"),
    ("Blincyto children: relapse after a prior allogeneic transplant",
     {**PH_NEG_CHILD, "age": 8, "relapse": 1, "refractory": False, "prior_therapies": 1,
      "prior_transplant": True}, BLINA, "eligible", "eligible"),
    ("Blincyto children: high-risk first relapse, as part of the consolidation therapy",
     {**PH_NEG_CHILD, "age": 8, "remission": 2, "high_risk_first_relapse": True,
      "phase": "consolidation"}, BLINA, "eligible", "eligible"),
    ("Blincyto: a high-risk first relapse at 18 is no child's",
     {**PH_NEG_CHILD, "age": 18, "remission": 2, "high_risk_first_relapse": True,
      "phase": "consolidation", "newly_diagnosed": False, "mrd": 0.01}, BLINA, "not_eligible",
     "eligible"),
    ("Blincyto adults: newly diagnosed, Ph-negative, as part of consolidation therapy",
     {**PH_NEG_CHILD, "age": 40, "remission": 1, "newly_diagnosed": True,
      "phase": "consolidation"}, BLINA, "eligible", "eligible"),
    ("Blincyto: a newly diagnosed child in consolidation is not covered in the EU",
     {**PH_NEG_CHILD, "age": 8, "remission": 1, "newly_diagnosed": True,
      "phase": "consolidation", "high_risk_first_relapse": False}, BLINA, "not_eligible",
     "eligible"),
    ("Blincyto adults MRD: Ph-negative only",
     {"lineage": "b", "cd19": "+", "ph": "+", "age": 40, "remission": 1, "mrd": 0.1,
      "newly_diagnosed": False}, BLINA, "not_eligible", "eligible"),
    ("Blincyto adults MRD: CR1, MRD 0.1%, Ph-negative",
     {**PH_NEG_CHILD, "age": 40, "remission": 1, "mrd": 0.1}, BLINA, "eligible", "eligible"),
    ("Blincyto MRD in the EU is for adults only",
     {**PH_NEG_CHILD, "age": 10, "remission": 1, "mrd": 0.1, "newly_diagnosed": False,
      "phase": "maintenance"}, BLINA, "not_eligible", "eligible"),
    ("T-cell ALL: no EU indication covers it", {**RR, "age": 30, "lineage": "t"}, BREXU,
     "not_eligible", "not_eligible"),
]  # fmt: skip


@pytest.fixture(scope="module")
def eu() -> Catalog:
    return load_catalog(regulator="ema")


@pytest.mark.parametrize(
    ("wording", "given", "therapy", "eu_status", "us_status"), ROWS, ids=[row[0] for row in ROWS]
)
def test_eu_boundary(
    eu: Catalog,
    catalog: Catalog,
    wording: str,
    given: dict[str, Any],
    therapy: str,
    eu_status: str,
    us_status: str,
) -> None:
    facts = facts_from(given)
    statuses = {
        name: {o.therapy.id: o.status for o in assess(facts, c)}
        for name, c in (("eu", eu), ("us", catalog))
    }
    assert (statuses["eu"][therapy], statuses["us"][therapy]) == (eu_status, us_status)


def test_the_eu_view_holds_the_eu_indications_only(eu: Catalog, catalog: Catalog) -> None:
    assert {i.regulator for t in eu.therapies for i in t.indications} == {"ema"}
    assert {i.regulator for t in catalog.therapies for i in t.indications} == {"fda"}
    assert [len(t.indications) for t in eu.therapies] == [1, 1, 1, 5, 1]
    # US-only statements are not EU facts: no boxed warning, no REMS, no US label dose
    assert all(not t.boxed_warning and not t.figures for t in eu.therapies)
    given = [s.text for t in eu.therapies for s in t.given]
    assert not any("REMS" in text or "mg/m2" in text for text in given)
    assert sum("qualified treatment centre" in text for text in given) == 2  # Tecartus, Aucatzyl
    [aucatzyl] = [t for t in eu.therapies if t.id == OBE]
    assert aucatzyl.indications[0].authorisation == "conditional"
    assert eu.info.authority.id == "ema" and "EU" in eu.info.authority.label
