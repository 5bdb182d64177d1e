"""The guide: the grading calculators at every boundary, and every guide command as run."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx.answer import schemas, shapes
from alltx.assessment.grading import GradingError, grade, parse_findings
from alltx.cli.app import app
from alltx.model.data_files import bundled_path, load_catalog, load_guide
from alltx.model.guide import Guide
from tests.conftest import over_80

runner = CliRunner()


@pytest.fixture(scope="module")
def guide() -> Guide:
    return load_guide(check=True)


def graded(guide: Guide, scale: str, age: Any = None, **given: Any) -> tuple[int, int, str]:
    """(lowest, highest, applies) for findings given as on the command line."""
    on = guide.scale(scale)
    years = None if age is None else Fraction(age)
    result = grade(on, parse_findings(on, given), years)
    return result.low, result.high, result.applies


# --- CRS: fever, then the worse of blood pressure and oxygen --------------------------------

CALM = {"blood_pressure": "none", "oxygen": "none"}
CRS: list[tuple[str, dict[str, Any], tuple[int, int, str]]] = [
    ("37.9 C, untreated: not CRS", {"temperature": "37.9", "treated": False, **CALM},
     (0, 0, "unmet")),
    ("37.9 C and low blood pressure, untreated: still not CRS",
     {"temperature": "37.9", "treated": False, "blood_pressure": "fluids", "oxygen": "none"},
     (0, 0, "unmet")),
    ("38.0 C is fever: grade 1", {"temperature": "38", **CALM}, (1, 1, "met")),
    ("fever, fluids only: grade 2", {"temperature": "38.5", **CALM, "blood_pressure": "fluids"},
     (2, 2, "met")),
    ("fever, low-flow oxygen: grade 2", {"temperature": "39", **CALM, "oxygen": "low-flow"},
     (2, 2, "met")),
    ("fever, one vasopressor: grade 3",
     {"temperature": "39", **CALM, "blood_pressure": "one-vasopressor"}, (3, 3, "met")),
    ("fever, high-flow oxygen: grade 3", {"temperature": "39", **CALM, "oxygen": "high-flow"},
     (3, 3, "met")),
    ("fever, several vasopressors: grade 4",
     {"temperature": "39", **CALM, "blood_pressure": "vasopressors"}, (4, 4, "met")),
    ("fever, positive pressure: grade 4",
     {"temperature": "39", **CALM, "oxygen": "positive-pressure"}, (4, 4, "met")),
    ("the worse of the two: fluids and high-flow is 3",
     {"temperature": "39", "blood_pressure": "fluids", "oxygen": "high-flow"}, (3, 3, "met")),
    ("after tocilizumab or steroids no fever is needed",
     {"temperature": "37", "treated": True, "blood_pressure": "fluids", "oxygen": "none"},
     (2, 2, "met")),
    ("no fever, antipyretic or anticytokine therapy unknown: it may not be CRS",
     {"temperature": "37", "blood_pressure": "fluids", "oxygen": "none"}, (0, 2, "unknown")),
    ("fever, oxygen unknown: a range", {"temperature": "39", "blood_pressure": "fluids"},
     (2, 4, "met")),
    ("nothing given", {}, (0, 4, "unknown")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "expected"), CRS, ids=[row[0] for row in CRS])
def test_crs_grade(guide: Guide, case: str, given: dict[str, Any], expected: tuple) -> None:
    assert graded(guide, "crs", **given) == expected


# --- ICANS: the worst single feature ---------------------------------------------------------

CLEAR = {"consciousness": "normal", "seizure": "none", "motor": "none", "edema": "none"}
ICANS: list[tuple[str, dict[str, Any], int]] = [
    ("ICE 10, nothing else", {"ice": 10, **CLEAR}, 0),
    ("ICE 9", {"ice": 9, **CLEAR}, 1),
    ("ICE 7", {"ice": 7, **CLEAR}, 1),
    ("ICE 6", {"ice": 6, **CLEAR}, 2),
    ("ICE 3", {"ice": 3, **CLEAR}, 2),
    ("ICE 2", {"ice": 2, **CLEAR}, 3),
    ("ICE 0", {"ice": 0, **CLEAR}, 3),
    ("wakes on their own", {"ice": 10, **CLEAR, "consciousness": "spontaneous"}, 1),
    ("wakes to voice", {"ice": 10, **CLEAR, "consciousness": "voice"}, 2),
    ("wakes only to touch", {"ice": 10, **CLEAR, "consciousness": "touch"}, 3),
    ("needs vigorous or repetitive stimuli to arouse: grade 4",
     {"ice": 10, **CLEAR, "consciousness": "vigorous"}, 4),
    ("cannot be roused", {"ice": 0, **CLEAR, "consciousness": "unarousable"}, 4),
    ("ICE 0, awake with global aphasia: grade 3", {"ice": 0, **CLEAR}, 3),
    ("ICE 0 because unarousable: grade 4",
     {"ice": "unable", **CLEAR, "consciousness": "unarousable"}, 4),
    ("a clinical seizure that resolves rapidly", {"ice": 10, **CLEAR, "seizure": "brief"}, 3),
    ("nonconvulsive seizures on EEG, resolved with intervention: grade 3",
     {"ice": 10, **CLEAR, "seizure": "eeg"}, 3),
    ("a prolonged seizure, over 5 minutes", {"ice": 10, **CLEAR, "seizure": "prolonged"}, 4),
    ("repetitive seizures without return to baseline: grade 4",
     {"ice": 10, **CLEAR, "seizure": "repetitive"}, 4),
    ("deep focal weakness", {"ice": 10, **CLEAR, "motor": "weakness"}, 4),
    ("focal edema", {"ice": 10, **CLEAR, "edema": "focal"}, 3),
    ("diffuse edema", {"ice": 10, **CLEAR, "edema": "diffuse"}, 4),
    ("the worst sets it: ICE 8 and voice is 2", {"ice": 8, **CLEAR, "consciousness": "voice"}, 2),
    ("ICE from its parts: 4+3+1+1+0 = 9", {"orientation": 4, "naming": 3, "commands": 1,
                                          "writing": 1, "attention": 0, **CLEAR}, 1),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "expected"), ICANS, ids=[row[0] for row in ICANS])
def test_icans_grade(guide: Guide, case: str, given: dict[str, Any], expected: int) -> None:
    assert graded(guide, "icans", age=30, **given) == (expected, expected, "met")


def test_icans_unknown_parts_give_a_range(guide: Guide) -> None:
    # orientation 4 and naming 3 known: the total is 7 to 10, grade 0 to 1
    assert graded(guide, "icans", orientation=4, naming=3, **CLEAR) == (0, 1, "met")


@pytest.mark.parametrize("age", ["11", "11.9", "0.5"])
def test_the_ice_score_is_refused_under_12(guide: Guide, age: str) -> None:
    with pytest.raises(GradingError, match="CAPD"):
        graded(guide, "icans", age=age, ice=8, **CLEAR)
    with pytest.raises(GradingError, match="CAPD"):
        graded(guide, "icans", age=age, orientation=4, **CLEAR)


# Children: CAPD instead of ICE under 12 (section G4). Where the sources differ (the CAPD band
# of grades 1-2 may or may not take in 0; at 12 one source uses ICE and another CAPD), the grade
# is every grade the readings allow.
CHILDREN: list[tuple[str, dict[str, Any], tuple[int, int]]] = [
    ("8 years, CAPD 9 or higher: grade 3", {"age": 8, "capd": 9}, (3, 3)),
    ("8 years, CAPD 8: grade 1", {"age": 8, "capd": 8}, (1, 1)),
    ("8 years, CAPD 1: grade 1", {"age": 8, "capd": 1}, (1, 1)),
    ("8 years, CAPD 0: 0 or 1, the band is unsettled", {"age": 8, "capd": 0}, (0, 1)),
    ("8 years, CAPD 0 but awakens to voice: 2", {"age": 8, "capd": 0, "consciousness": "voice"},
     (2, 2)),
    ("8 years, unable to do the CAPD: grade 4", {"age": 8, "capd": "unable"}, (4, 4)),
    ("8 years, CAPD not given: open to 4", {"age": 8}, (0, 4)),
    ("11.9 years is under 12: CAPD", {"age": "11.9", "capd": 5}, (1, 1)),
    ("12 years, ICE 8 only: CAPD may be the tool, so open", {"age": 12, "ice": 8}, (0, 4)),
    ("12 years, both given: either reading", {"age": 12, "ice": 8, "capd": 9}, (1, 3)),
    ("12 years, both readings agree", {"age": 12, "ice": 9, "capd": 4}, (1, 1)),
    ("13 years: the ICE score", {"age": 13, "ice": 8}, (1, 1)),
    ("30 years, CAPD given (developmental delay): graded", {"age": 30, "capd": 10}, (3, 3)),
    ("age not given: the tool given decides", {"ice": 8}, (1, 1)),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "expected"), CHILDREN, ids=[r[0] for r in CHILDREN])
def test_icans_in_children(guide: Guide, case: str, given: dict[str, Any], expected: tuple) -> None:
    findings = {**CLEAR, **given}
    assert graded(guide, "icans", **findings) == (*expected, "met")


def test_an_unsettled_point_says_why(guide: Guide) -> None:
    icans = guide.scale("icans")
    at_12 = grade(icans, parse_findings(icans, {"ice": 8, **CLEAR}), Fraction(12))
    assert at_12.age_note is not None and "12 and under" in at_12.age_note.text
    [open_capd] = grade(icans, parse_findings(icans, {"capd": 0, **CLEAR}), Fraction(8)).open
    assert "1-8" in open_capd.note
    assert grade(icans, parse_findings(icans, {"ice": 8, **CLEAR}), Fraction(13)).age_note is None


def test_crs_names_what_decides_whether_it_applies(guide: Guide) -> None:
    crs = guide.scale("crs")
    given = {"temperature": "37.5", "blood_pressure": "fluids", "oxygen": "none"}
    result = grade(crs, parse_findings(crs, given))
    assert (result.low, result.high, [f.id for f in result.deciding]) == (0, 2, ["treated"])
    fever = grade(crs, parse_findings(crs, {**given, "temperature": "39"}))
    assert fever.deciding == () and (fever.low, fever.high) == (2, 2)


def test_bad_findings_are_refused(guide: Guide) -> None:
    crs, icans = guide.scale("crs"), guide.scale("icans")
    for scale, given, message in [
        (crs, {"oxygen": "lots"}, "expected one of none, low-flow"),
        (crs, {"temperature": "101"}, "give degrees Celsius"),
        (crs, {"temperature": "hot"}, "expected a number"),
        (icans, {"ice": "11"}, "from 0 to 10"),
        (icans, {"naming": "4"}, "naming objects must be a whole number from 0 to 3"),
    ]:
        with pytest.raises(GradingError, match=message):
            parse_findings(scale, given)
    with pytest.raises(GradingError, match="not both"):
        grade(icans, parse_findings(icans, {"ice": 5, "naming": 2}))


# --- the commands ------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def answer_of(shape: object, *args: str) -> dict[str, Any]:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    value = json.loads(out)
    schemas.validate(shape, value)  # the shape holds
    assert value["disclaimer"] and value["data"]["updated"]
    return value  # type: ignore[no-any-return]


def test_grade_command_json_and_text() -> None:
    value = answer_of(
        shapes.GradingAnswer,
        "grade",
        "crs",
        "--temperature",
        "38.2",
        "--blood-pressure",
        "one-vasopressor",
        "--oxygen",
        "low-flow",
    )
    assert (value["grading"]["grade"], value["grading"]["set_by"]) == (3, ["blood_pressure"])
    code, out, _ = run("grade", "icans", "--ice", "5", "--consciousness", "voice")
    assert code == 0
    assert "Grade 2 to 4: not all findings are known" in out
    assert "--seizure none|brief|eeg|prolonged|repetitive" in " ".join(out.split())
    code, out, _ = run(
        "grade", "crs", "--temperature", "37.5", "--blood-pressure", "fluids", "--oxygen", "none"
    )
    flat = " ".join(out.split())
    assert "Grade 0 to 2" in flat and "decides whether it is graded at all" in flat
    assert "(--treated / --not-treated)" in flat and "no longer needed" in flat
    value = answer_of(shapes.GradingAnswer, "grade", "icans", "--age", "12", "--ice", "8")
    assert value["grading"]["age_note"]["sources"] and value["grading"]["grade"] is None


def test_grade_errors_are_one_line_exit_2() -> None:
    for args in (
        ["grade", "icans", "--age", "8", "--ice", "5"],
        ["grade", "crs", "--oxygen", "lots"],
        ["grade", "bp"],
    ):
        code, _, err = run(*args)
        assert code == 2, args
        assert err.count("\n") == 1 and err.startswith("alltx: error:"), err


def test_side_effects(guide: Guide) -> None:
    value = answer_of(shapes.SideEffectsAnswer, "side-effects")
    assert {e["id"] for e in value["side_effects"]} == {e.id for e in guide.side_effects}
    [crs] = answer_of(shapes.SideEffectsAnswer, "side-effects", "CRS")["side_effects"]
    assert "blinatumomab" in crs["boxed"] and crs["grading"] == "crs"
    code, out, _ = run("side-effects", "veno-occlusive")
    assert code == 0 and "inotuzumab ozogamicin" in out
    code, _, err = run("side-effects", "crss")
    assert code == 2 and "did you mean crs" in err


def test_boxed_warnings_agree_with_the_therapies_file(guide: Guide) -> None:
    """A side effect marked as in a boxed warning names a therapy that has one."""
    catalog = load_catalog()
    boxed = {t.id for t in catalog.therapies if t.boxed_warning}
    ids = {t.id for t in catalog.therapies}
    for effect in guide.side_effects:
        assert set(effect.therapies) <= ids, effect.id
        assert set(effect.boxed) <= boxed, effect.id
    assert {p.therapy for p in guide.practice} == ids


def test_shared_sources_read_the_same(guide: Guide) -> None:
    catalog = load_catalog()
    for source_id, source in guide.sources.items():
        if source_id in catalog.sources:
            assert source == catalog.sources[source_id], source_id


def test_transplant(guide: Guide) -> None:
    value = answer_of(shapes.TransplantAnswer, "transplant")["transplant"]
    # by age band (labels.md H20): 40 and older, a child with a reason of the 2017 page, under 40
    reasons = value["when"]["reasons"]
    assert len(reasons) == 3 and reasons[0].startswith("40 or older: the NMDP/ASTCT")
    assert len(value["questions"]) == len([q for q in guide.questions if q.topic == "transplant"])
    code, out, _ = run("transplant")
    assert code == 0 and "umbilical cord blood" in out


def test_compare() -> None:
    value = answer_of(shapes.CompareAnswer, "compare", "blina", "Kymriah", "blinatumomab")
    assert [t["therapy"] for t in value["therapies"]] == ["blinatumomab", "tisagenlecleucel"]
    assert value["therapies"][1]["practice"]["hospital_stay"] is None  # not in the sources
    every = answer_of(shapes.CompareAnswer, "compare")
    assert len(every["therapies"]) == len(load_catalog().therapies)
    code, out, _ = run("compare", "tisa-cel")
    assert code == 0 and "Hospital stay  not in alltx's sources" in out
    assert over_80(out) == []
    code, _, err = run("compare", "kymrah")
    assert code == 2 and "did you mean tisagenlecleucel" in err


@pytest.mark.parametrize(
    ("asked", "found"),
    [
        ("MRD", "mrd"),
        ("car t", "car-t"),
        ("Philadelphia chromosome", "ph"),
        ("leuka", "leukapheresis"),
        ("sinusoidal obstruction syndrome", "vod"),
        ("bone marrow transplant", "allogeneic-transplant"),
    ],
)
def test_explain_finds_a_term(asked: str, found: str) -> None:
    [term] = answer_of(shapes.TermsAnswer, "explain", asked)["terms"]
    assert term["id"] == found


def test_explain_lists_every_term_and_suggests(guide: Guide) -> None:
    value = answer_of(shapes.TermsAnswer, "explain")
    assert len(value["terms"]) == len(guide.terms) >= 14
    code, _, err = run("explain", "lymphodepleshun")
    assert code == 2 and "did you mean lymphodepletion" in err


def test_questions(guide: Guide) -> None:
    every = answer_of(shapes.QuestionsAnswer, "questions")["questions"]
    assert len(every) == len(guide.questions)
    car_t = answer_of(shapes.QuestionsAnswer, "questions", "--for", "CAR-T")["questions"]
    assert car_t and {q["for"] for q in car_t} == {"car-t"}
    code, _, err = run("questions", "--for", "diet")
    assert code == 2 and "topics: transplant" in err


def test_drug_shows_its_timeline_in_plain_text() -> None:
    code, out, _ = run("drug", "blinatumomab")
    assert code == 0
    assert "Timeline (to scale: 84 days)" in out
    assert "\x1b[" not in out and over_80(out) == []
    code, out, _ = run("drug", "Kymriah")
    assert "Timeline (not to scale)" in out and "Leukapheresis: a few hours" in out
    value = answer_of(shapes.DrugOut, "drug", "besponsa")
    assert [s["label"] for s in value["practice"]["timeline"] if s["kind"] == "dose"] == [
        "Dose 1",
        "Dose 2",
        "Dose 3",
    ]


def test_every_graded_feature_has_a_flag(guide: Guide) -> None:
    """The calculators' flags are written in cli/guide.py; a feature added to the data needs
    one."""
    for scale in guide.scales:
        code, out, _ = run("grade", scale.id, "--help")
        assert code == 0
        flat = " ".join(out.split())
        for feature in scale.features:
            assert f"--{feature.id.replace('_', '-')}" in flat, feature.id
            for part in feature.parts:
                assert f"--{part.id}" in flat, part.id


def test_a_broken_guide_is_one_line_and_data_check_lists_it(tmp_path: Path) -> None:
    text = bundled_path("guide.toml").read_text(encoding="utf-8")
    broken = tmp_path / "guide.toml"
    broken.write_text(text.replace('grading = "crs"', 'grading = "crz"'), encoding="utf-8")
    code, _, err = run("--guide", str(broken), "explain", "mrd")
    assert code == 1 and err.count("\n") == 1 and "unknown scale 'crz'" in err
    code, _, err = run("--guide", str(broken), "data", "check")
    assert code == 1 and "unknown scale 'crz'" in err
    code, out, _ = run("data", "check")
    assert code == 0 and "Guide file:" in out


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ('under = "capd"', 'under = "capx"', "unknown feature 'capx'"),
        ("{ grades = [0, 1], text", "{ grades = [0, 1], why_not = 1, text", "unknown key"),
        (
            '  { grades = [0, 1], text = "CAPD score 0", why = { text',
            '  { grade = 0, grades = [0, 1], text = "CAPD score 0", why = { text',
            "not both",
        ),
    ],
)
def test_a_broken_scale_is_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    text = bundled_path("guide.toml").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "guide.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    code, _, err = run("--guide", str(broken), "data", "check")
    assert code == 1 and problem in err


def test_explain_knows_every_fact_the_tool_asks_for(guide: Guide) -> None:
    """Each fact's name, as the flag and the 'To decide, give' line word it, is explained."""
    from alltx.core.facts import FACTS

    for name, fact in FACTS.items():
        for asked in (name.replace("_", " "), fact.short):
            code, _, err = run("explain", asked)
            assert code == 0, (asked, err)


