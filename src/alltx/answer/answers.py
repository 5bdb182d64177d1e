"""The machine-readable answers, built as plain dicts (fast, no pydantic at run time).

Each builder returns its shape from `alltx.answer.shapes` (mypy checks it; `alltx schema`
derives the JSON Schemas from the same declarations). The shapes are the contract scripts rely
on: change one only with `VERSION`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

from alltx.assessment.assess import IndicationResult, ReferralResult, TherapyOption
from alltx.core.facts import (
    FACTS,
    RULE_FACTS,
    Facts,
    InDays,
    MonthEnd,
    Value,
    Years,
    completed_months,
    deciding_words,
)
from alltx.core.rules import MET, UNKNOWN, UNMET, Atom, Counted, Evaluation, Node, Span, failed
from alltx.model.catalog import Catalog, Caution, Source, Statement, Therapy

if TYPE_CHECKING:  # the shapes are types only here: their module is off the run path
    from alltx.answer.shapes import (
        CompactOptionOut,
        CompactReferralOut,
        ComparedOut,
        CriterionOut,
        DataOut,
        DictionaryOut,
        DifferenceOut,
        DrugOut,
        DrugsOut,
        IndicationOut,
        OptionOut,
        OptionsOut,
        PatientOut,
        PracticeOut,
        ReferralOut,
        RuleOut,
        SourceOut,
        StatementOut,
        TherapyOut,
    )
    from alltx.model.fhir_codes import FhirCodes

# 2: cohort records are compact by default (statuses and ids), the full answer with --explain.
VERSION = 2


def disclaimer(labels: str | None) -> str:
    """What every answer says of itself, naming the documents its statuses come from (`labels`;
    None where it has no statuses, only the sources it names)."""
    documents = "the sources named" if labels is None else f"{labels} and the sources named"
    return (
        f"Information from {documents}, not medical advice: only the care team can say "
        "which treatment is right. Ask them about anything here."
    )


# The guide's answers (transplant, side effects, grading) rest on the guide's own sources, not
# on one regulator's labels.
DISCLAIMER = disclaimer(None)

NONE_APPLIES = "none of the reasons the source gives applies"


def failed_criteria(criteria: Sequence[CriterionOut]) -> list[CriterionOut]:
    """The tests that made these criteria unmet (for `any`, every branch failed), in order:
    rules.failed, read from an answer."""
    found: list[CriterionOut] = []
    for criterion in criteria:
        if criterion["result"] == UNMET:
            inner = criterion["criteria"]
            found += failed_criteria(inner) if inner else [criterion]
    return found


def why(option: OptionOut) -> str:
    """One line of why, for an answer at a glance: the indication met, the criteria not met,
    or the facts that would decide (in plain words)."""
    if option["status"] == "eligible":
        met = next(i for i in option["indications"] if i["status"] == MET)
        return f"meets: {met['summary']}"
    if option["status"] == "possible":
        return "to decide: " + ", ".join(deciding_words(name)[0] for name in option["missing"])
    unmet = [c["text"] for i in option["indications"] for c in failed_criteria(i["criteria"])]
    return "not met: " + "; ".join(dict.fromkeys(unmet))


def referral_why(referral: ReferralOut) -> str:
    """A referral's one line of why: the reasons met, or the facts that would decide."""
    if referral["status"] == "recommended":
        reasons = [reason["text"] for reason in referral["reasons"] if reason["result"] == MET]
        return "because: " + "; ".join(reasons)
    if referral["status"] == "possible":
        return "to decide: " + ", ".join(deciding_words(name)[0] for name in referral["missing"])
    return NONE_APPLIES


def plain(value: object) -> Value:
    """A value as JSON writes it: an exact number as an int, else a float."""
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    if isinstance(value, Span | Counted | InDays):  # known within bounds: as given
        return value.words
    return value  # type: ignore[return-value]


