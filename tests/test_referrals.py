"""The transplant referral by age band (shared/reference/labels.md H20), one row per reason and
boundary.

40 and older: the current NMDP/ASTCT guideline advises a consultation early after diagnosis for
every patient with ALL: recommended, whatever else. Under 40 its criteria were not read: never
'not indicated', but an open point (`possible`, no fact to give). A child may be told NMDP's
2017 patient page's reasons, as that page's: see a transplant doctor early if the first
chemotherapy brings no remission within 28 days (refractory disease counts with it), the relapse
risk is high, the disease has come back one or more times after chemotherapy, or the child was
diagnosed as an infant; any one makes it recommended by that page. A reason not given is
unknown, not false.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx.assessment.assess import referrals
from alltx.cli.app import app
from alltx.core.facts import READING, FactError, facts_from
from alltx.model.catalog import Catalog

# Every reason known and absent: the baseline each row changes one thing from.
NONE: dict[str, Any] = {
    "induction_failure": False,
    "high_risk": False,
    "remission": 1,
    "age": 10,
    "age_at_diagnosis": 4,
}

ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("a child, no reason of the 2017 page: not settled", NONE, "possible"),
    ("induction failure", {**NONE, "induction_failure": True}, "recommended"),
    ("high relapse risk", {**NONE, "high_risk": True}, "recommended"),
    ("first relapse now", {**NONE, "remission": None, "relapse": 1}, "recommended"),
    ("relapsed now", {**NONE, "remission": None, "relapsed": True}, "recommended"),
    ("in second remission: it came back before", {**NONE, "remission": 2}, "recommended"),
    ("first remission: never came back, not settled", NONE, "possible"),
    # NMDP's first reason is no remission from the first chemotherapy; refractory disease has
    # not gone into remission either, so it counts (the data's text says why).
    ("refractory disease: no remission", {**NONE, "remission": None, "refractory": True,
                                          "relapsed": False}, "recommended"),
    ("in first remission, not refractory", {**NONE, "refractory": False}, "possible"),
    ("refractory unknown, in no remission now", {**NONE, "remission": 0, "relapsed": False},
     "possible"),
    ("diagnosed at 11 months: an infant", {**NONE, "age_at_diagnosis": "11m"}, "recommended"),
    ("diagnosed at 11.9 months", {**NONE, "age_at_diagnosis": "11.9m"}, "recommended"),
    ("diagnosed at 12 months: not an infant", {**NONE, "age_at_diagnosis": "12m"}, "possible"),
    ("diagnosed at birth", {**NONE, "age_at_diagnosis": 0}, "recommended"),
    ("induction failure unknown", {**NONE, "induction_failure": None}, "possible"),
    ("relapse risk unknown", {**NONE, "high_risk": None}, "possible"),
    ("age at diagnosis unknown", {**NONE, "age_at_diagnosis": None}, "possible"),
    ("remission number unknown", {**NONE, "remission": None}, "possible"),
    ("a child: one reason met outweighs unknowns", {"age": 10, "high_risk": True}, "recommended"),
    ("the 2017 page's reason with no age: the age decides", {"high_risk": True}, "possible"),
    ("18 to 39, even with a reason of the 2017 page", {**NONE, "age": 25, "high_risk": True},
     "possible"),
    ("39, no reason", {**NONE, "age": 39, "age_at_diagnosis": 38}, "possible"),
    ("40, no reason: every patient 40 and older", {**NONE, "age": 40, "age_at_diagnosis": 39},
     "recommended"),
    ("70 in first remission", {**NONE, "age": 70, "age_at_diagnosis": 69}, "recommended"),
    ("nothing given", {}, "possible"),
]  # fmt: skip


def transplant(catalog: Catalog, given: dict[str, Any]) -> Any:
    facts = facts_from({k: v for k, v in given.items() if v is not None})
    [result] = [r for r in referrals(facts, catalog) if r.referral.id == "transplant"]
    return result


@pytest.mark.parametrize(("case", "given", "status"), ROWS, ids=[row[0] for row in ROWS])
def test_transplant_referral(
    catalog: Catalog, case: str, given: dict[str, Any], status: str
) -> None:
    assert transplant(catalog, given).status == status


def test_a_possible_referral_names_the_facts_that_would_decide_it(catalog: Catalog) -> None:
    result = transplant(catalog, {**NONE, "high_risk": None, "age_at_diagnosis": None})
    assert result.missing == ("high_risk", "age_at_diagnosis", READING)
    # no reason of the 2017 page: only the open point is left, said where the status is
    assert transplant(catalog, NONE).missing == (READING,)
    assert transplant(catalog, NONE).open[0].startswith("Not settled: the current NMDP/ASTCT")
    assert transplant(catalog, {**NONE, "age": None}).missing[0] == "age"


def test_age_at_diagnosis_after_the_age_now_is_refused() -> None:
    with pytest.raises(FactError, match="after the age now") as caught:
        facts_from({"age": 3, "age_at_diagnosis": 4})
    assert caught.value.field == "age_at_diagnosis"
    assert facts_from({"age": 3, "age_at_diagnosis": 3}).age_at_diagnosis == 3


runner = CliRunner()


def test_flags_reach_the_json_referrals() -> None:
    args = ["options", "--age", "1", "--age-at-diagnosis", "8m", "--not-high-risk", "-f", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    [referral] = answer["referrals"]
    assert (referral["referral"], referral["status"]) == ("transplant", "recommended")

    def tests(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [t for c in criteria for t in ([c] if c["fact"] else tests(c["criteria"]))]

    infant = [r for r in tests(referral["reasons"]) if r["fact"] == "age_at_diagnosis"]
    assert [(r["value"], r["result"]) for r in infant] == [(0, "met")]
    assert answer["patient"]["age_at_diagnosis"] == pytest.approx(8 / 12)
    assert answer["patient"]["high_risk"] is False
    assert "nmdp-all-transplant" in {s["id"] for s in referral["sources"]}


def test_text_output_shows_the_referral_and_how_to_decide_it() -> None:
    result = runner.invoke(app, ["options", "--age", "30", "--remission", "1"])
    assert result.exit_code == 0
    assert "POSSIBLE      See a transplant doctor early" in result.stdout
    said = " ".join(result.stdout.split())  # wrapped
    assert "Not settled: the current NMDP/ASTCT guideline's ALL section" in said
    assert "no fact settles the open point said above" in said
    child = " ".join(
        runner.invoke(app, ["options", "--age", "7", "--remission", "1"]).stdout.split()
    )
    assert "--high-risk or --not-high-risk" in child  # a reason of the 2017 page decides


def test_a_bad_referral_flag_is_one_line() -> None:
    result = runner.invoke(app, ["options", "--age", "2", "--age-at-diagnosis", "3"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "--age-at-diagnosis: the age at diagnosis is after the age now" in result.stderr


def test_cohort_csv_has_a_referral_column() -> None:
    rows = (
        '{"id": "a", "age": 10, "induction_failure": true}\n{"id": "b", "high_risk": "no"}\n'
        '{"id": "c", "age": 50}\n'
    )
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", "jsonl", "-f", "csv"], input=rows
    )
    lines = result.stdout.splitlines()
    header = lines[0].split(",")
    column = header.index("referral_transplant")
    assert [line.split(",")[column] for line in lines[1:]] == [
        "recommended",
        "possible",
        "recommended",
    ]
