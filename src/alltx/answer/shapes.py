"""The shape of every machine-readable answer, declared once, as TypedDicts.

The builders (`alltx.answer.answers`, `alltx.answer.guide_answers`) return these types, so mypy
holds each builder to its shape; `alltx schema` and the tests derive the JSON Schemas from the
same declarations (`alltx.answer.schemas`), each field's description being the docstring under
it. Only mypy and the schema path import this module: the run path builds plain dicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired, TypeAlias

from typing_extensions import TypedDict, is_typeddict

from alltx.core.facts import FACTS, Value
from alltx.core.rules import Advice, Result
from alltx.core.rules import Status as Status  # views name the statuses from here

# --- one patient's answer (alltx options --format json) --------------------------------------


def _patient() -> Any:
    """The facts as understood, from the facts' declarations: a field for each (and, for an
    age that has one, its key in months), null if unknown."""
    from pydantic import Field

    # a percent, or what a lab reported of a level its test cannot measure (negative at 0.01%);
    # an age, or whole days or weeks as given (30 days), which are no exact number of years
    kinds: dict[str, Any] = {"age": float | str, "bool": bool, "count": int, "percent": float | str}
    fields: dict[str, Any] = {}
    for fact in FACTS.values():
        kind = Literal[fact.values] if fact.form == "category" else kinds[fact.form]
        about = Field(description=fact.understood) if fact.understood else Field()
        fields[fact.name] = Annotated[kind | None, about]
        if fact.months:
            in_months = Field(description="the same age in months")
            fields[fact.months] = Annotated[kind | None, in_months]
    shape = TypedDict("PatientOut", fields)  # type: ignore[misc]
    shape.__doc__ = "The facts as understood, after derivation; null is unknown."
    return shape


if TYPE_CHECKING:
    PatientOut: TypeAlias = dict[str, Value]
else:
    PatientOut = _patient()


class CriterionOut(TypedDict):
    id: str | None
    """the test's stable id, `<indication id>.<fact>`; null for a group"""
    fact: str | None
    """the input fact tested; null for a group"""
    test: str
    """e.g. 'at most 25 years', 'is positive', 'any of'"""
    unit: str | None
    """what the value is counted in: years or months (completed) for an age, % for a percent;
    null for a group or a value without a unit"""
    value: Value
    """the patient's value as compared; null if unknown"""
    bound: str | None
    """why a test on a value not given is settled all the same: the fact that bounds it (an
    age not given is at least the age at diagnosis); null otherwise"""
    result: Result
    text: str
    criteria: list[CriterionOut]
    """a group's members; empty for a test"""


class IndicationOut(TypedDict):
    id: str
    summary: str
    status: Result
    approved: str | None
    authorisation: str | None
    """its type, where the sources give one: conditional"""
    sources: list[str]
    criteria: list[CriterionOut]


class SourceOut(TypedDict):
    id: str
    short: str
    title: str
    publisher: str | None
    date: str | None
    url: str | None
    identifiers: list[str]
    """BLA, DailyMed setid, DOI, PMID ..."""


class OptionOut(TypedDict):
    therapy: str
    name: str
    brands: list[str]
    status: Status
    indications: list[IndicationOut]
    missing: list[str]
    """facts that would decide a possible therapy; `reading` for an open point of the sources"""
    open: list[str]
    """the open points of the sources that alone keep a possible therapy open (an open reading
    of an indication's words), in words; empty if none"""
    cautions: list[str]
    """cautions to read; one whose condition is unknown starts with 'If'"""
    cautions_apply: list[str]
    """the conditions of the cautions that apply to this patient (shown with the status); empty if none does"""  # noqa: E501
    sources: list[SourceOut]


class StatementOut(TypedDict):
    text: str
    sources: list[str]
    detail: bool
    """dosing detail for clinicians"""


class ReferralOut(TypedDict):
    """Advice to see another kind of doctor, by the same three-valued rules."""

    referral: str
    title: str
    status: Advice
    """recommended: a reason applies; possible: unknown"""
    reasons: list[CriterionOut]
    """each reason, met, unmet or unknown"""
    missing: list[str]
    """facts that would decide a possible referral; `reading` for an open point of the sources"""
    open: list[str]
    """the open points of the sources that alone keep a possible referral open, in words"""
    about: list[StatementOut]
    sources: list[SourceOut]


class DataOut(TypedDict):
    release: str
    updated: str
    regulator: str
    region: str
    scope: str
    file: str
    """the therapies file the answer came from"""
    regulator_id: str
    """the regulator as --regulator and cohort records name it: its id in the data"""


