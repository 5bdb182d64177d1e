"""The fourth clinical audit's findings (issue 41), each held as behaviour in the views a person
reads (text, page, JSON) and on the roads a cohort takes, from shared/reference/labels.md:
H20 (the transplant referral by age band), H21 (0 years of age), H22 (in remission after
relapses), H8 (the EU children's blinatumomab wording), H24 (an ICE score without an age),
section F (ALCANTARA, pediatric inotuzumab safety), section E2 (Aucatzyl's second infusion) and
section A (sources a clinician can open).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alltx.assessment.assess import assess, referrals
from alltx.cli.app import app
from alltx.core.facts import READING, facts_from
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog, load_guide

runner = CliRunner()
KYM, TEC, AUC, BLINA, INO = (
    "tisagenlecleucel",
    "brexucabtagene-autoleucel",
    "obecabtagene-autoleucel",
    "blinatumomab",
    "inotuzumab-ozogamicin",
)


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {regulator: load_catalog(regulator=regulator) for regulator in ("fda", "ema")}


def statuses(catalog: Catalog, **given: Any) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each therapy's status and the facts named to decide it."""
    return {o.therapy.id: (o.status, o.missing) for o in assess(facts_from(given), catalog)}


def referral(catalog: Catalog, **given: Any) -> tuple[str, tuple[str, ...]]:
    [result] = referrals(facts_from(given), catalog)
    return result.status, result.missing


