"""Cohorts: rows in, one record per row out, in order, streamed, through the same functions as
one patient; the memo around them must never change an answer."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alltx.answer import answers
from alltx.answer.answers import compact_option, compact_referral, options_json
from alltx.answer.schemas import schema_of
from alltx.assessment.assess import assess, referrals
from alltx.batch import streaming
from alltx.cli.app import app
from alltx.core.facts import facts_from, parse_age
from alltx.io.input_rows import Failure, Row
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog

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


def answer_rows(catalog: Catalog, rows: list[dict[str, Any]], explain: bool = False) -> list[Any]:
    """The JSON Lines records of these rows, answered in-process by the cohort road."""
    fmt = streaming.JsonLines(catalog, explain)
    answering = streaming.Answering(catalog, fmt)
    out: list[str] = []
    rows_in = [Row(number, None, row) for number, row in enumerate(rows, 1)]
    streaming.stream(rows_in, answering, fmt, out.append, lambda f: None, False, streaming.Tally())
    return [json.loads(line) for line in "".join(out).splitlines()]


def full_ids(option: dict[str, Any]) -> dict[str, Any]:
    """What a compact record says of a therapy, read from its full one-patient JSON."""

    def unmet(criteria: list[dict[str, Any]]) -> list[str]:
        found = []
        for c in criteria:
            if c["id"] and c["result"] == "unmet":
                found.append(c["id"])
            found += unmet(c["criteria"]) if c["result"] == "unmet" else []
        return found

    brief: dict[str, Any] = {"status": option["status"]}
    if option["status"] == "eligible":
        brief["met"] = [i["id"] for i in option["indications"] if i["status"] == "met"]
    elif option["status"] == "not_eligible":
        brief["failed"] = [f for i in option["indications"] for f in unmet(i["criteria"])]
    else:
        brief["decide"] = option["missing"]
    return brief


@pytest.mark.slow
def test_compact_records_agree_with_the_full_answers(catalog: Catalog) -> None:
    rows = grid_rows()
    records_out = answer_rows(catalog, rows)
    for row, record in zip(rows, records_out, strict=True):
        facts = facts_from(row)
        full = options_json(facts, assess(facts, catalog), referrals(facts, catalog), catalog)
        for option in full["options"]:
            compact = record["options"][option["therapy"]]
            assert {k: v for k, v in compact.items() if k != "cautions"} == full_ids(option), row
            applying = [c for c in option["cautions_apply"]]
            assert len(compact.get("cautions", [])) == len(applying), row
        for referral in full["referrals"]:
            assert record["referrals"][referral["referral"]]["status"] == referral["status"]
    assert len(rows) == math.prod(len(values) for values in GRID.values())


@pytest.mark.slow
def test_explain_records_are_the_one_patient_json(catalog: Catalog) -> None:
    rows = grid_rows()[::3]
    for row, record in zip(rows, answer_rows(catalog, rows, explain=True), strict=True):
        facts = facts_from(row)
        one = options_json(facts, assess(facts, catalog), referrals(facts, catalog), catalog)
        assert {k: v for k, v in record.items() if k not in ("id", "line")} == one, row


@pytest.mark.slow
def test_answers_stay_the_same_when_the_memos_overflow(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every memo is bounded; with tiny bounds each is emptied again and again, and the answers
    must not change (a stale or mixed-up entry would show here)."""
    rows = grid_rows()[::7]
    rows = rows + rows[::-1]
    expected = answer_rows(catalog, rows)
    monkeypatch.setattr(streaming, "MAX_ENTRIES", 4)
    monkeypatch.setattr(streaming, "MAX_CELLS", 4)
    assert answer_rows(catalog, rows) == expected
    answering = streaming.Answering(catalog, streaming.JsonLines(catalog))
    for row in rows:
        answering.answer(Row(1, None, row))
    assert all(len(s.memo) <= 4 and len(s.deciding) <= 4 for s in answering.subjects)
    assert len(answering.classes) <= 4 and len(answering.states) <= 4


def test_each_answer_is_the_ordinary_one_for_that_row(catalog: Catalog) -> None:
    """Compact parts, memoized or not, are what compact_option makes of assess()."""
    answering = streaming.Answering(catalog, streaming.JsonLines(catalog))
    for row in grid_rows()[::11] * 2:  # the second time from the memo
        facts = facts_from(row)
        parts = answering.answer(Row(1, None, row))
        assert not isinstance(parts, Failure)
        text = "{" + "".join(parts)  # type: ignore[arg-type]
        record = json.loads(text + "}" if not text.endswith("}") else text)
        assert record["options"] == {
            o.therapy.id: compact_option(o) for o in assess(facts, catalog)
        }
        assert record["referrals"] == {
            r.referral.id: compact_referral(r) for r in referrals(facts, catalog)
        }


