"""The third clinical audit's findings, each held as behaviour (shared/reference/labels.md, notes
H4, H8, H11, H16-H19, and sections C, E1 and F): the words a patient reads must not fit a
state the label excludes, an open reading is said where the status is, a caution follows the
regulator of its source, and a grade the sources do not give is not given.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx.assessment.assess import assess
from alltx.cli.app import app
from alltx.core.facts import FACTS, FactError, facts_from
from alltx.core.rules import Atom, Group, Node
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog, load_guide

runner = CliRunner()
INO, BLINA, TISA = "inotuzumab-ozogamicin", "blinatumomab", "tisagenlecleucel"


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {regulator: load_catalog(regulator=regulator) for regulator in ("fda", "ema")}


def options(catalog: Catalog, **given: Any) -> dict[str, Any]:
    return {o.therapy.id: o for o in assess(facts_from(given), catalog)}


def nodes(node: Node) -> list[Node]:
    if isinstance(node, Atom):
        return [node]
    return [node, *(n for child in node.children for n in nodes(child))]


def texts(catalog: Catalog) -> list[str]:
    """Every criterion's words a patient reads, in every rule of the data."""
    return [n.text for rule in catalog.rules() for n in nodes(rule)]


# --- refractory is not a relapse (H16) --------------------------------------------------------

# Words that a leukemia that came back after a remission would also fit.
FITS_A_RELAPSE = re.compile(r"stop(ped|s)? respond|no longer respond|comes? back", re.IGNORECASE)


@pytest.mark.parametrize("regulator", ["fda", "ema"])
def test_no_refractory_wording_fits_a_first_relapse(
    catalogs: dict[str, Catalog], regulator: str
) -> None:
    refractory = [t for t in texts(catalogs[regulator]) if t.lower().startswith("refractory:")]
    assert refractory, "the data has refractory criteria"
    for text in refractory:
        assert not FITS_A_RELAPSE.search(text), text
        assert "remission" in text  # defined by remission, as H16 has it
    fact = FACTS["refractory"]
    for words in (fact.label, fact.help, fact.described):
        assert not FITS_A_RELAPSE.search(words.split("Leukemia that went into")[0]), words


def test_the_glossary_tells_refractory_from_relapse() -> None:
    guide = load_guide()
    term = next(t for t in guide.terms if t.id == "refractory")
    assert not FITS_A_RELAPSE.search(term.text.split("It is not the same")[0])
    assert "not the same as a relapse" in term.text
    assert "acs-immunotherapy-all" not in term.source  # the seed gives no definition (H16)


# --- the open EU paediatric reading (H8) -------------------------------------------------------


def test_the_eu_childrens_refractory_reading_is_said_where_the_status_is(
    catalogs: dict[str, Catalog],
) -> None:
    # Issue 41 (5): the open reading is the status itself, `possible`, said with it; the prior
    # therapies are named to decide where they settle it (the earlier caution took the wider
    # reading with a plain `eligible`).
    given = {"age": 8, "lineage": "b", "cd19": "+", "ph": "-", "refractory": True}
    child = options(catalogs["ema"], **given, prior_therapies=1)[BLINA]
    assert child.status == "possible" and "reading" in child.missing
    [reading] = child.open
    assert "two ways" in reading and "at least two prior therapies" in reading
    # After two prior therapies both readings agree: nothing to say.
    settled = options(catalogs["ema"], **given, prior_therapies=2)[BLINA]
    assert settled.status == "eligible" and settled.open == ()
    # Not given: the prior therapies decide, and the reading is said meanwhile.
    open_ = options(catalogs["ema"], **given)[BLINA]
    assert open_.status == "possible" and open_.missing[0] == "prior_therapies"
    assert open_.open == child.open
    # The US indication has no such wording.
    us = options(catalogs["fda"], **given, prior_therapies=1)[BLINA]
    assert us.status == "eligible" and us.open == ()


# A child with refractory disease after one prior therapy: the EU reading H8 leaves open.
REFRACTORY_CHILD = ["--age", "8", "--lineage", "b", "--cd19", "pos", "--ph", "neg",
                    "--refractory", "--prior-therapies", "1"]  # fmt: skip


