"""The schemas at alltx's edges: the data files and a patient row as pydantic models (which
check the files), and the JSON Schemas of every answer, derived from their shapes
(`alltx.answer.shapes`). Only `alltx schema`, `data check`, a broken data file and the
tests load it: building pydantic models costs more start-up time than a whole run.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)

from alltx.core.facts import FACTS, MAX_AGE_YEARS, MAX_COUNT, PARSERS, Fact, is_blank, text_pattern

# --- the therapies file ---------------------------------------------------------------------


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


SourceIds = Annotated[
    list[str],
    BeforeValidator(_as_list),
    Field(min_length=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ],
            "description": "the id of an entry in [[sources]], or a list of them",
        }
    ),
]
Text = Annotated[str, Field(min_length=1)]
RegulatorId = Annotated[str, Field(pattern=r"^[a-z]+$")]
# Ids name columns and records (`<indication id>.<fact>`) and reach SQL as names and literals:
# lower-case letters, digits and hyphens only, so no quote or backslash can end a literal.
Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Release = Annotated[str, Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$")]
# An address is a link in every view: only http(s), so no javascript: or file: can run.
Address = Annotated[str, Field(pattern=r"^https?://[^\s]+$")]
DATA_FORMAT = 2  # 2: the regulators, and each indication's


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceFile(Strict):
    id: Id
    short: Text = Field(description="a short name for citing it in a line")
    title: Text
    publisher: str | None = None
    date: str | None = None
    url: Address | None = None
    identifiers: list[Text] = Field(
        default=[], description="identifiers a reader can look it up by: BLA, setid, DOI, PMID"
    )


class StatementFile(Strict):
    """A clinical statement in plain words, with the sources that back it."""

    text: Text
    source: SourceIds
    detail: bool = Field(default=False, description="dosing detail for clinicians")
    regulator: RegulatorId | None = Field(
        default=None,
        description="said under this regulator only (a US REMS change, an EU requirement); "
        "left out: under every regulator",
    )


Criteria = Annotated[
    dict[str, Any],
    Field(
        description="a test on one fact ({fact, is|in|at_least|at_most, text}) or a group "
        "({all|any: [criteria], text}); checked by the rules module at load"
    ),
]


class IndicationFile(Strict):
    id: Id
    regulator: RegulatorId = Field(description="the regulator whose authorisation this is")
    summary: Text = Field(description="the label's indication in its own words")
    source: SourceIds
    approved: str | None = None
    authorisation: str | None = Field(
        default=None, description="its type, where the sources give one: conditional"
    )
    criteria: Criteria


class CautionFile(Strict):
    id: Id = Field(description="stable, for machine records: cd19-negative")
    text: Text
    source: SourceIds
    when: Criteria | None = None
    regulator: RegulatorId | None = Field(
        default=None, description="a caution about this regulator's wording only"
    )


class TherapyFile(Strict):
    id: Id
    name: Text
    brands: list[str] = []
    aliases: list[str] = []
    groups: list[str] = Field(
        default=[], description="words that cover several therapies, such as car-t"
    )
    kind: StatementFile
    about: StatementFile
    given: list[StatementFile] = []
    common_side_effects: list[StatementFile] = []
    serious_side_effects: list[StatementFile] = []
    boxed_warning: list[StatementFile] = []
    figures: list[StatementFile] = Field(
        default=[], description="trial results as the regulator states them, naming the trial"
    )
    indications: Annotated[list[IndicationFile], Field(min_length=1)]
    cautions: list[CautionFile] = []


class ReferralFile(Strict):
    id: Id
    title: Text = Field(description="the advice, e.g. 'See a transplant doctor'")
    source: SourceIds
    criteria: Criteria = Field(description="the reasons for the advice, usually `any` of them")
    about: list[StatementFile] = []


class DataInfoFile(Strict):
    release: Release
    updated: date


class RegulatorFile(Strict):
    id: RegulatorId = Field(description="as indications and --regulator name it: fda, ema")
    name: Text = Field(description="as answers name it: US FDA")
    region: Text
    scope: Text
    label: Text = Field(description="a label document, as answers name it: US FDA label")
    labels: Text = Field(description="the documents answers come from: US FDA labels")
    short: Text = Field(description="a word for its indications: US label")
    currency: StatementFile | None = None


class DataFile(Strict):
    """A therapies file (data/therapies.toml)."""

    format: int = Field(description=f"the file format; this alltx reads format {DATA_FORMAT}")
    data: DataInfoFile
    regulators: Annotated[list[RegulatorFile], Field(min_length=1)] = Field(
        description="the regulators whose authorisations the file holds; the first is the default"
    )
    sources: list[SourceFile]
    therapies: Annotated[list[TherapyFile], Field(min_length=1)]
    referrals: list[ReferralFile] = []

    @model_validator(mode="after")
    def _known_format(self) -> DataFile:
        if self.format != DATA_FORMAT:
            raise ValueError(f"format {self.format} is not supported; this alltx reads format "
                             f"{DATA_FORMAT}")  # fmt: skip
        return self


# --- the guide file ------------------------------------------------------------------------


class GuideInfoFile(Strict):
    release: Release
    updated: date
    scope: Text


class TransplantFile(Strict):
    what: list[StatementFile]
    steps: list[StatementFile]
    first_visit: list[StatementFile]
    relapse_risk: list[StatementFile]


class SideEffectFile(Strict):
    id: Text
    name: Text
    aliases: list[str] = []
    what: StatementFile
    therapies: Annotated[list[str], Field(min_length=1, description="therapy ids")]
    boxed: list[str] = Field(default=[], description="therapies whose boxed warning names it")
    carried: StatementFile = Field(description="which therapies carry it, with the source")
    symptoms: list[StatementFile] = []
    timing: list[StatementFile] = []
    figures: list[StatementFile] = []
    grading: str | None = Field(default=None, description="the id of a [[scales]] entry")


Grade = Annotated[int, Field(ge=0, le=5)]


class LevelFile(Strict):
    grade: Grade | None = None
    grades: Annotated[list[Grade], Field(min_length=2)] | None = Field(
        default=None, description="every grade the readings allow, where the sources differ"
    )
    why: StatementFile | None = Field(default=None, description="why the grade is open")
    text: Text
    is_: str | None = Field(default=None, alias="is")
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_grade(self) -> LevelFile:
        if (self.grade is None) == (self.grades is None):
            raise ValueError("give `grade`, or `grades` with `why`, not both")
        if self.grades is not None and self.why is None:
            raise ValueError("a level with several `grades` must say `why`")
        return self


class PartFile(Strict):
    id: Text
    label: Text
    most: Annotated[int, Field(ge=1)]


class FeatureFile(Strict):
    id: Text
    kind: Literal["number", "category", "bool"]
    label: Text
    flag: Text = Field(description="as answers name its option: --oxygen none|low-flow")
    help: Text | None = Field(default=None, description="its option's help in alltx grade")
    metavar: Text | None = Field(default=None, description="its option's value form: 0-10|unable")
    unit: str = ""
    range: Annotated[list[int], Field(min_length=1, max_length=2)] | None = Field(
        default=None, description="[lowest, highest] for a number, or [lowest] alone"
    )
    whole: bool = Field(default=False, description="a score: whole numbers only")
    parts: list[PartFile] = []
    levels: list[LevelFile] = Field(description="tried in order; the first that matches counts")


class ByAgeFile(Strict):
    """One finding assessed with one tool under an age and another from it on."""

    under: Text = Field(description="the feature used under `age` (completed years)")
    over: Text = Field(description="the feature used from `age` on")
    age: Annotated[int, Field(ge=0)]
    unsettled: StatementFile | None = Field(
        default=None, description="where the sources differ at `age` itself: both count there"
    )
    older: StatementFile | None = Field(
        default=None, description="why the `under` tool may still be given past the age"
    )


class ScaleFile(Strict):
    id: Text
    name: Text
    source: SourceIds
    requires: Criteria | None = None
    notes: list[StatementFile] = []
    by_age: ByAgeFile | None = None
    ungraded: StatementFile | None = Field(
        default=None,
        description="why there is no grade when the scale applies but no finding gives one",
    )
    features: Annotated[list[FeatureFile], Field(min_length=1)]


class StepFile(Strict):
    label: str
    span: str
    kind: Literal["step", "wait", "dose"]
    days: Annotated[int, Field(ge=1)] | None = None
    source: SourceIds


class PracticeFile(Strict):
    therapy: Text
    how: StatementFile
    where: StatementFile | None = None
    duration: StatementFile
    hospital_stay: StatementFile | None = None
    timeline: list[StepFile] = []
    timeline_note: StatementFile | None = None
    regulator: RegulatorId | None = Field(
        default=None, description="the regulator whose documents describe this practice"
    )


class TermFile(Strict):
    id: Text
    term: Text
    aliases: list[str] = []
    text: Text
    source: SourceIds


class QuestionFile(Strict):
    for_: Text = Field(alias="for")
    text: Text
    source: SourceIds


class GuideFile(Strict):
    """The guide file (data/guide.toml)."""

    format: int = Field(description="the file format; this alltx reads format 1")
    guide: GuideInfoFile
    sources: list[SourceFile]
    transplant: TransplantFile
    side_effects: list[SideEffectFile] = []
    scales: list[ScaleFile] = []
    practice: list[PracticeFile] = []
    terms: list[TermFile] = []
    questions: list[QuestionFile] = []

    @model_validator(mode="after")
    def _known_format(self) -> GuideFile:
        if self.format != 1:
            raise ValueError(f"format {self.format} is not supported; this alltx reads format 1")
        return self


def data_file_problems(raw: dict[str, Any]) -> list[str]:
    """Every problem with a parsed therapies file, each as `place: what is wrong`."""
    return _problems(DataFile, raw)


def guide_file_problems(raw: dict[str, Any]) -> list[str]:
    """Every problem with a parsed guide file, each as `place: what is wrong`."""
    return _problems(GuideFile, raw)


def _problems(model: type[BaseModel], raw: dict[str, Any]) -> list[str]:
    try:
        model.model_validate(raw)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            where = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]
            )
            message = str(problem["msg"]).removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                message = "unknown key (check its spelling)"
            problems.append(f"{where.lstrip('.') or 'file'}: {message}")
        return problems
    return []


# --- a patient row (flags, JSON Lines, CSV) -------------------------------------------------


def _fact(schema: dict[str, Any], description: str) -> Any:
    """A row field's JSON Schema: the given form, or null for unknown."""
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}], "description": description})