def test_a_value_class_is_kept_apart_from_equal_values(catalog: Catalog) -> None:
    """True == 1 in Python, but True is no age and no relapse number: the memo keeps types."""
    answering = streaming.Answering(catalog, streaming.JsonLines(catalog))
    for order in ([{"age": 1}, {"age": True}], [{"age": True}, {"age": 1}]):
        first, second = (answering.answer(Row(1, None, row)) for row in order)
        bad = first if order[0]["age"] is True else second
        good = second if bad is first else first
        assert isinstance(bad, Failure) and bad.message.startswith("age: must be an age")
        assert not isinstance(good, Failure)
    assert isinstance(answering.answer(Row(1, None, {"relapse": [2]})), Failure)  # no dict key


def test_classes_are_numbered_per_interval_not_per_value(catalog: Catalog) -> None:
    """Thousands of distinct ages and MRDs fall into the few intervals the label's bounds cut."""
    answering = streaming.Answering(catalog, streaming.JsonLines(catalog))
    for step in range(3000):
        answering.answer(Row(1, None, {"age": step / 30, "mrd": step / 600}))
    assert 2 <= len(answering.numbers) <= 20
    assert all(len(s.memo) <= 20 for s in answering.subjects)


def test_a_part_is_made_once_per_result_of_its_own_tests(catalog: Catalog) -> None:
    """Ages 19 and 30 fall in different classes (tisagenlecleucel's label stops at 25) but
    pass the same tests of blinatumomab's: its part is keyed twice and made once."""
    answering = streaming.Answering(catalog, streaming.JsonLines(catalog))
    for age in (19, 30):
        answering.answer(Row(1, None, {"age": age, "relapsed": True}))
    ids = [t.id for t in catalog.therapies]
    blinatumomab = answering.subjects[ids.index("blinatumomab")]
    tisagenlecleucel = answering.subjects[ids.index("tisagenlecleucel")]
    assert len(blinatumomab.memo) == 2 and len(blinatumomab.deciding) == 1
    assert len(tisagenlecleucel.memo) == 2 and len(tisagenlecleucel.deciding) == 2


def test_an_age_at_diagnosis_is_compared_with_the_age_exactly(catalog: Catalog) -> None:
    # Both fall in the same intervals; only the exact values say which came first.
    answering = streaming.Answering(catalog, streaming.JsonLines(catalog))
    fine = answering.answer(Row(1, None, {"age": "30.5", "age_at_diagnosis": "30.2"}))
    late = answering.answer(Row(2, None, {"age": "30.2", "age_at_diagnosis": "30.5"}))
    assert not isinstance(fine, Failure)
    assert isinstance(late, Failure) and "after the age now" in late.message


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
    assert {r["data_release"] for r in got} == {RELEASE} and {r["version"] for r in got} == {2}
    assert list(got[0]["options"]) == THERAPIES
    assert got[1]["options"]["brexucabtagene-autoleucel"] == {
        "status": "eligible",
        "met": ["brexucabtagene-autoleucel-adult-r-r-bcp-all"],
    }
    assert got[1]["options"]["tisagenlecleucel"] == {
        "status": "not_eligible",
        "failed": ["tisagenlecleucel-bcp-all-refractory-or-second-relapse.age_years"],
    }
    assert {"lineage", "cd19", "mrd"} <= set(got[2]["options"]["blinatumomab"]["decide"])
    assert {o["status"] for o in got[3]["options"].values()} == {"not_eligible"}


def test_blank_lines_are_not_rows_and_line_numbers_are_the_files() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "jsonl"], b'\n{"age": 3}\n\n{"age": 4}\n')
    assert code == 0
    assert [r["line"] for r in records(out)] == [2, 4]