class OptionsOut(TypedDict):
    version: int
    caveat: NotRequired[str]
    """what the records given (--fhir) say that bears on every answer, said before it: that
    they hold no ALL diagnosis; left out where there is nothing to say"""
    patient: PatientOut
    facts_from: NotRequired[dict[str, str]]
    """where a fact's value came from, in words, where it was not given as itself (an age
    from a birth date); left out where every fact was"""
    not_read: NotRequired[list[str]]
    """what the records given (--fhir) held that alltx does not read, in words: a free-text
    report, a result not final, two that disagree; left out where there was none"""
    options: list[OptionOut]
    referrals: list[ReferralOut]
    data: DataOut
    disclaimer: str


class DifferenceOut(TypedDict):
    therapy: str
    statuses: dict[str, Status]
    """by regulator (its id); a regulator that has not authorised it is left out"""
    because: dict[str, str]
    """by regulator: the indication met, the criteria not met, or the facts that would decide"""


class ComparedOut(TypedDict):
    """One patient under each regulator chosen (--regulator fda,ema or all): each answer whole,
    and the therapies whose status differs, with what makes the difference."""

    version: int
    answers: list[OptionsOut]
    differences: list[DifferenceOut]


# --- one drug (alltx drug, drugs, data show) ---------------------------------------------------


class RuleOut(TypedDict):
    id: str | None
    """the test's stable id, `<indication id>.<fact>`; null for a group"""
    fact: str | None
    """the input fact tested; null for a group"""
    test: str
    text: str
    criteria: list[RuleOut]


class LabelIndicationOut(TypedDict):
    id: str
    summary: str
    approved: str | None
    authorisation: str | None
    """its type, where the sources give one: conditional"""
    sources: list[str]
    criteria: list[RuleOut]


class CautionOut(TypedDict):
    id: str
    """stable: compact records name an applying caution by it"""
    text: str
    when: str | None
    """the condition in plain words; null if always"""
    sources: list[str]


class TherapyOut(TypedDict):
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
    figures: list[StatementOut]
    """trial results as the regulator states them"""
    cautions: list[CautionOut]
    sources: list[SourceOut]


class StepOut(TypedDict):
    label: str
    span: str
    kind: Literal["step", "wait", "dose"]
    days: int | None
    """only where the source gives a number"""
    sources: list[str]


class PracticeOut(TypedDict):
    how: StatementOut
    where: StatementOut | None
    duration: StatementOut
    hospital_stay: StatementOut | None
    """null: not in alltx's sources"""
    timeline: list[StepOut]
    timeline_to_scale: bool
    timeline_note: StatementOut | None


class DrugOut(TypedDict):
    version: int
    therapy: TherapyOut
    data: DataOut
    disclaimer: str
    practice: PracticeOut | None
    """how it is given in practice, if known"""


class DrugLineOut(TypedDict):
    id: str
    name: str
    brands: list[str]
    aliases: list[str]
    kind: str


class DrugsOut(TypedDict):
    version: int
    therapies: list[DrugLineOut]
    data: DataOut
    disclaimer: str


class ReferralDataOut(TypedDict):
    id: str
    title: str
    reasons: list[RuleOut]
    sources: list[str]


class FhirCodeOut(TypedDict):
    system: str
    code: str
    display: str
    fact: str
    value: str | None
    """the value the code sets; null: the Observation's own value"""
    source: str


class FhirAnswerOut(TypedDict):
    system: str
    code: str
    display: str
    means: str
    source: str


class FhirCodesOut(TypedDict):
    """What alltx options --fhir reads: each code, the fact it sets, and its source."""

    file: str
    codes: list[FhirCodeOut]
    answers: list[FhirAnswerOut]


class DictionaryOut(DataOut):
    """The data in use with the texts behind every id a compact record uses, and the FHIR
    codes --fhir reads."""

    therapies: list[TherapyOut]
    referrals: list[ReferralDataOut]
    sources: list[SourceOut]
    fhir_codes: FhirCodesOut


# --- the guide's answers ------------------------------------------------------------------------


class GuideDataOut(TypedDict):
    release: str
    updated: str
    file: str


class GuideFrame(TypedDict):
    """What every guide answer carries after its body."""

    sources: list[SourceOut]
    data: GuideDataOut
    disclaimer: str


class GuideAnswer(GuideFrame):
    version: int


class WhenOut(TypedDict):
    reasons: list[str]
    sources: list[str]
    about: list[StatementOut]


# `for` is a Python keyword: this shape can only be declared in the functional form.
QuestionOut = TypedDict("QuestionOut", {"for": str, "text": str, "sources": list[str]})


class TransplantOut(TypedDict):
    when: WhenOut
    what: list[StatementOut]
    steps: list[StatementOut]
    first_visit: list[StatementOut]
    relapse_risk: list[StatementOut]
    questions: list[QuestionOut]


class TransplantAnswer(GuideAnswer):
    transplant: TransplantOut


class SideEffectOut(TypedDict):
    id: str
    name: str
    aliases: list[str]
    what: StatementOut
    therapies: list[str]
    boxed: list[str]
    carried: StatementOut
    symptoms: list[StatementOut]
    timing: list[StatementOut]
    figures: list[StatementOut]
    grading: str | None