def patient_json(facts: Facts) -> PatientOut:
    """The facts as understood, in Facts' order; an age that has a key for months also in
    months, since labels count both."""
    patient: dict[str, Any] = {}
    for name, value in facts.values.items():
        patient[name] = plain(value)
        if FACTS[name].months:  # (days are said as given: they are no exact number of months)
            # whole years: the months of that year (0 years: 0 to 11); days: as given
            if isinstance(value, Years | MonthEnd):
                in_months: object = completed_months(value)
            else:
                in_months = value if value is None or isinstance(value, InDays) else value * 12  # type: ignore[operator]
            patient[FACTS[name].months] = plain(in_months)
    return patient


def patient_value(evaluation: Evaluation) -> Value:
    return plain(evaluation.value)


ValueOf = Callable[[Evaluation], Value]


def bound_words(evaluation: Evaluation) -> str | None:
    """Why a test on a value not given is met or not all the same (rules.result_of): the
    fact that bounds it, in words; None where the value is given or the test is open."""
    atom = evaluation.node
    if not isinstance(atom, Atom) or evaluation.value is not None or evaluation.result == UNKNOWN:
        return None
    if atom.floor:
        return f"at least the {FACTS[RULE_FACTS[atom.floor].source].short}"
    if atom.ceiling:
        return f"at most the {FACTS[RULE_FACTS[atom.ceiling].source].short} now"
    return None


def criterion_json(evaluation: Evaluation, value: ValueOf = patient_value) -> CriterionOut:
    """A criterion's result; `value` gives what to show as the patient's value."""
    node = evaluation.node
    if isinstance(node, Atom):
        return {
            "id": node.id,
            "fact": RULE_FACTS[node.fact].source,
            "test": node.test,
            "unit": node.unit or None,
            "value": value(evaluation),
            "bound": bound_words(evaluation),
            "result": evaluation.result,
            "text": node.text,
            "criteria": [],
        }
    return {
        "id": None,
        "fact": None,
        "test": f"{node.mode} of",
        "unit": None,
        "value": None,
        "bound": None,
        "result": evaluation.result,
        "text": node.text,
        "criteria": [criterion_json(child, value) for child in evaluation.children],
    }


def source_json(source: Source) -> SourceOut:
    return {
        "id": source.id,
        "short": source.short,
        "title": source.title,
        "publisher": source.publisher,
        "date": source.date,
        "url": source.url,
        "identifiers": list(source.identifiers),
    }


def sources_json(source_ids: list[str], catalog: Catalog) -> list[SourceOut]:
    return [source_json(catalog.sources[i]) for i in source_ids]


def answer_source_ids(therapy: Therapy) -> list[str]:
    """The sources behind an eligibility answer: the indications', then the cautions'."""
    cited = [i.source for i in therapy.indications] + [c.source for c in therapy.cautions]
    return list(dict.fromkeys(source for sources in cited for source in sources))


def option_json(
    option: TherapyOption, catalog: Catalog, value: ValueOf = patient_value
) -> OptionOut:
    therapy = option.therapy
    return {
        "therapy": therapy.id,
        "name": therapy.name,
        "brands": list(therapy.brands),
        "status": option.status,
        "indications": [indication_json(result, value) for result in option.indications],
        "missing": list(option.missing),
        "open": list(option.open),
        "cautions": list(option.cautions),
        "cautions_apply": list(option.cautions_apply),
        "sources": sources_json(answer_source_ids(therapy), catalog),
    }


def indication_json(result: IndicationResult, value: ValueOf = patient_value) -> IndicationOut:
    indication = result.indication
    return {
        "id": indication.id,
        "summary": indication.summary,
        "status": result.evaluation.result,
        "approved": indication.approved,
        "authorisation": indication.authorisation,
        "sources": list(indication.source),
        # the root is the indication itself; its members are the criteria
        "criteria": [criterion_json(child, value) for child in result.evaluation.children],
    }