def json_answer(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["options", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def text_answer(*args: str) -> str:
    result = runner.invoke(app, ["options", *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())  # the words, whatever the wrapping


# --- 1. the transplant referral follows the current guideline by age band (H20) -------------

# The audit's patient: an adult in first remission with MRD 0.5%, no other reason on the 2017 list.
CR1_MRD = dict(remission=1, mrd=0.5, high_risk=False, induction_failure=False)


@pytest.mark.parametrize("age", [40, 55, 80])
def test_forty_and_over_is_always_recommended(catalogs: dict[str, Catalog], age: int) -> None:
    for catalog in catalogs.values():  # the referral reads no label: the same under each
        assert referral(catalog, age=age, age_at_diagnosis=age - 1, **CR1_MRD)[0] == "recommended"
        assert referral(catalog, age=age, lineage="t", remission=1)[0] == "recommended"  # any ALL


@pytest.mark.parametrize("age", [1, 7, 17, 18, 25, 39])
def test_under_forty_is_never_a_bare_not_indicated(catalogs: dict[str, Catalog], age: int) -> None:
    status, missing = referral(catalogs["fda"], age=age, age_at_diagnosis=age, **CR1_MRD)
    assert status == "possible"
    assert missing == (READING,)  # no fact decides it: the guideline's criteria were not read


def test_a_child_of_0_years_was_diagnosed_as_an_infant(catalogs: dict[str, Catalog]) -> None:
    # the age at diagnosis is at most the age now: an infant, a reason of the 2017 page
    assert referral(catalogs["fda"], age=0, **CR1_MRD)[0] == "recommended"


def test_a_child_with_a_reason_of_the_2017_page_is_recommended_by_that_page(
    catalogs: dict[str, Catalog],
) -> None:
    assert referral(catalogs["fda"], age=7, relapsed=True)[0] == "recommended"
    # an adult under 40 is not settled even with the 2017 page's reasons (H20: 18 to 39)
    assert referral(catalogs["fda"], age=25, relapsed=True)[0] == "possible"


def test_no_known_age_ever_gives_not_indicated(catalogs: dict[str, Catalog]) -> None:
    states = [{}, CR1_MRD, {"relapsed": True}, {"remission": 2}, {"newly_diagnosed": True}]
    for age in range(0, 100):
        for state in states:
            assert referral(catalogs["fda"], age=age, **state)[0] != "not_indicated", (age, state)
    # the age not given: it decides
    assert "age" in referral(catalogs["fda"], **CR1_MRD)[1]


def test_the_referral_cites_both_documents_dated(catalogs: dict[str, Catalog]) -> None:
    [transplant] = catalogs["fda"].referrals
    dated = {s: catalogs["fda"].sources[s].date or "" for s in transplant.source}
    assert "2024-01-19" in dated["nmdp-referral-guideline"]
    assert "2017" in dated["nmdp-all-transplant"]
    assert "Guideline Central" in (
        catalogs["fda"].sources["nmdp-referral-guideline"].publisher or ""
    )


AUDIT = ["--age", "40", "--remission", "1", "--mrd", "0.5", "--not-high-risk",
         "--no-induction-failure", "--age-at-diagnosis", "39"]  # fmt: skip


def test_the_audit_patient_in_every_view() -> None:
    answer = json_answer(*AUDIT)
    [referred] = answer["referrals"]
    assert referred["status"] == "recommended"
    assert any(r["result"] == "met" and "40 or older" in r["text"] for r in referred["reasons"])
    assert "NOT INDICATED" not in text_answer(*AUDIT)
    assert "RECOMMENDED See a transplant doctor early" in text_answer(*AUDIT)
    page = runner.invoke(app, ["options", *AUDIT, "--format", "html"]).stdout
    assert 'class="recommended">Recommended' in page or "recommended" in page
    young = text_answer("--age", "30", "--remission", "1", "--not-high-risk")
    assert "POSSIBLE See a transplant doctor early" in young
    assert "Not settled: the current NMDP/ASTCT guideline" in young  # said with the status


# --- 2. 0 years leaves a one-month bound open (H21) ------------------------------------------


@pytest.mark.parametrize("age", [0, "0", "0y", 0.0])
def test_zero_years_leaves_blinatumomab_open(catalogs: dict[str, Catalog], age: object) -> None:
    status, missing = statuses(
        catalogs["fda"], age=age, relapsed=True, lineage="b", cd19="positive"
    )[BLINA]
    assert status == "possible"
    assert missing == ("age",)
    # the EU's children's wording: 1 month or older too
    child = dict(refractory=True, lineage="b", cd19="positive", ph="negative", prior_therapies=2)
    assert statuses(catalogs["ema"], age=age, **child)[BLINA][0] == "possible"


def test_zero_months_and_a_year_are_decided(catalogs: dict[str, Catalog]) -> None:
    given = dict(relapsed=True, lineage="b", cd19="positive")
    assert statuses(catalogs["fda"], age="0m", **given)[BLINA][0] == "not_eligible"
    assert statuses(catalogs["fda"], age="1m", **given)[BLINA][0] == "eligible"
    assert statuses(catalogs["fda"], age=1, **given)[BLINA][0] == "eligible"
    # Besponsa's "1 year and older" is not met at 0 years, however many months (H21)
    assert statuses(catalogs["fda"], age=0, **given, cd22="positive")[INO][0] == "not_eligible"


def test_zero_years_is_said_as_years_with_its_months_open() -> None:
    said = text_answer("--age", "0", "--relapsed", "--lineage", "b", "--cd19", "positive")
    assert "age 0 years" in said
    assert "0 to 11 completed months" in said
    answer = json_answer("--age", "0", "--relapsed", "--lineage", "b", "--cd19", "positive")
    assert answer["patient"]["age_months"] == "0 to 11"


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_zero_years_on_the_cohort_roads(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("duckdb")
    cohort = tmp_path / "c.csv"
    cohort.write_text(
        "id,age,relapsed,lineage,cd19\na,0,yes,b,pos\nb,0y,yes,b,pos\n"
        "c,0m,yes,b,pos\nd,0.0,yes,b,pos\ne,19,yes,b,pos\n"
    )
    result = runner.invoke(app, ["options", "-i", str(cohort), "-f", "jsonl", "--engine", engine])
    assert result.exit_code == 0, result.output
    got = {
        r["id"]: r["options"][BLINA]["status"]
        for r in map(json.loads, result.stdout.split("\n")[:-1])
    }
    assert got == {
        "a": "possible",
        "b": "possible",
        "c": "not_eligible",
        "d": "possible",
        "e": "eligible",
    }


# --- 6. completed months at a month's end: the count of a month decides (H23) -------------

MONTH_ENDS = [  # born, as of, blinatumomab's "one month and older"
    ("2026-01-31", "2026-02-27", "not_eligible"),  # day 27: under a month by every count
    ("2026-01-31", "2026-02-28", "possible"),  # the month's last day: the count decides
    ("2026-01-31", "2026-03-01", "eligible"),  # every count: one month
    ("2024-01-31", "2024-02-28", "possible"),  # day 28 of a leap February (ICH E11: 28 days)
    ("2026-01-29", "2026-02-26", "possible"),  # day 28, before the month's end
    ("2026-01-29", "2026-02-25", "not_eligible"),  # day 27
    ("2026-01-15", "2026-02-12", "not_eligible"),  # day 28, but the 15th exists in February
]


@pytest.mark.parametrize(("born", "at", "status"), MONTH_ENDS)
def test_a_month_end_leaves_one_month_open(
    catalogs: dict[str, Catalog], born: str, at: str, status: str
) -> None:
    given = dict(birth_date=born, as_of=at, relapsed=True, lineage="b", cd19="positive")
    assert statuses(catalogs["fda"], **given)[BLINA][0] == status


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_month_ends_on_the_cohort_roads(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("duckdb")
    cohort = tmp_path / "c.csv"
    rows = [f"r{n},{born},{at},yes,b,pos" for n, (born, at, _) in enumerate(MONTH_ENDS)]
    cohort.write_text("id,birth_date,as_of,relapsed,lineage,cd19\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["options", "-i", str(cohort), "-f", "jsonl", "--engine", engine])
    assert result.exit_code == 0, result.output
    got = [json.loads(line)["options"][BLINA]["status"] for line in result.stdout.splitlines()]
    assert got == [status for _, _, status in MONTH_ENDS]


def test_a_month_end_is_said_with_the_age(tmp_path: Path) -> None:
    said = text_answer("--born", "2026-01-31", "--as-of", "2026-02-28", "--relapsed")
    assert "age 0 or 1 months" in said and "no source settles which" in said
    # from a FHIR Patient's birthDate too: the records' words, and the note kept
    bundle = tmp_path / "b.json"
    bundle.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "2026-01-31"}}
                ],
            }
        )
    )
    fhir = text_answer("--fhir", str(bundle), "--as-of", "2026-02-28")
    assert "from Patient/p1 birthDate 2026-01-31" in fhir and "no source settles which" in fhir


# --- 4. in remission now after relapses: an open reading, never ruled out (H22) ----------------


def test_kymriah_in_a_third_remission_is_open_under_both(catalogs: dict[str, Catalog]) -> None:
    for catalog in catalogs.values():
        status, missing = statuses(catalog, age=10, remission=3, lineage="b")[KYM]
        assert (status, missing) == ("possible", (READING,))
    # CR2 after one relapse has had only one relapse: the US count is not met (arithmetic)
    assert statuses(catalogs["fda"], age=10, remission=2, lineage="b")[KYM][0] == "not_eligible"


