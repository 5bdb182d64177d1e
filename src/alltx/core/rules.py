"""A small, generic evaluator for label criteria, with three-valued logic.

A criterion is an atom (one test on one fact) or a group (`all` / `any` of criteria). A fact that
is unknown makes its atom `unknown`, never `unmet`; groups combine results the way SQL and CQL
combine NULL (Kleene logic). Nothing here knows about any drug: the criteria come from the data
file and the fact names from the registry the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Literal, Protocol

Result = Literal["met", "unmet", "unknown"]
MET: Result = "met"
UNMET: Result = "unmet"
UNKNOWN: Result = "unknown"
# What the results of a therapy's indications (any met, else any unknown) and of a referral's
# reasons come to. Named here, beside Result, so that the answer's schema (alltx.answer.schemas) can
# name them without importing the assessment, which imports the catalog, which uses the schema.
Status = Literal["eligible", "possible", "not_eligible"]
Advice = Literal["recommended", "possible", "not_indicated"]


@dataclass(frozen=True)
class Span:
    """A value known only to lie between two levels, as a lab reports MRD below its test's
    sensitivity: above `low` (`low` itself too unless `low_open`) and below `high` (never
    reaching it; None: no level said). A test on it is met or unmet where every value between
    the levels gives the same result, else unknown. `words` say what was given."""

    low: Fraction
    high: Fraction | None
    low_open: bool
    words: str

    def against(self, op: str, bound: Fraction) -> Result:
        below = self.high is not None and self.high <= bound  # every value is under the bound
        above = self.low > bound or (self.low == bound and not self.low_open)  # at or over it
        if op == "at_least":
            return MET if above else UNMET if below else UNKNOWN
        if op == "at_most":  # every value under a level at or under the bound is under it
            over = self.low > bound or (self.low == bound and self.low_open)
            return MET if below else UNMET if over else UNKNOWN
        return UNKNOWN  # no equality on a value known only within levels


@dataclass(frozen=True)
class Counted:
    """A whole count known only to be one of `low` to `high` (an age given in days: its
    completed months, which depend on the months the days fell in). A test on it is met or
    unmet where every count between gives the same result, else unknown; `in` is met where
    one of its counts is met, as SQL's OR of equalities has it. `words` say it."""

    low: int
    high: int
    words: str

    def against(self, op: str, bound: object) -> Result:
        if op == "at_least":
            return MET if self.low >= bound else UNMET if self.high < bound else UNKNOWN  # type: ignore[operator]
        if op == "at_most":
            return MET if self.high <= bound else UNMET if self.low > bound else UNKNOWN  # type: ignore[operator]
        if op == "in":
            return combine("any", [self.against("is", point) for point in bound])  # type: ignore[attr-defined]
        if self.low == self.high == bound:
            return MET
        return UNMET if not self.low <= bound <= self.high else UNKNOWN  # type: ignore[operator]


OPS = ("is", "in", "at_least", "at_most")
_OPS_BY_KIND = {
    "bool": ("is",),
    "category": ("is", "in"),
    "count": OPS,
    "number": ("at_least", "at_most"),
}


class FactSpec(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def values(self) -> tuple[str, ...]: ...


class RuleError(ValueError):
    """A criterion in the data that cannot be evaluated; `where` says where it is."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True, slots=True)
class Atom:
    fact: str
    op: str
    bound: object  # a bool, a string, an int, an exact Fraction, or a tuple for `in`
    text: str
    unit: str = ""
    # A stable name for the test, for machine records: the data's `id`, else the fact's name;
    # `named` puts the rule's own id in front (`blinatumomab-r-r.cd19`).
    id: str = ""
    # Facts that bound this one's value when it is unknown (from the fact registry): an age
    # not given is at least the age at diagnosis, so `at most 25` is unmet after a diagnosis
    # at 30.
    floor: str = ""
    ceiling: str = ""

    @property
    def test(self) -> str:
        """The test in a clinician's shorthand: `at most 25 years`, `is positive`."""
        if self.op == "in":
            shown = " or ".join(_show(v) for v in self.bound)  # type: ignore[attr-defined]
            return f"is {shown}"
        words = {"is": "is", "at_least": "at least", "at_most": "at most"}[self.op]
        unit = f" {self.unit}" if self.unit and self.unit != "%" else self.unit
        return f"{words} {_show(self.bound)}{unit}"


@dataclass(frozen=True, slots=True)
class Group:
    mode: Literal["all", "any"]
    children: tuple[Node, ...]
    text: str


Node = Atom | Group


@dataclass(frozen=True, slots=True)
class Evaluation:
    node: Node
    result: Result
    value: object = None  # the patient's value, for atoms
    children: tuple[Evaluation, ...] = ()

    def atoms(self) -> list[Evaluation]:
        """Every atom's evaluation below this one, in order."""
        if isinstance(self.node, Atom):
            return [self]
        return [atom for child in self.children for atom in child.atoms()]


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Fraction):
        return f"{float(value):g}"  # 25, 0.1
    return str(value)


