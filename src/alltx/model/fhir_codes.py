"""The FHIR codes alltx reads (`data/fhir_codes.toml`, and a site's own with --fhir-codes): each
code a record may carry, the fact it sets, and where the code was read. Declared once, as the
other data files are (`alltx.model.declared`): the file is checked against these dataclasses,
and a site's file is refused with every problem, each by its place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Literal

from alltx.core.facts import FACTS, FactError, parse_fact
from alltx.model import declared
from alltx.model.catalog import read_data_file
from alltx.model.declared import Key, Text, key, outside

READS_FORMAT = 1
# Code systems by the names clinicians know them by (in answers and in alltx data show).
SYSTEMS = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://terminology.hl7.org/CodeSystem/icd-o-3": "ICD-O-3",
    "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl": "NCIt",
    "http://terminology.hl7.org/CodeSystem/condition-clinical": "clinical status",
}
# A code system is named by its URI, as FHIR names it (http://snomed.info/sct).
System = Annotated[str, Key(pattern=r"^[a-z][a-z0-9+.-]*:[^\s]+$")]


@dataclass(frozen=True, kw_only=True)
class Coded:
    """A code a resource carries (Condition.code or .clinicalStatus, Observation.code,
    Procedure.code) and the fact it sets."""

    system: System
    code: Text
    display: Text = key("the code's name, as its code system gives it")
    fact: Text = key("the fact it sets: a field name of alltx schema input")
    value: str | None = key(
        "the value it sets, as the fact's flag takes it; left out: the Observation's own value",
        default=None,
    )
    source: Text = key("where the code and its meaning were read: a title and an address")
    diagnosis: bool = key(
        "whether the code names a diagnosis of ALL (a Condition's code or histology), so that "
        "the records hold one: a patient without one is not answered as an ALL patient",
        default=False,
    )

    def __post_init__(self) -> None:
        if self.fact not in FACTS:
            raise ValueError(f"fact {self.fact!r} is not a fact alltx reads (alltx schema input)")
        if self.value is not None:
            try:
                parse_fact(self.fact, self.value)
            except FactError as error:
                raise ValueError(f"value {self.value!r}: {self.fact} {error}") from None


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A coded result (Observation.valueCodeableConcept or .interpretation), as a word the
    fact's own parser reads."""

    system: System
    code: Text
    display: Text
    means: Literal["positive", "negative", "yes", "no"]
    source: Text


@dataclass(frozen=True, kw_only=True)
class FhirCodes:
    format: int
    codes: tuple[Coded, ...] = ()
    answers: tuple[Answer, ...] = ()
    origin: str = outside(default="")  # where it was read

    def __post_init__(self) -> None:
        declared.check_format(self.format, READS_FORMAT)

    def with_site(self, site: FhirCodes) -> FhirCodes:
        """These codes with a site's: a code the site declares replaces this file's lines of
        the same system and code."""
        mine = {(c.system, c.code) for c in site.codes} | {(a.system, a.code) for a in site.answers}
        return replace(
            self,
            codes=(*(c for c in self.codes if (c.system, c.code) not in mine), *site.codes),
            answers=(*(a for a in self.answers if (a.system, a.code) not in mine), *site.answers),
        )


def parse_codes(text: str, origin: str, *, checked: bool = False) -> FhirCodes:
    """Read a codes file's text; `checked=True` skips the schema check (the bundled file)."""

    def build(raw: dict[str, object], problems: list[str]) -> FhirCodes | None:
        built = declared.build(FhirCodes, raw, problems)
        return None if built is None else replace(built, origin=origin)

    return read_data_file(text, origin, checked, _schema_problems, build)


def _schema_problems(raw: dict[str, object]) -> list[str]:
    from alltx.model.checking import file_problems

    return file_problems(FhirCodes, "FhirCodesFile", dict(raw))
