"""FHIR R4 records in (issue 28): a Bundle of one patient, a Bundle of several and a Bulk Data
folder, read through the codes file; unknown stays unknown; each fact names its resource; bad
records are one line. The bundles are built here, but for the mCODE example, written from its
published FSH (examples/fhir/mcode-brian-l.json)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx.answer.schemas import validate
from alltx.answer.shapes import OptionsOut
from alltx.cli.app import app
from alltx.core.plain import web_address
from alltx.model.data_files import bundled_path, load_fhir_codes
from alltx.model.fhir_codes import parse_codes

pytest.importorskip("fhir.resources")

ROOT = Path(__file__).parents[1]
BRIAN = ROOT / "examples" / "fhir" / "mcode-brian-l.json"
SCT, ICD10 = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm"
LAB = "http://hospital.example.org/lab"  # a site's own codes (--fhir-codes)
SITE_CODES = f"""format = 1

[[codes]]
system = "{LAB}"
code = "CD19-BLAST"
display = "CD19 on the blasts, flow cytometry"
fact = "cd19"
source = "the hospital's lab catalogue, test CD19-BLAST: https://hospital.example.org/lab/CD19-BLAST"

[[codes]]
system = "{LAB}"
code = "MRD-FLOW"
display = "MRD by flow cytometry, percent of cells"
fact = "mrd"
source = "the hospital's lab catalogue, test MRD-FLOW: https://hospital.example.org/lab/MRD-FLOW"
"""

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["options", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def answer_of(*args: str) -> dict[str, Any]:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    answer: dict[str, Any] = json.loads(out)
    validate(OptionsOut, answer)
    return answer


def status(answer: dict[str, Any], therapy: str) -> str:
    return str(next(o["status"] for o in answer["options"] if o["therapy"] == therapy))


# --- building records --------------------------------------------------------------------------


def patient(id: str, born: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": id, "birthDate": born}


def condition(
    id: str, subject: str, system: str, code: str, day: str, **more: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": id,
        "subject": {"reference": subject},
        "code": {"coding": [{"system": system, "code": code}]},
        "recordedDate": day,
        **more,
    }


def result(id: str, subject: str, code: str, day: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id,
        "status": value.pop("status", "final"),
        "code": {"coding": [{"system": LAB, "code": code}]},
        "subject": {"reference": subject},
        "effectiveDateTime": day,
        **value,
    }


def coded(code: str) -> dict[str, Any]:
    return {"valueCodeableConcept": {"coding": [{"system": SCT, "code": code}]}}


POSITIVE, NEGATIVE = coded("10828004"), coded("260385009")


def bundle(*resources: dict[str, Any], uuids: bool = False) -> dict[str, Any]:
    """A Bundle; with `uuids`, each entry's fullUrl a urn:uuid, as transaction Bundles have."""
    entries = []
    for number, resource in enumerate(resources):
        url = (
            f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
            if uuids
            else f"http://example.org/fhir/{resource['resourceType']}/{resource['id']}"
        )
        entries.append({"fullUrl": url, "resource": resource})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def write(folder: Path, name: str, records: Any) -> str:
    path = folder / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return str(path)


def adult(tmp_path: Path, *more: dict[str, Any]) -> str:
    """An adult in relapse (ICD-10-CM C91.02) with two CD19 results by a site code, referring
    to the Patient by urn:uuid as a transaction Bundle does."""
    me = "urn:uuid:00000000-0000-4000-8000-000000000000"
    return write(
        tmp_path,
        "adult.json",
        bundle(
            patient("adult-1", "1980-06-15"),
            condition("all-1", me, ICD10, "C91.02", "2024-02-20"),
            result("cd19-old", me, "CD19-BLAST", "2024-01-05", **NEGATIVE),
            result("cd19-new", me, "CD19-BLAST", "2024-03-02", **POSITIVE),
            *more,
            uuids=True,
        ),
    )


