"""Every command as a user runs it, through typer's CliRunner, plus `python -m alltx`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alltx import __version__
from alltx.answer.schemas import validate
from alltx.answer.shapes import DrugOut, DrugsOut, OptionsOut
from alltx.cli.app import app
from alltx.model.data_files import load_catalog
from tests.conftest import over_80

INFO = load_catalog().info  # the bundled data release the answers name

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_options_text_reads_as_an_answer() -> None:
    code, out, err = run("options", "--age", "19", "--relapsed")
    assert code == 0, err
    assert out.count("POSSIBLE") == 6  # five therapies, and the referral at 19 (H20)
    assert "To decide, give: --lineage b|t" in out
    assert f"release {INFO.release}, updated {INFO.updated.isoformat()}" in out
    assert "not medical advice" in out
    assert "\x1b[" not in out  # no ANSI codes when stdout is not a terminal


def test_text_fits_80_columns() -> None:
    for args in (("options", "--age", "19", "--relapsed"), ("drug", "tisa-cel"), ("drugs",)):
        code, out, _ = run(*args)
        assert code == 0
        assert over_80(out) == []
        assert not any(line.endswith(" ") for line in out.splitlines())


def test_options_json_contract() -> None:
    code, out, _ = run(
        "options",
        "--age",
        "30",
        "--lineage",
        "b",
        "--refractory",
        "--cd19",
        "positive",
        "--cd22",
        "positive",
        "--format",
        "json",
    )
    assert code == 0
    answer = json.loads(out)
    validate(OptionsOut, answer)
    assert answer["version"] == 2
    assert [o["therapy"] for o in answer["options"]] == [
        "tisagenlecleucel",
        "brexucabtagene-autoleucel",
        "obecabtagene-autoleucel",
        "blinatumomab",
        "inotuzumab-ozogamicin",
    ]
    status = {o["therapy"]: o["status"] for o in answer["options"]}
    assert status["tisagenlecleucel"] == "not_eligible"
    assert set(status.values()) - {"not_eligible"} == {"eligible"}
    assert answer["patient"]["age"] == 30 and answer["patient"]["mrd"] is None
    assert answer["data"]["regulator"] == "US FDA"
    assert answer["data"]["updated"] == INFO.updated.isoformat()
    assert "not medical advice" in answer["disclaimer"]
    tisa = answer["options"][0]["indications"][0]
    age = tisa["criteria"][0]
    assert (age["fact"], age["test"], age["value"], age["result"]) == (
        "age",
        "at most 25 years",
        30,
        "unmet",
    )
    assert all(s["title"] for o in answer["options"] for s in o["sources"])


@pytest.mark.parametrize(
    "args",
    [
        ["options", "--age", "19"],
        ["options", "--age", "19", "--regulator", "both"],
        ["drug", "blinatumomab"],
        ["drug", "car-t"],
        ["drugs"],
        ["data", "show"],
        ["compare"],
        ["explain", "mrd"],
        ["transplant"],
        ["side-effects", "crs"],
        ["questions"],
        ["grade", "crs", "--temperature", "39"],
    ],
    ids=" ".join,
)
def test_json_path_does_not_import_rich(args: list[str]) -> None:
    # Every command writes its answer through one helper (cli.base.show), which builds the
    # JSON or draws the text, never both: the JSON answer costs no rich import.
    code = (
        f"import sys; from alltx.cli.app import main; sys.argv = ['alltx', *{args!r}, "
        "'--format', 'json']\ntry: main()\nexcept SystemExit as stop: assert not stop.code\n"
        "assert 'rich' not in sys.modules, 'rich imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("{") or done.stdout.startswith("[")


@pytest.mark.parametrize("name", ["blinatumomab", "Kymriah", "tisa-cel", "BESPONSA"])
def test_drug(name: str) -> None:
    code, out, _ = run("drug", name)
    assert code == 0
    assert "Approved for (US FDA label)" in out and "Boxed warning" in out and "Sources" in out


def test_drug_json() -> None:
    code, out, _ = run("drug", "blinatumomab", "--format", "json")
    assert code == 0
    answer = json.loads(out)
    validate(DrugOut, answer)
    therapy = answer["therapy"]
    assert therapy["id"] == "blinatumomab"
    assert len(therapy["indications"]) == 3
    cited = {s for item in therapy["given"] for s in item["sources"]}
    assert cited <= {s["id"] for s in therapy["sources"]}


def test_the_shapes_hold_answers_to_their_declarations() -> None:
    """The shapes the schemas come from are checked, not decorative: a key no shape declares,
    a missing fact, a value of the wrong kind are each refused."""
    from pydantic import ValidationError

    from alltx.answer.shapes import DictionaryOut

    answer = json.loads(run("options", "--age", "19", "--relapsed", "--format", "json")[1])
    validate(OptionsOut, answer)
    spoiled = [json.loads(json.dumps(answer)) for _ in range(3)]
    spoiled[0]["options"][0]["surprise"] = 1
    del spoiled[1]["patient"]["prior_transplant"]
    spoiled[2]["patient"]["relapsed"] = "yes"
    for bad in spoiled:
        with pytest.raises(ValidationError):
            validate(OptionsOut, bad)
    validate(DictionaryOut, json.loads(run("data", "show", "--format", "json")[1]))


def test_drugs() -> None:
    code, out, _ = run("drugs")
    assert code == 0 and "Blincyto" in out and "tisa-cel" in out
    code, out, _ = run("drugs", "--format", "json")
    validate(DrugsOut, json.loads(out))
    assert json.loads(out)["therapies"][0]["id"] == "tisagenlecleucel"


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith(f"alltx {__version__} (data release {INFO.release},")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("drug", "blinatumumab"), "did you mean blinatumomab?"),
        (("options", "--age", "-3"), "--age: must be an age of 0 to 130 years"),
        (("options", "--age", "131"), "of 0 to 130 years"),
        (("options", "--mrd", "101"), "--mrd: must be a percent of 0 to 100"),
        (("options", "--lineage", "x"), "--lineage: must be b or t"),
        (("options", "--cd19", "maybe"), "--cd19: must be positive or negative"),
        (("options", "--relapse", "two"), "--relapse: must be a whole number"),
        (("options", "--remission", "1", "--relapsed"), "contradictory facts"),
        (("options", "--relapse", "2", "--not-relapsed"), "contradictory facts"),
        (("options", "--format", "yaml"), "'yaml' is not one of 'text', 'json'"),
        (("options", "--bogus"), "No such option: --bogus"),
        (("drug",), "Missing argument"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("alltx: error: ") and says in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_no_arguments_shows_where_to_start_and_help_lists_the_commands() -> None:
    # Issue 29: alone, alltx is a short start (exit 0) that names --help; --help lists all.
    code, out, err = run()
    assert code == 0 and err == "" and "alltx ask" in out and "alltx --help" in out
    code, out, _ = run("--help")
    assert code == 0 and "options" in out and "drug" in out


def test_python_dash_m_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "alltx", "options", "--age", "8m", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["patient"]["age_months"] == 8


def test_the_wheel_carries_the_data_file(tmp_path: Path) -> None:
    """An installed alltx must find its data from any directory, with no checkout beside it."""
    root = Path(__file__).parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("alltx-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("alltx/data/therapies.toml").decode()
    assert packaged == (root / "data" / "therapies.toml").read_text(encoding="utf-8")


def test_colour_on_a_terminal_and_no_colour_with_no_color() -> None:
    def ansi(**env: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "alltx", "options", "--age", "19", "--lineage", "t"],
            capture_output=True,
            text=True,
            env={**os.environ, "FORCE_COLOR": "1", **env},
        )
        return done.stdout

    assert "\x1b[1;31mNOT ELIGIBLE" in ansi()  # a terminal gets colour
    assert "\x1b[1mPatient: \x1b[0mage 19 years" in ansi()  # only the label is bold
    plain = ansi(NO_COLOR="1")
    assert "NOT ELIGIBLE" in plain and not re.search(r"\x1b\[[0-9;]*3[0-9]m", plain)


@pytest.mark.parametrize("therapy", [t.id for t in load_catalog().therapies])
def test_drug_prints_every_address_whole_on_its_own_line(therapy: str) -> None:
    catalog = load_catalog()
    code, out, _ = run("drug", therapy)
    assert code == 0
    lines = {line.strip() for line in out.splitlines()}
    for source_id in catalog.therapy(therapy).source_ids():
        url = catalog.sources[source_id].url
        assert url is None or url in lines, (source_id, url)
    assert "Results in the trials behind the approval" in out


def test_a_caution_that_applies_is_on_the_status_line() -> None:
    code, out, _ = run("options", "--age", "30", "--lineage", "b", "--relapsed", "--cd19", "neg")
    assert code == 0
    status_lines = [line for line in out.splitlines() if line.startswith("ELIGIBLE")]
    assert len(status_lines) == 2  # the two adult CAR-Ts
    assert all("! CAUTION:" in line for line in status_lines)
    flat = " ".join(out.split())
    # twice at a glance (the `!` after the status, then the caution), twice on a status line
    assert flat.count("! CAUTION: the leukemia cells are CD19-negative") == 4
    glance = [line for line in out.splitlines() if line.startswith(("Tecartus", "Aucatzyl"))]
    assert len(glance) == 2 and all("eligible !" in line and "CAUTION" in line for line in glance)
    code, out, _ = run("options", "--age", "30", "--lineage", "b", "--relapsed", "--cd19", "pos")
    assert code == 0 and "! CAUTION" not in out


@pytest.mark.parametrize(
    "args", [["--relapsed", "yes"], ["--relapsed=yes"], ["--no-prior-transplant", "no"]]
)
def test_a_switch_given_a_value_says_how_switches_are_written(args: list[str]) -> None:
    code, _, err = run("options", *args)
    assert code == 2 and err.count("\n") == 1
    assert " is a switch: use --" in err and "with no value" in err


def test_h_is_help_everywhere() -> None:
    for args in (["-h"], ["options", "-h"], ["grade", "crs", "-h"], ["data", "check", "-h"]):
        code, out, _ = run(*args)
        assert code == 0 and "Usage:" in out, args


def test_a_word_that_covers_several_drugs_lists_them() -> None:
    code, out, _ = run("drug", "car-t", "--format", "json")
    assert code == 0
    ids = [t["id"] for t in json.loads(out)["therapies"]]
    assert ids == ["tisagenlecleucel", "brexucabtagene-autoleucel", "obecabtagene-autoleucel"]
    code, out, _ = run("drug", "CAR-T")
    assert code == 0 and "alltx drug NAME" in out and "obecabtagene-autoleucel" in out


CATALOG = load_catalog()
GLANCE_CASES = [
    ["--age", "19", "--relapsed"],
    ["--age", "3", "--lineage", "t"],
    ["--age", "30", "--remission", "1", "--mrd", "0.5", "--lineage", "b", "--cd19", "pos"],
    ["--age", "24.5", "--relapse", "2", "--lineage", "b", "--cd19", "neg"],
    ["--not-relapsed"],
]


@pytest.mark.parametrize("args", GLANCE_CASES)
def test_the_answer_opens_with_every_status_at_a_glance_in_80_columns(args: list[str]) -> None:
    """Before the details: a line a therapy, its status as the details give it, and its why,
    each line within 80 columns; then the referral advice."""
    result = runner.invoke(app, ["options", *args], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("At a glance")
    glance = lines[start + 1 : start + 1 + len(CATALOG.therapies)]
    details = [line for line in lines if line.startswith(("ELIGIBLE", "POSSIBLE", "NOT ELIGIBLE"))]
    details = details[: len(CATALOG.therapies)]  # then the referral's
    assert len(glance) == len(details) == len(CATALOG.therapies)
    for line, detail, therapy in zip(glance, details, CATALOG.therapies, strict=True):
        assert len(line) <= 80 and line.startswith(therapy.brands[0])
        status = next(
            s for s in ("not eligible", "eligible", "possible") if detail.lower().startswith(s)
        )
        assert f" {status} " in line
        why = {"eligible": "meets:", "possible": "to decide:", "not eligible": "not met:"}
        assert why[status] in line
    assert lines[start + 1 + len(CATALOG.therapies)].startswith("See a transplant doctor early: ")
    assert start < min(i for i, line in enumerate(lines) if line in details)


# --- an age from dates (issue 28) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "months", "status"),
    [
        ("2026-11-19", 0, "not_eligible"),
        ("2026-11-20", 1, "eligible"),
        ("2026-12-01", 1, "eligible"),
    ],
)
def test_an_infant_from_a_birth_date_is_one_month_old_on_the_day_a_month_is_completed(
    as_of: str, months: int, status: str
) -> None:
    # blinatumomab: "one month and older"; born 2026-10-20 (issue 28)
    code, out, _ = run(
        "options",
        "--born",
        "2026-10-20",
        "--as-of",
        as_of,
        "--relapsed",
        "--lineage",
        "b",
        "--cd19",
        "pos",
        "--format",
        "json",
    )
    assert code == 0
    answer = json.loads(out)
    validate(OptionsOut, answer)
    assert answer["patient"]["age_months"] == months
    assert answer["facts_from"] == {"age": f"from the birth date 2026-10-20, at {as_of}"}
    blinatumomab = next(o for o in answer["options"] if o["therapy"] == "blinatumomab")
    assert blinatumomab["status"] == status
    code, text, _ = run("options", "--born", "2026-10-20", "--as-of", as_of)
    assert f"(from the birth date 2026-10-20, at {as_of})" in " ".join(text.split())


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--born", "2026-02-30"],
            "--born: must be a date as YYYY-MM-DD (2019-05-31); got '2026-02-30'",
        ),
        (
            ["--born", "2026-10-20", "--as-of", "1/12/2026"],
            "--as-of: must be a date as YYYY-MM-DD (2019-05-31); got '1/12/2026'",
        ),
        (
            ["--born", "2026-12-02", "--as-of", "2026-12-01"],
            "--born: the birth date is after the as-of date (2026-12-01); check both",
        ),
        (
            ["--born", "2020-01-01", "--age", "6"],
            "--born: give the age or the birth date, not both",
        ),
    ],
)
def test_a_date_that_cannot_be_right_is_one_line_naming_its_flag(
    args: list[str], said: str
) -> None:
    code, out, err = run("options", *args)
    assert (code, out, err) == (2, "", f"alltx: error: {said}\n")


def test_a_cohort_takes_birth_dates_and_the_runs_as_of_day(tmp_path: Path) -> None:
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "id,birth_date,as_of,relapsed,lineage,cd19\n"
        "A,2026-10-20,,yes,b,pos\nB,2026-10-20,2026-11-19,yes,b,pos\n"
        "C,2026-13-01,,yes,b,pos\n"
    )
    code, out, _ = run("options", "-i", str(cohort), "--as-of", "2026-12-01", "-f", "jsonl", "-q")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # a row refused
    assert [r.get("options", {}).get("blinatumomab", {}).get("status") for r in records] == [
        "eligible",
        "not_eligible",
        None,
    ]
    assert records[2]["field"] == "birth_date"
