"""FHIR records read as a clinician reads the chart (issue 43): a Condition says how the disease
is today only while it is current; the dead get no options; records without an ALL diagnosis
are said so before anything else, and a cohort answers only the patients with one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .test_fhir import ICD10, SCT, answer_of, bundle, condition, patient, run, status, write

pytest.importorskip("fhir.resources")

SYNTHEA = Path(__file__).parent / "fixtures" / "synthea-bulk-10"  # its README says whence
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def clinical(code: str) -> dict[str, Any]:
    return {"coding": [{"system": CLINICAL, "code": code}]}


def relapsed_once(tmp_path: Path, **more: Any) -> str:
    """A 30-year-old whose chart holds ALL "in relapse" (ICD-10-CM C91.02), with `more` on the
    Condition (its clinicalStatus, abatement, onset)."""
    me = "http://example.org/fhir/Patient/p1"
    return write(
        tmp_path,
        "p1.json",
        bundle(
            patient("p1", "1994-06-15"),
            condition("c1", me, ICD10, "C91.02", "2018-01-10", **more),
        ),
    )


# --- 1: a Condition says how the disease is today only while it is current ------------------


@pytest.mark.parametrize(
    ("more", "why"),
    [
        (
            {"clinicalStatus": clinical("resolved"), "abatementDateTime": "2018-05-01"},
            "clinicalStatus resolved",
        ),
        ({"clinicalStatus": clinical("inactive")}, "clinicalStatus inactive"),
        (
            {"clinicalStatus": clinical("active"), "abatementDateTime": "2019-03-04T10:00:00Z"},
            "abated 2019-03-04",
        ),
        (
            {"clinicalStatus": clinical("active"), "onsetDateTime": "2027-01-01"},
            "onset 2027-01-01, after 2026-12-07",
        ),
    ],
)
def test_a_condition_no_longer_current_says_nothing_of_today(
    tmp_path: Path, more: dict[str, Any], why: str
) -> None:
    answer = answer_of("--fhir", relapsed_once(tmp_path, **more), "--as-of", "2026-12-07")
    assert answer["patient"]["relapsed"] is None  # not "relapsed now"
    [note] = [n for n in answer["not_read"] if n.startswith("Condition/c1")]
    assert why in note and "says nothing of the relapsed now" in note
    # the diagnosis still stands: ALL was diagnosed, so no caveat is said
    assert "caveat" not in answer
    # and the referral is not recommended on a relapse the chart closed
    [referral] = answer["referrals"]
    assert referral["status"] != "recommended" or "relapse" not in json.dumps(referral["met"])


@pytest.mark.parametrize("current", ["active", "relapse", "recurrence"])
def test_a_current_condition_says_the_relapse_now(tmp_path: Path, current: str) -> None:
    more = {"clinicalStatus": clinical(current), "abatementDateTime": "2030-01-01"}
    answer = answer_of("--fhir", relapsed_once(tmp_path, **more), "--as-of", "2026-12-07")
    assert answer["patient"]["relapsed"] is True
    assert answer["facts_from"]["relapsed"].startswith("from Condition/c1: ")


def test_a_refuted_or_mistaken_condition_is_no_diagnosis(tmp_path: Path) -> None:
    for verification in ("refuted", "entered-in-error"):
        status_ = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": verification,
                }
            ]
        }
        path = relapsed_once(
            tmp_path, clinicalStatus=clinical("active"), verificationStatus=status_
        )
        answer = answer_of("--fhir", path, "--as-of", "2026-12-07")
        assert answer["patient"]["relapsed"] is None
        assert answer["caveat"].startswith("No ALL diagnosis was found in the records")


# --- 2: the dead are not answered ------------------------------------------------------------


def test_a_deceased_patient_gets_one_line_and_no_options(tmp_path: Path) -> None:
    dead = {**patient("p1", "1950-01-01"), "deceasedDateTime": "1971-03-02T08:00:00Z"}
    path = write(tmp_path, "dead.json", bundle(dead))
    for fmt in ("text", "json", "html", "csv"):
        code, out, err = run("--fhir", path, "-f", fmt, "--as-of", "2026-12-07")
        assert (code, out) == (1, "")
        assert err == (
            "alltx: error: Patient/p1 is recorded as deceased (deceasedDateTime "
            "1971-03-02); alltx gives no treatment options for them\n"
        )
    # with --output, the file is left as it was: a deceased Patient's one line is no answer
    kept = tmp_path / "answer.json"
    kept.write_text("kept")
    code, _, _ = run("--fhir", path, "-o", str(kept), "--as-of", "2026-12-07")
    assert code == 1 and kept.read_text() == "kept"
    # alive on the day asked about: answered
    code, out, _ = run("--fhir", path, "-f", "json", "--as-of", "1970-01-01")
    assert code == 0 and json.loads(out)["options"]


def test_a_deceased_patient_in_a_cohort_is_an_error_row(tmp_path: Path) -> None:
    me = "http://example.org/fhir/Patient/"
    records = bundle(
        {**patient("dead", "1950-01-01"), "deceasedBoolean": True},
        patient("alive", "1990-01-01"),
        condition("c1", me + "dead", SCT, "277571004", "2020-01-01"),
        condition("c2", me + "alive", SCT, "277571004", "2020-01-01"),
    )
    code, out, _ = run("--fhir", write(tmp_path, "two.json", records), "-f", "jsonl")
    dead, alive = (json.loads(line) for line in out.splitlines())
    assert code == 1 and dead["id"] == "dead" and "deceased (deceasedBoolean true)" in dead["error"]
    assert alive["id"] == "alive" and "options" in alive


# --- 3: records without an ALL diagnosis ---------------------------------------------------------


def test_one_patient_without_an_all_diagnosis_is_told_so_first(tmp_path: Path) -> None:
    path = write(tmp_path, "p.json", bundle(patient("p1", "2010-01-01")))
    answer = answer_of("--fhir", path)
    assert list(answer)[:2] == ["version", "caveat"]
    assert answer["caveat"].startswith("No ALL diagnosis was found in the records of Patient/p1")
    code, text, _ = run("--fhir", path)
    assert code == 0 and text.startswith("No ALL diagnosis was found")
    code, page, _ = run("--fhir", path, "-f", "html")
    heading = page.index("<h1>")
    assert code == 0 and "No ALL diagnosis was found" in page[heading : heading + 400]


def test_the_synthea_export_is_answered_as_its_charts_say() -> None:
    # 13 patients, none with ALL, 3 deceased: by default none is answered, and said so
    code, out, err = run("--fhir", str(SYNTHEA), "-f", "jsonl", "--as-of", "2026-12-07")
    assert (code, out) == (0, "")
    assert "13 of 13 Patients have no ALL diagnosis in the records" in err
    code, out, _ = run(
        "--fhir", str(SYNTHEA), "-f", "jsonl", "--all-patients", "--as-of", "2026-12-07"
    )
    records = [json.loads(line) for line in out.splitlines()]
    dead = [r for r in records if "deceased" in r.get("error", "")]
    assert code == 1 and len(records) == 13 and len(dead) == 3
    born = {}
    for line in (SYNTHEA / "Patient.000.ndjson").read_text().splitlines():
        resource = json.loads(line)
        born[resource["id"]] = "deceasedDateTime" in resource
    assert {r["id"] for r in dead} == {id for id, died in born.items() if died}


def test_a_cohort_answers_the_patients_with_a_diagnosis(tmp_path: Path) -> None:
    me = "http://example.org/fhir/Patient/"
    records = bundle(
        patient("a", "1990-01-01"),
        patient("b", "1991-01-01"),
        patient("c", "1992-01-01"),
        condition("c1", me + "b", ICD10, "C91.00", "2024-01-01", clinicalStatus=clinical("active")),
    )
    path = write(tmp_path, "three.json", records)
    code, out, err = run("--fhir", path, "-f", "jsonl")
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == ["b"]
    assert "2 of 3 Patients have no ALL diagnosis" in err
    code, out, _ = run("--fhir", path, "-f", "jsonl", "--all-patients")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b", "c"]
    one = answer_of(
        "--fhir",
        write(
            tmp_path,
            "b.json",
            bundle(records["entry"][1]["resource"], records["entry"][3]["resource"]),
        ),
    )
    assert "caveat" not in one and status(one, "blinatumomab")


def test_all_patients_goes_with_fhir_records_only() -> None:
    code, _, err = run("--age", "3", "--all-patients")
    assert code == 2 and "--all-patients says which FHIR records to answer" in err


# --- 4: units; 5: the latest result by its moment, none after --as-of; 9: shapes of values ------


def quantity(value: Any, unit: str, **more: Any) -> dict[str, Any]:
    return {
        "valueQuantity": {
            "value": value,
            "system": "http://unitsofmeasure.org",
            "code": unit,
            **more,
        }
    }


SITE = """format = 1