def referral_json(
    result: ReferralResult, catalog: Catalog, value: ValueOf = patient_value
) -> ReferralOut:
    referral = result.referral
    return {
        "referral": referral.id,
        "title": referral.title,
        "status": result.status,
        # the root is the referral itself; its members are the reasons
        "reasons": [criterion_json(child, value) for child in result.evaluation.children],
        "missing": list(result.missing),
        "open": list(result.open),
        "about": [statement_json(s) for s in referral.about],
        "sources": sources_json(referral.source_ids(), catalog),
    }


def compact_option(option: TherapyOption) -> CompactOptionOut:
    """A therapy's answer in brief, by stable ids the data file declares (`alltx data show
    --format json` gives their texts): its status and what explains it, the indications met
    when eligible, the criteria not met when not eligible, the facts that would decide when
    possible; and the cautions that apply, if any."""
    status = option.status
    if status == "eligible":
        ids = [r.indication.id for r in option.indications if r.evaluation.result == MET]
    elif status == "not_eligible":
        unmet = [e.node for r in option.indications for e in failed(r.evaluation)]
        ids = [atom.id for atom in unmet if isinstance(atom, Atom)]
    else:
        ids = list(option.missing)
    return option_brief(status, ids, [caution.id for caution in option.applying])


def option_brief(status: str, ids: list[str], cautions: list[str]) -> CompactOptionOut:
    """A therapy's compact answer (for the Python path and the SQL query's columns alike):
    `ids` are what explains the status, under the key `BRIEF_IDS` gives it."""
    brief: dict[str, Any] = {"status": status, BRIEF_IDS[status]: ids}
    if cautions:
        brief["cautions"] = cautions
    return cast("CompactOptionOut", brief)  # its key is chosen by the status: mypy can't see it


# What explains each status in a compact answer: the ids listed under this key (not_indicated
# lists none).
BRIEF_IDS = {
    "eligible": "met",
    "not_eligible": "failed",
    "possible": "decide",
    "recommended": "met",
}


def compact_referral(result: ReferralResult) -> CompactReferralOut:
    """Referral advice in brief: the reasons met (their test ids) when recommended, the facts
    that would decide when possible."""
    if result.status == "recommended":
        met = [e.node for e in result.evaluation.atoms() if e.result == MET]
        ids = [atom.id for atom in met if isinstance(atom, Atom)]
    else:
        ids = list(result.missing)
    return referral_brief(result.status, ids)


def referral_brief(status: str, ids: list[str]) -> CompactReferralOut:
    """A referral's compact answer."""
    key = BRIEF_IDS.get(status)
    brief = {"status": status} if key is None else {"status": status, key: ids}
    return cast("CompactReferralOut", brief)


def data_json(catalog: Catalog) -> DataOut:
    info = catalog.info
    return {
        "release": info.release,
        "updated": info.updated.isoformat(),
        "regulator": info.authority.name,
        "region": info.authority.region,
        "scope": info.authority.scope,
        "file": catalog.origin,
        "regulator_id": info.authority.id,
    }


def options_json(
    facts: Facts,
    options: list[TherapyOption],
    referrals: list[ReferralResult],
    catalog: Catalog,
) -> OptionsOut:
    answer: OptionsOut = {
        "version": VERSION,
        "patient": patient_json(facts),
        "options": [option_json(option, catalog) for option in options],
        "referrals": [referral_json(result, catalog) for result in referrals],
        "data": data_json(catalog),
        "disclaimer": disclaimer(catalog.info.authority.labels),
    }
    # beside the patient: where a value not given as itself came from; what was not read
    told: dict[str, object] = {"facts_from": dict(facts.origins)} if facts.origins else {}
    told |= {"not_read": list(facts.unread)} if facts.unread else {}
    if told or facts.caveat:
        first = {"caveat": facts.caveat} if facts.caveat else {}
        front = {"version": answer["version"], **first, "patient": answer["patient"], **told}
        answer = cast("OptionsOut", front | dict(answer))
    return answer