@pytest.fixture
def site(tmp_path: Path) -> str:
    path = tmp_path / "site-codes.toml"
    path.write_text(SITE_CODES, encoding="utf-8")
    return str(path)


# --- the mCODE extended pediatric example ------------------------------------------------------


def test_brian_l_is_three_with_b_all_and_cd19_unknown() -> None:
    # The immunophenotype says CD19 only in free text, and a grandmother's breast cancer is
    # another person's: neither sets a fact.
    answer = answer_of("--fhir", str(BRIAN), "--as-of", "2024-01-12")
    facts = answer["patient"]
    assert (facts["age"], facts["age_months"], facts["lineage"]) == (3, 36, "b")
    assert facts["cd19"] is None and facts["cd22"] is None
    assert [name for name, value in facts.items() if value is not None] == [
        "age",
        "age_months",
        "lineage",
    ]
    assert answer["facts_from"] == {
        "age": "from Patient/cancer-patient-brian-l birthDate 2021-01-01, at 2024-01-12",
        "lineage": "from Condition/primary-cancer-condition-brian-l: SNOMED CT 277571004 B-cell "
        "acute lymphoblastic leukemia (disorder), 2024-01-01",
    }
    [immunophenotype] = [n for n in answer["not_read"] if "immunophenotype" in n]
    assert immunophenotype.endswith("a free-text report")
    assert not any("family" in n.lower() for n in answer["not_read"])
    # a child of 3 with B-ALL: too young for the adult CAR-Ts, old enough for Kymriah's age
    assert status(answer, "brexucabtagene-autoleucel") == "not_eligible"
    assert status(answer, "tisagenlecleucel") == "possible"


def test_brian_l_in_text_and_on_the_page_says_where_each_fact_came_from() -> None:
    code, out, _ = run("--fhir", str(BRIAN), "--as-of", "2024-01-12")
    text = " ".join(out.split())
    assert code == 0
    assert "age 3 years (from Patient/cancer-patient-brian-l birthDate 2021-01-01, at " in text
    assert "In the records, not read: " in text and "Observation/immunophenotype-brian-l" in text
    code, page, _ = run("--fhir", str(BRIAN), "--as-of", "2024-01-12", "--format", "html")
    assert code == 0 and "In the records, not read: " in page
    assert "Condition/primary-cancer-condition-brian-l" in page


# --- an adult, a site's codes, two results --------------------------------------------------------


def test_the_later_of_two_results_is_taken_and_the_earlier_named(tmp_path: Path, site: str) -> None:
    answer = answer_of("--fhir", adult(tmp_path), "--fhir-codes", site, "--as-of", "2024-04-01")
    facts = answer["patient"]
    # 43 years and 9 completed months (1980-06-15 to 2024-04-01)
    assert (facts["age_months"], facts["relapsed"], facts["cd19"]) == (525, True, "positive")
    assert answer["facts_from"]["cd19"] == (
        f"from Observation/cd19-new: {LAB} CD19-BLAST, 2024-03-02, the latest (earlier, "
        f"Observation/cd19-old: {LAB} CD19-BLAST, 2024-01-05 said negative)"
    )
    assert answer["facts_from"]["relapsed"].startswith("from Condition/all-1: ICD-10-CM C91.02")
    assert status(answer, "blinatumomab") == "possible"  # lineage not given: to decide


def test_without_the_sites_codes_its_results_are_not_read(tmp_path: Path) -> None:
    answer = answer_of("--fhir", adult(tmp_path), "--as-of", "2024-04-01")
    assert answer["patient"]["cd19"] is None
    assert "cd19" not in answer["facts_from"]