[[codes]]
system = "http://hospital.example.org/lab"
code = "{code}"
display = "{code}"
fact = "{fact}"
source = "the hospital's lab catalogue: https://hospital.example.org/lab/{code}"
"""


def lab_answer(
    tmp_path: Path, fact: str, *results: dict[str, Any], as_of: str = "2026-12-07"
) -> dict[str, Any]:
    """One patient with an ALL diagnosis and lab results of the site's code for `fact`."""
    from .test_fhir import result

    me = "http://example.org/fhir/Patient/p1"
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(code=fact.upper(), fact=fact))
    made = [result(f"r{n}", me, fact.upper(), r.pop("day"), **r) for n, r in enumerate(results)]
    records = bundle(
        patient("p1", "1990-01-01"), condition("c1", me, SCT, "277571004", "2020-01-01"), *made
    )
    path = Path(write(tmp_path, "p1.json", records))
    # a number as a lab's JSON writes it ("0.00001"), which json.dumps would write 1e-05
    path.write_text(path.read_text().replace('"value": "0.00001"', '"value": 0.00001'))
    return answer_of("--fhir", str(path), "--fhir-codes", str(site), "--as-of", as_of)


@pytest.mark.parametrize(
    ("value", "unit", "years"),
    [(30, "mo", 2.5), (2, "a", 2), (6, "wk", "6 weeks"), (400, "d", "400 days"), (2.5, "a", 2.5)],
)
def test_an_age_is_read_in_its_unit(
    tmp_path: Path, value: Any, unit: str, years: float | str
) -> None:
    # "30 mo" was read as 30 years: a toddler shown eligible for adult-only CAR-Ts
    given = {"day": "2024-01-01", **quantity(value, unit)}
    answer = lab_answer(tmp_path, "age_at_diagnosis", given)
    said = answer["facts_from"]["age_at_diagnosis"]
    assert said.startswith("from Observation/r0")
    assert answer["patient"]["age_at_diagnosis"] == years


