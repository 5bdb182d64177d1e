"""The schema check of the data files, derived from their entities' declarations
(`alltx.model.declared`): the pydantic models that check a file and give its JSON Schema. Only a
file that needs checking (not the bundled one), `alltx data check` and `alltx schema data` load
it: building pydantic models costs more start-up time than a whole run.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from alltx.model.declared import is_entity, markers, optional, slots

# --- the data files: their schemas, derived from the entities' declarations -----------------


def model_of(entity: type, title: str | None = None) -> type[BaseModel]:
    """The pydantic model that checks an entity (alltx.model.declared) as a file writes it: each
    field its key, its type with its `Key` constraints, its default; a list where the entity
    holds a tuple; nested entities as their own models, named `<entity>File`."""
    return _models(entity, title or f"{entity.__name__}File")


@functools.cache
def _models(entity: type, title: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for slot in slots(entity):
        described = slot.described.constraints() if slot.described else {}
        default = ... if slot.default is dataclasses.MISSING else _listed(slot.default)
        fields[slot.key] = (_checked(slot.hint), Field(default, **described))
    model: type[BaseModel] = create_model(title, __base__=Closed, __doc__=_about(entity), **fields)
    return model


def _about(entity: type) -> str | None:
    """An entity's docstring as one line; None where it has none (a dataclass then makes one
    from its signature)."""
    doc = entity.__doc__ or ""
    return None if not doc or doc.startswith(f"{entity.__name__}(") else " ".join(doc.split())


def _listed(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def _checked(hint: Any) -> Any:
    """A declared type as pydantic checks it in a file."""
    inner, keys = markers(hint)
    if keys:
        checks: list[Any] = []
        for marker in keys:
            constraints = marker.constraints()
            constraints.pop("alias", None)
            if marker.one_or_many:
                checks += [
                    BeforeValidator(_as_list),
                    WithJsonSchema(_ONE_OR_MANY | {"description": constraints.pop("description")}),
                ]
            checks.append(Field(**constraints))
        return Annotated[(_checked(inner), *checks)]
    inner, maybe = optional(hint)
    if maybe:
        return _checked(inner) | None
    if is_entity(hint):
        return model_of(hint)
    if get_origin(hint) is tuple:
        return list[_checked(get_args(hint)[0])]  # type: ignore[misc]
    if get_origin(hint) is Mapping:
        return dict[str, Any]
    if hint in (int, float, bool):  # TOML writes numbers and booleans as such: "2" is no 2
        return Annotated[hint, Strict()]
    return hint


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


_ONE_OR_MANY = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ]
}


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def file_problems(entity: type, title: str, raw: dict[str, Any]) -> list[str]:
    """Every problem with a parsed data file whose top entity is `entity` (its schema's
    `title`), each as `place: what is wrong`."""
    try:
        model_of(entity, title).model_validate(raw)
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