def test_two_results_on_the_same_day_that_disagree_leave_the_fact_unknown(
    tmp_path: Path, site: str
) -> None:
    me = "urn:uuid:00000000-0000-4000-8000-000000000000"
    same_day = result("cd19-again", me, "CD19-BLAST", "2024-03-02", **NEGATIVE)
    answer = answer_of("--fhir", adult(tmp_path, same_day), "--fhir-codes", site)
    assert answer["patient"]["cd19"] is None
    [said] = [n for n in answer["not_read"] if n.startswith("CD19: the records disagree")]
    assert "Observation/cd19-new" in said and "Observation/cd19-again" in said


@pytest.mark.parametrize(
    ("changed", "why"),
    [
        ({"status": "preliminary"}, "status preliminary"),
        ({"status": "entered-in-error"}, "status entered-in-error"),
    ],
)
def test_a_result_not_final_sets_no_fact(
    tmp_path: Path, site: str, changed: dict[str, str], why: str
) -> None:
    me = "urn:uuid:00000000-0000-4000-8000-000000000000"
    records = bundle(
        patient("p", "1980-06-15"),
        result("cd19", me, "CD19-BLAST", "2024-03-02", **POSITIVE, **changed),
        uuids=True,
    )
    answer = answer_of("--fhir", write(tmp_path, "b.json", records), "--fhir-codes", site)
    assert answer["patient"]["cd19"] is None
    assert answer["not_read"] == [f"Observation/cd19 ({LAB} CD19-BLAST): {why}"]


def test_a_condition_entered_in_error_sets_no_fact(tmp_path: Path) -> None:
    wrong = {
        "verificationStatus": {
            "coding": [
                {
                    "code": "entered-in-error",
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                }
            ]
        }
    }
    error = condition("c", "Patient/p", ICD10, "C91.02", "2024-02-20", **wrong)
    records = bundle(patient("p", "1980-06-15"), error)
    answer = answer_of("--fhir", write(tmp_path, "b.json", records))
    assert answer["patient"]["relapsed"] is None


ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"


def histology(code: str) -> dict[str, Any]:
    concept = {"coding": [{"system": ICDO3, "code": code}]}
    return {"extension": [{"url": HISTOLOGY, "valueCodeableConcept": concept}]}


def test_an_icd_o_3_histology_in_mcodes_extension_gives_the_lineage(tmp_path: Path) -> None:
    # A Condition coded with a code alltx does not read (acute lymphoid leukemia, lineage not
    # said), its histology the ICD-O-3 morphology of B-ALL: the lineage, and, the Condition
    # being the leukemia's, its clinical status.
    relapse = {
        "clinicalStatus": {
            "coding": [
                {
                    "code": "relapse",
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                }
            ]
        }
    }
    leukemia = condition(
        "all-1", "Patient/p", SCT, "91857003", "2024-02-20", **histology("9811/3"), **relapse
    )
    answer = answer_of(
        "--fhir", write(tmp_path, "b.json", bundle(patient("p", "1990-01-01"), leukemia))
    )
    assert (answer["patient"]["lineage"], answer["patient"]["relapsed"]) == ("b", True)
    assert answer["facts_from"]["lineage"] == ("from Condition/all-1: ICD-O-3 9811/3, 2024-02-20")
    # no source here names a T-lymphoblastic morphology cleanly: not read, so not T
    other = condition(
        "all-1", "Patient/p", SCT, "91857003", "2024-02-20", **histology("9837/3"), **relapse
    )
    answer = answer_of(
        "--fhir", write(tmp_path, "t.json", bundle(patient("p", "1990-01-01"), other))
    )
    assert (answer["patient"]["lineage"], answer["patient"]["relapsed"]) == (None, None)


def test_mrd_as_a_percent_quantity_is_read(tmp_path: Path, site: str) -> None:
    percent = {
        "valueQuantity": {
            "value": 0.5,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        }
    }
    records = bundle(
        patient("p", "1980-06-15"), result("mrd", "Patient/p", "MRD-FLOW", "2024-03-02", **percent)
    )
    answer = answer_of("--fhir", write(tmp_path, "b.json", records), "--fhir-codes", site)
    assert answer["patient"]["mrd"] == 0.5


