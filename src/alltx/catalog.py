"""The therapy catalog: the data file's models, its cross-checks, and name lookup.

Pure: it takes the file's text and where it came from, and either returns a Catalog or raises
DataError with one line that says where in the file the problem is.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from alltx.facts import RULE_FACTS
from alltx.rules import Node, RuleError, compile_criteria


class DataError(ValueError):
    """The data file is broken; the message is one line: file, place, problem."""


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


SourceIds = Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]
Text = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Model):
    id: Text
    short: Text = Field(description="a short name for citing it in a line")
    title: Text
    publisher: str | None = None
    date: str | None = None
    url: str | None = None


class Statement(Model):
    """A clinical statement in plain words, with the sources that back it."""

    text: Text
    source: SourceIds
    detail: bool = Field(default=False, description="dosing detail for clinicians")


class Indication(Model):
    id: Text
    summary: Text
    source: SourceIds
    approved: str | None = None
    criteria: dict[str, Any]
    _rule: Node | None = PrivateAttr(default=None)

    @property
    def rule(self) -> Node:
        assert self._rule is not None, "compiled when the catalog is checked"
        return self._rule


class Caution(Model):
    text: Text
    source: SourceIds
    when: dict[str, Any] | None = None
    _rule: Node | None = PrivateAttr(default=None)

    @property
    def rule(self) -> Node | None:
        return self._rule


class Therapy(Model):
    id: Text
    name: Text
    brands: list[str] = []
    aliases: list[str] = []
    kind: Statement
    about: Statement
    given: list[Statement] = []
    common_side_effects: list[Statement] = []
    serious_side_effects: list[Statement] = []
    boxed_warning: list[Statement] = []
    indications: Annotated[list[Indication], Field(min_length=1)]
    cautions: list[Caution] = []

    @property
    def names(self) -> list[str]:
        return [self.id, self.name, *self.brands, *self.aliases]

    def statements(self) -> list[tuple[str, Statement | Indication | Caution]]:
        """Every sourced item of this therapy, with where it stands."""
        items: list[tuple[str, Statement | Indication | Caution]] = [
            ("kind", self.kind),
            ("about", self.about),
        ]
        for field in ("given", "common_side_effects", "serious_side_effects", "boxed_warning"):
            items += [(f"{field}[{i}]", s) for i, s in enumerate(getattr(self, field))]
        items += [(f"indications[{i}]", s) for i, s in enumerate(self.indications)]
        items += [(f"cautions[{i}]", s) for i, s in enumerate(self.cautions)]
        return items

    def source_ids(self) -> list[str]:
        """The ids of every source this therapy cites, first citation first."""
        seen: dict[str, None] = {}
        for _, item in self.statements():
            seen.update(dict.fromkeys(item.source))
        return list(seen)


class DataInfo(Model):
    release: Text
    updated: date
    regulator: Text
    region: Text
    scope: Text
    currency: Statement | None = None


class CatalogFile(Model):
    format: int
    data: DataInfo
    sources: list[Source]
    therapies: Annotated[list[Therapy], Field(min_length=1)]

    @model_validator(mode="after")
    def _check_format(self) -> CatalogFile:
        if self.format != 1:
            raise ValueError(f"format {self.format} is not supported; this alltx reads format 1")
        return self


@dataclass(frozen=True)
class Catalog:
    """The checked data: therapies in file order, sources by id, names for lookup."""

    info: DataInfo
    therapies: tuple[Therapy, ...]
    sources: dict[str, Source]
    origin: str

    def therapy(self, name: str) -> Therapy:
        """Find a therapy by id, generic name, brand or short name; or say what was meant."""
        wanted = _key(name)
        by_name = {_key(n): t for t in self.therapies for n in t.names}
        if wanted in by_name:
            return by_name[wanted]
        starting = {t.id: t for key, t in by_name.items() if wanted and key.startswith(wanted)}
        if len(starting) == 1:
            return next(iter(starting.values()))
        close = difflib.get_close_matches(wanted, list(by_name), n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys([by_name[key].id for key in close] + list(starting)))
        raise UnknownTherapy(name, suggestions, [t.id for t in self.therapies])


class UnknownTherapy(LookupError):
    def __init__(self, name: str, suggestions: list[str], known: list[str]) -> None:
        if suggestions:
            hint = "did you mean " + " or ".join(suggestions) + "?"
        else:
            hint = "known therapies: " + ", ".join(known)
        super().__init__(f"no therapy called {name!r}; {hint}")
        self.suggestions = suggestions


def _key(name: str) -> str:
    return "-".join(name.lower().replace("®", "").replace("_", " ").split())


def parse_catalog(text: str, origin: str) -> Catalog:
    """Read and check a therapies file's text; `origin` names it in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{origin}: not valid TOML: {error}") from None
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as error:
        raise DataError(f"{origin}: {_first_problem(error)}") from None
    try:
        return _cross_check(parsed, origin)
    except (RuleError, ValueError) as error:
        raise DataError(f"{origin}: {error}") from None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
    return f"{where.lstrip('.') or 'file'}: {message}{more}"


def _cross_check(parsed: CatalogFile, origin: str) -> Catalog:
    sources = {}
    for source in parsed.sources:
        if source.id in sources:
            raise ValueError(f"sources: duplicate source id {source.id!r}")
        sources[source.id] = source

    owner_of: dict[str, str] = {}
    for index, therapy in enumerate(parsed.therapies):
        place = f"therapies[{index}] ({therapy.id})"
        if _key(therapy.id) in owner_of:
            raise ValueError(
                f"{place}: id {therapy.id!r} is already used by {owner_of[_key(therapy.id)]}"
            )
        for name in therapy.names:
            key = _key(name)
            if owner_of.get(key, therapy.id) != therapy.id:
                raise ValueError(f"{place}: name {name!r} is already used by {owner_of[key]}")
            owner_of[key] = therapy.id
        for where, item in therapy.statements():
            for source_id in item.source:
                if source_id not in sources:
                    raise ValueError(f"{place}.{where}: unknown source {source_id!r}")
        for i, indication in enumerate(therapy.indications):
            where = f"{place}.indications[{i}].criteria"
            # The whole tree is the indication, so its text is the indication's summary.
            criteria = {"text": indication.summary, **indication.criteria}
            indication._rule = compile_criteria(criteria, RULE_FACTS, where)
        for i, caution in enumerate(therapy.cautions):
            if caution.when is not None:
                where = f"{place}.cautions[{i}].when"
                caution._rule = compile_criteria(caution.when, RULE_FACTS, where)
    if parsed.data.currency:
        for source_id in parsed.data.currency.source:
            if source_id not in sources:
                raise ValueError(f"data.currency: unknown source {source_id!r}")
    return Catalog(parsed.data, tuple(parsed.therapies), sources, origin)