def patient_answer(facts: Facts, catalog: Catalog) -> OptionsOut:
    """One patient's answer under one catalog: the value every view of it draws (text, page,
    JSON), and the Python API returns."""
    from alltx.assessment.assess import assess, referrals

    return options_json(facts, assess(facts, catalog), referrals(facts, catalog), catalog)


def conditional_cautions(
    option: OptionOut, catalog: Catalog
) -> tuple[list[Caution], list[Caution]]:
    """An answer's cautions that have a condition, as the catalog declares them: those that
    apply (their condition met: `cautions_apply`), and those whose condition is not known yet
    (shown as `If ...: ...` in `cautions`)."""
    held = [c for c in catalog.by_id(option["therapy"]).cautions if c.rule is not None]
    applying = [c for c in held if c.rule is not None and c.rule.text in option["cautions_apply"]]
    unknown = [c for c in held if c.said in option["cautions"]]
    return applying, unknown


def open_cautions(answer: OptionsOut, catalog: Catalog) -> dict[str, list[tuple[str, str]]]:
    """The cautions of an answer whose condition is not known yet, by their condition, each
    with its therapy's name and its text: so a page can say each condition once, plainly,
    with what it would mean for each therapy."""
    found: dict[str, list[tuple[str, str]]] = {}
    for option in answer["options"]:
        for caution in conditional_cautions(option, catalog)[1]:
            condition = caution.rule.text if caution.rule is not None else ""
            found.setdefault(condition, []).append((option["name"], caution.text))
    return found


def statement_json(statement: Statement) -> StatementOut:
    return {"text": statement.text, "sources": list(statement.source), "detail": statement.detail}


def rule_json(node: Node) -> RuleOut:
    if isinstance(node, Atom):
        fact = RULE_FACTS[node.fact].source
        return {"id": node.id, "fact": fact, "test": node.test, "text": node.text, "criteria": []}
    return {
        "id": None,
        "fact": None,
        "test": f"{node.mode} of",
        "text": node.text,
        "criteria": [rule_json(child) for child in node.children],
    }


def therapy_json(therapy: Therapy, catalog: Catalog) -> TherapyOut:
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
                "authorisation": indication.authorisation,
                "sources": list(indication.source),
                "criteria": [
                    rule_json(child) for child in getattr(indication.rule, "children", ())
                ],
            }
            for indication in therapy.indications
        ],
        "common_side_effects": [statement_json(s) for s in therapy.common_side_effects],
        "serious_side_effects": [statement_json(s) for s in therapy.serious_side_effects],
        "boxed_warning": [statement_json(s) for s in therapy.boxed_warning],
        "figures": [statement_json(s) for s in therapy.figures],
        "cautions": [
            {
                "id": c.id,
                "text": c.text,
                "when": None if c.rule is None else c.rule.text,
                "sources": list(c.source),
            }
            for c in therapy.cautions
        ],
        "sources": sources_json(therapy.source_ids(), catalog),
    }


def dictionary_json(catalog: Catalog, codes: FhirCodes) -> DictionaryOut:
    """The data in use, with the texts behind every id a compact record uses: indications,
    their criteria (tests), cautions, referral reasons, and the sources; and the FHIR codes
    --fhir reads."""
    return {
        **data_json(catalog),
        "therapies": [therapy_json(therapy, catalog) for therapy in catalog.therapies],
        "referrals": [
            {
                "id": referral.id,
                "title": referral.title,
                "reasons": [rule_json(reason) for reason in referral.reasons],
                "sources": list(referral.source),
            }
            for referral in catalog.referrals
        ],
        "sources": sources_json(list(catalog.sources), catalog),
        "fhir_codes": {
            "file": codes.origin,
            "codes": [
                {
                    "system": c.system,
                    "code": c.code,
                    "display": c.display,
                    "fact": c.fact,
                    "value": c.value,
                    "source": c.source,
                }
                for c in codes.codes
            ],
            "answers": [
                {
                    "system": a.system,
                    "code": a.code,
                    "display": a.display,
                    "means": a.means,
                    "source": a.source,
                }
                for a in codes.answers
            ],
        },
    }


