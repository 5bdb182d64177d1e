"""Cohorts in shell pipelines: rows in, one record per row out, in order, streamed."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from alltx.assess import assess, referrals
from alltx.batch import Answerer
from alltx.catalog import Catalog
from alltx.cli import app
from alltx.contract import schema_of
from alltx.datafile import load_catalog
from alltx.facts import FactError, Facts, facts_from, parse_age
from alltx.output import option_json, patient_json, referral_json
from alltx.rules import atoms

runner = CliRunner()
RELEASE = load_catalog().info.release
THERAPIES = [
    "tisagenlecleucel",
    "brexucabtagene-autoleucel",
    "obecabtagene-autoleucel",
    "blinatumomab",
    "inotuzumab-ozogamicin",
]


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, args, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def jsonl(*rows: object) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# --- the fast path says what the slow path says ---------------------------------------------

GRID = {
    "age": [None, "0.5m", "1m", "11m", 1, 17, 18, 25, 25.9, 26, 61],
    "lineage": [None, "b", "t"],
    "state": [{}, {"relapse": 1}, {"relapse": 2}, {"refractory": True}, {"remission": 1},
              {"remission": 3}, {"relapsed": False, "refractory": False}],
    "markers": [{}, {"cd19": "+", "cd22": "+"}, {"cd19": "-", "cd22": "-"}, {"cd19": "+"}],
    "more": [{}, {"ph": "-", "phase": "consolidation"}, {"mrd": 0.1}, {"mrd": 0.09},
             {"prior_transplant": True, "ph": "+"}],
}  # fmt: skip


# The transplant-referral facts, cycled through the grid rather than multiplied into it.
# An age at diagnosis after the age now is refused (tested elsewhere), so it is kept only when
# it fits.
REFERRAL: list[dict[str, Any]] = [
    {},
    {"induction_failure": True},
    {"age_at_diagnosis": "11m"},
    {"high_risk": False},
    {"induction_failure": False, "high_risk": False, "age_at_diagnosis": "12m"},
]


def grid_rows() -> list[dict[str, Any]]:
    rows = []
    for number, (age, lineage, state, markers, more) in enumerate(
        itertools.product(*GRID.values())
    ):
        row = {"age": age, "lineage": lineage, **state, **markers, **more}
        row |= REFERRAL[number % len(REFERRAL)]
        if age is not None and parse_age(row.get("age_at_diagnosis", 0)) > parse_age(age):
            del row["age_at_diagnosis"]
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


def test_batch_answers_equal_single_patient_answers(catalog: Catalog) -> None:
    answerer = Answerer(catalog)
    rows = grid_rows()
    for row in rows:
        facts = facts_from(row)
        answer = answerer.answer(answerer.facts(row))
        assert json.loads(answer.patient_text) == patient_json(facts)
        options, advice = answer.texts()
        slow = [option_json(o, catalog) for o in assess(facts, catalog)]
        assert json.loads(options) == slow, row
        assert json.loads(advice) == [referral_json(r, catalog) for r in referrals(facts, catalog)]
    assert len(rows) == math.prod(len(values) for values in GRID.values())


def test_answers_stay_the_same_when_the_caches_overflow(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cache is bounded; with tiny bounds each is emptied again and again, and the answers
    must not change (a stale or mixed-up entry would show here)."""
    import alltx.batch

    monkeypatch.setattr(alltx.batch, "MAX_ENTRIES", 4)
    answerer = Answerer(catalog)
    rows = grid_rows()[::7]
    for row in rows + rows[::-1]:
        facts = facts_from(row)
        answer = answerer.answer(answerer.facts(row))
        assert json.loads(answer.patient_text) == patient_json(facts)
        options, advice = answer.texts()
        assert json.loads(options) == [option_json(o, catalog) for o in assess(facts, catalog)]
        assert json.loads(advice) == [referral_json(r, catalog) for r in referrals(facts, catalog)]
    caches = [answerer.cells, answerer.memo.cache, answerer.frames, answerer.fragments]
    caches += [*answerer.verdicts, *answerer.meanings.values()]
    assert all(len(cache) <= 4 for cache in caches)