def test_mrd_under_a_level_is_read_as_under_it_never_as_the_level(
    tmp_path: Path, site: str
) -> None:
    # valueQuantity {value 0.01, comparator <}: under 0.01%, so not 0.1% or more; read as 0.01
    # it would be a number the lab did not find
    under = {
        "valueQuantity": {
            "value": 0.01,
            "comparator": "<",
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        }
    }
    at_least = {"valueQuantity": {**under["valueQuantity"], "comparator": ">="}}
    for value, said in ((under, "under 0.01%"), (at_least, None)):
        records = bundle(
            patient("p", "1980-06-15"),
            result("mrd", "Patient/p", "MRD-FLOW", "2024-03-02", **value),
        )
        answer = answer_of("--fhir", write(tmp_path, "b.json", records), "--fhir-codes", site)
        assert answer["patient"]["mrd"] == said


def test_an_infant_born_2026_10_20_is_one_month_old_on_2026_12_01(tmp_path: Path) -> None:
    records = bundle(patient("baby", "2026-10-20"))
    answer = answer_of("--fhir", write(tmp_path, "b.json", records), "--as-of", "2026-12-01")
    assert (answer["patient"]["age_months"], answer["patient"]["age"]) == (1, 1 / 12)


def test_a_flag_adds_a_fact_the_records_do_not_give_and_corrects_one_they_do() -> None:
    answer = answer_of("--fhir", str(BRIAN), "--as-of", "2024-01-12", "--cd19", "pos")
    assert answer["patient"]["cd19"] == "positive"
    assert "cd19" not in answer["facts_from"]
    # Issue 43, 8: a wrong fact in the chart could not be corrected ("give it in one place")
    answer = answer_of("--fhir", str(BRIAN), "--as-of", "2024-01-12", "--lineage", "t")
    assert answer["patient"]["lineage"] == "t"
    assert answer["facts_from"]["lineage"].startswith(
        "given on the command line, over the records (from Condition/primary-cancer-condition"
    )
    answer = answer_of("--fhir", str(BRIAN), "--as-of", "2024-01-12", "--age", "4")
    assert answer["patient"]["age"] == 4
    assert answer["facts_from"]["age"].startswith(
        "given on the command line, over the records (from Patient/"
    )


# --- a cohort: several Patients, a Bulk Data folder ----------------------------------------------


def test_a_bulk_data_folder_gives_one_record_per_patient(tmp_path: Path, site: str) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    lines = {
        "Patient.ndjson": [patient("p1", "2015-03-01"), patient("p2", "1970-01-31")],
        "Condition.ndjson": [
            condition("c1", "Patient/p1", SCT, "277571004", "2024-01-01"),
            condition("c2", "Patient/p2", ICD10, "C91.02", "2024-05-01"),
        ],
        "Observation.ndjson": [result("o1", "Patient/p1", "CD19-BLAST", "2024-01-02", **POSITIVE)],
        "FamilyMemberHistory.ndjson": [
            {
                "resourceType": "FamilyMemberHistory",
                "id": "f",
                "status": "completed",
                "patient": {"reference": "Patient/p1"},
                "relationship": {"text": "grandmother"},
            }
        ],
    }
    for name, resources in lines.items():
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in resources))
    code, out, err = run(
        "--fhir", str(folder), "--fhir-codes", site, "--as-of", "2024-06-01", "--format", "jsonl"
    )
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["line"]) for r in records] == [("p1", 1), ("p2", 2)]
    assert records[0]["options"]["blinatumomab"]["status"] != "not_eligible"
    code, out, _ = run("--fhir", str(folder), "--as-of", "2024-06-01", "--format", "csv")
    assert code == 0 and len(out.splitlines()) == 3  # the header and one row each