def test_an_age_in_a_unit_alltx_does_not_know_stays_unknown_and_named(tmp_path: Path) -> None:
    answer = lab_answer(tmp_path, "age_at_diagnosis", {"day": "2024-01-01", **quantity(30, "h")})
    assert answer["patient"]["age_at_diagnosis"] is None
    assert any("an age in 'h'" in note for note in answer["not_read"])


@pytest.mark.parametrize(
    ("value", "unit", "percent"), [(0.001, "1", 0.1), (0.5, "%", 0.5), ("0.00001", "%", None)]
)
def test_mrd_is_read_as_a_percent_of_cells(
    tmp_path: Path, value: Any, unit: str, percent: float | None
) -> None:
    if percent is None:  # under the test's reach, as the lab writes it
        answer = lab_answer(
            tmp_path, "mrd", {"day": "2024-01-01", **quantity(value, unit, comparator="<")}
        )
        assert answer["patient"]["mrd"] == "under 0.00001%"
        assert "1e-05" not in json.dumps(answer)
        return
    answer = lab_answer(tmp_path, "mrd", {"day": "2024-01-01", **quantity(value, unit)})
    assert answer["patient"]["mrd"] == percent


def test_the_latest_result_is_the_latest_moment_and_none_after_as_of(tmp_path: Path) -> None:
    from .test_fhir import NEGATIVE, POSITIVE

    # 23:00 at UTC-5 is 04:00 the next day in UTC: after 01:00 UTC of that day
    answer = lab_answer(
        tmp_path,
        "cd19",
        {"day": "2024-03-02T23:00:00-05:00", **NEGATIVE},
        {"day": "2024-03-03T01:00:00+00:00", **POSITIVE},
        {"day": "2030-01-01", **POSITIVE},
    )
    assert answer["patient"]["cd19"] == "negative"
    assert "the latest (earlier, Observation/r1" in answer["facts_from"]["cd19"]
    assert any(
        "Observation/r2" in n and "after 2026-12-07 (--as-of)" in n for n in answer["not_read"]
    )