@pytest.mark.parametrize("therapy", [TEC, AUC])
def test_adult_car_ts_in_a_second_remission_are_open(
    catalogs: dict[str, Catalog], therapy: str
) -> None:
    assert statuses(catalogs["fda"], age=30, remission=2, lineage="b")[therapy][0] == "possible"
    assert statuses(catalogs["ema"], age=30, remission=2, lineage="b")[therapy][0] == "possible"
    # in a first remission there was no relapse: ruled out as before
    assert statuses(catalogs["fda"], age=30, remission=1, lineage="b")[therapy][0] == "not_eligible"


def test_the_open_reading_is_said_where_the_status_is() -> None:
    said = text_answer("--age", "10", "--remission", "3", "--lineage", "b")
    at = said.index("POSSIBLE tisagenlecleucel")
    assert said.index("Open reading: the label's words describe the leukemia", at) < said.index(
        "Patients up to 25 years", at
    )
    answer = json_answer("--age", "10", "--remission", "3", "--lineage", "b")
    [kymriah] = [o for o in answer["options"] if o["therapy"] == KYM]
    assert kymriah["missing"] == [READING]
    page = runner.invoke(
        app, ["options", "--age", "10", "--remission", "3", "--lineage", "b", "--format", "html"]
    ).stdout
    assert '<p class="open"><b>Open reading:' in page


# --- 5. the EU children's blinatumomab wording (H8) -------------------------------------------

CHILD = dict(age=8, refractory=True, lineage="b", cd19="positive", ph="negative")


def test_the_eu_childrens_reading_is_the_status(catalogs: dict[str, Catalog]) -> None:
    ema = catalogs["ema"]
    status, missing = statuses(ema, **CHILD)[BLINA]
    assert status == "possible"  # not the wider reading's plain eligible
    assert missing[:2] == ("prior_therapies", READING)  # named to decide, with the reading
    assert statuses(ema, **CHILD, prior_therapies=2)[BLINA] == ("eligible", ())
    status, missing = statuses(ema, **CHILD, prior_therapies=1)[BLINA]
    assert status == "possible" and READING in missing and "prior_therapies" not in missing
    # the old caution that took the wider reading is gone: the reading is in the rule
    assert all(c.id != "refractory-reading" for t in ema.therapies for c in t.cautions)


# --- 3, 11. figures as the trials give them, efficacy beside toxicity (F) ---------------------


def test_alcantara_is_cr_crh_and_relapse_free_survival(catalogs: dict[str, Catalog]) -> None:
    figures = [f.text for f in catalogs["fda"].therapy(BLINA).figures]
    alcantara = [text for text in figures if "ALCANTARA" in text]
    assert alcantara and all("CR/CRh" in text for text in alcantara)
    assert all("relapse-free survival" in text for text in alcantara)
    assert all("Grade 3 or higher" in text or "grade 3 or higher" in text for text in alcantara)
    assert not any("complete remission 36%" in text for text in figures)


def test_pediatric_besponsa_gives_its_safety_beside_its_efficacy(
    catalogs: dict[str, Catalog],
) -> None:
    figures = [f.text for f in catalogs["fda"].therapy(INO).figures]
    [safety] = [text for text in figures if "thrombocytopenia" in text]
    assert "children" in safety and "boxed warning" in safety


# --- 7, 8, 9. drug pages and explanations say no more than the sources ------------------------


def test_aucatzyls_second_infusion_is_not_said_to_be_postponed(
    catalogs: dict[str, Catalog],
) -> None:
    given = " ".join(s.text for s in catalogs["fda"].therapy(AUC).given)
    assert "is postponed" not in given
    assert "may be postponed" in given and "not all in alltx's checked sources" in given


@pytest.mark.parametrize("therapy", [KYM, TEC, AUC, BLINA, INO])
def test_every_eu_drug_page_says_how_it_is_given(
    catalogs: dict[str, Catalog], therapy: str
) -> None:
    said = [s.text for s in catalogs["ema"].therapy(therapy).given]
    assert said, f"{therapy}: no 'how it is given' under the EU"
    if therapy in (KYM, TEC, AUC):
        assert any("given back as an infusion into a vein" in text for text in said)


def test_car_t_explained_sets_no_trials_side_by_side() -> None:
    [term] = [t for t in load_guide().terms if t.id == "car-t"]
    assert "%" not in term.text  # no rates of several trials together, no review figure


# --- 10. an ICE score without an age says whom it assumes (H24) ------------------------------


def test_ice_without_an_age_says_whom_the_grade_assumes() -> None:
    said = " ".join(runner.invoke(app, ["grade", "icans", "--ice", "5"]).stdout.split())
    assert "assumes a patient aged 12 or over" in said and "CAPD" in said
    with_age = " ".join(
        runner.invoke(app, ["grade", "icans", "--ice", "5", "--age", "30"]).stdout.split()
    )
    assert "assumes a patient" not in with_age


# --- 12. the questions follow the patient ------------------------------------------------------


def test_a_childs_page_asks_in_a_parents_voice_about_what_is_still_open() -> None:
    child = runner.invoke(
        app, ["options", "--age", "7", "--relapsed", "--lineage", "b", "--format", "html"]
    ).stdout
    assert "my child" in child.replace("&#x27;", "'")
    assert "my chances" not in child and "when I should not" not in child
    assert "obecabtagene autoleucel (Aucatzyl): how long" not in child  # adults only
    adult = runner.invoke(
        app, ["options", "--age", "30", "--relapsed", "--lineage", "b", "--format", "html"]
    ).stdout
    assert "my chances" in adult and "obecabtagene autoleucel (Aucatzyl): how long" in adult