MALFORMED = [
    ("not json", "not valid JSON", None),
    ('{"age": 19', "not valid JSON", None),
    ("[1, 2]", "must be a JSON object", None),
    ('"text"', "must be a JSON object", None),
    ("null", "must be a JSON object", None),
    ('{"age": 19} {"age": 20}', "not valid JSON: Extra data", None),
    ('{"age": 19}}', "not valid JSON: Extra data", None),
    ('{"age": "old"}', "age: must be an age of 0 to 130 years", "age"),
    ('{"age": -1}', "age: must be an age of 0 to 130", "age"),
    ('{"age": true}', "age: must be an age of", "age"),
    ('{"age": [19]}', "age: must be an age", "age"),
    ('{"lineage": "x"}', "lineage: must be b or t", "lineage"),
    ('{"cd19": 1}', "cd19: must be positive or negative", "cd19"),
    ('{"relapse": 1.5}', "relapse: must be a whole number", "relapse"),
    ('{"relapsed": "maybe"}', "relapsed: must be yes or no", "relapsed"),
    ('{"mrd": 101}', "mrd: must be a percent of 0 to 100", "mrd"),
    ('{"mrd": NaN}', "mrd: must be a percent", "mrd"),
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


def test_white_space_around_a_row_is_read_as_json_loads_reads_it() -> None:
    stdin = b'  {"id": "a", "age": 3}\n{"id": "b", "age": 4}  \n\t{"id": "c", "age": 5}\t\n'
    code, out, _ = run(["options", "-i", "-", "--input-format", "jsonl", "-f", "jsonl"], stdin)
    assert code == 0
    assert [(r["id"], r["line"]) for r in records(out)] == [("a", 1), ("b", 2), ("c", 3)]


def test_an_id_survives_a_bad_row() -> None:
    code, out, err = run(
        ["options", "-i", "-", "-f", "jsonl"], jsonl({"id": "P9", "cd22": "maybe"})
    )
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
    assert code == 0 and records(out)[0]["referrals"]["transplant"]["decide"] == ["reading"]
    code, out, _ = run(
        ["options", "-i", "-", "-f", "jsonl", "--ignore-unknown-fields", "--explain"], stdin
    )
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
    # a row of empty cells is a row of unknowns (an empty line would be no row)
    assert [r["id"] for r in rows] == ["A", "B", "C, with comma", "", "E"]
    assert rows[0]["tisagenlecleucel"] == "possible"
    assert rows[0]["decide_tisagenlecleucel"] == "refractory relapse"
    assert rows[1]["brexucabtagene_autoleucel"] == "eligible"
    assert rows[1]["inotuzumab_ozogamicin"] == "not_eligible"
    assert rows[1]["failed_inotuzumab_ozogamicin"] == "inotuzumab-ozogamicin-r-r-cd22-positive.cd22"
    assert rows[2]["blinatumomab"] == "eligible"  # consolidation, Ph-negative, one month old
    assert rows[3]["line"] == "5" and rows[3]["tisagenlecleucel"] == "possible"
    assert rows[4]["line"] == "6" and "age: must be an age" in rows[4]["error"]
    assert rows[4]["tisagenlecleucel"] == ""
    assert {r["data_release"] for r in rows} == {RELEASE}
    assert "line 6 (id 'E')" in err


def test_csv_in_jsonl_out_matches_csv_out() -> None:
    _, as_csv, _ = run(["options", "-i", "-", "-f", "csv"], CSV_IN.encode())
    _, as_jsonl, _ = run(
        ["options", "-i", "-", "-f", "jsonl", "--input-format", "csv"], CSV_IN.encode()
    )
    for row, record in zip(csv.DictReader(io.StringIO(as_csv)), records(as_jsonl), strict=True):
        for therapy, option in record.get("options", {}).items():
            name = answers.csv_name(therapy)
            assert row[name] == option["status"]
            for part in answers.OPTION_PARTS:
                assert row[f"{part}_{name}"] == " ".join(option.get(part, []))


def test_csv_unknown_column_is_refused_naming_it() -> None:
    code, out, err = run(["options", "-i", "-"], b"id,age,relpased\n1,19,yes\n")
    assert code == 2 and out == ""
    assert "unknown field 'relpased'; did you mean 'relapsed'?" in err
    assert "--ignore-unknown-fields" in err and err.count("\n") == 1
    code, out, _ = run(
        ["options", "-i", "-", "-f", "csv", "--ignore-unknown-fields"],
        b"id,age,relpased\n1,19,yes\n",
    )
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
    assert "alltx: 5 patients" in out and "Patients per status" in out
    assert "1 rows could not be read" in out and "not medical advice" in out
    # the referral is counted for every answered row, whatever its advice
    [line] = [line for line in out.splitlines() if line.startswith("See a transplant doctor")]
    assert sum(int(n) for n in re.findall(r"\d+", line)) == 4


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


def test_data_show_names_every_id_a_record_uses() -> None:
    _, out, _ = run(["options", "-i", "-", "-f", "jsonl"], CSV_IN.encode())
    used = set()
    for record in records(out):
        for option in record.get("options", {}).values():
            used |= {*option.get("met", []), *option.get("failed", []), *option.get("cautions", [])}
    code, shown, _ = run(["data", "show", "--format", "json"])
    assert code == 0 and used
    listed = json.dumps(json.loads(shown))
    assert all(f'"{i}"' in listed for i in used)


# --- contracts ---------------------------------------------------------------------------------


def test_schemas_validate_real_rows_and_results() -> None:
    # an age in days is said as given, and its months as the two it may be (issue 28)
    rows = [
        {"id": "A", "age": "8m", "cd19": "+"},
        {"age": 30, "relapse": 2},
        {"age": "30 days", "relapsed": "yes"},
        {"age": "x"},
    ]
    _, out, _ = run(["options", "-i", "-", "-f", "jsonl"], jsonl(*rows))
    output = schema_of("output")
    for record in records(out):
        jsonschema.validate(record, output)
    _, out, _ = run(["options", "-i", "-", "-f", "jsonl", "--explain"], jsonl(*rows))
    explained = schema_of("explain")
    for record in records(out):
        jsonschema.validate(record, explained)
    for row in rows[:3]:
        jsonschema.validate(row, schema_of("input"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"relpased": True}, schema_of("input"))


def test_schema_command_prints_json_schema() -> None:
    for which in ("input", "output", "explain"):
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
    # alltx's own status: not 1 (a bad row), but 141, as for a program SIGPIPE ended
    script = (
        f"{sys.executable} -m alltx options --input {big} --format csv | head -n 2; "
        + 'echo "status ${PIPESTATUS[0]}"'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "status 141" and done.stderr == ""


def test_rows_are_read_lazily() -> None:
    """A stream that never ends still yields answers: nothing reads the whole input first."""
    from alltx.io.input_rows import jsonl_rows

    endless = (b'{"age": 19}\n' for _ in itertools.count())
    answerer_rows = jsonl_rows(endless)
    assert [next(answerer_rows).line for _ in range(3)] == [1, 2, 3]


def test_a_bare_carriage_return_ends_a_line() -> None:
    # Found by the fuzz test: a bare carriage return inside an unquoted field. It ends the line,
    # as old Mac files end every line, so "X" is a line of its own (one cell, not two).
    code, out, err = run(["options", "-i", "-", "-f", "jsonl"], b"id,age\nA,1\nB,2\rX\nC,3\n")
    assert code == 1
    assert [r.get("line") for r in records(out)] == [2, 3, 4, 5]
    assert [r.get("id") for r in records(out)] == ["A", "B", "X", "C"]
    assert "1 cells where the header has 2" in records(out)[2]["error"] and "line 4" in err
    code, _, err = run(["options", "-i", "-", "--input-format", "csv"], b"id,a\rge\n")
    assert code == 2 and "unknown field 'a'" in err and err.count("\n") == 1


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


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)),
        st.integers(),
        st.none(),
        st.lists(st.text(), max_size=2),
    )
)
def test_an_id_is_written_as_json_dumps_writes_it(found: object) -> None:
    """JSON Lines writes a plain ASCII id between quotes itself (4.8 times as fast): held
    to json.dumps, through _one_line, for every id."""
    jsonl_format = streaming.JsonLines(load_catalog())
    written = jsonl_format.answer(Row(1, found, {}), [])
    assert written.startswith(f'{{"id": {streaming._one_line(found)}, "line": 1, ')
    assert json.loads(written.removesuffix("\n") + '"x": 1}')["id"] == found