def test_a_relapse_number_written_2_0_is_2(tmp_path: Path) -> None:
    answer = lab_answer(tmp_path, "relapse", {"day": "2024-01-01", **quantity(2.0, "1")})
    assert answer["patient"]["relapse"] == 2


def test_a_byte_order_mark_and_deep_extensions_are_one_line_or_read(tmp_path: Path) -> None:
    records = bundle(patient("p1", "1990-01-01"))
    marked = tmp_path / "bom.json"
    marked.write_bytes(b"\xef\xbb\xbf" + json.dumps(records).encode())
    assert answer_of("--fhir", str(marked))["caveat"]
    deep: dict[str, Any] = {"url": "http://example.org/x", "valueString": "x"}
    for _ in range(200):
        deep = {"url": "http://example.org/x", "extension": [deep]}
    nested = bundle({**patient("p1", "1990-01-01"), "extension": [deep]})
    code, out, err = run("--fhir", write(tmp_path, "deep.json", nested))
    assert (code, out) == (2, "") and err.count("\n") == 1 and "nested too deeply" in err


# --- 6: a reference names this file's Patient, by type and server ------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "RelatedPatient/p1",
        "http://other.example.org/fhir/Patient/p1",
        "urn:uuid:0000",
        "Patient/p1/x",
    ],
)
def test_a_reference_to_another_kind_or_server_is_no_patient_of_the_file(
    tmp_path: Path, reference: str
) -> None:
    records = bundle(
        patient("p1", "1990-01-01"), condition("c1", reference, SCT, "277571004", "2020-01-01")
    )
    code, out, err = run("--fhir", write(tmp_path, "r.json", records))
    assert (code, out) == (2, "")
    assert f"subject {reference!r} is not a Patient in" in err and err.count("\n") == 1


def test_two_entries_with_one_full_url_are_refused(tmp_path: Path) -> None:
    records = bundle(patient("p1", "1990-01-01"), patient("p2", "1991-01-01"))
    records["entry"][1]["fullUrl"] = records["entry"][0]["fullUrl"]
    code, _, err = run("--fhir", write(tmp_path, "two.json", records))
    assert code == 2 and "is given to two entries (Patient/p1 and Patient/p2)" in err


def test_a_reference_by_this_servers_full_url_or_patient_id_is_read(tmp_path: Path) -> None:
    for reference in ("http://example.org/fhir/Patient/p1", "Patient/p1"):
        records = bundle(
            patient("p1", "1990-01-01"), condition("c1", reference, SCT, "277571004", "2020-01-01")
        )
        answer = answer_of("--fhir", write(tmp_path, "r.json", records))
        assert answer["patient"]["lineage"] == "b" and "caveat" not in answer


# --- 7: nothing skipped without a word ---------------------------------------------------------


def test_a_bulk_folder_reads_gzip_and_any_case_and_names_what_it_cannot_read(
    tmp_path: Path,
) -> None:
    import gzip
    import os

    folder = tmp_path / "export"
    folder.mkdir()
    me = "Patient/p1"
    lines = [json.dumps(patient("p1", "1990-01-01"))]
    (folder / "Patient.NDJSON").write_text("\n".join(lines) + "\n")
    with gzip.open(folder / "Condition.000.ndjson.gz", "wt") as zipped:
        zipped.write(
            json.dumps(
                condition(
                    "c1", me, ICD10, "C91.02", "2024-01-01", clinicalStatus=clinical("active")
                )
            )
            + "\n"
        )
    (folder / "Other.ndjson").write_text(
        json.dumps(
            {**condition("c2", me, SCT, "91857003", "2024-01-01"), "resourceType": "condition"}
        )
        + "\n"
        + json.dumps({"resourceType": 5})
        + "\n"
        + json.dumps({"id": "x"})
        + "\n"
        + json.dumps(
            condition("c3", me, SCT, "91857003", "2024-01-01", clinicalStatus=clinical("active"))
        )
        + "\n"
    )
    (folder / "Observation.ndjson").mkdir()
    os.mkfifo(folder / "Procedure.ndjson")
    (folder / "Loop.ndjson").symlink_to(folder / "Loop.ndjson")
    # a Bulk folder is a cohort: what belongs to no one record is said on stderr
    code, out, err = run("--fhir", str(folder), "--as-of", "2026-12-07", "-f", "jsonl", "--explain")
    [record] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and record["patient"]["relapsed"] is True  # from the gzipped file
    notes = " | ".join([*record["not_read"], *err.splitlines()])
    for said in (
        "Observation.ndjson: a folder, not read",
        "Procedure.ndjson: not a regular file",
        "Loop.ndjson: not a regular file",
        "Other.ndjson line 1: resourceType 'condition' is not FHIR's spelling",
        "Other.ndjson line 2: resourceType 5, not a name",
        "Other.ndjson line 3: no resourceType",
        "Condition/c3 (SNOMED CT 91857003): names ALL by a code alltx does not map",
    ):
        assert said in notes, said