@pytest.mark.parametrize(
    ("given", "grade_", "shown"),
    [
        ("100.4F", 1, "38 C"),
        ("100.3F", 0, "37.9 C"),
        ("101°F", 1, "38.3 C"),
        ("38.0 C", 1, "38 C"),
        ("38", 1, "38 C"),
    ],
)
def test_fahrenheit_is_converted_and_the_celsius_value_shown(
    given: str, grade_: int, shown: str
) -> None:
    code, out, _ = run(
        "grade", "crs", "--temperature", given, "--blood-pressure", "none", "--oxygen", "none"
    )
    assert code == 0 and f"{grade_} temperature {shown}:" in out
    code, _, err = run("grade", "crs", "--temperature", "38x")
    assert code == 2 and "expected a number" in err


def test_questions_for_a_therapy_by_any_name() -> None:
    for name, topics in (
        ("Kymriah", {"car-t"}),
        ("obe-cel", {"car-t", "obecabtagene-autoleucel"}),  # its own too
        ("Besponsa", {"inotuzumab-ozogamicin"}),
        ("blina", {"blinatumomab"}),
    ):
        value = answer_of(shapes.QuestionsAnswer, "questions", "--for", name)
        assert {q["for"] for q in value["questions"]} == topics, name


@pytest.mark.parametrize(("columns", "times"), [("130", 1), ("200", 1), ("119", 5), ("80", 5)])
def test_compare_is_a_table_of_columns_on_a_wide_terminal(columns: str, times: int) -> None:
    """From 120 columns, a column per therapy (each heading once); below, a block each."""
    result = CliRunner().invoke(app, ["compare"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= int(columns) for line in lines)
    for heading in ("Class, target", "Approved for", "Boxed warning"):
        assert sum(line.startswith(heading) for line in lines) == times
    if times == 1:  # every therapy named in the header, before the first row
        first = next(i for i, line in enumerate(lines) if line.startswith("Class, target"))
        header = " ".join(" ".join(lines[:first]).split())
        assert all(
            brand in header for brand in ("Kymriah", "Tecartus", "Aucatzyl", "Blincyto", "Besponsa")
        )


# Names, not terms: regulators, trials and organisations, which the sources name.
NAMES = {"US", "FDA", "EU", "ASTCT", "NMDP", "REMS", "TOWER", "ALCANTARA", "BLAST", "E1910",
         "ELIANA", "ZUMA-3", "FELIX", "INO-VATE", "WI203581", "AHDB", "BLA", "NDC"}  # fmt: skip


def test_explain_knows_every_abbreviation_the_answers_use() -> None:
    """Walks the texts an answer shows (indications, criteria, cautions, what each drug is):
    every abbreviation in them that is a term, not a name, is explained."""
    from alltx.core.rules import atoms
    from alltx.model.data_files import load_catalog

    catalog = load_catalog()
    texts = []
    for therapy in catalog.therapies:
        texts += [therapy.kind.text, therapy.about.text]
        for indication in therapy.indications:
            texts += [indication.summary, *(a.text for a in atoms(indication.rule))]
        texts += [c.text for c in therapy.cautions]
    for referral in catalog.referrals:
        texts += [a.text for a in atoms(referral.rule)]
    found = set(re.findall(r"\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*\b", " ".join(texts))) - NAMES
    assert {"MRD", "CD19", "CAR-T", "CD3"} <= found  # the walk reads the answers' words
    unknown = [term for term in sorted(found) if run("explain", term)[0] != 0]
    assert not unknown, f"alltx explain does not know {unknown}"


def test_a_grading_age_is_read_and_refused_as_every_age_is() -> None:
    # Issue 24: `grade icans --age` called the parser directly, in words of its own.
    from alltx.core.facts import FactError, parse_fact

    result = CliRunner().invoke(app, ["grade", "icans", "--age", "8x", "--ice", "5"])
    with pytest.raises(FactError) as caught:
        parse_fact("age", "8x")
    assert result.exit_code == 2 and f"--age: {caught.value}" in result.stderr


@pytest.mark.parametrize(
    ("age", "said"),
    [
        ("3w", "the ICE score is for patients 12 and older"),  # 0 years, whatever the calendar
        ("4382 days", "--age: 4382 days may be 11 or 12 completed years"),  # a birthday's eve
        ("4383d", None),
    ],  # 12 years from any birth day: both tools count, as at 12
)
def test_a_grading_age_in_days_counts_the_years_it_surely_is(age: str, said: str | None) -> None:
    # Issue 28: an age in days reached the ICANS scale's age split as no number (a traceback).
    result = CliRunner().invoke(app, ["grade", "icans", "--age", age, "--ice", "10"])
    if said is None:
        assert result.exit_code == 0 and "At 12, sources differ" in result.stdout
    else:
        assert result.exit_code == 2 and said in result.stderr
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_finding_declared_in_the_guide_is_an_option_of_grade(tmp_path: Path) -> None:
    # issue 26: the grade options are made from guide.toml's findings, not written by hand.
    # A site's guide that words the oxygen option its own way, and declares one more finding.
    text = bundled_path("guide.toml").read_text(encoding="utf-8")
    text = text.replace('help = "Oxygen: none;', 'help = "Oxygen support at this site: none;', 1)
    extra = (
        '[[scales.features]]\nid = "vomiting"\nkind = "category"\nlabel = "vomiting"\n'
        'flag = "--vomiting none|severe"\nmetavar = "none|severe"\n'
        'help = "Vomiting, as a test finding."\nlevels = [\n'
        '  { is = "none", grade = 0, text = "No vomiting" },\n'
        '  { is = "severe", grade = 4, text = "Severe vomiting (a test level)" },\n]\n\n'
    )
    at = text.index('[[scales.features]]\nid = "oxygen"')
    (tmp_path / "guide.toml").write_text(text[:at] + extra + text[at:], encoding="utf-8")
    env = {"ALLTX_GUIDE": str(tmp_path / "guide.toml"), "COLUMNS": "100"}
    shown = runner.invoke(app, ["grade", "crs", "--help"], env=env)
    assert shown.exit_code == 0 and "--vomiting none|severe" in shown.stdout
    assert "Oxygen support at this site" in shown.stdout
    done = runner.invoke(
        app,
        ["grade", "crs", "--temperature", "39", "--vomiting", "severe", "--format", "json"],
        env=env,
    )
    assert done.exit_code == 0, done.output
    grading = json.loads(done.stdout)["grading"]
    assert grading["grade"] is None or grading["lowest"] == 4
    assert "vomiting" in grading["set_by"]
    bundled = runner.invoke(app, ["grade", "crs", "--vomiting", "severe"])
    assert bundled.exit_code == 2 and "No such option: --vomiting" in bundled.output