# --- 13. every source is one a clinician can open and trust ------------------------------------


def test_no_test_server_stock_news_or_internal_id_is_cited(catalogs: dict[str, Catalog]) -> None:
    sources = [*catalogs["fda"].sources.values(), *load_guide().sources.values()]
    for source in sources:
        assert "qa01" not in (source.url or "") and "seekingalpha" not in (source.url or "")
        assert not any(i.startswith("alltx seed") for i in source.identifiers), source.id
    copies = [s for s in sources if "streetinsider" in (s.url or "")]
    assert copies and all("copy" in s.title for s in copies)  # a copy, said to be one


# --- issue 42, 3: a registry's "not known" is unknown, not an error --------------------------

REGISTRY_UNKNOWNS = ["Unknown", "UNK", "not done", "Pending", "N/A", "n/a", "-", "?", " unk "]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_registry_spellings_of_not_known_lose_no_row(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("duckdb")
    header = "id,age,relapsed,lineage,cd22,mrd,remission,birth_date"
    # (a marker reads '-' as negative: that column gets the others; see the next test)
    rows = [
        f"u{n},{w},{w},b,{'' if w == '-' else w},{w},{w},{w}"
        for n, w in enumerate(REGISTRY_UNKNOWNS)
    ]
    blank = "blank,,,b,,,,"
    cohort = tmp_path / "c.csv"
    cohort.write_text("\n".join([header, *rows, blank]) + "\n")
    result = runner.invoke(app, ["options", "-i", str(cohort), "-f", "jsonl", "--engine", engine])
    assert result.exit_code == 0, result.output  # no row refused
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all("error" not in r for r in records)
    answers = [{k: v for k, v in r.items() if k not in ("id", "line")} for r in records]
    # relapsed '-' is unknown too: only a marker reads '-' as a value (negative)
    assert all(a == answers[-1] for a in answers), "each is read as a blank cell is"


def test_a_marker_keeps_minus_as_negative(catalogs: dict[str, Catalog]) -> None:
    given = dict(age=30, relapsed=True, lineage="b")
    assert statuses(catalogs["fda"], **given, cd22="-")[INO][0] == "not_eligible"
    assert statuses(catalogs["fda"], **given, cd22="?")[INO][0] == "possible"


def test_the_input_schema_takes_the_spellings_of_not_known() -> None:
    schema = json.loads(runner.invoke(app, ["schema", "input"]).stdout)
    text = json.dumps(schema)
    assert "[Pp][Ee][Nn][Dd][Ii][Nn][Gg]" in text and "[Nn]/[Aa]" in text


# --- issue 42, 15: messages in the user's words, nothing written before a refusal -------------


def test_a_refused_header_is_named_as_written_and_nothing_is_written() -> None:
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", "csv", "-f", "csv"], input="id,Agee\n1,3\n"
    )
    assert result.exit_code == 2 and result.stdout == ""  # no header before the refusal
    assert "unknown field 'Agee'; did you mean 'age'?" in result.stderr
    twice = runner.invoke(
        app,
        ["options", "-i", "-", "--input-format", "csv", "-f", "csv"],
        input="id,age,Age\n1,3,4\n",
    )
    assert "column 'Age' is named twice (as 'age' too)" in twice.stderr


def test_sql_offers_only_a_flag_it_has() -> None:
    result = runner.invoke(app, ["sql", "--columns", "id,agee"])
    assert result.exit_code == 2 and "did you mean 'age'?" in result.stderr
    assert "(or pass --ignore-unknown-fields)" in result.stderr
    skipped = runner.invoke(
        app, ["sql", "--columns", "id,agee,relapsed", "--ignore-unknown-fields"]
    )
    assert skipped.exit_code == 0 and "Reads the columns id, relapsed;" in skipped.stdout


# --- issue 42, 7: findings that cannot both be true are refused -------------------------------


@pytest.mark.parametrize("awake", ["normal", "spontaneous", "voice", "touch"])
def test_ice_unable_beside_a_rousable_patient_is_refused(awake: str) -> None:
    result = runner.invoke(app, ["grade", "icans", "--ice", "unable", "--consciousness", awake])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cannot both be true" in result.stderr


@pytest.mark.parametrize("unroused", ["vigorous", "unarousable"])
def test_ice_unable_beside_an_unroused_patient_is_grade_4(unroused: str) -> None:
    result = runner.invoke(app, ["grade", "icans", "--ice", "unable", "--consciousness", unroused])
    assert result.exit_code == 0 and "Grade 4" in result.stdout


# --- issue 42, 1: -o writes only a regular file, never the input, and follows a link ----------


