"""The generic rules engine: three-valued logic and loud failures on malformed criteria."""

from __future__ import annotations

from typing import Any

import pytest

from alltx.facts import RULE_FACTS
from alltx.rules import (
    MET,
    UNKNOWN,
    UNMET,
    Result,
    RuleError,
    combine,
    compile_criteria,
    evaluate,
    failed,
    undecided,
)

ALL_RESULTS: list[Result] = [MET, UNMET, UNKNOWN]


@pytest.mark.parametrize("a", ALL_RESULTS)
@pytest.mark.parametrize("b", ALL_RESULTS)
def test_kleene_logic(a: Result, b: Result) -> None:
    order = {UNMET: 0, UNKNOWN: 1, MET: 2}  # Kleene: all = minimum, any = maximum
    assert combine("all", [a, b]) == min(a, b, key=order.__getitem__)
    assert combine("any", [a, b]) == max(a, b, key=order.__getitem__)


def atom(fact: str, **test: Any) -> dict[str, Any]:
    return {"fact": fact, "text": f"{fact} test", **test}


TREE = {
    "all": [
        atom("age_years", at_most=25),
        {"any": [atom("refractory", **{"is": True}), atom("relapse", at_least=2)], "text": "r"},
    ],
    "text": "root",
}


def test_evaluation_is_three_valued() -> None:
    rule = compile_criteria(TREE, RULE_FACTS, "t")
    assert evaluate(rule, {"age_years": 20, "refractory": True}).result == MET
    assert evaluate(rule, {"age_years": 26, "refractory": True}).result == UNMET
    assert evaluate(rule, {"age_years": 20}).result == UNKNOWN
    assert evaluate(rule, {"age_years": 20, "refractory": False, "relapse": 1}).result == UNMET


def test_undecided_names_only_the_atoms_that_could_change_the_answer() -> None:
    rule = compile_criteria(TREE, RULE_FACTS, "t")
    evaluation = evaluate(rule, {"refractory": False})
    assert [a.fact for a in undecided(evaluation)] == ["age_years", "relapse"]
    assert undecided(evaluate(rule, {"age_years": 30})) == []


def test_failed_names_what_made_it_unmet() -> None:
    rule = compile_criteria(TREE, RULE_FACTS, "t")
    evaluation = evaluate(rule, {"age_years": 30, "refractory": False, "relapse": 1})
    assert [(e.node.fact, e.value) for e in failed(evaluation)] == [  # type: ignore[union-attr]
        ("age_years", 30),
        ("refractory", False),
        ("relapse", 1),
    ]


def test_tests_read_like_the_label() -> None:
    assert compile_criteria(atom("age_years", at_most=25), RULE_FACTS, "t").test == (  # type: ignore[union-attr]
        "at most 25 years"
    )
    assert compile_criteria(atom("mrd", at_least=0.1), RULE_FACTS, "t").test == "at least 0.1%"  # type: ignore[union-attr]
    assert compile_criteria(atom("remission", **{"in": [1, 2]}), RULE_FACTS, "t").test == (  # type: ignore[union-attr]
        "is 1 or 2"
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (atom("agee", at_least=1), "unknown fact 'agee'"),
        (atom("cd19", at_least=1), "can be tested with is, in"),
        (atom("cd19", **{"is": "weak"}), "must be compared with 'positive' or 'negative'"),
        (atom("relapsed", **{"is": "yes"}), "must be compared with true or false"),
        (atom("age_years", at_least=1, at_most=2), "exactly one of"),
        ({"fact": "age_years", "at_least": 1}, "needs `text`"),
        ({"all": [], "text": "x"}, "non-empty list"),
        ({"all": [atom("age_years", at_least=1)], "any": [], "text": "x"}, "a group takes"),
        ({"text": "x"}, "needs `fact`"),
        ("age > 1", "must be a table"),
    ],
)
def test_malformed_criteria_fail_at_load_saying_where(raw: object, problem: str) -> None:
    with pytest.raises(RuleError, match=problem) as caught:
        compile_criteria({"all": [raw], "text": "root"}, RULE_FACTS, "therapies[0]")
    assert caught.value.where.startswith("therapies[0].all[0]")