# The JSON Schema of a given value: a JSON value of the fact's form, or a string exactly as its
# parser takes it (facts.text_pattern; empty or white space is unknown, as a blank CSV cell is).
_NUMBERS: dict[str, dict[str, Any]] = {
    "bool": {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}]},
    "count": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    "age": {"type": "number", "minimum": 0, "maximum": MAX_AGE_YEARS},
    "percent": {"type": "number", "minimum": 0, "maximum": 100},
}


def _given(fact: Fact) -> dict[str, Any]:
    text: dict[str, Any] = {"type": "string", "pattern": text_pattern(fact)}
    if fact.form == "age":
        text["description"] = "years, or months with m: 19, 2.5, 8m"
    if fact.form == "category":
        text["examples"] = [*fact.spellings]
        return text
    return {"anyOf": [_NUMBERS[fact.form], text]}


def _parse(cls: type, value: object, info: ValidationInfo) -> object:
    """The same parser as the flag and the batch reader; blank means unknown."""
    assert info.field_name is not None
    return None if is_blank(value) else PARSERS[info.field_name](value)


# One patient's facts: a field per fact, from the facts' declarations.
_ROW: dict[str, Any] = {
    "id": (Annotated[Any, WithJsonSchema({"description": "carried through untouched"})], None)
} | {
    fact.name: (Annotated[Any, _fact(_given(fact), fact.described)], None)
    for fact in FACTS.values()
}
_PARSING: dict[str, Any] = {"_parse": field_validator(*PARSERS, mode="before")(classmethod(_parse))}
PatientRow: type[BaseModel] = create_model(
    "PatientRow",
    __config__=ConfigDict(extra="forbid"),
    __doc__="One patient's facts. Every field is optional: left out, empty or null means unknown.",
    __validators__=_PARSING,
    **_ROW,
)


