"""Regulators are data (issue 44, 3): a data file with a regulator no code knows works on every
command and road, chosen alone, with others (commas) or with `all`, with no code change. The
made-up regulator here (`xyz`) is a test's: the shipped file with a third regulator whose
indications are copies of the EU's, under ids of their own, so each of its answers must be the
EU's answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alltx.cli.app import app
from alltx.model.data_files import bundled_path

runner = CliRunner()
COPIED = "ema"  # whose indications the made-up regulator's copy (a fixture, not logic)
MADE_UP = """
[[regulators]]
id = "xyz"
name = "Made-up Agency"
region = "Nowhere"
label = "made-up label"
labels = "the made-up labels"
short = "made-up"
scope = "A test's made-up regulator, with the EU's indications copied"
"""


def _with_a_third_regulator(text: str) -> str:
    """The shipped therapies file with MADE_UP after its regulators and, after each indication
    of COPIED, a copy of it under the made-up regulator."""
    text = text.replace("\n# --- sources", MADE_UP + "\n# --- sources", 1)
    blocks = re.split(r"(?m)^(?=\[\[)", text)
    out = []
    for block in blocks:
        out.append(block)
        if block.startswith("[[therapies.indications]]") and f'\nregulator = "{COPIED}"' in block:
            copy = re.sub(r'(?m)^id = "([^"]+)"', r'id = "\1-xyz"', block, count=1)
            out.append(copy.replace(f'\nregulator = "{COPIED}"', '\nregulator = "xyz"', 1))
    return "".join(out)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "three.toml"
    path.write_text(_with_a_third_regulator(bundled_path().read_text(encoding="utf-8")))
    return path


def alltx(data: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["--data", str(data), *args])
    assert result.exit_code == code, (args, result.stdout, result.stderr, result.exception)
    return result.stdout if code == 0 else result.stderr


PATIENTS = [
    ["--age", "19", "--relapsed"],
    ["--age", "7", "--lineage", "b", "--relapse", "2"],
    ["--age", "40", "--lineage", "b", "--ph", "neg", "--mrd", "0.5"],
]


def _statuses(answer: dict[str, Any]) -> dict[str, str]:
    return {option["therapy"]: option["status"] for option in answer["options"]}


def test_the_file_holds_three_regulators_and_checks_clean(data: Path) -> None:
    checked = " ".join(alltx(data, "data", "check", str(data)).split())  # in full: exit 0
    copied = re.search(rf"{COPIED} \([^)]*\)?, (\d+) indications\)", checked)
    assert copied and f"xyz (Made-up Agency, {copied[1]} indications)" in checked
    shown = json.loads(alltx(data, "data", "show", "--regulator", "xyz", "-f", "json"))
    assert "Made-up Agency" in json.dumps(shown)


@pytest.mark.parametrize("facts", PATIENTS)
def test_the_made_up_regulator_answers_as_the_indications_it_copies(
    data: Path, facts: list[str]
) -> None:
    made_up = json.loads(alltx(data, "options", *facts, "--regulator", "xyz", "-f", "json"))
    copied = json.loads(alltx(data, "options", *facts, "--regulator", COPIED, "-f", "json"))
    assert _statuses(made_up) == _statuses(copied)
    assert made_up["data"]["regulator_id"] == "xyz"
    text = alltx(data, "options", *facts, "--regulator", "XYZ")  # any case
    assert "Made-up Agency" in text or "made-up" in text


def test_all_and_a_comma_list_give_every_regulator_side_by_side(data: Path) -> None:
    every = json.loads(alltx(data, "options", *PATIENTS[1], "--regulator", "all", "-f", "json"))
    assert [a["data"]["regulator_id"] for a in every["answers"]] == ["fda", "ema", "xyz"]
    chosen = json.loads(
        alltx(data, "options", *PATIENTS[1], "--regulator", "xyz,fda", "-f", "json")
    )
    assert [a["data"]["regulator_id"] for a in chosen["answers"]] == ["xyz", "fda"]
    for difference in every["differences"]:
        assert set(difference["statuses"]) <= {"fda", "ema", "xyz"}
    text = " ".join(alltx(data, "options", *PATIENTS[1], "--regulator", "all").split())
    names = [a["data"]["regulator"] for a in every["answers"]]  # (the data's names, as listed)
    assert f"{names[0]}, {names[1]} and Made-up Agency, side by side" in text
    assert "Each answer in full: alltx options ... --regulator fda, ema or xyz" in text
    drug = " ".join(alltx(data, "drug", "besponsa", "--regulator", "all").split())
    assert "what all say, then what only some say" in drug and "not in all 3:" in drug
    said = alltx(data, "options", *PATIENTS[1], "--regulator", "both", code=2)
    assert "both names two regulators, and the data holds 3 (fda, ema, xyz)" in said


@pytest.mark.parametrize(
    "command",
    [["drug", "kymriah"], ["drug", "car-t"], ["drugs"], ["compare"], ["compare", "besponsa"]],
)
@pytest.mark.parametrize("regulator", ["xyz", "all", "fda,xyz"])
def test_every_drug_page_takes_any_regulator_the_data_holds(
    data: Path, command: list[str], regulator: str
) -> None:
    several = regulator != "xyz"
    if command == ["drugs"] and several:  # one list, under one regulator
        said = alltx(data, *command, "--regulator", regulator, code=2)
        assert "give one (" in said
        return
    assert alltx(data, *command, "--regulator", regulator)
    answer = json.loads(alltx(data, *command, "--regulator", regulator, "-f", "json"))
    if several and command != ["drug", "car-t"]:  # (a word for several drugs: their list)
        assert len(answer["answers"]) == (3 if regulator == "all" else 2)


def test_cohorts_sql_and_the_api_take_the_made_up_regulator(data: Path, tmp_path: Path) -> None:
    import alltx as api

    rows = [{"id": "a", "age": 7, "lineage": "b", "relapse": 2}, {"id": "b", "age": 40}]
    given = "\n".join(json.dumps(row) for row in rows) + "\n"
    result = runner.invoke(
        app,
        ["--data", str(data), "options", "-i", "-", "-f", "jsonl", "--regulator", "xyz"],
        input=given,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and {r["regulator"] for r in records} == {"xyz"}
    copied = list(api.cohort(rows, regulator=COPIED, data=data))

    def statuses(records: list[dict[str, Any]]) -> list[dict[str, str]]:
        return [{t: o["status"] for t, o in r["options"].items()} for r in records]

    assert statuses(records) == statuses(copied)
    assert list(api.cohort(rows, regulator="xyz", data=data)) == records
    facts: dict[str, Any] = {"age": 7, "lineage": "b", "relapse": 2}
    made_up = api.options(regulator="xyz", data=data, **facts)
    assert _statuses(made_up) == _statuses(api.options(regulator=COPIED, data=data, **facts))
    query = alltx(data, "sql", "--regulator", "xyz", "--table", "patients")
    assert "xyz" in query
    said = alltx(data, "sql", "--regulator", "all", code=2)
    assert "a query answers under one regulator" in said


def test_duckdb_answers_the_made_up_regulator_as_python_does(data: Path, tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("id,age,lineage,relapse,ph\na,7,b,2,\nb,40,b,1,neg\nc,19,,,\n")
    python = alltx(data, "options", "-i", str(cohort), "-f", "jsonl", "--regulator", "xyz")
    duckdb = alltx(
        data,
        "options",
        "-i",
        str(cohort),
        "-f",
        "jsonl",
        "--regulator",
        "xyz",
        "--engine",
        "duckdb",
    )
    assert [json.loads(line) for line in duckdb.splitlines()] == [
        json.loads(line) for line in python.splitlines()
    ]


def test_a_bulk_folder_under_several_regulators_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text("{not JSON}\n")  # were it read: "not JSON"
    result = runner.invoke(app, ["options", "--fhir", str(folder), "--regulator", "all"])
    assert result.exit_code == 2
    assert "a cohort is answered under one regulator" in result.stderr