# --- compiling the data into rule nodes ------------------------------------------------------


def compile_criteria(raw: object, facts: Mapping[str, FactSpec], where: str) -> Node:
    """Turn one criteria table from the data file into nodes, or fail saying where and why."""
    if not isinstance(raw, Mapping):
        raise RuleError(where, "a criterion must be a table with `fact` or `all` / `any`")
    groups = [key for key in ("all", "any") if key in raw]
    if groups:
        return _compile_group(raw, groups, facts, where)
    if "fact" in raw:
        return _compile_atom(raw, facts, where)
    raise RuleError(where, "a criterion needs `fact` (one test) or `all` / `any` (a group)")


def _compile_group(
    raw: Mapping[str, object], groups: list[str], facts: Mapping[str, FactSpec], where: str
) -> Group:
    mode = groups[0]
    if len(groups) > 1:
        raise RuleError(where, "a group takes `all` or `any`, not both: nest one in the other")
    extra = set(raw) - {mode, "text"}
    if extra:
        raise RuleError(where, f"a group takes `{mode}` and `text` only, not {sorted(extra)}")
    items = raw[mode]
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise RuleError(where, f"`{mode}` must be a non-empty list of criteria")
    children = tuple(
        compile_criteria(item, facts, f"{where}.{mode}[{index}]")
        for index, item in enumerate(items)
    )
    return Group(mode, children, _text(raw, where))  # type: ignore[arg-type]


def _compile_atom(raw: Mapping[str, object], facts: Mapping[str, FactSpec], where: str) -> Atom:
    name = raw["fact"]
    if not isinstance(name, str) or name not in facts:
        raise RuleError(where, f"unknown fact {name!r}; known facts: {', '.join(facts)}")
    spec = facts[name]
    ops = [op for op in OPS if op in raw]
    extra = set(raw) - {"fact", "text", "id", *OPS}
    if len(ops) != 1 or extra:
        raise RuleError(
            where, f"a test on {name!r} takes exactly one of {', '.join(OPS)}, text, and an id"
        )
    local = raw.get("id", name)
    if not isinstance(local, str) or not re.fullmatch(r"[a-z0-9_-]+", local):
        raise RuleError(where, "a test's `id` is lower-case letters, digits, - and _")
    op = ops[0]
    if op not in _OPS_BY_KIND[spec.kind]:
        allowed = ", ".join(_OPS_BY_KIND[spec.kind])
        raise RuleError(where, f"{name!r} is a {spec.kind} fact; it can be tested with {allowed}")
    raw_bound = raw[op]
    if op == "in":
        if not isinstance(raw_bound, list) or not raw_bound:
            raise RuleError(where, "`in` takes a non-empty list of values")
        bound: object = tuple(_bound(value, spec, name, where) for value in raw_bound)
    else:
        bound = _bound(raw_bound, spec, name, where)
    floor, ceiling = getattr(spec, "floor", ""), getattr(spec, "ceiling", "")
    return Atom(name, op, bound, _text(raw, where), spec.unit, local, floor, ceiling)


def _bound(value: object, spec: FactSpec, name: str, where: str) -> object:
    kind = spec.kind
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "category" and isinstance(value, str) and value in spec.values:
        return value
    if kind == "count" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return Fraction(str(value))
    expected = {
        "bool": "true or false",
        "category": " or ".join(repr(v) for v in spec.values),
        "count": "a whole number 0 or more",
        "number": "a number",
    }[kind]
    raise RuleError(where, f"{name!r} must be compared with {expected}, not {value!r}")


def _text(raw: Mapping[str, object], where: str) -> str:
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RuleError(where, "every criterion needs `text`: the plain words a patient reads")
    return text.strip()


# --- evaluating -----------------------------------------------------------------------------


def evaluate(node: Node, values: Mapping[str, object]) -> Evaluation:
    if isinstance(node, Atom):
        value = values.get(node.fact)
        return Evaluation(node, result_of(node, values), value)
    children = tuple(evaluate(child, values) for child in node.children)
    return Evaluation(
        node, combine(node.mode, [child.result for child in children]), None, children
    )


def combine(mode: Literal["all", "any"], results: Sequence[Result]) -> Result:
    """Kleene logic: `all` fails on any unmet, `any` holds on any met, else unknown decides."""
    decisive, opposite = (UNMET, MET) if mode == "all" else (MET, UNMET)
    if decisive in results:
        return decisive
    if UNKNOWN in results:
        return UNKNOWN
    return opposite