def test_one_patients_record_keeps_its_line_and_where_its_facts_came_from() -> None:
    from .test_fhir import BRIAN

    full = answer_of("--fhir", str(BRIAN), "--as-of", "2024-01-12")
    code, out, _ = run("--fhir", str(BRIAN), "--as-of", "2024-01-12", "-f", "jsonl", "--explain")
    [record] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and record["line"] == 1
    assert (record["facts_from"], record["not_read"]) == (full["facts_from"], full["not_read"])
    code, out, _ = run("--fhir", str(BRIAN), "--as-of", "2024-01-12", "-f", "csv")
    assert code == 0 and out.splitlines()[1].startswith("cancer-patient-brian-l,1,")


def test_a_condition_recorded_after_as_of_is_no_diagnosis_then(tmp_path: Path) -> None:
    more = {"clinicalStatus": clinical("resolved")}
    path = relapsed_once(tmp_path, **more)
    answer = answer_of("--fhir", path, "--as-of", "2017-01-01")  # recorded 2018-01-10
    assert answer["caveat"].startswith("No ALL diagnosis was found")
    assert any("dated 2018-01-10, after 2017-01-01 (--as-of)" in n for n in answer["not_read"])


# --- a Bulk export streamed: the ALL patients first, then only their resources ----------------


def _hospital_export(
    folder: Path, patients: int, with_all: set[int], ways: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
) -> dict[int, list[Any]]:
    """A Bulk Data export shaped like a hospital's: every patient has routine labs and other
    diagnoses; those in `with_all` an ALL diagnosis (one as an ICD-O-3 histology) and the
    results a site reads. Their resources, by patient, to make each a Bundle of its own. Its
    lines are written in the `ways` of _written, in turn (an escaped histology with way 3)."""
    from .test_fhir import NEGATIVE, POSITIVE, result

    files: dict[str, list[str]] = {"Patient": [], "Condition": [], "Observation": []}
    theirs: dict[int, list[Any]] = {}
    turn = 0
    for n in range(patients):
        me = f"Patient/p{n:05d}"
        own: list[Any] = [{**patient(f"p{n:05d}", f"{1950 + n % 60}-0{1 + n % 9}-15")}]
        own.append(
            condition(
                f"htn{n}", me, SCT, "38341003", "2019-05-01", clinicalStatus=clinical("active")
            )
        )
        own.append(
            {
                "resourceType": "Observation",
                "id": f"glu{n}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
                "subject": {"reference": me},
                "effectiveDateTime": "2024-02-01",
                "valueQuantity": {"value": 5.4, "unit": "mmol/L"},
            }
        )
        if n in with_all:
            own.append(
                condition(
                    f"all{n}", me, ICD10, "C91.02", "2024-01-05", clinicalStatus=clinical("active")
                )
            )
            own.append(
                result(
                    f"cd19-{n}", me, "CD19-BLAST", "2024-01-06", **(POSITIVE if n % 2 else NEGATIVE)
                )
            )
            theirs[n] = own
        for resource in own:  # each way of writing a line, on the ALL patients' lines too
            turn = turn + 1 if n in with_all else n
            files[resource["resourceType"]].append(_written(resource, ways[turn % len(ways)]))
    if with_all:  # one diagnosis only as a histology (written with JSON's escaped slash)
        n = max(with_all)
        histology = {
            "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
            "mcode-histology-morphology-behavior",
            "valueCodeableConcept": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "9811/3"}
                ]
            },
        }
        theirs[n][3] = {**theirs[n][3], "extension": [histology]}
        theirs[n][3]["code"] = {"coding": [{"system": SCT, "code": "38341003"}]}
        files["Condition"] = [line for line in files["Condition"] if f'"all{n}"' not in line]
        line = json.dumps(theirs[n][3])
        files["Condition"].append(line.replace("9811/3", "9811\\/3") if 3 in ways else line)
    for kind, lines in files.items():
        (folder / f"{kind}.000.ndjson").write_text("\n".join(lines) + "\n")
    return theirs


