"""The generic rules engine: three-valued logic and loud failures on malformed criteria."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from alltx.core.facts import RULE_FACTS
from alltx.core.rules import (
    MET,
    UNKNOWN,
    UNMET,
    Atom,
    Group,
    Result,
    RuleError,
    atom_result,
    checker,
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


KNOWN = ", ".join(RULE_FACTS)
WHOLE = "'relapse' must be compared with a whole number 0 or more, not "
# Every way a criterion can be wrong, with the exact words a data author reads.
MESSAGES = [
    ("age > 1", "a criterion must be a table with `fact` or `all` / `any`"),
    ({"text": "x"}, "a criterion needs `fact` (one test) or `all` / `any` (a group)"),
    ({"all": [atom("ph", **{"is": "positive"})], "any": [], "text": "x"},
     "a group takes `all` or `any`, not both: nest one in the other"),
    ({"any": [atom("ph", **{"is": "positive"})], "text": "x", "note": 1},
     "a group takes `any` and `text` only, not ['note']"),
    ({"any": [], "text": "x"}, "`any` must be a non-empty list of criteria"),
    ({"all": "ph", "text": "x"}, "`all` must be a non-empty list of criteria"),
    (atom("agee", at_least=1), f"unknown fact 'agee'; known facts: {KNOWN}"),
    ({"fact": 7, "at_least": 1, "text": "x"}, f"unknown fact 7; known facts: {KNOWN}"),
    (atom("ph", **{"is": "positive"}, note=1),
     "a test on 'ph' takes exactly one of is, in, at_least, at_most, text, and an id"),
    (atom("ph"), "a test on 'ph' takes exactly one of is, in, at_least, at_most, text, and an id"),
    (atom("ph", at_least=1), "'ph' is a category fact; it can be tested with is, in"),
    (atom("relapsed", **{"in": [True]}), "'relapsed' is a bool fact; it can be tested with is"),
    (atom("mrd", **{"is": 1}), "'mrd' is a number fact; it can be tested with at_least, at_most"),
    (atom("remission", **{"in": []}), "`in` takes a non-empty list of values"),
    (atom("remission", **{"in": 1}), "`in` takes a non-empty list of values"),
    (atom("ph", **{"in": ["positive", "weak"]}),
     "'ph' must be compared with 'positive' or 'negative', not 'weak'"),
    (atom("relapsed", **{"is": 1}), "'relapsed' must be compared with true or false, not 1"),
    (atom("relapse", at_least=-1), f"{WHOLE}-1"),
    (atom("relapse", at_least=True), f"{WHOLE}True"),
    (atom("relapse", at_least=1.5), f"{WHOLE}1.5"),
    (atom("mrd", at_least=True), "'mrd' must be compared with a number, not True"),
    (atom("mrd", at_least="0.1"), "'mrd' must be compared with a number, not '0.1'"),
    ({"fact": "ph", "is": "positive", "text": "  "},
     "every criterion needs `text`: the plain words a patient reads"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "message"), MESSAGES, ids=[m[1][:50] for m in MESSAGES])
def test_each_fault_has_its_own_exact_message(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_criteria(raw, RULE_FACTS, "here")
    assert str(caught.value) == f"here: {message}"
    assert caught.value.where == "here"


@pytest.mark.parametrize(
    ("raw", "test"),
    [
        (atom("relapsed", **{"is": True}), "is true"),
        (atom("relapsed", **{"is": False}), "is false"),
        (atom("ph", **{"is": "negative"}), "is negative"),
        (atom("ph", **{"in": ["negative", "positive"]}), "is negative or positive"),
        (atom("relapse", at_least=2), "at least 2"),
        (atom("age_months", at_least=1), "at least 1 months"),
        (atom("mrd", at_least=1), "at least 1%"),
        (atom("mrd", at_most=0.25), "at most 0.25%"),
    ],
)
def test_every_kind_of_test_reads_plainly(raw: dict[str, Any], test: str) -> None:
    node = compile_criteria(raw, RULE_FACTS, "t")
    assert isinstance(node, Atom) and node.test == test


def test_groups_keep_their_text_and_a_zero_bound_is_allowed() -> None:
    tree = {"any": [atom("relapse", at_least=0)], "text": " Either "}
    node = compile_criteria(tree, RULE_FACTS, "t")
    assert isinstance(node, Group) and node.text == "Either"
    assert isinstance(node.children[0], Atom) and node.children[0].bound == 0
    with pytest.raises(RuleError) as caught:
        compile_criteria({"all": [atom("ph", **{"is": "positive"})]}, RULE_FACTS, "g")
    assert caught.value.where == "g"


def test_text_is_kept_without_surrounding_space() -> None:
    node = compile_criteria({"fact": "ph", "is": "positive", "text": " Ph+ \n"}, RULE_FACTS, "t")
    assert node.text == "Ph+"


def test_bounds_are_exact_numbers() -> None:
    node = compile_criteria(atom("mrd", at_least=0.1), RULE_FACTS, "t")
    assert isinstance(node, Atom) and node.bound == Fraction(1, 10)
    assert atom_result(node, Fraction(1, 10)) == MET  # 0.1% is "0.1% or more"


@pytest.mark.parametrize(
    ("op", "bound", "value", "result"),
    [
        ("is", "b", "b", MET),
        ("is", "b", "t", UNMET),
        ("is", "b", None, UNKNOWN),
        ("is", True, True, MET),
        ("is", True, False, UNMET),
        ("is", 2, 2, MET),
        ("in", (1, 2), 2, MET),
        ("in", (1, 2), 3, UNMET),
        ("in", (1, 2), None, UNKNOWN),
        ("at_least", 18, 18, MET),
        ("at_least", 18, 17, UNMET),
        ("at_least", 18, None, UNKNOWN),
        ("at_most", 25, 25, MET),
        ("at_most", 25, 26, UNMET),
        ("at_most", 25, None, UNKNOWN),
    ],
)
def test_compiled_checks_agree_with_atom_result(
    op: str, bound: object, value: object, result: str
) -> None:
    test = Atom("x", op, bound, "t")
    assert atom_result(test, value) == checker(test)(value) == result