def test_a_bundle_of_several_patients_is_a_cohort(tmp_path: Path) -> None:
    records = bundle(patient("a", "2000-01-01"), patient("b", "2010-01-01"))
    path = write(tmp_path, "two.json", records)
    code, out, _ = run("--fhir", path, "--format", "jsonl", "--all-patients")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b"]
    for one_patients_format in ("json", "html"):
        code, _, err = run("--fhir", path, "--format", one_patients_format)
        assert code == 2
        assert err == (
            f"alltx: error: {path} holds 2 Patients: --format {one_patients_format} "
            "answers one; for several use jsonl, csv, text or parquet\n"
        )


# --- bad records: one line each, nothing half-answered -------------------------------------------


@pytest.mark.parametrize(
    ("records", "said"),
    [
        (
            "{not json",
            "{path}: not JSON (Expecting property name enclosed in double quotes at line "
            "1 column 2)",
        ),
        (
            {"resourceType": "Patient", "id": "x"},
            "{path}: a FHIR Bundle (resourceType Bundle) or a Bulk Data folder is read, not "
            "resourceType 'Patient'",
        ),
        (
            [1, 2],
            "{path}: a FHIR Bundle (resourceType Bundle) or a Bulk Data folder is read, not "
            "no resourceType",
        ),
        (
            bundle(condition("c", "Patient/p", ICD10, "C91.02", "2024-01-01")),
            "{path}: no Patient resource; alltx answers for a Patient and the records that "
            "name them",
        ),
        (
            bundle(
                patient("p", "2000-01-01"),
                condition("c", "Patient/q", ICD10, "C91.02", "2024-01-01"),
            ),
            "Condition/c: subject 'Patient/q' is not a Patient in {path}; check the reference",
        ),
        (
            bundle(
                patient("p", "2000-01-01"),
                {**condition("c", "Patient/p", ICD10, "C91.02", "2024-01-01"), "code": "C91.02"},
            ),
            "Condition/c: code: ",
        ),
        (
            bundle(patient("p", "2000-01-01"), patient("p", "2001-01-01")),
            "Patient/p is in {path} twice; give each Patient once",
        ),
        # a key given twice: read as its last value, two birthDates would give either age
        (
            '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", '
            '"id": "p", "birthDate": "2020-01-01", "birthDate": "1950-01-01"}}]}',
            "{path}: the key 'birthDate' is given twice in an object; give each once",
        ),
        (
            '{"resourceType": "Bundle", "total": ' + "9" * 5000 + "}",
            "{path}: a number with thousands of digits; check the file",
        ),
    ],
)
def test_a_record_alltx_cannot_read_is_one_line(tmp_path: Path, records: Any, said: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(records if isinstance(records, str) else json.dumps(records))
    code, out, err = run("--fhir", str(path))
    assert code == 2 and out == ""
    assert err.startswith("alltx: error: " + said.format(path=path))
    assert err.count("\n") == 1


def test_a_missing_path_and_an_empty_folder_are_one_line(tmp_path: Path) -> None:
    code, _, err = run("--fhir", str(tmp_path / "nothing.json"))
    assert (code, err.count("\n")) == (2, 1) and "no such file or folder" in err
    code, _, err = run("--fhir", str(tmp_path))
    assert (code, err.count("\n")) == (2, 1) and "no .ndjson file here" in err


def test_without_fhir_resources_fhir_says_how_to_install_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    blocked = tmp_path / "sitecustomize.py"  # as if the extra were not installed
    blocked.write_text(
        "import sys\nsys.modules['fhir'] = None\nsys.modules['fhir.resources'] = None\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "options", "--fhir", str(BRIAN)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "alltx: error: --fhir needs fhir.resources, an optional part "
        "of alltx: pip install 'alltx[fhir]'"
    )


# --- the codes file ---------------------------------------------------------------------------


def test_every_code_alltx_reads_names_its_source_with_an_address() -> None:
    text = bundled_path("fhir_codes.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    # the schema check, skipped for the bundled file at run time, passes
    assert parse_codes(text, "bundled", checked=False) == replace(
        load_fhir_codes(), origin="bundled"
    )
    codes = load_fhir_codes()
    assert len(codes.codes) == len(raw["codes"]) and len(codes.answers) == len(raw["answers"])
    for entry in (*codes.codes, *codes.answers):
        assert any(web_address(word) for word in entry.source.split()), entry


def test_a_sites_codes_file_that_cannot_be_right_is_refused_with_its_place(tmp_path: Path) -> None:
    broken = tmp_path / "site.toml"
    broken.write_text(SITE_CODES.replace('fact = "cd19"', 'fact = "cd91"'))
    code, _, err = run("--fhir", str(BRIAN), "--fhir-codes", str(broken))
    assert code == 1
    assert f"{broken}: codes[0]: fact 'cd91' is not a fact alltx reads" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--fhir", "{brian}", "--input", "x.csv"],
            "--fhir and --input are two kinds of input: give one",
        ),
        (
            ["--fhir-codes", "{site}", "--age", "3"],
            "--fhir-codes says how to read FHIR records: give them with --fhir PATH",
        ),
        (
            ["--fhir", "{brian}", "--engine", "duckdb"],
            "--engine and --jobs are for --input files; FHIR records are answered in Python",
        ),
        (
            ["--fhir", "{brian}", "--format", "parquet"],
            "--format parquet writes a file: give --output FILE",
        ),
        (
            ["--fhir", "{two}", "--age", "3"],
            "facts as flags go with one patient's answer; {two} is answered as a cohort, a record "
            "per Patient",
        ),
    ],
)
def test_options_that_do_not_go_with_fhir_records_are_one_line(
    tmp_path: Path, site: str, args: list[str], said: str
) -> None:
    two = write(
        tmp_path, "two.json", bundle(patient("a", "2000-01-01"), patient("b", "2001-01-01"))
    )
    places = {"brian": str(BRIAN), "site": site, "two": two}
    code, out, err = run(*(arg.format(**places) for arg in args))
    assert (code, out, err) == (2, "", f"alltx: error: {said.format(**places)}\n")


