"""Clinics updating the data: another file for every command, checked in full before use."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from alltx.answer.schemas import schema_of
from alltx.cli.app import app
from alltx.core.facts import RULE_FACTS
from alltx.core.rules import compile_criteria, satisfiable
from alltx.model.catalog import DataError, parse_catalog
from alltx.model.data_files import bundled_path, load_catalog

runner = CliRunner()
GOOD = bundled_path().read_text(encoding="utf-8")
RELEASE = load_catalog().info.release


def local_file(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """A clinic's copy of the data, with one edit."""
    assert old in GOOD
    path = tmp_path / "local.toml"
    path.write_text(GOOD.replace(old, new, 1) if old else GOOD, encoding="utf-8")
    return path


def test_every_command_answers_from_the_file_given(tmp_path: Path) -> None:
    local = local_file(tmp_path, f'release = "{RELEASE}"', 'release = "clinic-7"')
    for args in (
        ["options", "--age", "19", "-f", "json"],
        ["drug", "blinatumomab", "-f", "json"],
        ["drugs", "-f", "json"],
        ["data", "show", "-f", "json"],
    ):
        by_flag = runner.invoke(app, ["--data", str(local), *args])
        by_env = runner.invoke(app, args, env={"ALLTX_DATA": str(local)})
        for result in (by_flag, by_env):
            assert result.exit_code == 0, result.stderr
            answer = json.loads(result.stdout)
            data = answer.get("data", answer)
            assert (data["release"], data["file"]) == ("clinic-7", str(local))


def test_a_label_change_is_a_data_change(tmp_path: Path) -> None:
    # A hypothetical label raising tisagenlecleucel's age bound changes the answer, no code.
    local = local_file(
        tmp_path, 'fact = "age_years", at_most = 25', 'fact = "age_years", at_most = 30'
    )
    args = ["options", "--age", "28", "--lineage", "b", "--refractory", "-f", "json"]
    before = json.loads(runner.invoke(app, args).stdout)["options"][0]["status"]
    after = json.loads(runner.invoke(app, ["--data", str(local), *args]).stdout)
    assert (before, after["options"][0]["status"]) == ("not_eligible", "eligible")


def test_data_check_summarises_a_good_file() -> None:
    result = runner.invoke(app, ["data", "check", str(bundled_path())])
    assert result.exit_code == 0
    catalog = load_catalog(regulator="*")  # data check reads every regulator's indications
    counts = (
        f"Valid: {len(catalog.therapies)} therapies, "
        f"{sum(len(t.indications) for t in catalog.therapies)} indications, "
        f"{len(catalog.referrals)} referrals, {len(catalog.sources)} sources"
    )
    assert counts in result.stdout
    assert f"updated {catalog.info.updated.isoformat()}" in result.stdout
    assert (
        "Regulators: fda (US FDA, 7 indications), ema (European Commission (EMA), 9 indications)"
    ) in " ".join(result.stdout.split())


def test_data_check_lists_every_problem(tmp_path: Path) -> None:
    text = GOOD.replace('fact = "lineage", is = "b"', 'fact = "lineage", is = "x"')
    text = text.replace('short = "Kymriah US label (DailyMed)"\n', "", 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["data", "check", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == f"alltx: {len(lines) - 1} problems; the file was not used"
    assert len(lines) - 1 == 1  # the schema problem stops the checks that need a sound schema
    assert "sources[0].short: Field required" in lines[0]
    text = GOOD.replace('fact = "lineage", is = "b"', 'fact = "lineage", is = "x"')
    path.write_text(text, encoding="utf-8")
    lines = runner.invoke(app, ["data", "check", str(path)]).stderr.splitlines()
    assert len(lines) - 1 == GOOD.count('fact = "lineage", is = "b"') == 16  # 7 US, 9 EU


def test_a_broken_local_file_is_refused_for_answers(tmp_path: Path) -> None:
    local = local_file(tmp_path, "[[therapies]]", "[[therapies]]\nstray = 1")
    result = runner.invoke(app, ["--data", str(local), "options", "--age", "3"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "therapies[0].stray: unknown key" in result.stderr
    assert result.stderr.count("\n") == 1


DATA_FAULTS = [
    ('source = ["kymriah-label", "kymriah-fda-summary"]\n', "", "source: Field required"),
    ('source = ["kymriah-label", "kymriah-fda-summary"]', "source = []", "at least 1 item"),
    ('{ fact = "age_years", at_most = 25, text = "',
     '{ all = [{ fact = "age_years", at_most = 25, text = "a" }, '
     '{ fact = "age_years", at_least = 30, text = "b" }], text = "', "can never all be met"),
    ('{ fact = "ph", is = "negative", text = "',
     '{ all = [{ fact = "ph", is = "negative", text = "a" }, '
     '{ fact = "ph", is = "positive", text = "b" }], text = "', "can never all be met"),
    ('{ fact = "remission", in = [1, 2], text = "',
     '{ all = [{ fact = "remission", in = [1, 2], text = "a" }, '
     '{ fact = "remission", at_least = 3, text = "b" }], text = "', "can never all be met"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "problem"), DATA_FAULTS, ids=[f[2] for f in DATA_FAULTS])
def test_data_faults_are_refused_with_the_place(old: str, new: str, problem: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_catalog(GOOD.replace(old, new, 1), "local.toml")
    assert problem in str(caught.value) and "therapies[" in str(caught.value)


@pytest.mark.parametrize(
    ("tests", "possible"),
    [
        ([("age_years", "at_least", 18), ("age_years", "at_most", 25)], True),
        ([("age_years", "at_least", 26), ("age_years", "at_most", 25)], False),
        ([("age_years", "at_least", 25), ("age_years", "at_most", 25)], True),
        ([("mrd", "at_least", 0.1), ("mrd", "at_most", 0.05)], False),
        ([("remission", "in", [1, 2]), ("remission", "at_least", 2)], True),
        ([("relapsed", "is", True), ("relapsed", "is", False)], False),
        ([("relapsed", "is", True), ("refractory", "is", False)], True),
    ],
)
def test_satisfiable(tests: list[tuple[str, str, object]], possible: bool) -> None:
    tree = {"all": [{"fact": f, op: b, "text": "t"} for f, op, b in tests], "text": "t"}
    rule = compile_criteria(tree, RULE_FACTS, "t")
    assert satisfiable(rule) is possible
    either = compile_criteria({"any": [tree, tree["all"][0]], "text": "t"}, RULE_FACTS, "t")
    assert satisfiable(either)  # one way to meet it is enough


def test_the_data_schema_describes_the_bundled_file() -> None:
    jsonschema.validate(tomllib.loads(GOOD), schema_of("data"))
    result = runner.invoke(app, ["schema", "data"])
    assert result.exit_code == 0 and json.loads(result.stdout)["title"] == "DataFile"