def _written(resource: dict[str, Any], way: int) -> str:
    """A resource as a line of a Bulk file, in one of the ways JSON allows, which a raw
    prefilter must not miss: as json.dumps writes it, the resourceType last, spaces around
    the colons, a reference with an escaped slash, a \\u escape, or a version."""
    line = json.dumps(resource)
    if way == 1:
        resource = {**resource}
        kind = resource.pop("resourceType")
        line = json.dumps({**resource, "resourceType": kind})
    elif way == 2:
        line = json.dumps(resource, separators=(" , ", " : "))
    elif way == 3:
        line = line.replace('"Patient/', '"Patient\\/')
    elif way == 4:
        line = line.replace('"Patient/p', '"Patient/\\u0070')
    elif way == 5 and "subject" in resource:
        line = json.dumps(
            {**resource, "subject": {"reference": resource["subject"]["reference"] + "/_history/2"}}
        )
    return line


@pytest.mark.parametrize(
    ("ways", "block"),
    [
        ((0, 1, 2, 3, 4, 5), None),  # lines the prefilter judges one by one
        ((0, 2, 5), None),  # lines it can search a block of at once
        ((0, 2, 5), 700),  # blocks of a few lines, cut inside lines
        ((0, 2, 5), 64),
    ],  # every line longer than a block
)
def test_an_all_patient_in_a_hospital_export_is_answered_as_their_bundle_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ways: tuple[int, ...], block: int | None
) -> None:
    from alltx.io import fhir

    from .test_fhir import SITE_CODES

    if block is not None:
        monkeypatch.setattr(fhir, "BLOCK", block)
    site = tmp_path / "site.toml"
    site.write_text(SITE_CODES)
    folder = tmp_path / "export"
    folder.mkdir()
    theirs = _hospital_export(folder, 400, {7, 150, 399}, ways)
    args = ["--fhir-codes", str(site), "--as-of", "2026-12-07", "-f", "jsonl", "--explain"]
    code, out, err = run("--fhir", str(folder), *args)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in records] == ["p00007", "p00150", "p00399"]
    assert "397 of 400 Patients have no ALL diagnosis" in err
    for record, n in zip(records, sorted(theirs), strict=True):
        alone = write(tmp_path, f"p{n}.json", bundle(*theirs[n]))
        code, out, _ = run("--fhir", alone, *args)
        [expected] = [json.loads(line) for line in out.splitlines()]
        assert code == 0
        for key in ("options", "referrals", "patient"):
            assert record[key] == expected[key], (n, key)
        # the same facts from the same resources (the names of the files aside)
        assert record["facts_from"] == expected["facts_from"]
    assert records[2]["patient"]["lineage"] == "b"  # the escaped histology was found


def test_a_malformed_diagnosis_in_a_streamed_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text(json.dumps(patient("p1", "1990-01-01")) + "\n")
    bad = {**condition("c1", "Patient/p1", ICD10, "C91.02", "2024-01-01"), "extension": 5}
    (folder / "Condition.ndjson").write_text(json.dumps(bad) + "\n")
    code, out, err = run("--fhir", str(folder), "-f", "jsonl")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "Condition/c1" in err


