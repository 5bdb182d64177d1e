"""The machine-readable answer: pydantic models that define the JSON contract, and the plain
functions that build it. Scripts rely on these shapes; change them only with `VERSION`."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alltx.assess import Status, TherapyOption
from alltx.catalog import Catalog, Source, Statement, Therapy
from alltx.facts import RULE_FACTS, Facts
from alltx.rules import Atom, Evaluation, Node, Result

VERSION = 1
DISCLAIMER = (
    "Information from US FDA labels, not medical advice: only the care team can say which "
    "treatment is right. Ask them about anything here."
)

Value = bool | int | float | str | None


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatientOut(Model):
    """The facts as understood, after derivation; null is unknown."""

    age: float | None = Field(description="age in years")
    age_months: float | None = Field(description="the same age in months")
    relapsed: bool | None
    relapse: int | None = Field(description="relapse number now; 0 = not in relapse")
    refractory: bool | None
    remission: int | None = Field(description="complete remission number; 0 = not in remission")
    lineage: Literal["b", "t"] | None
    cd19: Literal["positive", "negative"] | None
    cd22: Literal["positive", "negative"] | None
    ph: Literal["positive", "negative"] | None
    mrd: float | None = Field(description="minimal residual disease, percent")
    phase: Literal["induction", "consolidation", "maintenance"] | None
    prior_transplant: bool | None


class CriterionOut(Model):
    fact: str | None = Field(description="the input fact tested; null for a group")
    test: str = Field(description="e.g. 'at most 25 years', 'is positive', 'any of'")
    value: Value = Field(description="the patient's value as compared; null if unknown")
    result: Result
    text: str
    criteria: list[CriterionOut] = Field(description="a group's members; empty for a test")


class IndicationOut(Model):
    id: str
    summary: str
    status: Result
    approved: str | None
    sources: list[str]
    criteria: list[CriterionOut]


class SourceOut(Model):
    id: str
    short: str
    title: str
    publisher: str | None
    date: str | None
    url: str | None


class OptionOut(Model):
    therapy: str
    name: str
    brands: list[str]
    status: Status
    indications: list[IndicationOut]
    missing: list[str] = Field(description="facts that would decide a possible therapy")
    cautions: list[str]
    sources: list[SourceOut]


class DataOut(Model):
    release: str
    updated: str
    regulator: str
    region: str
    scope: str


class OptionsOut(Model):
    version: int
    patient: PatientOut
    options: list[OptionOut]
    data: DataOut
    disclaimer: str


def _plain(value: object) -> Value:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value  # type: ignore[return-value]


def patient_json(facts: Facts) -> dict[str, Any]:
    values = {name: _plain(value) for name, value in vars(facts).items()}
    values["age_months"] = None if facts.age is None else _plain(facts.age * 12)
    return {name: values[name] for name in PatientOut.model_fields}


def criterion_json(evaluation: Evaluation) -> dict[str, Any]:
    node = evaluation.node
    if isinstance(node, Atom):
        return {
            "fact": RULE_FACTS[node.fact].source,
            "test": node.test,
            "value": _plain(evaluation.value),
            "result": evaluation.result,
            "text": node.text,
            "criteria": [],
        }
    return {
        "fact": None,
        "test": f"{node.mode} of",
        "value": None,
        "result": evaluation.result,
        "text": node.text,
        "criteria": [criterion_json(child) for child in evaluation.children],
    }


def source_json(source: Source) -> dict[str, Any]:
    return source.model_dump()


def sources_json(source_ids: list[str], catalog: Catalog) -> list[dict[str, Any]]:
    return [source_json(catalog.sources[i]) for i in source_ids]


def answer_source_ids(therapy: Therapy) -> list[str]:
    """The sources behind an eligibility answer: the indications', then the cautions'."""
    cited = [i.source for i in therapy.indications] + [c.source for c in therapy.cautions]
    return list(dict.fromkeys(source for sources in cited for source in sources))


def option_json(option: TherapyOption, catalog: Catalog) -> dict[str, Any]:
    therapy = option.therapy
    return {
        "therapy": therapy.id,
        "name": therapy.name,
        "brands": list(therapy.brands),
        "status": option.status,
        "indications": [
            {
                "id": r.indication.id,
                "summary": r.indication.summary,
                "status": r.evaluation.result,
                "approved": r.indication.approved,
                "sources": list(r.indication.source),
                # the root is the indication itself; its members are the criteria
                "criteria": [criterion_json(child) for child in r.evaluation.children],
            }
            for r in option.indications
        ],
        "missing": list(option.missing),
        "cautions": list(option.cautions),
        "sources": sources_json(answer_source_ids(therapy), catalog),
    }


def data_json(catalog: Catalog) -> dict[str, Any]:
    info = catalog.info
    return {
        "release": info.release,
        "updated": info.updated.isoformat(),
        "regulator": info.regulator,
        "region": info.region,
        "scope": info.scope,
    }


def options_json(facts: Facts, options: list[TherapyOption], catalog: Catalog) -> dict[str, Any]:
    return {
        "version": VERSION,
        "patient": patient_json(facts),
        "options": [option_json(option, catalog) for option in options],
        "data": data_json(catalog),
        "disclaimer": DISCLAIMER,
    }


class StatementOut(Model):
    text: str
    sources: list[str]
    detail: bool = Field(description="dosing detail for clinicians")


class RuleOut(Model):
    fact: str | None = Field(description="the input fact tested; null for a group")
    test: str
    text: str
    criteria: list[RuleOut]


class LabelIndicationOut(Model):
    id: str
    summary: str
    approved: str | None
    sources: list[str]
    criteria: list[RuleOut]


class CautionOut(Model):
    text: str
    when: str | None = Field(description="the condition in plain words; null if always")
    sources: list[str]


class TherapyOut(Model):
    id: str
    name: str
    brands: list[str]
    aliases: list[str]
    kind: StatementOut
    about: StatementOut
    given: list[StatementOut]
    indications: list[LabelIndicationOut]
    common_side_effects: list[StatementOut]
    serious_side_effects: list[StatementOut]
    boxed_warning: list[StatementOut]
    cautions: list[CautionOut]
    sources: list[SourceOut]


class DrugOut(Model):
    version: int
    therapy: TherapyOut
    data: DataOut
    disclaimer: str


class DrugLineOut(Model):
    id: str
    name: str
    brands: list[str]
    aliases: list[str]
    kind: str


class DrugsOut(Model):
    version: int
    therapies: list[DrugLineOut]
    data: DataOut
    disclaimer: str


def statement_json(statement: Statement) -> dict[str, Any]:
    return {"text": statement.text, "sources": list(statement.source), "detail": statement.detail}


def rule_json(node: Node) -> dict[str, Any]:
    if isinstance(node, Atom):
        fact = RULE_FACTS[node.fact].source
        return {"fact": fact, "test": node.test, "text": node.text, "criteria": []}
    return {
        "fact": None,
        "test": f"{node.mode} of",
        "text": node.text,
        "criteria": [rule_json(child) for child in node.children],
    }


def therapy_json(therapy: Therapy, catalog: Catalog) -> dict[str, Any]:
    root = [i.rule for i in therapy.indications]
    return {
        "id": therapy.id,
        "name": therapy.name,
        "brands": list(therapy.brands),
        "aliases": list(therapy.aliases),
        "kind": statement_json(therapy.kind),
        "about": statement_json(therapy.about),
        "given": [statement_json(s) for s in therapy.given],
        "indications": [
            {
                "id": indication.id,
                "summary": indication.summary,
                "approved": indication.approved,
                "sources": list(indication.source),
                "criteria": [rule_json(child) for child in getattr(rule, "children", ())],
            }
            for indication, rule in zip(therapy.indications, root, strict=True)
        ],
        "common_side_effects": [statement_json(s) for s in therapy.common_side_effects],
        "serious_side_effects": [statement_json(s) for s in therapy.serious_side_effects],
        "boxed_warning": [statement_json(s) for s in therapy.boxed_warning],
        "cautions": [
            {
                "text": c.text,
                "when": None if c.rule is None else c.rule.text,
                "sources": list(c.source),
            }
            for c in therapy.cautions
        ],
        "sources": sources_json(therapy.source_ids(), catalog),
    }


def drug_json(therapy: Therapy, catalog: Catalog) -> dict[str, Any]:
    return {
        "version": VERSION,
        "therapy": therapy_json(therapy, catalog),
        "data": data_json(catalog),
        "disclaimer": DISCLAIMER,
    }


def drugs_json(catalog: Catalog) -> dict[str, Any]:
    return {
        "version": VERSION,
        "therapies": [
            {
                "id": t.id,
                "name": t.name,
                "brands": list(t.brands),
                "aliases": list(t.aliases),
                "kind": t.kind.text,
            }
            for t in catalog.therapies
        ],
        "data": data_json(catalog),
        "disclaimer": DISCLAIMER,
    }