def test_test_results_are_numbered_per_interval_not_per_value(catalog: Catalog) -> None:
    """The numbering of test results is not bounded by MAX_ENTRIES: thousands of distinct ages
    and MRDs must still fall into the few intervals the label's bounds cut."""
    answerer = Answerer(catalog)
    for step in range(3000):
        answerer.answer(answerer.facts({"age": step / 30, "mrd": step / 600}))
    points = sum(  # the values the tests on ages and MRD name
        len(atom.bound) if atom.op == "in" else 1  # type: ignore[arg-type]
        for rule in catalog.rules()
        for atom in atoms(rule)
        if atom.fact in answerer.tests
    )
    assert points  # the catalog does test ages and MRD
    assert 2 <= len(answerer.results) <= 2 * points + 2 * len(answerer.tests)


def test_the_cell_cache_gives_the_same_facts_as_parsing(catalog: Catalog) -> None:
    answerer = Answerer(catalog)
    rows = [{"age": "8m", "cd19": "+", "ph": ""}, {"age": "8m", "cd19": "+", "ph": ""},
            {"age": 1, "relapsed": True}, {"age": 1.0, "relapsed": 1}]  # fmt: skip
    for row in rows + rows:  # the second time, from the cache
        assert Facts(**answerer.facts(row)) == facts_from(row)  # type: ignore[arg-type]
    assert answerer.cells[("age", "8m")].value == Fraction(8, 12)
    assert answerer.cells[("ph", "")].value is None  # blank: unknown
    # True == 1 in Python, but True is no age and no relapse number: the cell holds the type.
    for row in ({"age": True}, {"relapse": True}, {"relapse": [2]}):  # a list: not cached
        with pytest.raises(FactError):
            answerer.facts(row)
    assert answerer.facts({"relapse": 1})["relapse"] == 1


def test_the_caches_are_bounded(catalog: Catalog) -> None:
    from alltx.batch import MAX_ENTRIES

    answerer = Answerer(catalog)
    for months in range(MAX_ENTRIES + 5):
        row = {"age": f"{months % 1500}m", "mrd": months % 101, "relapse": months}
        answerer.answer(answerer.facts(row))
    assert 0 < len(answerer.cells) <= MAX_ENTRIES
    assert all(0 < len(cache) <= MAX_ENTRIES for cache in answerer.verdicts)


# --- JSON Lines ---------------------------------------------------------------------------------


def test_jsonl_round_trip_keeps_ids_order_and_release() -> None:
    rows = [
        {"id": "A", "age": 19, "relapsed": True},
        {"id": 7, "age": 30, "lineage": "b", "refractory": True, "cd19": "+"},
        {"age": "8m"},
        {"id": {"site": 3}, "lineage": "t"},
    ]
    code, out, err = run(["options", "--input", "-", "--format", "jsonl"], jsonl(*rows))
    assert code == 0, err
    got = records(out)
    assert [r["id"] for r in got] == ["A", 7, None, {"site": 3}]
    assert [r["line"] for r in got] == [1, 2, 3, 4]
    assert {r["data_release"] for r in got} == {RELEASE} and {r["version"] for r in got} == {1}
    assert [o["therapy"] for o in got[0]["options"]] == THERAPIES
    status = {o["therapy"]: o["status"] for o in got[1]["options"]}
    assert status["brexucabtagene-autoleucel"] == "eligible"
    assert status["tisagenlecleucel"] == "not_eligible"
    assert got[2]["patient"]["age_months"] == 8
    assert {o["status"] for o in got[3]["options"]} == {"not_eligible"}


def test_blank_lines_are_not_rows_and_line_numbers_are_the_files() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "jsonl"], b'\n{"age": 3}\n\n{"age": 4}\n')
    assert code == 0
    assert [r["line"] for r in records(out)] == [2, 4]


