"""Patient facts: what the user told us, parsed, checked for contradictions and completed.

A fact the user did not give is `None` (unknown), never false. Everything a fact implies about
another fact is derived here, once, so the rules only ever see one consistent picture.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

MAX_AGE_YEARS = 130
MAX_COUNT = 10**15 - 1  # no relapse or remission number is longer: more is a mistake

Kind = Literal["bool", "count", "number", "category"]
Value = bool | int | float | str | None  # a fact's value as JSON writes it


class FactError(ValueError):
    """A fact value that cannot be right (bad format, impossible value, contradiction)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class InputFact:
    """A fact a person can give: a CLI flag and a batch field of the same name."""

    name: str
    label: str  # plain words, with a gloss for the jargon
    flag: str  # how to give it on the command line
    short: str  # a word or two, for lists


@dataclass(frozen=True)
class RuleFact:
    """A fact the rules can test; `source` is the input fact that decides it."""

    name: str
    kind: Kind
    source: str
    unit: str = ""
    values: tuple[str, ...] = ()


_GIVEN = "relapsed (the leukemia has come back now, after treatment)"
_REFRACTORY = "refractory (the leukemia did not respond, or stopped responding, to treatment)"
_MRD = "MRD (minimal residual disease: leukemia cells left that only sensitive tests find)"
INPUT_FACTS: dict[str, InputFact] = {
    f.name: f
    for f in (
        # name, plain words, how to give it, short name
        InputFact("age", "age", "--age YEARS (or --age 8m for months)", "age"),
        InputFact(
            "lineage", "lineage (B-cell precursor or T-cell ALL)", "--lineage b|t", "lineage"
        ),
        InputFact("relapsed", _GIVEN, "--relapsed or --not-relapsed", "relapsed"),
        InputFact("relapse", "relapse number (1 = first relapse)", "--relapse N", "relapse number"),
        InputFact("refractory", _REFRACTORY, "--refractory or --not-refractory", "refractory"),
        InputFact(
            "remission",
            "complete remission number (1 = first complete remission, CR1)",
            "--remission N",
            "remission",
        ),
        InputFact(
            "cd19",
            "CD19 (a protein on the leukemia cells that some treatments target)",
            "--cd19 positive|negative",
            "CD19",
        ),
        InputFact(
            "cd22",
            "CD22 (a protein on the leukemia cells that inotuzumab targets)",
            "--cd22 positive|negative",
            "CD22",
        ),
        InputFact(
            "ph",
            "Philadelphia chromosome (Ph, a gene change in some leukemias)",
            "--ph positive|negative",
            "Ph",
        ),
        InputFact("mrd", _MRD, "--mrd PERCENT", "MRD"),
        InputFact(
            "phase",
            "phase of multiphase chemotherapy",
            "--phase induction|consolidation|maintenance",
            "chemotherapy phase",
        ),
        InputFact(
            "prior_transplant",
            "prior allogeneic stem-cell transplant (cells from a donor)",
            "--prior-transplant or --no-prior-transplant",
            "prior transplant",
        ),
        InputFact(
            "induction_failure",
            "induction failure (no remission within 28 days of starting the first chemotherapy)",
            "--induction-failure or --no-induction-failure",
            "induction failure",
        ),
        InputFact(
            "high_risk",
            "high risk of relapse (as the care team has said, from test results at diagnosis "
            "or MRD)",
            "--high-risk or --not-high-risk",
            "relapse risk",
        ),
        InputFact(
            "age_at_diagnosis",
            "age at diagnosis",
            "--age-at-diagnosis YEARS (or 8m for months)",
            "age at diagnosis",
        ),
    )
}

MARKER = ("positive", "negative")
PHASES = ("induction", "consolidation", "maintenance")
LINEAGES = ("b", "t")