@pytest.fixture
def small_cohort(tmp_path: Path) -> Path:
    cohort = tmp_path / "c.csv"
    cohort.write_text("id,age,relapsed,lineage\n1,19,yes,b\n2,30,yes,b\n")
    return cohort


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_output_is_never_a_fifo_a_folder_or_the_input(
    tmp_path: Path, small_cohort: Path, engine: str
) -> None:
    pytest.importorskip("duckdb")
    fifo, folder = tmp_path / "out.fifo", tmp_path / "folder"
    os.mkfifo(fifo)
    folder.mkdir()
    for target, said in ((fifo, "not a regular file"), (folder, "a folder")):
        result = runner.invoke(
            app,
            [
                "options",
                "-i",
                str(small_cohort),
                "-f",
                "parquet",
                "-o",
                str(target),
                "--engine",
                engine,
            ],
        )
        assert result.exit_code == 2 and said in result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode) and folder.is_dir()  # left as they were
    made = tmp_path / "made.parquet"
    args = ["options", "-f", "parquet", "--engine", engine]
    assert runner.invoke(app, [*args, "-i", str(small_cohort), "-o", str(made)]).exit_code == 0
    before = made.read_bytes()
    again = runner.invoke(app, [*args, "-i", str(made), "-o", str(made)])
    assert again.exit_code == 2 and "is the file alltx reads (--input)" in again.stderr
    assert made.read_bytes() == before


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_output_through_a_link_writes_its_file_and_keeps_the_link(
    tmp_path: Path, small_cohort: Path, engine: str
) -> None:
    pytest.importorskip("duckdb")
    real, link = tmp_path / "real.parquet", tmp_path / "link.parquet"
    real.write_bytes(b"")
    link.symlink_to(real)
    result = runner.invoke(
        app,
        ["options", "-i", str(small_cohort), "-f", "parquet", "-o", str(link), "--engine", engine],
    )
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and real.stat().st_size > 0


# --- issue 42, 2: -o writes any format, whole or not at all; flags checked before reading ----


@pytest.mark.parametrize(
    "args",
    [
        ["-i", "{cohort}", "-f", "csv"],
        ["-i", "{cohort}", "-f", "jsonl"],
        ["-i", "{cohort}", "-f", "text"],
        ["--age", "19", "--relapsed", "-f", "json"],
        ["--age", "19", "--relapsed", "-f", "html"],
        ["--age", "7", "--relapsed", "-f", "text"],
        ["--age", "7", "--relapsed", "-f", "csv"],
        ["--age", "40", "--regulator", "both"],
    ],
)
def test_output_writes_what_stdout_would_get_in_every_format(
    tmp_path: Path, small_cohort: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796601600")  # the page's date, the same twice
    given = ["options", *(arg.format(cohort=small_cohort) for arg in args)]
    shown = runner.invoke(app, given)
    assert shown.exit_code == 0 and shown.stdout
    out = tmp_path / "answer.out"
    out.write_text("what was there before")
    written = runner.invoke(app, [*given, "-o", str(out)])
    assert (written.exit_code, written.stdout) == (0, "")
    assert out.read_text(encoding="utf-8") == shown.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answer.out", "c.csv"]  # no leftovers


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("a.csv", "id,line,"),
        ("a.jsonl", '{"id":'),
        ("a.ndjson", '{"id":'),
        ("a.txt", "alltx"),
        ("A.CSV", "id,line,"),
    ],
)
def test_the_output_files_name_gives_its_format(
    tmp_path: Path, small_cohort: Path, name: str, starts: str
) -> None:
    out = tmp_path / name
    result = runner.invoke(app, ["options", "-i", str(small_cohort), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith(starts)
    page = tmp_path / "page.html"
    result = runner.invoke(app, ["options", "--age", "19", "-o", str(page)])
    assert result.exit_code == 0 and page.read_text().startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.csv", "json"), ("a.parquet", "csv"), ("a.html", "text"), ("a.json", "csv")],
)
def test_a_name_that_says_another_format_is_refused(tmp_path: Path, name: str, fmt: str) -> None:
    result = runner.invoke(app, ["options", "--age", "19", "-f", fmt, "-o", str(tmp_path / name)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"names a {Path(name).suffix[1:]} file and --format is {fmt}" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_fails_leaves_the_output_as_it_was(tmp_path: Path, small_cohort: Path) -> None:
    out = tmp_path / "answers.csv"
    out.write_text("kept\n")
    out.chmod(0o640)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,age\n1,19\n2,x\n")
    # --fail-fast stops at the bad row (status 1): the answers so far are not a whole output
    result = runner.invoke(app, ["options", "-i", str(bad), "--fail-fast", "-o", str(out)])
    assert result.exit_code == 1 and out.read_text() == "kept\n"
    # a bad row answered as an error row is a whole output (status 1): written, mode kept
    result = runner.invoke(app, ["options", "-i", str(bad), "-q", "-o", str(out)])
    assert result.exit_code == 1 and len(out.read_text().splitlines()) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "bad.csv", "c.csv"]


def test_output_inside_a_fhir_folder_or_over_a_data_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    data = tmp_path / "therapies.toml"
    from alltx.model.data_files import bundled_path

    data.write_bytes(bundled_path().read_bytes())
    for args, flag in (
        (["options", "--fhir", str(folder), "-o", str(folder / "Answers.ndjson")], "--fhir"),
        (["--data", str(data), "options", "--age", "3", "-o", str(data)], "--data"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and f"alltx reads ({flag})" in result.stderr
    assert list(folder.iterdir()) == [] and data.read_bytes() == bundled_path().read_bytes()


def test_a_signal_leaves_the_output_as_it_was_and_says_so(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "answers.csv"
    out.write_text("kept\n")
    run = subprocess.Popen(
        [sys.executable, "-m", "alltx", "options", "-i", str(fifo), "-o", str(out)],
        stderr=subprocess.PIPE,
        text=True,
    )
    with fifo.open("w") as rows:  # opened once alltx opens it to read
        rows.write("id,age,relapsed\n1,19,yes\n")
        rows.flush()
        # the state the signal needs: alltx writing its answer beside the output
        while not [p for p in tmp_path.iterdir() if p.name.startswith(".answers.csv.")]:
            assert run.poll() is None
        run.send_signal(signal.SIGTERM)
        _, error = run.communicate(timeout=60)
    assert run.returncode == 143
    assert error == (
        f"alltx: error: stopped by SIGTERM; nothing was written to {out} (it is as it was)\n"
    )
    assert out.read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.csv", "rows.fifo"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-f", "parquet"], "give --output FILE"),
        (["-f", "parquet", "-o", "{out}", "--fail-fast"], "drop one"),
        (["-o", "{fifo}"], "not a regular file"),
        (["--explain", "-f", "csv"], "--explain writes JSON"),
    ],
)
@pytest.mark.parametrize("road", ["--fhir", "--input"])
def test_flags_are_checked_before_any_input_is_read(
    tmp_path: Path, args: list[str], said: str, road: str
) -> None:
    import subprocess
    import sys

    # The input is a FIFO no one writes to: reading it would wait for ever.
    never = tmp_path / "never.fifo"
    os.mkfifo(never)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    given = [arg.format(out=tmp_path / "o.parquet", fifo=fifo) for arg in args]
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "options", road, str(never), *given],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1