MALFORMED = [
    ("not json", "not valid JSON", None),
    ('{"age": 19', "not valid JSON", None),
    ("[1, 2]", "must be a JSON object", None),
    ('"text"', "must be a JSON object", None),
    ('{"age": "old"}', "age: 'old' is not a number", "age"),
    ('{"age": -1}', "age: must be between 0 and 130", "age"),
    ('{"age": true}', "age: must be a number, not true/false", "age"),
    ('{"age": [19]}', "age: must be a number", "age"),
    ('{"lineage": "x"}', "lineage: expected b or t", "lineage"),
    ('{"cd19": 1}', "cd19: expected positive or negative", "cd19"),
    ('{"relapse": 1.5}', "relapse: expected a whole number", "relapse"),
    ('{"relapsed": "maybe"}', "relapsed: expected true or false", "relapsed"),
    ('{"mrd": 101}', "mrd: must be a percent from 0 to 100", "mrd"),
    ('{"mrd": NaN}', "mrd: expected a percent", "mrd"),
    ('{"relpased": true}', "did you mean 'relapsed'?", "relpased"),
    ('{"remission": 1, "relapsed": true}', "contradictory facts", None),
]


@pytest.mark.parametrize(("line", "says", "field"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_a_malformed_row_becomes_an_error_record_in_its_place(
    line: str, says: str, field: str | None
) -> None:
    stdin = jsonl({"id": "before", "age": 5}, line, {"id": "after", "age": 6})
    code, out, err = run(["options", "-i", "-", "-f", "jsonl"], stdin)
    assert code == 1
    before, bad, after = records(out)
    assert (before["id"], after["id"]) == ("before", "after")
    assert bad["line"] == 2 and says in bad["error"] and bad["field"] == field
    assert bad["data_release"] == RELEASE
    assert err.count("\n") == 1 and err.startswith("alltx: line 2") and says in err


def test_an_id_survives_a_bad_row() -> None:
    code, out, err = run(["options", "-i", "-", "-f", "jsonl"], jsonl({"id": "P9", "cd22": "?"}))
    assert code == 1 and records(out)[0]["id"] == "P9" and "(id 'P9')" in err


def test_bytes_that_are_not_utf8_fail_their_row_only() -> None:
    stdin = b'{"age": 3}\n{"id": "\xff"}\n{"age": 4}\n'
    code, out, _ = run(["options", "-i", "-", "--input-format", "jsonl", "-f", "jsonl"], stdin)
    assert code == 1
    got = records(out)
    assert len(got) == 3 and "not UTF-8" in got[1]["error"]


def test_fail_fast_stops_at_the_first_bad_row() -> None:
    stdin = jsonl({"age": 1}, {"age": "x"}, {"age": 2})
    code, out, _ = run(["options", "-i", "-", "-f", "jsonl", "--fail-fast"], stdin)
    assert code == 1 and len(records(out)) == 2


def test_ignore_unknown_fields() -> None:
    stdin = jsonl({"age": 19, "site": "north", "relapsed": True})
    code, out, _ = run(["options", "-i", "-", "-f", "jsonl", "--ignore-unknown-fields"], stdin)
    assert code == 0 and records(out)[0]["patient"]["relapsed"] is True


# --- CSV -----------------------------------------------------------------------------------------

CSV_IN = (
    "id,age,lineage,relapsed,relapse,refractory,cd19,cd22,ph,mrd,phase,prior_transplant\n"
    "A,19,b,yes,,,+,,,,,\n"
    "B,30,b,,,true,pos,neg,,,,no\n"
    '"C, with comma",1m,b,,,,+,,-,,consolidation,\n'
    ",,,,,,,,,,,\n"
    "E,x,b,,,,,,,,,\n"
)


def test_csv_in_csv_out() -> None:
    code, out, err = run(["options", "-i", "-", "--format", "csv"], CSV_IN.encode())
    assert code == 1  # row E is bad
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["A", "B", "C, with comma", "E"]  # the blank row is no row
    assert rows[0]["tisagenlecleucel"] == "possible"
    assert rows[0]["missing_tisagenlecleucel"] == "refractory relapse"
    assert rows[1]["brexucabtagene-autoleucel"] == "eligible"
    assert rows[1]["inotuzumab-ozogamicin"] == "not_eligible"
    assert rows[2]["blinatumomab"] == "eligible"  # consolidation, Ph-negative, one month old
    assert rows[3]["line"] == "6" and "age: 'x' is not a number" in rows[3]["error"]
    assert rows[3]["tisagenlecleucel"] == ""
    assert {r["data_release"] for r in rows} == {RELEASE}
    assert "line 6 (id 'E')" in err


def test_csv_in_jsonl_out_matches_csv_out() -> None:
    _, as_csv, _ = run(["options", "-i", "-", "-f", "csv"], CSV_IN.encode())
    _, as_jsonl, _ = run(["options", "-i", "-", "-f", "jsonl", "--input-format", "csv"],
                         CSV_IN.encode())  # fmt: skip
    for row, record in zip(csv.DictReader(io.StringIO(as_csv)), records(as_jsonl), strict=True):
        for option in record.get("options", []):
            assert row[option["therapy"]] == option["status"]
            assert row[f"missing_{option['therapy']}"] == " ".join(option["missing"])


def test_csv_unknown_column_is_refused_naming_it() -> None:
    code, out, err = run(["options", "-i", "-"], b"id,age,relpased\n1,19,yes\n")
    assert code == 2 and out == ""
    assert "unknown field 'relpased'; did you mean 'relapsed'?" in err
    assert "--ignore-unknown-fields" in err and err.count("\n") == 1
    code, out, _ = run(["options", "-i", "-", "-f", "csv", "--ignore-unknown-fields"],
                       b"id,age,relpased\n1,19,yes\n")  # fmt: skip
    assert code == 0 and next(iter(csv.DictReader(io.StringIO(out))))["id"] == "1"


def test_csv_row_with_the_wrong_number_of_cells() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "jsonl"], b"id,age\nA,1,extra\nB,2\n")
    assert code == 1
    bad, good = records(out)
    assert bad["line"] == 2 and "3 cells where the header has 2" in bad["error"]
    assert good["id"] == "B"