def result_of(atom: Atom, values: Mapping[str, object]) -> Result:
    """One test on the patient's values: on its fact's value, or where that is unknown, on the
    facts that bound it (what every value between the bounds gives, else unknown)."""
    value = values.get(atom.fact)
    if value is not None or not (atom.floor or atom.ceiling):
        return atom_result(atom, value)
    low = values.get(atom.floor) if atom.floor else None
    high = values.get(atom.ceiling) if atom.ceiling else None
    if low is None and high is None:
        return UNKNOWN
    # a bound known only within counts: the value is at least the least, at most the most
    low = low.low if isinstance(low, Counted) else low
    high = high.high if isinstance(high, Counted) else high
    points: tuple[Any, ...] = atom.bound if atom.op == "in" else (atom.bound,)  # type: ignore[assignment]
    if atom.op == "at_least":
        (bound,) = points
        if low is not None and low >= bound:
            return MET
        return UNMET if high is not None and high < bound else UNKNOWN
    if atom.op == "at_most":
        (bound,) = points
        if high is not None and high <= bound:
            return MET
        return UNMET if low is not None and low > bound else UNKNOWN
    # is / in: unmet when every point lies outside the bounds
    outside = all((low is not None and p < low) or (high is not None and p > high) for p in points)
    return UNMET if outside else UNKNOWN


def atom_result(atom: Atom, value: object) -> Result:
    """One test on one value; None (unknown) gives unknown."""
    if value is None:
        return UNKNOWN
    bound = atom.bound
    if isinstance(value, Span | Counted):
        return value.against(atom.op, bound)  # type: ignore[arg-type]
    if atom.op == "is":
        holds = value == bound
    elif atom.op == "in":
        holds = value in bound  # type: ignore[operator]
    elif atom.op == "at_least":
        holds = value >= bound  # type: ignore[operator]
    else:
        holds = value <= bound  # type: ignore[operator]
    return MET if holds else UNMET


def named(node: Node, prefix: str) -> Node:
    """The tree with each test's id prefixed by the rule's own (`indication-id.fact`)."""
    if isinstance(node, Atom):
        return replace(node, id=f"{prefix}.{node.id or node.fact}")
    return replace(node, children=tuple(named(child, prefix) for child in node.children))


def duplicate_ids(node: Node) -> list[str]:
    """Test ids used twice in one rule: a fact tested twice needs an `id` on each test."""
    ids = [atom.id for atom in atoms(node)]
    return sorted({i for i in ids if ids.count(i) > 1})


def atoms(node: Node) -> list[Atom]:
    """Every test in a rule tree, in order."""
    if isinstance(node, Group):
        return [atom for child in node.children for atom in atoms(child)]
    return [node]


def undecided(evaluation: Evaluation) -> list[Atom]:
    """The unknown atoms whose answers could still change this result, in order."""
    if evaluation.result != UNKNOWN:
        return []
    if isinstance(evaluation.node, Atom):
        return [evaluation.node]
    return [atom for child in evaluation.children for atom in undecided(child)]


def failed(evaluation: Evaluation) -> list[Evaluation]:
    """The atoms that made this result unmet (for `any`, every branch failed), in order."""
    if evaluation.result != UNMET:
        return []
    if isinstance(evaluation.node, Atom):
        return [evaluation]
    return [atom for child in evaluation.children for atom in failed(child)]


Check = Callable[[object], Result]


def checker(atom: Atom) -> Check:
    """The atom's test compiled into a closure, for evaluating many patients fast.

    Same answers as atom_result (tested); it skips the dispatch on the operator per call.
    """
    bound: Any = atom.bound
    if atom.op == "is":
        return lambda v: UNKNOWN if v is None else (MET if v == bound else UNMET)
    if atom.op == "in":
        return lambda v: UNKNOWN if v is None else (MET if v in bound else UNMET)
    if atom.op == "at_least":
        return lambda v: UNKNOWN if v is None else (MET if v >= bound else UNMET)
    return lambda v: UNKNOWN if v is None else (MET if v <= bound else UNMET)


def satisfiable(node: Node) -> bool:
    """Whether some values of the facts meet these criteria: a tree that can never be met is a
    mistake in the data (bounds the wrong way round, a fact required to have two values)."""
    return any(_possible(branch) for branch in _branches(node))


def _branches(node: Node) -> list[list[Atom]]:
    """The criteria as alternatives, each a list of tests that must all hold (DNF)."""
    if isinstance(node, Atom):
        return [[node]]
    if node.mode == "any":
        return [branch for child in node.children for branch in _branches(child)]
    branches: list[list[Atom]] = [[]]
    for child in node.children:
        branches = [done + more for done in branches for more in _branches(child)]
    return branches


def _possible(atoms: list[Atom]) -> bool:
    by_fact: dict[str, list[Atom]] = {}
    for atom in atoms:
        by_fact.setdefault(atom.fact, []).append(atom)
    for tests in by_fact.values():
        # If any value meets all of one fact's tests, one of their bounds does: the highest lower
        # bound, else the lowest upper bound, else a value named by `is` / `in`.
        candidates = [v for t in tests for v in (t.bound if t.op == "in" else (t.bound,))]  # type: ignore[attr-defined]
        if not any(all(atom_result(t, value) == MET for t in tests) for value in candidates):
            return False
    return True
