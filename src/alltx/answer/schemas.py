"""The schemas at alltx's edges: the data files and a patient row as pydantic models (which
check the files), and the JSON Schemas of every answer, derived from their shapes
(`alltx.answer.shapes`). Only `alltx schema`, `data check`, a broken data file and the
tests load it: building pydantic models costs more start-up time than a whole run.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
)

from alltx.core.facts import (
    AGE_DECIMALS,
    DATE_FIELDS,
    DATE_PATTERN,
    FACTS,
    MAX_AGE_YEARS,
    MAX_COUNT,
    PARSERS,
    PERCENT_DECIMALS,
    Fact,
    text_pattern,
    unknown_cell,
)
from alltx.model.catalog import DATA_TITLE, Data
from alltx.model.checking import model_of

# --- a patient row (flags, JSON Lines, CSV) -------------------------------------------------


def _fact(schema: dict[str, Any], description: str) -> Any:
    """A row field's JSON Schema: the given form, or null for unknown."""
    return WithJsonSchema({"anyOf": [schema, {"type": "null"}], "description": description})


# The JSON Schema of a given value: a JSON value of the fact's form, or a string exactly as its
# parser takes it (facts.text_pattern; empty or white space is unknown, as a blank CSV cell is).
_NUMBERS: dict[str, dict[str, Any]] = {
    "bool": {"anyOf": [{"type": "boolean"}, {"enum": [0, 1]}]},
    "count": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    # A JSON number is read from its text (facts.JsonNumber), with the decimals a text may
    # have: a rule JSON Schema cannot hold exactly (multipleOf is floating point), so said.
    "age": {
        "type": "number",
        "minimum": 0,
        "maximum": MAX_AGE_YEARS,
        "description": f"at most {AGE_DECIMALS} decimals, as written",
    },
    "percent": {
        "type": "number",
        "minimum": 0,
        "maximum": 100,
        "description": f"at most {PERCENT_DECIMALS} decimals, as written",
    },
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
    return None if unknown_cell(info.field_name, value) else PARSERS[info.field_name](value)


# One patient's facts: a field per fact, from the facts' declarations.
_ROW: dict[str, Any] = {
    "id": (Annotated[Any, WithJsonSchema({"description": "carried through untouched"})], None)
} | {
    fact.name: (Annotated[Any, _fact(_given(fact), fact.described)], None)
    for fact in FACTS.values()
} | {
    field.name: (Annotated[Any, _fact({"type": "string", "format": "date", "pattern": DATE_PATTERN},
                                      field.described)], None)
    for field in DATE_FIELDS.values()
}  # fmt: skip
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
        return model_of(Data, DATA_TITLE).model_json_schema()
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