RULE_FACTS: dict[str, RuleFact] = {
    f.name: f
    for f in (
        RuleFact("age_years", "count", "age", unit="years"),
        RuleFact("age_months", "count", "age", unit="months"),
        RuleFact("lineage", "category", "lineage", values=LINEAGES),
        RuleFact("relapsed", "bool", "relapsed"),
        RuleFact("relapse", "count", "relapse"),
        RuleFact("refractory", "bool", "refractory"),
        RuleFact("remission", "count", "remission"),
        RuleFact("cd19", "category", "cd19", values=MARKER),
        RuleFact("cd22", "category", "cd22", values=MARKER),
        RuleFact("ph", "category", "ph", values=MARKER),
        RuleFact("mrd", "number", "mrd", unit="%"),
        RuleFact("phase", "category", "phase", values=PHASES),
        RuleFact("prior_transplant", "bool", "prior_transplant"),
        RuleFact("induction_failure", "bool", "induction_failure"),
        RuleFact("high_risk", "bool", "high_risk"),
        RuleFact("diagnosis_age_years", "count", "age_at_diagnosis", unit="years"),
    )
}


# --- value parsers: one per kind of value, shared by flags and batch rows -----------------

# Digits a number may have: far more than any age or percent, few enough that no input can
# make alltx compute with a number of a million digits (1e-999999999 would).
_AGE = re.compile(
    r"^\s*(-?\d{1,15}(?:\.\d{1,15})?)\s*(m|mo|months?|y|yrs?|years?)?\s*$", re.IGNORECASE
)
# A percent as text: a decimal, with an exponent of at most two digits (1e-05, as exports
# write it).
_DECIMAL = re.compile(r"^[+-]?(?:\d{1,15}(?:\.\d{0,15})?|\.\d{1,15})(?:[eE][+-]?\d{1,2})?$")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_MARKER_WORDS = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
}
_LINEAGE_WORDS = {
    "b": "b",
    "b-cell": "b",
    "bcell": "b",
    "b cell": "b",
    "t": "t",
    "t-cell": "t",
    "tcell": "t",
    "t cell": "t",
    # as clinicians write it
    "b-all": "b",
    "pre-b": "b",
    "pre-b-all": "b",
    "precursor b": "b",
    "b-cell precursor": "b",
    "b-precursor": "b",
    "bcp": "b",
    "bcp-all": "b",
    "t-all": "t",
}


def _exact(value: int | float | str) -> Fraction:
    """An exact number: 0.1 stays one tenth, so label bounds compare exactly. Infinity and NaN
    raise ValueError, which each caller turns into its own message."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def parse_age(value: object) -> Fraction:
    """Age in years, exact. Numbers are years; a string may end in `m` for months."""
    hint = "give years (19, 2.5) or months with m (8m)"
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not true/false; {hint}")
    if isinstance(value, int | float):
        try:
            years = _exact(value)
        except ValueError:
            raise ValueError(f"must be a number; {hint}") from None
    elif isinstance(value, str):
        match = _AGE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a number; {hint}")
        number, unit = match.groups()
        years = Fraction(number)
        if unit and unit.lower().startswith("m"):
            years /= 12
    else:
        raise ValueError(f"must be a number; {hint}")
    if years < 0 or years > MAX_AGE_YEARS:
        raise ValueError(f"must be between 0 and {MAX_AGE_YEARS} years, got {_show(years)}")
    return years


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"expected true or false, got {value!r}")


def parse_remission(value: object) -> int:
    """A complete remission number; CR1, CR2 as clinicians write them."""
    if isinstance(value, str) and value.strip().lower().startswith("cr"):
        try:
            return parse_count(value.strip()[2:].strip())
        except ValueError:
            message = f"expected a whole number 0 or more, or CR1, CR2 ...; got {value!r}"
            raise ValueError(message) from None
    return parse_count(value)


def parse_count(value: object) -> int:
    """A whole number, 0 or more, of at most 15 digits (relapse and remission numbers)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 15:
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return value
    if isinstance(value, int) and value > MAX_COUNT:
        # Not shown: a number of thousands of digits is neither printable nor worth printing.
        raise ValueError("expected a whole number of at most 15 digits, got a longer one")
    raise ValueError(f"expected a whole number 0 or more, got {value!r}")