class SideEffectsAnswer(GuideAnswer):
    side_effects: list[SideEffectOut]


class FindingOut(TypedDict):
    feature: str
    label: str
    value: Value
    grade: int | None
    """the lowest grade it gives; null if not given"""
    possible: list[int]
    """every grade it could give; empty if not used"""
    text: str | None
    note: str | None
    """why its grade is a range, or why it is not used"""
    used: bool
    """false where another tool assesses it at this age"""


class GradingOut(TypedDict):
    scale: str
    name: str
    applies: Result
    """whether the findings meet the scale's definition"""
    grade: int | None
    """null until every finding that matters is known"""
    lowest: int
    highest: int
    set_by: list[str]
    could_raise: list[str]
    would_decide: list[str]
    """findings not given that decide whether the scale applies at all"""
    open: list[str]
    """findings given whose grade the sources leave open"""
    age_note: StatementOut | None
    """why two tools both count at this age, where the sources differ"""
    assumed: StatementOut | None
    """whom the grade assumes where no age was given (a patient old enough for the tool used)"""
    ungraded: StatementOut | None
    """why there is no grade (`grade` null) although every finding is known, where the
    sources give none"""
    findings: list[FindingOut]
    notes: list[StatementOut]
    scale_sources: list[str]


class GradingAnswer(GuideAnswer):
    grading: GradingOut


class CompareRowOut(TypedDict):
    therapy: str
    name: str
    brands: list[str]
    kind: StatementOut
    approved_for: list[str]
    practice: PracticeOut | None
    serious_side_effects: list[str]
    boxed_warning: list[StatementOut]


class CompareAnswer(GuideAnswer):
    regulator: str
    """the regulator whose indications `approved_for` lists: its id in the data"""
    therapies: list[CompareRowOut]


class CompareBothOut(TypedDict):
    """alltx compare under several regulators (--regulator fda,ema or all): the comparison under
    each."""

    version: int
    answers: list[CompareAnswer]


class DrugBothOut(TypedDict):
    """alltx drug under several regulators (--regulator fda,ema or all): the drug under each."""

    version: int
    answers: list[DrugOut]


class TermOut(TypedDict):
    id: str
    term: str
    aliases: list[str]
    text: str
    sources: list[str]


class TermsAnswer(GuideAnswer):
    terms: list[TermOut]


class QuestionsAnswer(GuideAnswer):
    questions: list[QuestionOut]


# --- cohort records ----------------------------------------------------------------------------


class CompactOptionOut(TypedDict):
    status: Status
    met: NotRequired[list[str]]
    """when eligible: ids of the indications met"""
    failed: NotRequired[list[str]]
    """when not eligible: ids of the criteria not met"""
    decide: NotRequired[list[str]]
    """when possible: the facts that would decide; `reading` where an open point of the
    sources (an open reading of the label's words) alone keeps it open"""
    cautions: NotRequired[list[str]]
    """ids of the cautions that apply, if any"""


class CompactReferralOut(TypedDict):
    status: Advice
    met: NotRequired[list[str]]
    """when recommended: ids of the reasons met"""
    decide: NotRequired[list[str]]
    """when possible: the facts that would decide; `reading` where an open point of the
    sources alone keeps it open (under 40, the current guideline's criteria were not read)"""


class RecordOut(TypedDict):
    """One cohort row's answer, compact (JSON Lines, or an element of the --format json array):
    statuses and stable ids; `alltx data show --format json` gives the texts behind the ids."""

    id: Any
    """the row's id, carried through untouched; null if none"""
    line: int | None
    """the input line; null for a patient given as flags"""
    options: dict[str, CompactOptionOut]
    """keyed by therapy id"""
    referrals: dict[str, CompactReferralOut]
    """keyed by referral id"""
    data_release: str
    regulator: str
    """the regulator the statuses come from: its id in the data"""
    version: int


class ExplainedRecordOut(OptionsOut):
    """One cohort row's full answer (--explain): the one-patient JSON with its id and line."""

    id: Any
    """the row's id, carried through untouched; null if none"""
    line: int | None
    """the input line; null for a patient given as flags"""


class FailureOut(TypedDict):
    """A cohort row that could not be answered, in its place."""

    id: Any
    """the row's id if it could be read"""
    line: int | None
    error: str
    """what is wrong and how to fix it"""
    field: str | None
    """the field at fault, if one is"""
    data_release: str
    regulator: str
    version: int


# pydantic reads a TypedDict's settings from this attribute; it is set here, after the classes,
# because mypy would take it for a key. Forbid keys no shape declares; describe each field by
# the docstring under it.
for _shape in list(globals().values()):
    if is_typeddict(_shape):
        _shape.__pydantic_config__ = {"extra": "forbid", "use_attribute_docstrings": True}
