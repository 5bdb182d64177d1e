""" "To decide" names exactly the facts, among those the open criteria test, whose value can
change an answer.

The oracle here is the definition itself, searched by brute force: a fact F decides a
`possible` answer if a criterion still open (no test above it unmet) tests F and, for some
facts given first (each unknown or any value, every order of giving them covered), the answer
is still possible with F unknown and some value of F turns it eligible or not eligible. Facts
are given through `facts_from`, so what they imply about each other (and what they rule out) is
applied as for a user; a fact the others imply is no longer unknown. A fact that could change
the answer only by implying another (a first remission implies not refractory) is not named:
the open criterion names the fact to give. An open point of the sources (`facts.READING`, no
fact a person gives) is named where settling it the wider way would decide the answer. The
search shares nothing with `alltx.core.deciding` but the assessment.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from alltx.assessment.assess import assess_therapy, refer
from alltx.core.facts import FACTS, READING, RULE_FACTS, FactError, facts_from
from alltx.core.rules import UNMET, Atom, Evaluation, Node, evaluate
from alltx.model.catalog import Catalog
from alltx.model.data_files import load_catalog

# Values at and beside every bound the labels use (1 month, 1, 17/18, 25/26 years; MRD 0.1%;
# 1 and 2 TKIs and prior therapies; first and second relapse and remission).
VALUES: dict[str, list[Any]] = {
    "age": ["0.5m", "1m", 1, 17, 18, 25, 26, 40],
    "age_at_diagnosis": ["6m", 1, 20, 30],  # 30: no age can be a child's or up to 25 then
    "relapse": [0, 1, 2],
    "remission": [0, 1, 2, 3],
    "mrd": [0.05, 0.1],
    "prior_therapies": [0, 1, 2],
    "tkis_failed": [0, 1, 2],
}


def values(name: str) -> list[Any]:
    fact = FACTS[name]
    if name in VALUES:
        return VALUES[name]
    return [True, False] if fact.form == "bool" else list(fact.values)


def sources(roots: list[Node]) -> set[str]:
    def atoms(node: Node) -> list[Atom]:
        return [node] if isinstance(node, Atom) else [a for c in node.children for a in atoms(c)]

    # the facts a person gives: an open point of the sources is none
    return {RULE_FACTS[a.fact].source for root in roots for a in atoms(root)} - {READING}


def open_facts(roots: list[Node], values: dict[str, object]) -> set[str]:
    """The facts tested by a criterion still open: its test unknown, nothing above it unmet."""

    def walk(evaluation: Evaluation) -> list[str]:
        if evaluation.result == UNMET:
            return []
        if isinstance(evaluation.node, Atom):
            return [RULE_FACTS[evaluation.node.fact].source] if evaluation.value is None else []
        return [name for child in evaluation.children for name in walk(child)]

    return {name for root in roots for name in walk(evaluate(root, values))}


class Oracle:
    """The brute-force search for one answer (a therapy's indications, or a referral)."""

    def __init__(self, status: Any, roots: list[Node]) -> None:
        self.status, self.roots, self.reads = status, roots, sources(roots)
        self.memo: dict[frozenset[tuple[str, Any]], tuple[str, frozenset[str]] | None] = {}

    def judge(self, given: dict[str, Any]) -> tuple[str, frozenset[str]] | None:
        """The status and the facts still unknown, or None if the facts contradict."""
        key = frozenset(given.items())
        if key not in self.memo:
            try:
                facts = facts_from(given)
            except FactError:
                self.memo[key] = None
            else:
                unknown = frozenset(n for n in self.reads if facts.values[n] is None)
                self.memo[key] = (self.status(facts.rule_values()), unknown)
        return self.memo[key]

    def deciding(self, given: dict[str, Any]) -> set[str]:
        judged = self.judge(given)
        assert judged is not None
        open_ = sorted(judged[1])
        tested = open_facts(self.roots, facts_from(given).rule_values())
        found: set[str] = set()
        for assignment in itertools.product(*([None, *values(n)] for n in open_)):
            partial = {
                **given,
                **{n: v for n, v in zip(open_, assignment, strict=True) if v is not None},
            }
            now = self.judge(partial)
            if now is None or now[0] != "possible":
                continue
            for name in (now[1] & tested) - found:
                if any(
                    (then := self.judge({**partial, name: v})) is not None and then[0] != "possible"
                    for v in values(name)
                ):
                    found.add(name)
        if self.status({**facts_from(given).rule_values(), READING: True}) != "possible":
            found.add(READING)  # the point alone keeps it open: settled, it would decide
        return found


def patients(catalog: Catalog, seed: int, count: int, most_open: int) -> list[dict[str, Any]]:
    """Patients with some facts given, drawn at random (the same every run), whose answers
    leave at most `most_open` facts of their rules unknown (the search is exponential)."""
    draw = random.Random(seed)
    reads = sources(list(catalog.rules()))
    found: list[dict[str, Any]] = []
    while len(found) < count:
        names = draw.sample(sorted(reads), k=draw.randint(len(reads) - most_open - 2, len(reads)))
        given = {n: draw.choice(values(n)) for n in names}
        try:
            facts = facts_from(given)
        except FactError:
            continue
        if sum(facts.values[n] is None for n in reads) <= most_open + 2:
            found.append(given)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("regulator", ["fda", "ema"])
def test_to_decide_is_exactly_the_facts_that_can_change_the_answer(regulator: str) -> None:
    catalog = load_catalog(regulator=regulator)
    oracles = {
        t.id: (
            t,
            Oracle(lambda v, t=t: assess_therapy(t, v).status, [i.rule for i in t.indications]),
        )
        for t in catalog.therapies
    }
    checked = 0
    wrong: list[tuple[Any, ...]] = []
    for given in patients(catalog, seed=29, count=1500, most_open=5):
        rule_values = facts_from(given).rule_values()
        for therapy, oracle in oracles.values():
            option = assess_therapy(therapy, rule_values)
            if option.status != "possible":
                assert option.missing == ()
                continue
            if len(oracle.judge(given)[1]) > 6:  # type: ignore[index]
                continue
            checked += 1
            expected = oracle.deciding(given)
            assert option.missing, (therapy.id, given)  # a possible answer waits on something
            if set(option.missing) != expected:
                wrong.append((therapy.id, given, option.missing, sorted(expected)))
    assert wrong == [], f"{len(wrong)} of {checked}: {wrong[:3]}"
    assert checked > 100


def test_the_referral_names_only_facts_that_can_change_it() -> None:
    catalog = load_catalog()
    [referral] = catalog.referrals
    oracle = Oracle(
        lambda v: (
            refer(referral, v)
            .status.replace("recommended", "eligible")
            .replace("not_indicated", "not_eligible")
        ),
        [referral.rule],
    )
    for given in patients(catalog, seed=5, count=150, most_open=4):
        result = refer(referral, facts_from(given).rule_values())
        if result.status == "possible" and len(oracle.judge(given)[1]) <= 5:  # type: ignore[index]
            assert set(result.missing) == oracle.deciding(given), given


def test_the_audits_example() -> None:
    """A relapsed adult with B-cell ALL: CD19 decides blinatumomab both ways, so Ph and the
    chemotherapy phase do not."""
    catalog = load_catalog()
    [blina] = [t for t in catalog.therapies if t.id == "blinatumomab"]
    facts = facts_from({"age": 40, "relapsed": True, "lineage": "b"})
    assert assess_therapy(blina, facts.rule_values()).missing == ("cd19",)


STATE_FACTS = ["high_risk_first_relapse", "newly_diagnosed", "prior_transplant",
               "relapse_after_transplant", "prior_autologous_transplant"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("regulator", ["fda", "ema"])
def test_where_facts_imply_each_other_every_fact_named_can_change_the_answer(
    regulator: str,
) -> None:
    """Patients whose given facts imply others (transplants, a first relapse, a new
    diagnosis): every fact named can change the answer, and a possible answer names one. A
    fact that could change it only through what it implies about another open fact (a donor
    transplant and no relapse after it imply no relapse now) may go unnamed: the fact it
    implies is named instead."""
    catalog = load_catalog(regulator=regulator)
    draw = random.Random(8)
    others = sorted(sources(list(catalog.rules())) - set(STATE_FACTS))
    checked = 0
    for _ in range(1500):
        given = {draw.choice(STATE_FACTS): draw.choice([True, False])}
        for name in draw.sample(others, k=min(len(others), draw.randint(8, 13))):
            given[name] = draw.choice(values(name))
        try:
            facts = facts_from(given)
        except FactError:
            continue
        for therapy in catalog.therapies:
            option = assess_therapy(therapy, facts.rule_values())
            if option.status != "possible":
                continue
            oracle = Oracle(
                lambda v, t=therapy: assess_therapy(t, v).status,
                [i.rule for i in therapy.indications],
            )
            if len(oracle.judge(given)[1]) > 6:  # type: ignore[index]
                continue
            checked += 1
            assert option.missing, (therapy.id, given)
            assert set(option.missing) <= oracle.deciding(given), (therapy.id, given)
    assert checked > 300