# --- issue 42, 4 and 13: a JSON number read from its text; a refusal that says each rule -----


def _records(fmt: str, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The JSON Lines records for `rows` (each value written as JSON's number text), given as
    JSON Lines (`fmt` jsonl) or CSV; each without its line, which the formats count apart."""
    if fmt == "jsonl":
        text = "".join(
            "{" + ", ".join(f'"{k}": {v}' for k, v in row.items()) + "}\n" for row in rows
        )
    else:
        names = list(rows[0])
        text = (
            ",".join(names) + "\n" + "".join(",".join(row[n] for n in names) + "\n" for row in rows)
        )
    result = runner.invoke(
        app, ["options", "-i", "-", "--input-format", fmt, "-f", "jsonl", "-q"], input=text
    )
    assert result.exit_code in (0, 1), result.output
    return [
        {k: v for k, v in json.loads(line).items() if k != "line"}
        for line in result.stdout.splitlines()
    ]


@pytest.mark.parametrize(
    ("row", "kymriah", "blincyto"),
    [
        ({"id": "1", "age": "25.99999999999999999", "relapse": "2"}, None, None),
        ({"id": "2", "age": "25.99999999999", "relapse": "2", "lineage": '"b"'}, "eligible", None),
        ({"id": "3", "age": "8", "remission": "1", "mrd": "0.09999999999999999999"}, None, None),
        ({"id": "4", "age": "8", "remission": "1", "mrd": "0.099999999999"}, None, "possible"),
    ],
)
def test_a_json_number_is_read_from_its_text_as_a_cell_is(
    row: dict[str, str], kymriah: str | None, blincyto: str | None
) -> None:
    # A double held 25.99999999999999999 as 26 (Kymriah not eligible) and
    # 0.09999999999999999999 as 0.1 (Blincyto's MRD indication met); CSV refuses both.
    cells = {k: v.strip('"') for k, v in row.items()}
    [from_json] = _records("jsonl", [row])
    [from_csv] = _records("csv", [cells])
    from_json["id"] = str(from_json["id"])
    assert from_json == from_csv
    if kymriah is None and blincyto is None:
        assert "error" in from_json and "at most" in from_json["error"]
        number = row.get("mrd", row["age"])
        assert from_json["error"].endswith(f"; got '{number}'")
    else:
        statuses = {therapy: o["status"] for therapy, o in from_json["options"].items()}
        assert kymriah is None or statuses[KYM] == kymriah
        assert blincyto is None or statuses[BLINA] == blincyto


_DIGITS = st.text("0123456789", min_size=1, max_size=3)
_NUMBER_TEXT = st.builds(
    lambda whole, fraction, power: whole.lstrip("0").rjust(1, "0") + "." + fraction + power,
    _DIGITS,
    st.text("0123456789", min_size=1, max_size=24),
    st.sampled_from(["", "", "", "e-1", "E-05", "e2", "e+1"]),
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(_NUMBER_TEXT, _NUMBER_TEXT), min_size=1, max_size=20))
def test_json_and_csv_give_one_record_for_any_number_text(pairs: list[tuple[str, str]]) -> None:
    rows = [
        {"id": str(n), "age": age, "mrd": mrd, "remission": "1", "lineage": "1"}
        for n, (age, mrd) in enumerate(pairs)
    ]
    for row in rows:
        row["lineage"] = '"b"'
    from_json = _records("jsonl", rows)
    from_csv = _records("csv", [{k: v.strip('"') for k, v in row.items()} for row in rows])
    for record in from_json:
        record["id"] = str(record["id"])
    assert from_json == from_csv


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("25y13m", "years and under 12 months"),
        ("19.123456789012", "at most 11 decimals"),
        ("200", "0 to 130 years"),
    ],
)
def test_an_age_refused_is_told_the_rule_it_breaks(value: str, rule: str) -> None:
    result = runner.invoke(app, ["options", "--age", value])
    assert result.exit_code == 2 and rule in result.stderr
    assert "from 0 to 130" not in result.stderr  # an age in range is not told it is out of it


# --- issue 42, 5 and 8: alltx sql reads a file by its name, and a table of some columns ---------


def _run_printed(query: str, cwd: Path) -> list[tuple[Any, ...]]:
    duckdb = pytest.importorskip("duckdb")
    here = os.getcwd()
    os.chdir(cwd)
    try:
        return duckdb.connect().execute(query).fetchall()  # type: ignore[no-any-return]
    finally:
        os.chdir(here)


@pytest.mark.parametrize("name", ["p[12].parquet", "p*.parquet", "p?.parquet", "q[!x].parquet"])
def test_sql_reads_the_file_named_and_no_other(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect()
    for file, age in ((name, 19), ("p1.parquet", 70)):  # p1.parquet: what a pattern would read
        connection.execute(
            f"COPY (SELECT 'x' AS id, {age} AS age, 2 AS relapse, 'b' AS lineage) "
            f"TO '{tmp_path / file}' (FORMAT parquet)"
        )
    monkeypatch.chdir(tmp_path)
    printed = runner.invoke(app, ["sql", "--table", name])
    assert printed.exit_code == 0, printed.output
    [record] = _run_printed(printed.stdout, tmp_path)
    answered = runner.invoke(app, ["options", "-i", name, "-f", "csv", "-q"])
    [_, row] = answered.stdout.splitlines()
    assert ",".join("" if v is None else str(v) for v in record) == row.replace(",1,", ",", 1)


def test_sql_over_a_table_expression_of_some_columns_reads_the_rest_as_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duckdb = pytest.importorskip("duckdb")
    duckdb.connect().execute(
        "COPY (SELECT 'a' AS id, 19 AS age, 'b' AS lineage, 'pos' AS cd19) "
        f"TO '{tmp_path / 'cohort.parquet'}' (FORMAT parquet)"
    )
    monkeypatch.chdir(tmp_path)
    printed = runner.invoke(app, ["sql", "--table", "read_parquet('cohort.parquet')"])
    assert printed.exit_code == 0
    assert "a column the table lacks is read as unknown" in printed.stdout
    [record] = _run_printed(printed.stdout, tmp_path)
    answered = runner.invoke(app, ["options", "-i", "cohort.parquet", "-f", "csv", "-q"])
    [_, row] = answered.stdout.splitlines()
    assert ",".join("" if v is None else str(v) for v in record) == row.replace(",1,", ",", 1)


# --- issue 42, 6 and 12: a DataFrame's columns read as the command reads a table's -----------


@pytest.mark.parametrize(
    "columns",
    [["id", "age", "age"], ["id", "age", "AGE"], ["id", "age", "relapsd"], ["id", "foo", "bar"]],
)
def test_a_dataframe_is_refused_where_the_command_refuses_its_table(
    tmp_path: Path, columns: list[str]
) -> None:
    pandas = pytest.importorskip("pandas")
    import alltx

    frame = pandas.DataFrame(
        [[f"p{n}", 19, True][: len(columns)] for n in range(3)], columns=columns
    )
    table = tmp_path / "t.csv"
    table.write_text(",".join(columns) + "\n" + "p1,19,yes\n")
    command = runner.invoke(app, ["options", "-i", str(table), "-f", "csv"])
    assert command.exit_code == 2 and command.stdout == ""
    said = command.stderr.removeprefix("alltx: error: ").strip()
    with pytest.raises(ValueError) as refused:
        alltx.cohort(frame)
    assert str(refused.value) == said.replace("CSV header", "DataFrame columns").replace(
        "--ignore-unknown-fields", "ignore_unknown_fields=True"
    )


def test_a_dataframe_reads_numpy_values_dates_and_any_case_as_the_command_reads_a_file(
    tmp_path: Path,
) -> None:
    pandas = pytest.importorskip("pandas")
    numpy = pytest.importorskip("numpy")
    from decimal import Decimal

    import alltx

    frame = pandas.DataFrame(
        {
            "ID": ["a", "b", "c"],
            "Age": [numpy.int64(19), None, None],
            "Birth_Date": pandas.to_datetime([None, "2019-05-31 00:00", "2001-02-03 13:45"]),
            "relapsed": [numpy.bool_(True), numpy.bool_(False), True],
            "MRD": [None, Decimal("0.05"), None],
            "lineage": ["b", "B-ALL", "b"],
            "extra": [1, 2, 3],
        }
    )
    got = alltx.cohort(frame, ignore_unknown_fields=True, as_of="2026-12-07")
    table = tmp_path / "t.csv"
    table.write_text(
        "id,age,birth_date,relapsed,mrd,lineage,extra\n"
        "a,19,,yes,,b,1\nb,,2019-05-31,no,0.05,B-ALL,2\n"
        "c,,2001-02-03,yes,,b,3\n"
    )
    command = runner.invoke(
        app,
        [
            "options",
            "-i",
            str(table),
            "-f",
            "csv",
            "--as-of",
            "2026-12-07",
            "--ignore-unknown-fields",
        ],
    )
    expected = list(csv.DictReader(io.StringIO(command.stdout)))
    assert got["error"].isna().all()
    for record, row in zip(got.to_dict("records"), expected, strict=True):
        assert {k: "" if v is None else str(v) for k, v in record.items() if k != "line"} == {
            k: v for k, v in row.items() if k != "line"
        }


def test_a_dataframe_with_columns_of_two_levels_or_no_names_is_one_error() -> None:
    pandas = pytest.importorskip("pandas")
    import alltx

    levels = pandas.DataFrame(
        [[1, 19]], columns=pandas.MultiIndex.from_tuples([("p", "id"), ("p", "age")])
    )
    with pytest.raises(ValueError, match="2 levels"):
        alltx.cohort(levels)
    with pytest.raises(ValueError, match="0 is not a name"):
        alltx.cohort(pandas.DataFrame([[19]]))


# --- issue 42, 9: a drug one regulator's documents do not show authorised --------------------


@pytest.fixture
def without_eu_aucatzyl(tmp_path: Path) -> Path:
    """The bundled data without Aucatzyl's EU indication: a drug one regulator has not
    authorised, as a new regulator or drug makes one."""
    from alltx.model.data_files import bundled_path

    text = bundled_path().read_text(encoding="utf-8")
    start = text.index('[[therapies.indications]]\nid = "obecabtagene-autoleucel-eu-r-r-b-all"')
    end = text.index("[[therapies.cautions]]", start)
    data = tmp_path / "therapies.toml"
    data.write_text(text[:start] + text[end:], encoding="utf-8")
    return data


def test_a_drug_not_shown_authorised_is_said_so_never_unknown(without_eu_aucatzyl: Path) -> None:
    data = ["--data", str(without_eu_aucatzyl)]
    alone = runner.invoke(app, [*data, "drug", "aucatzyl", "--regulator", "ema"])
    assert alone.exit_code == 2 and "no therapy called" not in alone.stderr
    assert (
        "obecabtagene-autoleucel is not shown to be authorised by the European Commission"
        in alone.stderr
    )
    for fmt in ("text", "json"):
        both = runner.invoke(app, [*data, "drug", "aucatzyl", "--regulator", "both", "-f", fmt])
        assert both.exit_code == 0, both.output
        assert "Aucatzyl" in both.stdout and "not shown to be authorised" in both.stderr
    answers = json.loads(both.stdout)["answers"]  # the JSON: the US answer alone
    assert [a["data"]["regulator_id"] for a in answers] == ["fda"]
    side = runner.invoke(
        app, [*data, "options", "--age", "30", "--relapsed", "--regulator", "both"]
    )
    assert side.exit_code == 0
    assert "not shown to be authorised there in alltx's sources" in " ".join(side.stdout.split())
    assert "not authorised there" not in side.stdout


def test_a_test_with_an_id_of_its_own_is_drawn_in_every_view(tmp_path: Path) -> None:
    # The data file's header invites an `id` on a test; the text and page views recovered the
    # fact from the id, and crashed.
    from alltx.model.data_files import bundled_path

    text = bundled_path().read_text(encoding="utf-8")
    test = '{ fact = "age_years", at_most = 25,'
    assert test in text
    data = tmp_path / "therapies.toml"
    data.write_text(
        text.replace(test, '{ id = "young-enough", fact = "age_years", at_most = 25,', 1),
        encoding="utf-8",
    )
    for fmt in ("text", "html", "json", "csv"):
        result = runner.invoke(
            app,
            [
                "--data",
                str(data),
                "options",
                "--age",
                "30",
                "--relapse",
                "2",
                "--lineage",
                "b",
                "-f",
                fmt,
            ],
        )
        assert result.exit_code == 0, (fmt, result.output)
        words = " ".join(result.stdout.split())
        if fmt in ("text", "html"):
            assert "age: 30 years" in words
        if fmt == "csv":
            assert "tisagenlecleucel-bcp-all-refractory-or-second-relapse.young-enough" in words


# --- issue 42, 14: data check knows each data file alltx ships by its tables ------------------


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("fhir_codes.toml", "FHIR codes file: "),
        ("guide.toml", "Guide file: "),
        ("therapies.toml", "Valid:"),
    ],
)
def test_data_check_checks_each_shipped_file_as_what_it_is(name: str, said: str) -> None:
    from alltx.model.data_files import bundled_path

    path = bundled_path(name)
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{said}{path}" in result.stdout or (said == "Valid:" and said in result.stdout)


def test_data_check_finds_a_broken_site_codes_file(tmp_path: Path) -> None:
    from alltx.model.data_files import bundled_path

    broken = tmp_path / "site.toml"
    text = bundled_path("fhir_codes.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace('fact = "lineage"', 'fact = "lineag"', 1), encoding="utf-8")
    result = runner.invoke(app, ["data", "check", str(broken)])
    assert result.exit_code == 1
    assert "codes[0]: fact 'lineag' is not a fact alltx reads" in result.stderr


# --- issue 42, 11: a Parquet cell is bounded as a CSV cell is -----------------------------------


def test_a_parquet_cell_over_the_csv_limit_is_its_rows_error(tmp_path: Path) -> None:
    import csv as csv_module

    duckdb = pytest.importorskip("duckdb")
    from alltx.io.input_rows import CELL_TOO_LONG, MAX_CELL

    assert csv_module.field_size_limit() == MAX_CELL  # the CSV road's own bound
    cohort = tmp_path / "cohort.parquet"
    # A cell of 20 million characters (one of 200 million took 39 s and 9.3 GB in the query);
    # one at the bound is read as any other cell
    duckdb.connect().execute(
        f"COPY (SELECT 'a' AS id, repeat('1', 20000000) AS age, 'b' AS lineage UNION ALL "
        f"SELECT 'b', '19', repeat(' ', {MAX_CELL - 1}) || 'b' UNION ALL "
        f"SELECT repeat('i', {MAX_CELL + 1}), '19', 'b') TO '{cohort}' (FORMAT parquet)"
    )
    result = runner.invoke(app, ["options", "-i", str(cohort), "-f", "jsonl", "-q"])
    assert result.exit_code == 1
    first, second, third = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["id"], first["error"]) == ("a", CELL_TOO_LONG)
    assert "error" not in second and second["options"]
    assert (third["id"], third["error"]) == (None, CELL_TOO_LONG)
