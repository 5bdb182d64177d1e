"""The Python API (issue 26): alltx.options and alltx.cohort give what the commands print, for
the same facts, rows and regulator; a bad fact is a ValueError in the command's words."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alltx
from alltx.core.facts import FACTS

from .test_facts import AGE

ALLTX = [sys.executable, "-m", "alltx"]


def command(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*ALLTX, *args], input=stdin, capture_output=True, timeout=60)


def flags(facts: dict[str, object]) -> list[str]:
    """The facts as `alltx options` flags: a yes/no fact as its switch."""
    out: list[str] = []
    for name, value in facts.items():
        fact = FACTS[name]
        if value is True or value is False:
            out.append(fact.flag if value else fact.negative)
        else:
            out += [fact.flag, str(value)]
    return out


VALUES: dict[str, Any] = {
    "age": st.sampled_from([0.5, 1, 17, 18, 19, 25, 25.99, 26, 40, "8m", "2.5 years"]),
    "relapsed": st.booleans(),
    "relapse": st.integers(0, 3),
    "refractory": st.booleans(),
    "remission": st.sampled_from([0, 1, 2, "CR1"]),
    "lineage": st.sampled_from(["b", "t", "B-ALL"]),
    "cd19": st.sampled_from(["positive", "negative", "CD19+"]),
    "cd22": st.sampled_from(["pos", "neg"]),
    "ph": st.sampled_from(["positive", "Ph-negative"]),
    "mrd": st.sampled_from([0.01, 0.1, "0.5%", 2]),
    "prior_transplant": st.booleans(),
}
# at least one fact: with none, and stdin not a terminal, `alltx options` reads a cohort
PATIENT = st.fixed_dictionaries({}, optional=VALUES).filter(bool)


@settings(max_examples=12, deadline=None)
@given(PATIENT, st.sampled_from(["fda", "ema", "both"]))
def test_options_is_what_the_command_prints_as_json(
    facts: dict[str, object], regulator: str
) -> None:
    done = command("options", *flags(facts), "--regulator", regulator, "--format", "json")
    if done.returncode == 0:
        assert alltx.options(regulator=regulator, **facts) == json.loads(done.stdout)
    else:  # contradictory facts: refused in the command's words, the fact named as in a row
        said = done.stderr.decode().removeprefix("alltx: error: ").strip()
        with pytest.raises(ValueError) as refused:
            alltx.options(regulator=regulator, **facts)
        assert str(refused.value).split(": ", 1)[-1] == said.split(": ", 1)[-1]


@pytest.mark.parametrize(
    ("facts", "said"),
    [
        ({"age": 200}, f"age: {AGE}"),
        ({"age": "old"}, f"age: {AGE}; got 'old'"),
        (
            {"birth_date": "2040-01-01"},
            "birth_date: the birth date is after the as-of date "
            f"({date.today().isoformat()}); check both",
        ),
        ({"agee": 19}, "agee: unknown field 'agee'; did you mean 'age'?"),
        (
            {"lineage": "x"},
            "lineage: must be b or t (b-cell, t-cell, B-ALL, pre-B, T-ALL also work); got 'x'",
        ),
    ],
)
def test_a_bad_fact_is_a_value_error_in_the_commands_words(
    facts: dict[str, object], said: str
) -> None:
    with pytest.raises(ValueError) as refused:
        alltx.options(**facts)
    assert str(refused.value) == said
    row = command("options", "-i", "-", "-f", "jsonl", stdin=json.dumps(facts).encode())
    assert json.loads(row.stdout)["error"] == said  # a row with the same fact says the same


@pytest.mark.parametrize("regulator", ["fdaa", "fda,", "both,all"])
def test_a_regulator_the_data_does_not_hold_is_a_value_error_in_the_commands_words(
    regulator: str,
) -> None:
    said = command("options", "--age", "19", "--regulator", regulator).stderr.decode()
    assert said.startswith("alltx: error: --regulator: the data holds no regulator")
    words = said.removeprefix("alltx: error: --regulator: ").strip()
    with pytest.raises(ValueError, match=f"^regulator: {re.escape(words)}$"):
        alltx.options(regulator=regulator, age=19)


def test_a_cohort_is_answered_under_one_regulator() -> None:
    with pytest.raises(ValueError, match=r"^regulator: a cohort is answered under one regulator"):
        list(alltx.cohort([{"age": 19}], regulator="all"))
    said = command("options", "-i", "-", "--regulator", "all", stdin=b'{"age": 19}').stderr
    assert b"a cohort is answered under one regulator" in said


ROWS = [
    {"id": "a", "age": 19, "relapsed": True, "lineage": "B-ALL"},
    {"id": "b", "age": "old"},
    {"id": 7, "age": 30, "relapsed": True, "relapse": 0},  # contradictory
    {"id": "d", "agee": 3},
    {"id": "e\u2028f", "age": "8m", "cd19": "CD19+", "remission": 1, "mrd": "0.5%"},
    {"id": None, "age": None, "relapsed": None},
]


@pytest.mark.parametrize("regulator", ["fda", "ema"])
@pytest.mark.parametrize("explain", [False, True])
def test_cohort_yields_the_records_the_command_writes(regulator: str, explain: bool) -> None:
    text = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
    more = ["--explain"] if explain else []
    done = command("options", "-i", "-", "-f", "jsonl", "--regulator", regulator, *more, stdin=text)
    expected = [json.loads(line) for line in done.stdout.decode().split("\n") if line]
    got = alltx.cohort(ROWS, regulator=regulator, explain=explain)
    assert iter(got) is got  # yielded as made, not a list
    assert list(got) == expected and len(expected) == len(ROWS)
    assert ["error" in r for r in expected] == [False, True, True, True, False, False]


def test_a_row_that_is_no_mapping_is_that_rows_error() -> None:
    got = list(alltx.cohort([{"id": "a", "age": 19}, [1, 2], "x", {"id": "b", "age": 20}]))
    assert [r["id"] for r in got] == ["a", None, None, "b"]
    assert [r["line"] for r in got] == [1, 2, 3, 4]
    assert "a row must be a JSON object" in got[1]["error"]


def test_a_dataframe_in_gives_the_compact_records_as_a_dataframe(tmp_path: Any) -> None:
    pandas = pytest.importorskip("pandas")
    duckdb = pytest.importorskip("duckdb")
    frame = pandas.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "age": [19.0, float("nan"), 30.0, 4.5],  # NaN: not known
            "relapsed": [True, None, True, False],
            "lineage": ["b", "B-ALL", None, "t"],
            "relapse": [None, None, 0, None],  # c contradicts itself
        }
    )
    got = alltx.cohort(frame)
    assert isinstance(got, pandas.DataFrame) and len(got) == 4
    # the same rows, given as JSON Lines with the missing values left out, to --format parquet
    rows = [
        {k: v for k, v in row.items() if v is not None and v == v}
        for row in frame.astype(object).to_dict("records")
    ]
    source, out = tmp_path / "rows.jsonl", tmp_path / "out.parquet"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    command("options", "-i", str(source), "-f", "parquet", "-o", str(out))
    result = duckdb.connect().execute(f"SELECT * FROM read_parquet('{out}')")
    assert list(got.columns) == [d[0] for d in result.description]
    expected = result.fetchall()
    assert [tuple(row) for row in got.itertuples(index=False)] == expected
    assert got["error"].iloc[2].startswith("contradictory facts")


def test_importing_alltx_loads_neither_the_api_nor_the_rules() -> None:
    # The command line imports the package first: the API must cost it nothing.
    code = "import alltx, sys; print(sorted(m for m in sys.modules if m.startswith('alltx')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "['alltx']"


def test_the_readme_example_is_real_output() -> None:
    import doctest
    import re

    from .test_readme import page

    section = page("python")
    [example] = re.findall(r"```python\n(.*?)```", section, re.S)
    test = doctest.DocTestParser().get_doctest(example, {}, "python", "docs/python.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False) == (0, 6)


def test_an_age_from_a_birth_date_is_taken_at_as_of_in_python_as_on_the_command_line() -> None:
    answer = alltx.options(birth_date="2026-10-20", as_of="2026-12-01", relapsed=True)
    assert answer["patient"]["age_months"] == 1
    assert answer["facts_from"] == {"age": "from the birth date 2026-10-20, at 2026-12-01"}
    rows = [
        {"id": "a", "birth_date": "2026-10-20"},
        {"id": "b", "birth_date": "2026-10-20", "as_of": "2026-11-19"},
    ]
    got = [r["options"]["blinatumomab"]["status"] for r in alltx.cohort(rows, as_of="2026-12-01")]
    command = [
        json.loads(line)["options"]["blinatumomab"]["status"]
        for line in subprocess.run(
            [*ALLTX, "options", "-i", "-", "-f", "jsonl", "--as-of", "2026-12-01"],
            input="".join(json.dumps(r) + "\n" for r in rows),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    ]
    assert got == command
    with pytest.raises(ValueError, match=r"^as_of: must be a date as YYYY-MM-DD \(2019-05-31\)"):
        alltx.cohort(rows, as_of="1 December")