def test_a_cohorts_full_records_name_the_resources_as_one_patients_answer_does(
    tmp_path: Path, site: str
) -> None:
    path = adult(tmp_path)
    one = answer_of("--fhir", path, "--fhir-codes", site, "--as-of", "2024-04-01")
    records = bundle(
        *[entry["resource"] for entry in json.loads(Path(path).read_text())["entry"]],
        patient("other", "2000-01-01"),
        uuids=True,
    )
    code, out, _ = run(
        "--fhir",
        write(tmp_path, "two.json", records),
        "--fhir-codes",
        site,
        "--as-of",
        "2024-04-01",
        "--format",
        "jsonl",
        "--explain",
    )
    first = json.loads(out.splitlines()[0])
    assert code == 0 and first["id"] == "adult-1"
    assert (first["facts_from"], first["patient"]) == (one["facts_from"], one["patient"])


def test_a_result_with_a_data_absent_reason_is_unknown_said_so(tmp_path: Path, site: str) -> None:
    """An Observation with no value and a dataAbsentReason: the fact is unknown, and the
    records' reason is said (issue 42, 3), not that its value is one alltx does not read."""
    me = "urn:uuid:00000000-0000-4000-8000-000000000000"
    absent = {
        "dataAbsentReason": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                    "code": "not-performed",
                }
            ]
        }
    }
    records = bundle(
        patient("p", "1980-06-15"),
        result("cd19", me, "CD19-BLAST", "2024-03-02", **absent),
        uuids=True,
    )
    answer = answer_of("--fhir", write(tmp_path, "b.json", records), "--fhir-codes", site)
    assert answer["patient"]["cd19"] is None
    [said] = answer["not_read"]
    assert said.startswith(f"Observation/cd19 ({LAB} CD19-BLAST): no value (")
    assert "not-performed" in said and said.endswith("so the CD19 stays unknown")
