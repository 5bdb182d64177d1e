"""Which unknown facts can still change an answer: an exact computation over the rule tree.

An answer is `possible` while some criteria are unknown. Naming every unknown fact of every
open indication would send people after facts that cannot matter: for a relapsed adult with
B-cell ALL, blinatumomab is eligible if CD19 is positive and not eligible if it is negative,
whatever the Ph status and the chemotherapy phase are. So a fact is named "to decide" only if
giving it can change the status, at some point as the facts are given one at a time.

How. The rules of one answer are an OR of branches, each a list of tests that must all hold
(the criteria multiplied out: `all` of `any` becomes one branch per choice). A branch is alive
while none of its tests is unmet. A fact F can change the status exactly when some live branch
B tests F and F can be the fact that completes B: give B's other unknown facts values that
meet B (leaving every other fact unknown); if no other branch is complete then, a value of F
that meets B turns the answer from possible to eligible. If no such B exists, F never matters:
whenever giving F could complete a branch, another branch, complete without F, has decided the
answer already; and a value of F that rules branches out leaves the answer open for as long as
a branch without F is open (the facts are independent of each other here; the implications
between them are applied before, in `facts.derive`). `tests/test_deciding.py` holds this equal
to a search over every order of giving the facts.

A value "that meets B" is chosen among a few per fact: each test compares a fact with a bound,
so a value matters only by which side of each bound it falls; one value per side is enough.
The SQL compiler (`alltx.sql`) compiles the same witnesses into each row's query.

An open point of the sources (`facts.READING`) is no fact to give. A fact that a branch with an
open point tests can still change the answer (settled the wider way, the point would let it
complete that branch; a value that rules the branch out may decide it), so the witnesses choose
the point as met like any other test; but the point itself has no witness. It is named to
decide, and said where the status is (`open_points`), where it alone keeps a live branch open:
every other test of that branch is met.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from alltx.core.facts import (
    AGE_PAIRS,
    AGE_UNITS,
    FACTS,
    MAX_AGE_YEARS,
    NOT_AFTER,
    READING,
    RULE_FACTS,
)
from alltx.core.rules import (
    MET,
    UNKNOWN,
    UNMET,
    Atom,
    Counted,
    Node,
    Result,
    atom_result,
    result_of,
)

# A value just below a bound, for a test `at least` it: far below any step that matters (a
# day is 1/365 of a year), so the value has the same completed years and months as any other
# value between the bounds.
_BELOW = Fraction(1, 10**6)

Values = Mapping[str, object]  # rule fact -> value, as rules.evaluate reads them


@dataclass(frozen=True)
class Branch:
    """One way to meet the rules: every test must hold. `sources` are the input facts the
    tests read, in order, each once."""

    tests: tuple[Atom, ...]
    sources: tuple[str, ...]

    def on(self, source: str) -> tuple[Atom, ...]:
        return tuple(t for t in self.tests if RULE_FACTS[t.fact].source == source)


@dataclass(frozen=True)
class Witness:
    """A way for `fact` to complete `branch`: the values `chosen` (one per other source of the
    branch, used where that source is unknown) leave every other branch incomplete, and one of
    `meeting` (values of `fact` that meet the branch) completes it."""

    fact: str
    branch: Branch
    chosen: tuple[tuple[str, Values], ...]  # (source, its rule values), for branch.sources
    meeting: tuple[Values, ...]


@dataclass(frozen=True)
class Plan:
    """The witnesses of one answer's rules, computed once per rule set: every candidate way
    a fact could decide, to be checked against each patient's values."""

    branches: tuple[Branch, ...]
    order: tuple[str, ...]  # the input facts the rules read, in the order they are tested
    witnesses: tuple[Witness, ...]


def branches(node: Node) -> list[tuple[Atom, ...]]:
    """The criteria multiplied out: a list of branches, each the tests that must all hold."""
    if isinstance(node, Atom):
        return [(node,)]
    if node.mode == "any":
        return [branch for child in node.children for branch in branches(child)]
    found: list[tuple[Atom, ...]] = [()]
    for child in node.children:
        found = [done + more for done in found for more in branches(child)]
    return found