# --- answers ---------------------------------------------------------------------------------


def validate(shape: object, value: object) -> None:
    """Check an answer against its shape (a TypedDict of alltx.answer.shapes); raises
    pydantic.ValidationError where it does not hold."""
    _adapter(shape).validate_python(value, strict=True)


def _adapter(shape: Any) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(shape)


def schema_of(which: str, csv_columns: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The JSON Schema of a patient row (`input`), a cohort record (`output`, `explain`) or a
    therapies file (`data`); for `csv`, the Frictionless Table Schema of the CSV output, from
    its columns."""
    from alltx.answer import shapes

    if which == "input":
        return PatientRow.model_json_schema()
    if which == "data":
        return DataFile.model_json_schema()
    if which == "csv":
        return _table_schema(csv_columns or [])
    if which == "explain":
        schema = _adapter(shapes.ExplainedRecordOut | shapes.FailureOut).json_schema()
        schema["title"] = "alltx full result record (--explain)"
    else:
        schema = _adapter(shapes.RecordOut | shapes.FailureOut).json_schema()
        schema["title"] = "alltx result record"
    return dict(schema)


def _table_schema(columns: list[tuple[str, str]]) -> dict[str, Any]:
    """A Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/)."""
    statuses = {"eligible", "possible", "not_eligible"}
    fields = []
    for name, about in columns:
        entry: dict[str, Any] = {"name": name, "type": "string", "description": about}
        if name in ("line", "version"):
            entry["type"] = "integer"
        elif about.startswith("status of"):
            entry["constraints"] = {"enum": sorted(statuses)}
        elif about.startswith("referral advice"):
            entry["constraints"] = {"enum": ["not_indicated", "possible", "recommended"]}
        fields.append(entry)
    return {"fields": fields, "missingValues": [""]}