def test_an_empty_input_has_no_rows() -> None:
    assert run(["options", "-i", "-", "--input-format", "csv", "-f", "csv"], b"")[0] == 0
    assert run(["options", "-i", "-", "-f", "jsonl", "--input-format", "jsonl"], b"") == (0, "", "")


# --- formats, files and usage -------------------------------------------------------------------


def test_json_array_for_small_inputs() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "json"], jsonl({"age": 1}, "oops"))
    assert code == 1
    array = json.loads(out)
    assert len(array) == 2 and "error" in array[1]
    assert json.loads(run(["options", "-i", "-", "-f", "json"], b"\n")[1]) == []


def test_human_summary_counts_every_row() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "text"], CSV_IN.encode())
    assert code == 1
    assert "alltx: 4 patients" in out and "Patients per status" in out
    assert "1 rows could not be read" in out and "not medical advice" in out
    # the referral is counted for every answered row, whatever its advice
    [line] = [line for line in out.splitlines() if line.startswith("See a transplant doctor")]
    assert sum(int(n) for n in re.findall(r"\d+", line)) == 3


def test_files_by_extension_and_missing_files(tmp_path: Path) -> None:
    table = tmp_path / "cohort.csv"
    table.write_text("id,age\nA,19\n")
    lines = tmp_path / "cohort.jsonl"
    lines.write_text('{"id": "B", "age": 19}\n')
    assert records(run(["options", "-i", str(table), "-f", "jsonl"])[1])[0]["id"] == "A"
    assert records(run(["options", "-i", str(lines), "-f", "jsonl"])[1])[0]["id"] == "B"
    code, _, err = run(["options", "-i", str(tmp_path / "none.csv")])
    assert code == 2 and "cannot read --input" in err


def test_usage_errors_exit_2() -> None:
    assert run(["options", "-i", "-", "--age", "3"], b"")[0] == 2
    code, _, err = run(["options", "-i", "-"], b"hello\n")
    assert code == 2 and "pass --input-format" in err