def _sources(tests: Sequence[Atom]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(RULE_FACTS[t.fact].source for t in tests))


def values_of(source: str, value: object) -> dict[str, object]:
    """The rule values an input fact's value gives (an age: completed years and months)."""
    return {
        r.name: value if r.of is None else r.of(value)
        for r in RULE_FACTS.values()
        if r.source == source
    }


def _candidates(source: str, tests: Sequence[Atom]) -> list[object]:
    """Input values of a fact that fall on every side of every bound its tests compare with."""
    # an open point (facts.READING) is met under one reading, not under the other
    if source == READING or FACTS[source].form == "bool":
        return [True, False]
    fact = FACTS[source]
    if fact.form == "category":
        return list(fact.values)
    bounds: list[Fraction] = [Fraction(0)]
    for test in tests:
        points = test.bound if test.op == "in" else (test.bound,)
        for point in points:  # type: ignore[attr-defined]
            per = AGE_UNITS.get(RULE_FACTS[test.fact].unit)
            if per is not None:  # a completed count of years or months: its steps in years
                bounds += [Fraction(point, per), Fraction(point + 1, per)]
            else:
                bounds += [Fraction(point), Fraction(point) + (1 if fact.form == "count" else 0)]
    values: list[Fraction] = []
    for bound in bounds:
        values += [bound - _BELOW, bound, bound + _BELOW]
    most = {"age": MAX_AGE_YEARS, "percent": 100}.get(fact.form)
    if most is not None:
        values.append(Fraction(most))  # the top of the last class
    kept = sorted({v for v in values if v >= 0 and (most is None or v <= most)})
    return [int(v) for v in kept if v.denominator == 1] if fact.form == "count" else list(kept)


# Ages that cannot be after another (an age at diagnosis is not after the age now), as the
# rules see them: completed years and months. A value chosen for one of them must not
# contradict the other.
_LATER = {pair.later for pair in NOT_AFTER}


def _representatives(source: str, tests: Sequence[Atom]) -> list[dict[str, object]]:
    """One value per class of a fact's values (values every test treats alike are one
    class), as rule values: the highest of its class for an age that must not be before
    another, the lowest otherwise, so that the choice contradicts the other age only if every
    value of the class would."""
    seen: dict[tuple[str, ...], dict[str, object]] = {}
    candidates = _candidates(source, tests)
    for candidate in reversed(candidates) if source in _LATER else candidates:
        values = values_of(source, candidate)
        signature = tuple(atom_result(t, values[t.fact]) for t in tests)
        seen.setdefault(signature, values)
    return list(seen.values())


def _allowed(values: Values, chosen: Values) -> bool:
    """Whether the chosen ages keep each age pair in order, with each other and with the
    patient's (`values`; a chosen age stands where the patient's is not given). Two of the
    patient's own are not compared: facts.derive has. An age known only within counts
    (rules.Counted) is out of order only where every count it may be is."""
    for earlier, later in AGE_PAIRS:
        if earlier.name not in chosen and later.name not in chosen:
            continue
        first = chosen.get(earlier.name, values.get(earlier.name))
        then = chosen.get(later.name, values.get(later.name))
        if first is None or then is None:
            continue
        least = first.low if isinstance(first, Counted) else first
        most = then.high if isinstance(then, Counted) else then
        if least > most:  # type: ignore[operator]
            return False
    return True


@functools.lru_cache(maxsize=256)
def plan(roots: tuple[Node, ...]) -> Plan:
    """Every witness of these rules (one answer's indications, or a referral's reasons)."""
    found = [Branch(tests, _sources(tests)) for root in roots for tests in branches(root)]
    every_test = [t for branch in found for t in branch.tests]
    order = _sources([t for root in roots for t in _atoms(root)])
    reps = {
        s: _representatives(s, [t for t in every_test if RULE_FACTS[t.fact].source == s])
        for s in order
    }
    witnesses: list[Witness] = []
    for branch in found:
        meeting = {s: [r for r in reps[s] if _meets(branch.on(s), r)] for s in branch.sources}
        if any(not choices for choices in meeting.values()):
            continue  # a branch no value can meet (the data check refuses such rules)
        for fact in branch.sources:
            if fact == READING:
                continue  # no value is given for it: named where it alone is open (_open)
            others = [s for s in branch.sources if s != fact]
            for combo in itertools.product(*(meeting[s] for s in others)):
                chosen = tuple(zip(others, combo, strict=True))
                witnesses.append(Witness(fact, branch, chosen, tuple(meeting[fact])))
    return Plan(tuple(found), order, tuple(witnesses))