# --- what a researcher expects ---------------------------------------------------------------


def test_piped_stdin_is_the_cohort_with_no_flags() -> None:
    code, out, _ = run(["options", "-f", "csv"], CSV_IN.encode())
    assert code == 1 and next(csv.DictReader(io.StringIO(out)))["id"] == "A"
    code, out, _ = run(["options", "--age", "19", "-f", "jsonl"], CSV_IN.encode())  # flags: no
    assert code == 0 and len(records(out)) == 1 and records(out)[0]["line"] is None


def test_a_header_of_another_kind_of_file_is_one_short_line() -> None:
    """alltx's own CSV output read back as a cohort: 32 unknown columns, said once."""
    _, table, _ = run(["options", "-i", "-", "-f", "csv"], jsonl({"id": "A", "age": 3}))
    code, out, err = run(["options", "-i", "-", "--input-format", "csv", "-f", "jsonl"], table)
    assert code == 2 and not out and err.count("\n") == 1 and len(err) < 400
    unknown = len(table.splitlines()[0].split(",")) - 1  # all but id
    assert f"{unknown} unknown fields: 'line' (did you mean 'lineage'?)" in err
    assert f"and {unknown - 3} more" in err


def test_header_names_are_read_without_regard_to_case() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "jsonl"], b"ID,Age,Lineage\nA,30,B\n")
    assert code == 0 and records(out)[0]["id"] == "A"