def _word(value: object, words: dict[str, str], expected: str) -> str:
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise ValueError(f"expected {expected}, got {value!r}")


def parse_marker(value: object) -> str:
    return _word(value, _MARKER_WORDS, "positive or negative (pos, neg, +, - also work)")


def marker(name: str) -> Callable[[object], str]:
    """The parser of one marker, which also reads the marker's name written before the
    result, as clinicians write it: CD19+, CD19-negative, Ph+, Ph negative."""

    def parse(value: object) -> str:
        if isinstance(value, str):
            text = value.strip()
            if text.lower().startswith(name) and len(text) > len(name):
                value = text[len(name) :].strip(" -:") or text[len(name) :].strip()
        return parse_marker(value)

    return parse


def parse_lineage(value: object) -> str:
    return _word(value, _LINEAGE_WORDS, "b or t (b-cell, t-cell also work)")


def parse_phase(value: object) -> str:
    return _word(value, {p: p for p in PHASES}, "induction, consolidation or maintenance")


def parse_percent(value: object) -> Fraction:
    """MRD as a percent of cells, 0 to 100; `0.1` and `0.1%` both mean 0.1%."""
    given = value
    if isinstance(value, str):
        value = value.strip().removesuffix("%").strip()
        if not _DECIMAL.match(value):
            raise ValueError(f"expected a percent from 0 to 100, got {given!r}")
        number = Fraction(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = _exact(value)
        except ValueError:
            raise ValueError("expected a percent from 0 to 100") from None
    else:
        raise ValueError(f"expected a percent from 0 to 100, got {value!r}")
    if not 0 <= number <= 100:
        shown = given.strip() if isinstance(given, str) else repr(given)
        raise ValueError(f"must be a percent from 0 to 100, got {shown}")
    return number


def _show(number: Fraction) -> str:
    return str(int(number)) if number.denominator == 1 else f"{float(number):g}"


# One parser per input fact. Flags, batch rows and the pydantic row schema in `alltx.contract`
# all go through these, so a value means the same thing wherever it comes from.
PARSERS: dict[str, Callable[[object], object]] = {
    "age": parse_age,
    "relapsed": parse_bool,
    "relapse": parse_count,
    "refractory": parse_bool,
    "remission": parse_remission,
    "lineage": parse_lineage,
    "cd19": marker("cd19"),
    "cd22": marker("cd22"),
    "ph": marker("ph"),
    "mrd": parse_percent,
    "phase": parse_phase,
    "prior_transplant": parse_bool,
    "induction_failure": parse_bool,
    "high_risk": parse_bool,
    "age_at_diagnosis": parse_age,
}


def unknown_field(name: str) -> str:
    """Say a field name is unknown, suggesting the likely one (a typo must not pass silently)."""
    close = likely_field(name)
    hint = f"did you mean {close!r}?" if close else f"known fields: {', '.join(PARSERS)}"
    return f"unknown field {name!r}; {hint}"


def likely_field(name: str) -> str | None:
    """The known field a name is most likely a typo of, if any is close."""
    import difflib

    close = difflib.get_close_matches(name, list(PARSERS), n=1)
    return close[0] if close else None


def is_blank(value: object) -> bool:
    """An empty batch cell, or a JSON null: the fact is unknown."""
    return value is None or (isinstance(value, str) and value.strip() == "")


# --- facts as understood --------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """A consistent set of facts. `None` is unknown.

    `relapse` 0 means not in relapse now; `remission` 0 means not in complete remission now.
    """

    age: Fraction | None = None
    relapsed: bool | None = None
    relapse: int | None = None
    refractory: bool | None = None
    remission: int | None = None
    lineage: str | None = None
    cd19: str | None = None
    cd22: str | None = None
    ph: str | None = None
    mrd: Fraction | None = None
    phase: str | None = None
    prior_transplant: bool | None = None
    induction_failure: bool | None = None
    high_risk: bool | None = None
    age_at_diagnosis: Fraction | None = None

    def rule_values(self) -> dict[str, object]:
        return rule_values(vars(self))


@functools.lru_cache(maxsize=4096)
def completed(age: Fraction) -> tuple[int, int]:
    """Completed years and completed months of an age in years (cached: ages repeat)."""
    return math.floor(age), math.floor(age * 12)


def rule_values(facts: Mapping[str, object]) -> dict[str, object]:
    """The values the rules test, from facts as understood (a Facts' fields, or the same as a
    dict; absent = unknown). Label ages are completed years or completed months."""
    get = facts.get
    age, diagnosed = get("age"), get("age_at_diagnosis")
    years, months = (None, None) if age is None else completed(age)
    return {
        "age_years": years,
        "age_months": months,
        "lineage": get("lineage"),
        "relapsed": get("relapsed"),
        "relapse": get("relapse"),
        "refractory": get("refractory"),
        "remission": get("remission"),
        "cd19": get("cd19"),
        "cd22": get("cd22"),
        "ph": get("ph"),
        "mrd": get("mrd"),
        "phase": get("phase"),
        "prior_transplant": get("prior_transplant"),
        "induction_failure": get("induction_failure"),
        "high_risk": get("high_risk"),
        "diagnosis_age_years": None if diagnosed is None else completed(diagnosed)[0],
    }


def _contradiction(first: str, second: str) -> FactError:
    return FactError(f"contradictory facts: {first}, but {second}; give only the one that is true")


def derive(given: dict[str, object]) -> dict[str, object]:
    """Complete parsed facts with what they imply, refusing facts that contradict each other.

    Works on the parsed values (a dict, which it updates and returns) so a batch builds each
    patient's Facts once.
    """
    age, diagnosed = given.get("age"), given.get("age_at_diagnosis")
    if isinstance(age, Fraction) and isinstance(diagnosed, Fraction) and diagnosed > age:
        raise FactError(
            f"age at diagnosis ({_show(diagnosed)} years) is after the age now "
            f"({_show(age)} years); check both",
            "age_at_diagnosis",
        )
    relapsed, relapse = given.get("relapsed"), given.get("relapse")
    refractory, remission = given.get("refractory"), given.get("remission")

    if relapse is not None:
        in_relapse = relapse >= 1  # type: ignore[operator]
        if relapsed is not None and relapsed != in_relapse:
            said = f"relapse {relapse} means {'a relapse now' if in_relapse else 'no relapse now'}"
            raise _contradiction(said, f"relapsed is {'yes' if relapsed else 'no'}")
        relapsed = in_relapse

    if remission is not None and remission >= 1:  # type: ignore[operator]
        in_remission = f"remission {remission} means in complete remission now"
        if relapsed:
            raise _contradiction(in_remission, "the facts say relapsed (come back now)")
        if refractory:
            raise _contradiction(in_remission, "refractory says not responding to treatment")
        relapsed, refractory = False, False

    if relapsed is False and relapse is None:
        relapse = 0
    if (relapsed or refractory) and remission is None:
        remission = 0

    for name, value in (
        ("relapsed", relapsed),
        ("relapse", relapse),
        ("refractory", refractory),
        ("remission", remission),
    ):
        if value is not None:
            given[name] = value
    return given


def parse_fact(name: str, value: object) -> object:
    """One given value, parsed; None if blank (unknown). FactError names the field."""
    parse = PARSERS.get(name)
    if parse is None:
        raise FactError(unknown_field(name), name)
    if is_blank(value):
        return None
    try:
        return parse(value)
    except ValueError as error:
        raise FactError(str(error), name) from None


def parse_facts(raw: Mapping[str, object]) -> dict[str, object]:
    """Parse one patient's given values (blank = unknown), without deriving anything."""
    parsed = {name: parse_fact(name, value) for name, value in raw.items()}
    return {name: value for name, value in parsed.items() if value is not None}


def facts_from(raw: Mapping[str, object]) -> Facts:
    """Parse and derive in one step; any problem is one FactError naming the field."""
    return Facts(**derive(parse_facts(raw)))  # type: ignore[arg-type]
