"""--regulator: the EU authorisations beside the US labels, through every command that answers
from the labels, one patient and a cohort alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx.answer.schemas import validate
from alltx.answer.shapes import CompareBothOut, ComparedOut, DrugBothOut, DrugOut, RecordOut
from alltx.cli.app import app
from alltx.core.facts import FactError, facts_from

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


YOUNG_ADULT = ["--age", "19", "--relapse", "1", "--prior-transplant", "--lineage", "b",
               "--cd19", "positive"]  # fmt: skip


def test_both_says_which_criterion_makes_each_difference() -> None:
    code, out, err = run("options", *YOUNG_ADULT, "--regulator", "both", "--format", "json")
    assert code == 0, err
    answer = json.loads(out)
    validate(ComparedOut, answer)
    assert [a["data"]["regulator_id"] for a in answer["answers"]] == ["fda", "ema"]
    differences = {d["therapy"]: d for d in answer["differences"]}
    assert set(differences) == {
        "tisagenlecleucel",
        "brexucabtagene-autoleucel",
        "obecabtagene-autoleucel",
        "blinatumomab",
    }
    tecartus = differences["brexucabtagene-autoleucel"]
    assert tecartus["statuses"] == {"fda": "eligible", "ema": "not_eligible"}
    assert tecartus["because"]["ema"].startswith("not met: 26 years old or older")
    kymriah = differences["tisagenlecleucel"]
    assert kymriah["statuses"] == {"fda": "possible", "ema": "eligible"}
    assert "relapse post-transplant" in kymriah["because"]["ema"]


def test_both_as_text_names_both_regulators_and_the_difference() -> None:
    code, out, _ = run("options", *YOUNG_ADULT, "--regulator", "both")
    assert code == 0
    assert "US FDA and European Commission (EMA), side by side" in out
    assert "EU: not eligible; not met: 26 years old or older" in out
    assert "US FDA labels, the EU product information (EMA)" in " ".join(out.split())


def test_the_regulator_is_in_every_record_and_the_environment_chooses_it(tmp_path: Path) -> None:
    code, out, _ = run(
        "options",
        "--age",
        "30",
        "--refractory",
        "--format",
        "jsonl",
        env={"ALLTX_REGULATOR": "ema"},
    )
    assert code == 0
    record = json.loads(out)
    validate(RecordOut, record)
    assert record["regulator"] == "ema"
    code, out, _ = run("options", "--age", "30", "--refractory", "--format", "csv")
    header, row = out.splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["regulator"] == "fda"


def cohort_file(tmp_path: Path) -> Path:
    patients = [
        {"id": "a", "age": 19, "relapse": 1, "prior_transplant": True, "lineage": "b"},
        {
            "id": "b",
            "age": 40,
            "refractory": True,
            "lineage": "b",
            "ph": "+",
            "tkis_failed": 2,
            "no_alternative": True,
            "cd19": "+",
            "cd22": "+",
        },
        {
            "id": "c",
            "age": "8m",
            "lineage": "b",
            "ph": "-",
            "cd19": "+",
            "remission": 2,
            "high_risk_first_relapse": True,
            "phase": "consolidation",
        },
        {"id": "d", "age": 30, "relapse_after_transplant": True, "relapsed": False},
        {"id": "e", "age": 25, "refractory": True, "lineage": "b", "cd19": "-"},
    ]
    path = tmp_path / "cohort.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in patients), encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_cohort_gets_the_one_patient_answers_under_the_eu(tmp_path: Path, jobs: str) -> None:
    path = cohort_file(tmp_path)
    code, out, _ = run(
        "options",
        "--input",
        str(path),
        "--regulator",
        "ema",
        "--format",
        "jsonl",
        "--jobs",
        jobs,
        "--quiet",
    )
    assert code == 1  # patient d's facts contradict each other
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c", "d", "e"]
    assert "relapse_after_transplant means a relapse now" in records[3]["error"]
    patients = [json.loads(line) for line in path.read_text().splitlines()]
    for given, record in zip(patients, records, strict=True):
        if "error" in record:
            continue
        flags = [
            word for name, value in given.items() if name != "id" for word in _flag(name, value)
        ]
        one = json.loads(run("options", *flags, "--regulator", "ema", "-f", "jsonl")[1])
        assert (one["options"], one["referrals"], one["regulator"]) == (
            record["options"],
            record["referrals"],
            "ema",
        )


def _flag(name: str, value: Any) -> list[str]:
    flag = "--" + name.replace("_", "-")
    if value is True:
        return [flag]
    if value is False:
        return [{"relapsed": "--not-relapsed"}.get(name, flag)]
    return [flag, str(value)]


def test_a_cohort_is_answered_under_one_regulator(tmp_path: Path) -> None:
    code, _, err = run("options", "--input", str(cohort_file(tmp_path)), "--regulator", "both")
    assert code == 2 and "one regulator" in err
    code, _, err = run("options", "--age", "3", "--regulator", "both", "--format", "csv")
    assert code == 2 and "--regulator both answers as text or --format json" in err


def test_drug_under_the_eu_shows_no_us_only_statement() -> None:
    code, out, _ = run("drug", "tecartus", "--regulator", "ema", "--format", "json")
    assert code == 0
    drug = json.loads(out)
    validate(DrugOut, drug)
    therapy = drug["therapy"]
    assert therapy["boxed_warning"] == [] and drug["practice"] is None
    assert any("qualified treatment centre" in s["text"] for s in therapy["given"])
    assert not any("REMS" in s["text"] for s in therapy["given"])
    assert [i["id"] for i in therapy["indications"]] == ["brexucabtagene-autoleucel-eu-r-r-bcp-all"]
    code, out, _ = run("drug", "aucatzyl", "--regulator", "both", "--format", "json")
    both = json.loads(out)
    validate(DrugBothOut, both)
    authorisations = [a["therapy"]["indications"][0]["authorisation"] for a in both["answers"]]
    assert authorisations == [None, "conditional"]
    code, out, _ = run("drug", "aucatzyl", "--regulator", "ema")
    words = " ".join(out.split())
    assert "[conditional marketing authorisation]" in words and "Boxed warning" not in words


def test_compare_both_gives_each_regulators_indications() -> None:
    code, out, _ = run("compare", "besponsa", "--regulator", "both", "--format", "json")
    assert code == 0
    both = json.loads(out)
    validate(CompareBothOut, both)
    [us], [eu] = (answer["therapies"] for answer in both["answers"])
    assert "1 year and older" in us["approved_for"][0]
    assert (
        "adults" in eu["approved_for"][0] and "at least 1 tyrosine kinase" in eu["approved_for"][0]
    )


def test_sql_and_data_show_answer_under_the_regulator_asked() -> None:
    code, out, _ = run("sql", "--regulator", "ema")
    assert code == 0 and "'ema'" in out and "blinatumomab-eu-adult-r-r" in out
    assert "blinatumomab-mrd-positive-cr1-cr2" not in out
    code, out, _ = run("data", "show", "--regulator", "ema", "--format", "json")
    data = json.loads(out)
    assert data["regulator_id"] == "ema" and data["region"] == "European Union"
    code, out, _ = run("data", "show", "--regulator", "ema")
    assert "9 indications" in out and "the EU product information (EMA)" in out
    assert "Regulators:" not in out  # one regulator's view; data check lists them all
    code, _, err = run("options", "--age", "3", "--regulator", "eu")
    assert code == 2 and "--regulator" in err


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"relapse_after_transplant": True, "prior_transplant": False},
            "relapse_after_transplant means a transplant before, but no prior transplant is given",
        ),
        (
            {"relapsed": True, "prior_transplant": True, "relapse_after_transplant": False},
            "relapsed and prior_transplant mean a relapse after transplant, but "
            "relapse_after_transplant is no",
        ),
        (
            {"newly_diagnosed": True, "relapse": 1},
            "newly_diagnosed means no relapse so far, but the facts say relapsed (come back now)",
        ),
        ({"newly_diagnosed": True, "remission": 2}, "remission 2 means a relapse before"),
        (
            {"relapse": 2, "high_risk_first_relapse": True},
            "relapse 2 means a second or later relapse, but high_risk_first_relapse is yes",
        ),
    ],
)
def test_the_eu_facts_refuse_what_contradicts(given: dict[str, Any], said: str) -> None:
    with pytest.raises(
        FactError, match="contradictory facts: " + said.split(" means")[0]
    ) as caught:
        facts_from(given)
    assert said in str(caught.value)


def test_the_eu_facts_follow_from_the_others() -> None:
    after = facts_from({"relapse": 1, "prior_transplant": True})
    assert after.relapse_after_transplant is True and after.newly_diagnosed is False
    assert facts_from({"relapse_after_transplant": True}).prior_transplant is True
    assert facts_from({"relapsed": False}).relapse_after_transplant is False
    assert facts_from({"prior_transplant": False}).relapse_after_transplant is False
    assert facts_from({"relapse": 3}).high_risk_first_relapse is False
    child = facts_from({"remission": 2, "high_risk_first_relapse": True})
    assert child.relapsed is False and child.high_risk_first_relapse is True


def test_the_page_to_print_names_the_eu_when_asked() -> None:
    code, out, _ = run(
        "options",
        "--age",
        "30",
        "--refractory",
        "--lineage",
        "b",
        "--regulator",
        "ema",
        "--format",
        "html",
    )
    assert code == 0
    assert "Data: European Commission (EMA), release" in out
    assert "the EU product information (EMA)" in out and "US FDA" not in out


@pytest.mark.parametrize("name", ["kymriah", "blinatumomab", "besponsa"])
def test_drug_both_is_one_page_that_says_once_what_both_say(name: str) -> None:
    # issue 29: it was the two pages glued, the EU half under the US disclaimer, same title
    code, out, _ = run("drug", name, "--regulator", "both", env={"COLUMNS": "1000"})
    assert code == 0
    each = [
        json.loads(run("drug", name, "--regulator", r, "--format", "json")[1])["therapy"]
        for r in ("fda", "ema")
    ]
    assert out.count("not medical advice") == 1 and out.count("\nWhat it is\n") == 1
    lines = out.splitlines()
    for field in ("given", "serious_side_effects", "common_side_effects"):
        texts = [{s["text"] for s in one[field]} for one in each]
        for text in texts[0] & texts[1]:  # said by both: once
            assert sum(text in line for line in lines) == 1, text
        for only, label in (
            (texts[0] - texts[1], "US FDA label"),
            (texts[1] - texts[0], "EU product information"),
        ):
            for text in only:  # said by one: under its name
                at = next(n for n, line in enumerate(lines) if text in line)
                above = [line for line in lines[:at] if line.strip().startswith("Only in the")]
                assert above and above[-1].strip() == f"Only in the {label}:", text
    for one in each:  # each regulator's indications, each once
        for indication in one["indications"]:
            assert sum(indication["summary"] in line for line in lines) == 1