def _near_misses() -> list[dict[str, Any]]:
    """Six Patients: one with an ALL diagnosis, one whose diagnosis code is written with a \\u
    escape (still one), three whose Condition names ALL without being one (a code alltx does
    not map, refuted, recorded after --as-of), and one with none."""
    resources = [patient(id, "1990-01-01") for id in "abcdef"]
    for id, code, more in (
        ("a", (ICD10, "C91.00"), {}),
        ("b", (ICD10, "C91.0\\u0030"), {}),
        ("c", (SCT, "91857003"), {}),
        (
            "d",
            (ICD10, "C91.02"),
            {
                "verificationStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                            "code": "refuted",
                        }
                    ]
                }
            },
        ),
        ("e", (ICD10, "C91.00"), {"recordedDate": "2027-02-01"}),
        ("f", (SCT, "38341003"), {}),
    ):
        resources.append(
            {
                **condition(
                    f"c{id}",
                    f"Patient/{id}",
                    *code,
                    "2024-01-01",
                    clinicalStatus=clinical("active"),
                ),
                **more,
            }
        )
    return resources


@pytest.mark.parametrize("bulk", [True, False])
def test_a_cohort_counts_the_records_naming_all_that_are_no_diagnosis_and_explain_names_them(
    tmp_path: Path, bulk: bool
) -> None:
    resources = _near_misses()
    if bulk:  # a Bulk folder, streamed
        path = tmp_path / "export"
        path.mkdir()
        for kind in ("Patient", "Condition"):
            lines = [
                json.dumps(r).replace("\\\\u", "\\u")
                for r in resources
                if r["resourceType"] == kind
            ]
            (path / f"{kind}.ndjson").write_text("\n".join(lines) + "\n")
        where = str(path)
    else:
        text = json.dumps(bundle(*resources)).replace("\\\\u", "\\u")
        where = write(tmp_path, "six.json", json.loads(text))
    args = ["--fhir", where, "-f", "jsonl", "--as-of", "2026-12-07"]
    code, out, err = run(*args)
    assert code == 0 and [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b"]
    assert (
        "4 of 6 Patients have no ALL diagnosis in the records and are not answered "
        "(--all-patients answers them); 3 of them have a Condition naming ALL that is not "
        "read as a diagnosis (--explain names them)"
    ) in err
    assert "Patient/c" not in err
    code, out, err = run(*args, "--explain")
    named = [line for line in err.splitlines() if "not answered:" in line]
    assert [line.split()[2] for line in named] == ["Patient/c", "Patient/d", "Patient/e"]
    assert "SNOMED CT 91857003" in named[0] and "does not map" in named[0]
    assert "refuted" in named[1] and "after 2026-12-07" in named[2]


@pytest.mark.parametrize("quiet", [False, True])
def test_a_bulk_folder_read_on_a_terminal_shows_a_progress_bar(tmp_path: Path, quiet: bool) -> None:
    from .conftest import Terminal
    from .test_fhir import SITE_CODES

    site = tmp_path / "site.toml"
    site.write_text(SITE_CODES)
    folder = tmp_path / "export"
    folder.mkdir()
    _hospital_export(folder, 2000, {7, 1500})
    out = tmp_path / "answers.jsonl"
    terminal = Terminal(
        "options",
        "--fhir",
        str(folder),
        "--fhir-codes",
        str(site),
        "-o",
        str(out),
        *(["-q"] if quiet else []),
    )
    if not quiet:
        terminal.until("Reading the FHIR records")
    assert terminal.end() == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["p00007", "p01500"]
    assert ("Reading the FHIR records" in terminal.seen) is not quiet


# --- a Bulk export where it lives: the API, and Spark ------------------------------------------


def _folder_records(folder: Path, site: Path, *more: str) -> list[dict[str, Any]]:
    code, out, _ = run(
        "--fhir",
        str(folder),
        "--fhir-codes",
        str(site),
        "--as-of",
        "2026-12-07",
        "-f",
        "jsonl",
        *more,
    )
    assert code in (0, 1)
    return [json.loads(line) for line in out.splitlines()]


def _without_line(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in r.items() if k != "line"} for r in records), key=lambda r: r["id"]
    )


