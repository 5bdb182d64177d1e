"""How the data files' entities are declared: once, as frozen dataclasses whose fields are the
file's keys, their constraints in `Key` markers. From that one declaration come

- the object alltx holds (the dataclass itself; what it derives, such as a compiled rule, is a
  field with `init=False` that its `__post_init__` sets),
- the fast build of a file already checked (`build`, here: pure, no pydantic), and
- the schema check and the JSON Schema of a file (`alltx.model.checking.model_of` derives
  pydantic models from the same fields; pydantic is imported only when a file needs checking).

Adding a field to an entity is one line in its dataclass.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

Entity = TypeVar("Entity")


@dataclasses.dataclass(frozen=True)
class Key:
    """What a data file's schema says of a field (or of the items of a list)."""

    description: str | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    ge: int | None = None
    le: int | None = None
    alias: str | None = None  # its key in the file, where that is a Python word (`is`, `for`)
    one_or_many: bool = False  # a string, or a list of them: `source = "id"` or `["a", "b"]`

    def constraints(self) -> dict[str, Any]:
        """As keyword arguments of pydantic's `Field`."""
        names = ("description", "pattern", "min_length", "max_length", "ge", "le", "alias")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


# The types the data files use, with their constraints.
Text = Annotated[str, Key(min_length=1)]
# Ids name columns and records (`<indication id>.<fact>`) and reach SQL as names and literals:
# lower-case letters, digits and hyphens only, so no quote or backslash can end a literal.
Id = Annotated[str, Key(pattern=r"^[a-z0-9][a-z0-9-]*$")]
RegulatorId = Annotated[str, Key(pattern=r"^[a-z]+$")]
Release = Annotated[str, Key(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]*$")]
# An address is a link in every view: only http(s), so no javascript: or file: can run.
Address = Annotated[str, Key(pattern=r"^https?://[^\s]+$")]
SourceIds = Annotated[
    tuple[str, ...],
    Key(
        one_or_many=True,
        min_length=1,
        description="the id of an entry in [[sources]], or a list of them",
    ),
]
# A test on one fact or a group of them, as the file writes it; the rules module compiles it.
Criteria = Annotated[
    Mapping[str, Any],
    Key(
        description="a test on one fact ({fact, is|in|at_least|at_most, text}) or a group "
        "({all|any: [criteria], text}); checked by the rules module at load"
    ),
]


def key(description: str | None = None, *, alias: str | None = None, **field: Any) -> Any:
    """A field's description (for the JSON Schema) or its key in the file, beside its default,
    as `dataclasses.field` holds them: `help: str | None = key("its option's help",
    default=None)`."""
    return dataclasses.field(**field, metadata={"key": Key(description=description, alias=alias)})


def outside(**field: Any) -> Any:
    """A field that is not in the file but given when it is built: where it was read."""
    return dataclasses.field(**field, metadata={"outside": True})


def derived(**field: Any) -> Any:
    """A field that is not in the file: `__post_init__` sets it from the others."""
    return dataclasses.field(init=False, repr=False, compare=False, **field)


# --- the plan of an entity: its fields, as the builder and the schema read them -------------


@dataclasses.dataclass(frozen=True)
class Slot:
    name: str  # the attribute
    key: str  # the file's key
    hint: Any  # the type as declared, Annotated markers and all
    shape: Literal["entity", "entities", "many", "date", "value"]
    entity: type | None  # the dataclass of an entity or of a list's items
    one_or_many: bool
    default: Any  # dataclasses.MISSING: required
    described: Key | None  # what `key()` says of the field: its description, its file key


def markers(hint: Any) -> tuple[Any, list[Key]]:
    """A type without its Annotated markers, and the Keys among them."""
    if get_origin(hint) is Annotated:
        inner, *extra = get_args(hint)
        return inner, [m for m in extra if isinstance(m, Key)]
    return hint, []


def optional(hint: Any) -> tuple[Any, bool]:
    """`X | None` as (X, True); anything else as (it, False)."""
    if get_origin(hint) in (Union, types.UnionType):
        rest = [a for a in get_args(hint) if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(get_args(hint)):
            return rest[0], True
    return hint, False


def is_entity(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def slots(cls: type) -> tuple[Slot, ...]:
    """The file's fields of an entity, in declaration order (a derived field is not one)."""
    return _slots(cls)


@functools.cache
def _slots(cls: Any) -> tuple[Slot, ...]:
    hints = get_type_hints(cls, include_extras=True)
    found = []
    for field in dataclasses.fields(cls):
        if not field.init or field.metadata.get("outside"):
            continue
        hint = hints[field.name]
        inner, keys = markers(hint)
        inner, _ = optional(inner)
        inner, more = markers(inner)
        described = field.metadata.get("key")
        keys += more + ([described] if described else [])
        item = get_args(inner)[0] if get_origin(inner) is tuple else None
        item = markers(item)[0] if item is not None else None
        shape: Literal["entity", "entities", "many", "date", "value"]
        if is_entity(inner):
            shape, entity = "entity", inner
        elif item is not None and is_entity(item):
            shape, entity = "entities", item
        elif item is not None:
            shape, entity = "many", None
        elif inner is date:
            shape, entity = "date", None
        else:
            shape, entity = "value", None
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        alias = next((k.alias for k in keys if k.alias), field.name)
        one_or_many = any(k.one_or_many for k in keys)
        found.append(Slot(field.name, alias, hint, shape, entity, one_or_many, default, described))
    return tuple(found)


# --- the fast build of a file already checked ------------------------------------------------


class _Dropped(Exception):
    """An entity whose own check failed: its problem is noted; the list holding it goes on."""


def build(cls: type[Entity], raw: Mapping[str, Any], problems: list[str]) -> Entity | None:
    """A file's top entity from its parsed TOML; None where an entity's own check (its
    `__post_init__`) failed, each failure noted in `problems` by its place in the file. A key
    missing or of the wrong type raises (KeyError, TypeError): the schema check explains it."""
    try:
        return _entity(cls, raw, "", problems)
    except _Dropped:
        return None


def _entity(cls: type[Entity], raw: Mapping[str, Any], where: str, problems: list[str]) -> Entity:
    values = {}
    for slot in slots(cls):
        if slot.key not in raw:
            if slot.default is dataclasses.MISSING:
                raise KeyError(slot.key)
            values[slot.name] = slot.default
            continue
        value = raw[slot.key]
        place = key_place(where, slot.key)
        if slot.shape == "entity" and value is not None:
            assert slot.entity is not None
            value = _entity(slot.entity, value, place, problems)
        elif slot.shape == "entities":
            value = tuple(_items(slot.entity, value, place, problems))
        elif slot.shape == "many":
            value = (value,) if slot.one_or_many and isinstance(value, str) else tuple(value)
        elif slot.shape == "date":
            value = as_date(value)
        values[slot.name] = value
    try:
        return cls(**values)
    except ValueError as error:  # its own check: a rule that cannot be compiled, a format
        below = getattr(error, "where", "")  # a rule's error names its place in the entity
        said = getattr(error, "message", str(error))
        place = ".".join(p for p in (where, below) if p) or "file"
        problems.append(f"{place}: {said}")
        raise _Dropped from error


def _items(cls: Any, raw: list[Any], where: str, problems: list[str]) -> list[Any]:
    built = []
    for index, item in enumerate(raw):
        named = item.get("id") if isinstance(item, Mapping) else None
        try:
            built.append(_entity(cls, item, item_place(where, index, named), problems))
        except _Dropped:
            continue
    return built


def check_format(found: int, reads: int) -> None:
    """A data file's `format` against the one this alltx reads: a ValueError, noted as the
    file's problem, where they differ."""
    if found != reads:
        raise ValueError(f"format {found} is not supported; this alltx reads format {reads}")


def key_place(where: str, key: str) -> str:
    """A key's place in a file, below the place `where` (the file itself: "")."""
    return f"{where}.{key}" if where else key


def item_place(where: str, index: int, item_id: object) -> str:
    """A list item's place in a file, named by its id where it has one, as a reader finds it:
    `therapies[0] (tisagenlecleucel)`."""
    return f"{where}[{index}]" + (f" ({item_id})" if isinstance(item_id, str) else "")


def as_date(value: date | str) -> date:
    """A data file's date: TOML's own date (`updated = 2026-12-02`) or a string of one."""
    return value if isinstance(value, date) else date.fromisoformat(value)


# A file's entities, each with its place in the file.
Walked = list[tuple[str, object]]


def walk(entity: object, where: str = "") -> Walked:
    """Every entity below `entity` (itself first), each with its place in the file."""
    found: Walked = [(where, entity)]
    for slot in slots(type(entity)):
        value = getattr(entity, slot.name)
        place = key_place(where, slot.key)
        if slot.shape == "entity" and value is not None:
            found += walk(value, place)
        elif slot.shape == "entities":
            for index, item in enumerate(value):
                found += walk(item, item_place(place, index, getattr(item, "id", None)))
    return found