def drug_json(therapy: Therapy, catalog: Catalog, practice: PracticeOut | None) -> DrugOut:
    """One drug; `practice` (from alltx.answer.guide_answers) how it is given, if the guide says."""
    return {
        "version": VERSION,
        "therapy": therapy_json(therapy, catalog),
        "data": data_json(catalog),
        "disclaimer": disclaimer(catalog.info.authority.labels),
        "practice": practice,
    }


def drugs_json(catalog: Catalog, therapies: list[Therapy] | None = None) -> DrugsOut:
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
            for t in (catalog.therapies if therapies is None else therapies)
        ],
        "data": data_json(catalog),
        "disclaimer": disclaimer(catalog.info.authority.labels),
    }


def differences(answers: Sequence[OptionsOut]) -> list[DifferenceOut]:
    """The therapies whose status differs between the regulators' answers (or that one of
    them has not authorised), each with every regulator's status and its one line of why: the
    indication met, the criteria not met, or the facts that would decide."""
    by_therapy: dict[str, dict[str, OptionOut]] = {}
    for answer in answers:
        for option in answer["options"]:
            by_therapy.setdefault(option["therapy"], {})[answer["data"]["regulator_id"]] = option
    found: list[DifferenceOut] = []
    for therapy, options in by_therapy.items():
        statuses = {regulator: option["status"] for regulator, option in options.items()}
        if len(options) < len(answers) or len(set(statuses.values())) > 1:
            # an open reading is the difference itself: said in its words, with the status
            because = {
                regulator: " ".join([why(option), *option["open"]])
                for regulator, option in options.items()
            }
            found.append({"therapy": therapy, "statuses": statuses, "because": because})
    return found


def compared(answers: list[OptionsOut]) -> ComparedOut:
    """One patient's answer under each regulator, and where they differ."""
    return {"version": VERSION, "answers": answers, "differences": differences(answers)}


# --- the compact CSV record (and the Parquet and warehouse tables made from it) ---------------


def csv_name(name: str) -> str:
    """A column name DuckDB and pandas take unquoted: snake_case."""
    return name.replace("-", "_").replace(".", "_")


OPTION_PARTS = ("met", "failed", "decide", "cautions")
REFERRAL_PARTS = ("met", "decide")


def columns(catalog: Catalog) -> list[tuple[str, str]]:
    """The CSV columns in order, each with what it holds: the one declaration of the CSV."""
    what = {
        "met": "ids of the indications met",
        "failed": "ids of the criteria not met, when not eligible",
        "decide": "facts that would decide a possible answer",
        "cautions": "ids of the cautions that apply",
    }
    names: list[tuple[str, str]] = [("id", "the row's id, as given"), ("line", "the input line")]
    for therapy in catalog.therapies:
        name = csv_name(therapy.id)
        names.append((name, f"status of {therapy.id}: eligible, possible or not_eligible"))
        names += [(f"{p}_{name}", f"{what[p]}, space-separated") for p in OPTION_PARTS]
    for referral in catalog.referrals:
        name = f"referral_{csv_name(referral.id)}"
        names.append(
            (name, f"referral advice ({referral.id}): recommended, possible or not_indicated")
        )
        reasons = {"met": "ids of the reasons met", "decide": what["decide"]}
        names += [(f"{p}_{name}", f"{reasons[p]}, space-separated") for p in REFERRAL_PARTS]
    names += [
        ("error", "why the row could not be answered; empty for an answer"),
        ("data_release", "the data release the answer comes from"),
        ("regulator", "the regulator the statuses come from, by its id in the data"),
        ("version", "the record format version"),
    ]
    return names