def _atoms(node: Node) -> list[Atom]:
    if isinstance(node, Atom):
        return [node]
    return [atom for child in node.children for atom in _atoms(child)]


def _meets(tests: Sequence[Atom], values: Values) -> bool:
    return all(atom_result(t, values.get(t.fact)) == MET for t in tests)


def _state(
    roots: Sequence[Node], values: Values
) -> tuple[Plan, dict[Atom, Result], list[Branch]] | None:
    """The rules' plan, each test's result for these values and the branches still alive
    (none of their tests unmet); None once a branch is complete: the status is decided."""
    rules = plan(tuple(roots))
    results = {t: result_of(t, values) for b in rules.branches for t in b.tests}
    live = [b for b in rules.branches if all(results[t] != UNMET for t in b.tests)]
    if any(all(results[t] == MET for t in b.tests) for b in live):
        return None
    return rules, results, live


def deciding(roots: Sequence[Node], values: Values) -> tuple[str, ...]:
    """The input facts not given whose value can still change the status of these rules, in
    the order the rules test them (and `reading` where an open point alone keeps them open);
    () when the status is decided."""
    state = _state(roots, values)
    if state is None:
        return ()
    rules, results, live = state
    unknown = {RULE_FACTS[t.fact].source for t, r in results.items() if r == UNKNOWN}
    found = {
        w.fact for w in rules.witnesses if w.fact in unknown and _holds(w, live, results, values)
    }
    if _open(live, results):
        found.add(READING)
    return tuple(s for s in rules.order if s in found)


def open_points(roots: Sequence[Node], values: Values) -> tuple[Atom, ...]:
    """The open points of the sources (tests on facts.READING) that alone keep these rules
    open: each in a live branch whose every other test is met; none once the status is
    decided. In the rules' order, once each."""
    state = _state(roots, values)
    if state is None:
        return ()
    _, results, live = state
    return tuple(
        dict.fromkeys(t for b in _open(live, results) for t in b.tests if t.fact == READING)
    )


def _open(live: Sequence[Branch], results: Mapping[Atom, str]) -> list[Branch]:
    """The live branches an open point alone keeps open."""
    return [
        b
        for b in live
        if READING in b.sources and all(results[t] == MET for t in b.tests if t.fact != READING)
    ]


def _holds(
    witness: Witness, live: list[Branch], results: Mapping[Atom, str], values: Values
) -> bool:
    """Whether the witness works for this patient: its branch is alive, the ages it chooses are
    in order, and with the chosen values where a test is open (a fact not given, or known only
    within bounds: an age in days), no other live branch is complete. As the SQL's witnesses
    read it (alltx.sql._witness: a test's own result where it has one)."""
    if witness.branch not in live:
        return False
    chosen = dict(witness.chosen)
    # the ages chosen where the patient's are not given, for the order of each pair
    ages: dict[str, object] = {}
    for chosen_values in chosen.values():
        ages.update({k: v for k, v in chosen_values.items() if values.get(k) is None})
    if not _allowed(values, ages) or not any(
        _allowed(values, {**ages, **v}) for v in witness.meeting
    ):
        return False

    def complete(branch: Branch) -> bool:
        # a test's own result where it has one; where it is open, the chosen value's
        for test in branch.tests:
            result = results[test]
            source = RULE_FACTS[test.fact].source
            if result == UNKNOWN and source in chosen:
                result = atom_result(test, chosen[source][test.fact])
            if result != MET:
                return False
        return True

    return not any(complete(b) for b in live if b is not witness.branch)