def refractory_child(regulator: str, columns: int) -> str:
    result = runner.invoke(
        app,
        ["--no-pager", "options", "--regulator", regulator, *REFRACTORY_CHILD],
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_reading_shows_on_the_status_line() -> None:
    shown = refractory_child("ema", 200)
    [line] = [line for line in shown.splitlines() if line.startswith("Blincyto")]
    assert "possible" in line and "an open point of the sources" in line
    flat = " ".join(shown.split())
    assert "? Open reading: the EU wording 'refractory or in relapse after receiving" in flat


# --- cautions follow the regulator of their source (point 3, H11) -----------------------------


@pytest.mark.parametrize("regulator", ["fda", "ema"])
def test_besponsa_after_a_transplant_is_cautioned_under_both(
    catalogs: dict[str, Catalog], regulator: str
) -> None:
    age = 40
    inotuzumab = options(
        catalogs[regulator],
        age=age,
        lineage="b",
        cd22="+",
        ph="-",
        relapsed=True,
        prior_transplant=True,
    )[INO]
    assert inotuzumab.status == "eligible"
    assert [c.id for c in inotuzumab.applying] == ["prior-transplant"]
    assert any("non-relapse mortality" in c for c in inotuzumab.cautions)
    # No link from a prior transplant to the liver risk: unconfirmed (H11).
    assert not any("VOD" in c or "liver" in c for c in inotuzumab.cautions)


def test_every_caution_under_the_eu_names_a_us_document_as_the_us_one(
    catalogs: dict[str, Catalog],
) -> None:
    """A caution shown under the EU that rests on a US label says it is the US label's."""
    ema = catalogs["ema"]
    us_documents = {"besponsa-label-2024", "besponsa-openfda", "kymriah-label"}
    for therapy in ema.therapies:
        for caution in therapy.cautions:
            if us_documents & set(caution.source):
                assert "US label" in caution.text, (therapy.id, caution.id)


# --- a first complete remission rules out a first relapse (H17) --------------------------------


def test_cr1_rules_out_a_high_risk_first_relapse(catalogs: dict[str, Catalog]) -> None:
    child = {"age": 17, "lineage": "b", "cd19": "+", "ph": "-", "mrd": 0.5}
    assert options(catalogs["ema"], **child, remission=1)[BLINA].status == "not_eligible"
    assert facts_from({**child, "remission": 1}).high_risk_first_relapse is False
    # A second remission may follow a first relapse: still open.
    assert options(catalogs["ema"], **child, remission=2)[BLINA].status == "possible"
    with pytest.raises(FactError, match="remission 1 means no relapse so far"):
        facts_from({**child, "remission": 1, "high_risk_first_relapse": True})


# --- EU Kymriah: in relapse post-transplant, any transplant (C) --------------------------------


def test_eu_kymriah_post_transplant_is_any_transplant(catalogs: dict[str, Catalog]) -> None:
    eu = catalogs["ema"]
    [rule] = [i.rule for t in eu.therapies if t.id == TISA for i in t.indications]
    words = " ".join(n.text for n in nodes(rule) if isinstance(n, Group))
    assert "any kind" in words and "post-transplant" in words
    first = {"age": 19, "lineage": "b", "relapse": 1, "refractory": False}
    autologous = options(eu, **first, prior_transplant=False, prior_autologous_transplant=True)
    assert autologous[TISA].status == "eligible"
    open_ = options(eu, **first, prior_transplant=False)[TISA]
    assert open_.status == "possible" and "prior_autologous_transplant" in open_.missing


# --- the referral's words and attribution (points 10, 15) --------------------------------------


def test_no_unmet_reason_of_the_referral_denies_a_true_fact() -> None:
    result = runner.invoke(
        app, ["--no-pager", "options", "--age", "19", "--relapse", "2"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.stderr
    block = result.stdout.split("See a transplant doctor early\n", 1)[1]
    crossed = [line for line in block.splitlines() if "✗" in line]
    assert crossed and all("came back before" not in line for line in crossed)
    assert "NMDP, medical review March 2017" in block


def test_the_referral_says_refractory_is_alltxs_reading(catalogs: dict[str, Catalog]) -> None:
    [referral] = catalogs["fda"].referrals
    [note] = [s for s in referral.about if "refractory" in s.text]
    assert "alltx's own reading" in note.text
    assert {"kymriah-label", "blincyto-label-2024"} <= set(note.source)


# --- figures with their population and toxicity (points 7-9, H19) ------------------------------


def test_blast_names_its_population_and_whose_figure_is_whose(catalogs: dict[str, Catalog]) -> None:
    [blina] = [t for t in catalogs["fda"].therapies if t.id == BLINA]
    [blast] = [f for f in blina.figures if "BLAST" in f.text]
    # FDA's own BLAST figures were read only in a test-server copy (issue 41, 13): the trial
    # paper's figures stand, named as the paper's
    assert "adults" in blast.text and "trial paper's figures" in blast.text
    assert blast.source == ("blast-trial",)


def test_efficacy_stands_with_toxicity() -> None:
    guide = load_guide()
    car_t = next(t for t in guide.terms if t.id == "car-t")
    # no trials' rates side by side (H19): each trial's, with its toxicity, on its drug's page
    assert "%" not in car_t.text and "not to be set side by side" in car_t.text
    crs = next(e for e in guide.side_effects if e.id == "crs")
    assert "not against the others" in crs.figures[0].text  # said before the rates


# --- CRS after antipyretic or anticytokine therapy (H18) ---------------------------------------


def grade_crs(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["grade", "crs", *args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["grading"]  # type: ignore[no-any-return]


def test_crs_after_treatment_without_hypotension_or_hypoxia_is_not_graded() -> None:
    answer = grade_crs(
        "--temperature", "37", "--treated", "--blood-pressure", "none", "--oxygen", "none"
    )
    assert answer["grade"] is None and "not settled" in answer["ungraded"]["text"]
    text = runner.invoke(
        app,
        [
            "--no-pager",
            "grade",
            "crs",
            "--temperature",
            "37",
            "--treated",
            "--blood-pressure",
            "none",
            "--oxygen",
            "none",
        ],
    ).stdout
    assert "Not settled" in text and "Grade 0" not in text
    # With hypotension, the grade is driven by it; with fever, fever grades it.
    assert (
        grade_crs(
            "--temperature", "37", "--treated", "--blood-pressure", "fluids", "--oxygen", "none"
        )["grade"]
        == 2
    )
    assert (
        grade_crs(
            "--temperature", "38.5", "--treated", "--blood-pressure", "none", "--oxygen", "none"
        )["grade"]
        == 1
    )


def test_the_treated_flag_asks_for_crs_first_and_vasopressin_is_explained() -> None:
    help_text = runner.invoke(app, ["grade", "crs", "--help"], env={"COLUMNS": "200"}).stdout
    flat = " ".join(help_text.split())
    assert "had CRS and was then given" in flat and "premedication" in flat
    assert "not counting vasopressin: one vasopressor plus vasopressin is one" in flat


# --- what the facts force is known, not unknown ---------------------------------------------------


def test_an_age_not_given_is_at_least_the_age_at_diagnosis(catalogs: dict[str, Catalog]) -> None:
    """Diagnosed at 30: no age now can be up to 25, and every age now is an adult's."""
    answer = options(catalogs["fda"], age_at_diagnosis=30, lineage="b", relapsed=True)
    assert answer[TISA].status == "not_eligible"
    assert answer["brexucabtagene-autoleucel"].status == "eligible"
    assert answer[BLINA].missing == ("cd19",)  # one month or older is settled too
    result = runner.invoke(
        app,
        ["options", "--age-at-diagnosis", "30", "--lineage", "b", "--relapsed", "--format", "json"],
    )
    [kymriah] = [o for o in json.loads(result.stdout)["options"] if o["therapy"] == TISA]
    [age] = [c for c in kymriah["indications"][0]["criteria"] if c["fact"] == "age"]
    assert (age["value"], age["result"], age["bound"]) == (
        None,
        "unmet",
        "at least the age at diagnosis",
    )
    # Diagnosed at 20: up to 25 is still open.
    assert options(catalogs["fda"], age_at_diagnosis=20, lineage="b", relapse=2)[TISA].status == (
        "possible"
    )


def test_an_age_at_diagnosis_not_given_is_at_most_the_age_now(catalogs: dict[str, Catalog]) -> None:
    [referral] = catalogs["fda"].referrals
    from alltx.assessment.assess import refer

    infant = refer(referral, facts_from({"age": "6m", "relapsed": False}).rule_values())
    assert infant.status == "recommended"  # a baby of six months was diagnosed as an infant
    child = refer(referral, facts_from({"age": 5, "relapsed": False}).rule_values())
    assert child.status == "possible" and "age_at_diagnosis" in child.missing


@pytest.mark.parametrize(
    ("given", "fact", "value"),
    [
        ({"prior_transplant": True, "relapse_after_transplant": False}, "relapsed", False),
        ({"relapsed": True, "relapse_after_transplant": False}, "prior_transplant", False),
        ({"high_risk_first_relapse": True}, "newly_diagnosed", False),
    ],
)
def test_what_the_facts_force_is_derived(given: dict[str, Any], fact: str, value: bool) -> None:
    facts = facts_from(given)
    assert facts.values[fact] is value
    with pytest.raises(FactError):
        facts_from({**given, fact: not value})
    if fact == "relapsed":
        assert facts.relapse == 0  # and what that implies in turn


def test_side_by_side_shows_a_caution_that_applies_with_the_status() -> None:
    shown = refractory_child("both", 100)
    row = next(line for line in shown.splitlines() if line.startswith("Blincyto"))
    assert row.split()[-2:] == ["ELIGIBLE", "POSSIBLE"]  # US, then the EU's open reading
    flat = " ".join(shown.split())
    assert "EU: possible; to decide: an open point of the sources" in flat and "two ways" in flat