@pytest.mark.slow
def test_the_api_answers_an_exports_lines_as_the_folder_is_answered(tmp_path: Path) -> None:
    import alltx

    from .test_fhir import SITE_CODES

    site = tmp_path / "site.toml"
    site.write_text(SITE_CODES)
    folder = tmp_path / "export"
    folder.mkdir()
    _hospital_export(folder, 300, {7, 150, 299})
    lines = [line for file in sorted(folder.iterdir()) for line in file.read_bytes().splitlines()]
    kept = dict(fhir_codes=site, as_of="2026-12-07")
    for more, everyone in (((), False), (("--all-patients",), True)):
        expected = _folder_records(folder, site, *more)
        assert list(alltx.fhir_cohort(lines, all_patients=everyone, **kept)) == expected
        by_patient: dict[str | None, list[bytes]] = {}
        for line in reversed(lines):  # in any order
            by_patient.setdefault(alltx.fhir_patient(line), []).append(line)
        assert None not in by_patient and len(by_patient) == 300
        answered = (
            alltx.fhir_cohort(group, all_patients=everyone, **kept) for group in by_patient.values()
        )
        grouped = [record for records in answered for record in records]
        assert _without_line(grouped) == _without_line(expected)
    with pytest.raises(ValueError, match=r"^line 2: not JSON"):
        list(alltx.fhir_cohort([lines[0], b"{oops"], **kept))
    for line, said in ((b"{oops", "a line: not JSON"), (b"[1]", "a line: not a FHIR resource")):
        with pytest.raises(ValueError, match=f"^{said}"):  # never a key that leaves it out
            alltx.fhir_patient(line)
    assert alltx.fhir_patient(b'{"resourceType": "Organization", "id": "o1"}') is None


@pytest.mark.slow
def test_the_readmes_spark_job_gives_the_folders_records(tmp_path: Path, spark: Any) -> None:
    import re

    from .test_fhir import SITE_CODES
    from .test_readme import page

    (tmp_path / "site.toml").write_text(SITE_CODES)
    folder = tmp_path / "export"
    folder.mkdir()
    _hospital_export(folder, 300, {7, 150, 299})
    blocks = re.findall(r"^```python\n(.*?)^```", page("fhir"), re.M | re.S)
    [job] = [block for block in blocks if "alltx.fhir_cohort" in block]
    # its paths, in this folder (Spark reads a relative path from where its JVM started)
    for name in ("export/", "site.toml", "alltx-answers"):
        job = job.replace(f'"{name}', f'"{tmp_path}/{name}')
    exec(job, {"spark": spark})  # the page's own code, as a reader runs it
    written = spark.read.parquet(str(tmp_path / "alltx-answers")).collect()
    records = [json.loads(row.record) for row in written]
    assert [row.id for row in sorted(written)] == ["p00007", "p00150", "p00299"]
    assert _without_line(records) == _without_line(_folder_records(folder, tmp_path / "site.toml"))


@pytest.mark.parametrize("block", [None, 64, 200])
def test_a_broken_line_about_an_all_patient_is_one_line_with_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int | None
) -> None:
    from alltx.io import fhir

    if block is not None:
        monkeypatch.setattr(fhir, "BLOCK", block)
    folder = tmp_path / "export"
    folder.mkdir()
    people = [patient(f"p{n}", "1990-01-01") for n in range(5)]
    (folder / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in people))
    (folder / "Condition.ndjson").write_text(
        json.dumps(condition("c1", "Patient/p3", ICD10, "C91.02", "2024-01-01")) + "\n"
    )
    labs = [
        json.dumps(
            {
                "resourceType": "Observation",
                "id": f"o{n}",
                "status": "final",
                "subject": {"reference": f"Patient/p{3 if n == 1 else n}"},
                "code": {"text": "glucose"},
            }
        )
        for n in range(5)
    ]
    labs[3] = labs[3][:-1] + ', "oops"}'  # p3's, broken on line 5, after one of theirs read
    labs[0] = labs[0][:-1] + ', "oops"}'  # p0's: never parsed, so not refused
    (folder / "Observation.ndjson").write_text("\n\n".join(labs[:2]) + "\n" + "\n".join(labs[2:]))
    code, out, err = run("--fhir", str(folder), "-f", "jsonl")
    assert (code, out) == (2, "")
    assert err.startswith(f"alltx: error: {folder / 'Observation.ndjson'} line 5: not JSON")