def test_tsv_by_extension_option_or_first_line(tmp_path: Path) -> None:
    tsv = b"id\tage\tlineage\tcd19\tcd22\trelapsed\nA, one\t30\tb\t+\t+\tyes\n"
    path = tmp_path / "cohort.tsv"
    path.write_bytes(tsv)
    for args, stdin in (
        (["-i", str(path)], None),
        (["-i", "-", "--input-format", "tsv"], tsv),
        (["-i", "-"], tsv),
    ):
        code, out, err = run(["options", *args, "-f", "jsonl"], stdin)
        assert code == 0, err
        assert records(out)[0]["id"] == "A, one"
        assert records(out)[0]["options"]["obecabtagene-autoleucel"]["status"] == "eligible"


def test_csv_columns_are_snake_case_and_described_by_a_table_schema() -> None:
    code, out, _ = run(["options", "-i", "-", "-f", "csv"], CSV_IN.encode())
    header = next(csv.reader(io.StringIO(out)))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in header)
    assert {
        "brexucabtagene_autoleucel",
        "decide_blinatumomab",
        "cautions_tisagenlecleucel",
        "referral_transplant",
        "data_release",
    } <= set(header)
    code, schema, _ = run(["schema", "csv"])
    table = json.loads(schema)
    assert code == 0 and [f["name"] for f in table["fields"]] == header
    status = next(f for f in table["fields"] if f["name"] == "blinatumomab")
    assert status["constraints"]["enum"] == ["eligible", "not_eligible", "possible"]
    assert table["missingValues"] == [""]


def test_quiet_and_max_errors_on_stderr() -> None:
    bad = jsonl(*({"id": n, "age": "x"} for n in range(5)), {"age": 3})
    code, out, err = run(["options", "-i", "-", "-f", "jsonl", "--max-errors", "2"], bad)
    assert code == 1 and len(records(out)) == 6  # every row still in the output
    assert err.count("alltx: line") == 2 and "3 more row errors not shown" in err
    code, out, err = run(["options", "-i", "-", "-f", "jsonl", "--quiet"], bad)
    assert code == 1 and len(records(out)) == 6 and err == ""


def test_on_a_terminal_progress_then_one_closing_line(capsys: pytest.CaptureFixture[str]) -> None:
    from alltx.batch.progress import Reporter

    tally = streaming.Tally(read=3, answered=2, failed=1)
    reporter = Reporter(quiet=False, max_errors=None, terminal=True)
    rows = list(range(2500))
    assert list(reporter.watch(rows)) == rows  # the rows go through unchanged
    reporter.close(tally)
    assert capsys.readouterr().err.endswith("alltx: 3 rows read, 2 answered, 1 errors\n")
    quiet = Reporter(quiet=True, max_errors=None, terminal=True)
    assert quiet.watch(rows) is rows
    quiet.close(tally)
    assert capsys.readouterr().err == ""
    off = Reporter(quiet=False, max_errors=None, terminal=False)  # piped: no closing line
    assert off.watch(rows) is rows
    off.close(tally)
    assert capsys.readouterr().err == ""


def test_explain_is_refused_for_csv() -> None:
    code, _, err = run(["options", "-i", "-", "-f", "csv", "--explain"], CSV_IN.encode())
    assert code == 2 and "--explain writes JSON" in err


def test_a_cohort_of_one_says_one_patient() -> None:
    # Issue 29: the summary said "1 patients".
    from typer.testing import CliRunner

    from alltx.cli.app import app

    one = CliRunner().invoke(
        app, ["options", "-i", "-", "--input-format", "csv", "-f", "text"], input="id,age\nA,19\n"
    )
    two = CliRunner().invoke(
        app,
        ["options", "-i", "-", "--input-format", "csv", "-f", "text"],
        input="id,age\nA,19\nB,20\n",
    )
    assert one.stdout.startswith("alltx: 1 patient\n") and two.stdout.startswith(
        "alltx: 2 patients"
    )
