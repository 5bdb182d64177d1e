"""Properties that must hold for every patient, checked with hypothesis over random ones."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alltx.assessment.assess import assess, referrals
from alltx.cli.app import app
from alltx.core.facts import READING, FactError, Years, facts_from, parse_age
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog

CATALOG = load_catalog()
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ages = st.one_of(
    st.integers(0, 130),
    st.fractions(0, 130, max_denominator=12).map(lambda f: round(float(f), 4)),
    st.integers(0, 36).map(lambda months: f"{months}m"),
)
markers = st.sampled_from(["positive", "negative"])


@st.composite
def patients(draw: st.DrawFn) -> dict[str, Any]:
    """A patient whose every fact is known and consistent."""
    state = draw(st.sampled_from(["new", "remission", "relapse", "refractory", "both"]))
    facts: dict[str, Any] = {
        "age": draw(ages),
        "lineage": draw(st.sampled_from(["b", "t"])),
        "cd19": draw(markers),
        "cd22": draw(markers),
        "ph": draw(markers),
        "mrd": draw(st.sampled_from([0, 0.01, 0.09, 0.1, 0.5, 12.5])),
        "phase": draw(st.sampled_from(["induction", "consolidation", "maintenance"])),
        "prior_transplant": draw(st.booleans()),
        "induction_failure": draw(st.booleans()),
        "high_risk": draw(st.booleans()),
    }
    diagnosed = draw(st.sampled_from(["0m", "11m", "12m", 1, 5, 30]))
    facts["age_at_diagnosis"] = (
        diagnosed if parse_age(diagnosed) <= parse_age(facts["age"]) else facts["age"]
    )
    if state == "new":
        facts.update(relapse=0, refractory=False, remission=0)
    elif state == "remission":
        facts.update(remission=draw(st.integers(1, 4)), relapse=0, refractory=False)
    else:
        relapse = draw(st.integers(1, 4)) if state != "refractory" else 0
        facts.update(relapse=relapse, refractory=state != "relapse", remission=0)
    facts["relapsed"] = facts["relapse"] >= 1
    return facts


def statuses(given: dict[str, Any], catalog: Catalog = CATALOG) -> dict[str, str]:
    """Each therapy's status and each referral's (`referral_<id>`), as the CSV names them."""
    facts = facts_from(given)
    found = {o.therapy.id: o.status for o in assess(facts, catalog)}
    return found | {f"referral_{r.referral.id}": r.status for r in referrals(facts, catalog)}


@pytest.mark.slow
@EXAMPLES
@given(patients(), st.data())
def test_more_knowledge_never_reverses_an_answer(full: dict[str, Any], data: st.DataObject) -> None:
    kept = data.draw(st.sets(st.sampled_from(sorted(full))), label="facts kept")
    partial = statuses({name: full[name] for name in kept})
    complete = statuses(full)
    for therapy, status in partial.items():
        if status != "possible":  # a decided answer stays decided, the same way
            assert complete[therapy] == status, (therapy, kept)


@EXAMPLES
@given(patients())
def test_with_every_fact_known_nothing_is_possible(full: dict[str, Any]) -> None:
    """Nothing is possible once every fact is known, except what the facts cannot settle: an
    open point of the sources (an open reading, H22; the referral under 40, H20), and the
    months within an age given in whole years (H21: 0 years may be 0 to 11 months)."""
    facts = facts_from(full)
    answers = [*assess(facts, CATALOG), *referrals(facts, CATALOG)]
    for answer in answers:
        if answer.status != "possible":
            continue
        left = set(answer.missing) - {READING}
        assert left <= ({"age"} if isinstance(facts.age, Years) else set()), answer.missing
        assert answer.missing, "a possible answer names what would decide it"


@pytest.mark.slow
@EXAMPLES
@given(patients(), st.data())
def test_safety_invariants(full: dict[str, Any], data: st.DataObject) -> None:
    kept = data.draw(st.sets(st.sampled_from(sorted(full))), label="facts kept")
    given_facts = {name: full[name] for name in kept}
    facts = facts_from(given_facts)
    status = statuses(given_facts)
    could = {therapy for therapy, s in status.items() if s in ("eligible", "possible")}
    could -= {name for name in status if name.startswith("referral_")}
    years = None if facts.age is None else int(facts.age)
    # the completed months it surely has at most: whole years are any month of that year (H21)
    months = (
        None
        if facts.age is None
        else int(facts.age * 12) + (11 if isinstance(facts.age, Years) else 0)
    )
    if facts.lineage == "t":
        assert could == set()
    if years is not None and years > 25:
        assert "tisagenlecleucel" not in could
    if years is not None and years < 18:
        assert {"brexucabtagene-autoleucel", "obecabtagene-autoleucel"}.isdisjoint(could)
    if facts.cd19 == "negative" or (months is not None and months < 1):
        assert "blinatumomab" not in could
    if facts.cd22 == "negative" or (years is not None and years < 1):
        assert "inotuzumab-ozogamicin" not in could


NOT = {
    "relapsed": "--not-relapsed",
    "refractory": "--not-refractory",
    "prior_transplant": "--no-prior-transplant",
    "induction_failure": "--no-induction-failure",
    "high_risk": "--not-high-risk",
}


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(patients(), st.data())
def test_json_jsonl_and_csv_say_the_same(full: dict[str, Any], data: st.DataObject) -> None:
    kept = data.draw(st.sets(st.sampled_from(sorted(full))), label="facts kept")
    row = {name: full[name] for name in kept}
    flags = []
    for name, value in row.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else NOT[name])
        else:
            flags += [flag, str(value)]
    # With no flag, a piped stdin would be the cohort (as jq reads it): one fact at least.
    assume(flags)
    runner = CliRunner()
    single = json.loads(runner.invoke(app, ["options", *flags, "-f", "json"]).stdout)
    line = json.dumps({"id": "x", **row}) + "\n"
    explain = ["options", "-i", "-", "-f", "jsonl", "--explain"]
    [full] = [json.loads(r) for r in runner.invoke(app, explain, input=line).stdout.splitlines()]
    assert {k: v for k, v in full.items() if k not in ("id", "line")} == single
    as_jsonl = runner.invoke(app, ["options", "-i", "-", "-f", "jsonl"], input=line).stdout
    [record] = [json.loads(r) for r in as_jsonl.splitlines()]
    as_csv = ["options", "-i", "-", "-f", "csv", "--input-format", "jsonl"]
    [cells] = list(csv.DictReader(io.StringIO(runner.invoke(app, as_csv, input=line).stdout)))
    for option in single["options"]:
        compact = record["options"][option["therapy"]]
        assert compact["status"] == option["status"]
        assert compact.get("decide", []) == (
            option["missing"] if option["status"] == "possible" else []
        )
        met = [i["id"] for i in option["indications"] if i["status"] == "met"]
        assert compact.get("met", []) == (met if option["status"] == "eligible" else [])
        name = option["therapy"].replace("-", "_")
        assert cells[name] == option["status"]
        for part in ("met", "failed", "decide", "cautions"):
            assert cells[f"{part}_{name}"] == " ".join(compact.get(part, []))
    for referral in single["referrals"]:
        column = f"referral_{referral['referral']}"
        assert record["referrals"][referral["referral"]]["status"] == referral["status"]
        assert cells[column] == referral["status"]


@EXAMPLES
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "relapsed": st.booleans(),
            "relapse": st.integers(0, 4),
            "refractory": st.booleans(),
            "remission": st.integers(0, 4),
        },
    )
)
def test_derivations_are_consistent_or_refused(state: dict[str, Any]) -> None:
    try:
        facts = facts_from(state)
    except FactError as error:
        assert "contradictory facts" in str(error)
        return
    if facts.relapse is not None:
        assert facts.relapsed == (facts.relapse >= 1)
    if facts.remission:
        assert facts.relapsed is False and facts.refractory is False
    if facts.relapsed or facts.refractory:
        assert facts.remission == 0
    for name, value in state.items():  # what was given is kept
        assert getattr(facts, name) == value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
around = st.sampled_from(["", " ", "\t", "  ", "x", "}", ",", " {}"])


@EXAMPLES
@given(around, json_values, around, st.booleans())
def test_a_line_is_read_as_json_loads_reads_it(
    before: str, value: Any, after: str, row: bool
) -> None:
    """JSON Lines rows are scanned without json.loads' wrappers; every line must still read as
    json.loads reads it: the same object, or no row (blank), or an error in its place."""
    from alltx.io.input_rows import Failure, Row, jsonl_rows

    if row:
        value = {"id": "P1", "age": value}
    line = before + json.dumps(value) + after
    got = list(jsonl_rows([line.encode("utf-8")]))
    try:
        expected = json.loads(line)
    except json.JSONDecodeError:
        assert len(got) == 1 and isinstance(got[0], Failure) and "not valid JSON" in got[0].message
        return
    if not isinstance(expected, dict):
        assert len(got) == 1 and isinstance(got[0], Failure) and "JSON object" in got[0].message
        return
    row_id = expected.pop("id", None)
    assert got == [Row(1, row_id, expected)]


@EXAMPLES
@given(st.text())
def test_a_csv_cell_from_outside_is_safe_to_print_and_to_open(text: str) -> None:
    """Any id or message becomes a cell with no terminal control character, nothing a
    spreadsheet would run, and nothing UTF-8 cannot hold; printable text stays as it was."""
    from alltx.batch.streaming import FORMULA_STARTS, _cell

    cell = _cell(text)
    assert isinstance(cell, str)
    cell.encode("utf-8")
    assert not cell.startswith(FORMULA_STARTS)
    assert not any((ord(c) < 0x20 and c not in "\t\r\n") or 0x7F <= ord(c) < 0xA0 for c in cell)
    if text.isprintable():
        assert cell == ("'" + text if text.startswith(FORMULA_STARTS) else text)


@EXAMPLES
@given(st.one_of(st.none(), st.integers(), st.text()), st.one_of(st.none(), st.integers(1, 10**6)))
def test_a_csv_record_starts_as_the_csv_module_writes_its_id_and_line(
    row_id: object, line: int | None
) -> None:
    """The CSV record writes a plain id itself: it must be the csv module's writing."""
    from alltx.batch.streaming import Csv, _cell
    from alltx.io.input_rows import Row

    fmt = Csv(CATALOG)
    text = fmt.answer(Row(line, row_id, {}), [])
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerow(
        [_cell(row_id), "" if line is None else line]
    )
    assert text == expected.getvalue().removesuffix("\r\n") + fmt.tail