def test_one_patient_as_jsonl_and_csv() -> None:
    code, out, _ = run(["options", "--age", "19", "--relapsed", "-f", "jsonl"])
    [record] = records(out)
    assert code == 0 and record["id"] is None and record["line"] is None
    code, out, _ = run(["options", "--age", "19", "--relapsed", "-f", "csv"])
    row = next(iter(csv.DictReader(io.StringIO(out))))
    assert row["tisagenlecleucel"] == "possible"


# --- contracts ---------------------------------------------------------------------------------


def test_schemas_validate_real_rows_and_results() -> None:
    rows = [{"id": "A", "age": "8m", "cd19": "+"}, {"age": 30, "relapse": 2}, {"age": "x"}]
    _, out, _ = run(["options", "-i", "-", "-f", "jsonl"], jsonl(*rows))
    output = schema_of("output")
    for record in records(out):
        jsonschema.validate(record, output)
    for row in rows[:2]:
        jsonschema.validate(row, schema_of("input"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"relpased": True}, schema_of("input"))


def test_schema_command_prints_json_schema() -> None:
    for which in ("input", "output"):
        code, out, _ = run(["schema", which])
        assert code == 0
        jsonschema.Draft202012Validator.check_schema(json.loads(out))


# --- streaming ---------------------------------------------------------------------------------


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text("".join(json.dumps({"id": i, "age": i % 90}) + "\n" for i in range(20000)))
    script = f"{sys.executable} -m alltx options --input {big} --format jsonl | head -n 3"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [0, 1, 2]
    assert done.stderr == ""


def test_rows_are_read_lazily() -> None:
    """A stream that never ends still yields answers: nothing reads the whole input first."""
    from alltx.rows import jsonl_rows

    endless = (b'{"age": 19}\n' for _ in itertools.count())
    answerer_rows = jsonl_rows(endless)
    assert [next(answerer_rows).line for _ in range(3)] == [1, 2, 3]


def test_a_csv_line_the_csv_reader_refuses_is_an_error_row() -> None:
    # Found by the fuzz test: a bare carriage return inside an unquoted field.
    code, out, err = run(["options", "-i", "-", "-f", "jsonl"], b"id,age\nA,1\nB,2\rX\nC,3\n")
    assert code == 1
    assert [r.get("id") for r in records(out)] == ["A", None, "C"]
    assert "not valid CSV" in records(out)[1]["error"] and "line 3" in err
    code, _, err = run(["options", "-i", "-", "--input-format", "csv"], b"id,a\rge\n")
    assert code == 2 and "the CSV header" in err


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "text"])
def test_an_id_with_a_lone_surrogate_is_written_not_a_traceback(fmt: str) -> None:
    # "\ud800" is a valid JSON string and no UTF-8 text: written as its escape, \ud800.
    rows = b'{"id": "\\ud800", "age": 3}\n{"id": ["\\udfff"], "age": "x"}\n'
    command = [sys.executable, "-m", "alltx", "options", "-i", "-", "-f", fmt]
    done = subprocess.run(command, input=rows, capture_output=True)
    assert done.returncode == 1 and b"Traceback" not in done.stderr, done.stderr
    out = done.stdout.decode("utf-8")  # strict: the output is UTF-8
    assert "\\ud800" in out
    if fmt == "jsonl":
        assert [r["id"] for r in records(out)] == ["\ud800", ["\udfff"]]  # round trip


def test_a_record_stays_one_line_whatever_its_id_holds() -> None:
    # U+0085, U+2028 and U+2029 are line breaks to many readers; JSON may leave them raw.
    rows = jsonl({"id": "a\u0085b\u2028c\u2029d", "age": 3}, {"id": "\u2028", "age": "x"})
    code, out, _ = run(["options", "-i", "-", "--input-format", "jsonl"], rows)
    assert code == 1
    found = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in found] == ["a\u0085b\u2028c\u2029d", "\u2028"]
