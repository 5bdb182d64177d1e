"""The therapy catalog: the checked content of a therapies file, and name lookup.

Pure: it takes the file's text and where it came from, and returns a Catalog of plain frozen
objects, or raises DataError with one line that says where in the file the problem is.

The file's schema is the pydantic model in `alltx.contract`. Building pydantic models costs more
start-up time than the rest of a run, so a file already checked against it (the bundled one, in
CI) is built directly; any other file is checked first.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from datetime import date
from typing import Any

from alltx.facts import RULE_FACTS
from alltx.rules import Node, RuleError, compile_criteria


class DataError(ValueError):
    """The data file is broken; the message is one line: file, place, problem."""


@dataclass(frozen=True)
class Source:
    id: str
    short: str
    title: str
    publisher: str | None = None
    date: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Statement:
    """A clinical statement in plain words, with the ids of the sources that back it."""

    text: str
    source: tuple[str, ...]
    detail: bool = False  # dosing detail for clinicians


@dataclass(frozen=True)
class Indication:
    id: str
    summary: str
    source: tuple[str, ...]
    approved: str | None
    rule: Node


@dataclass(frozen=True)
class Caution:
    text: str
    source: tuple[str, ...]
    rule: Node | None  # when it applies; None = always


@dataclass(frozen=True)
class Therapy:
    id: str
    name: str
    brands: tuple[str, ...]
    aliases: tuple[str, ...]
    kind: Statement
    about: Statement
    given: tuple[Statement, ...]
    common_side_effects: tuple[Statement, ...]
    serious_side_effects: tuple[Statement, ...]
    boxed_warning: tuple[Statement, ...]
    indications: tuple[Indication, ...]
    cautions: tuple[Caution, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, self.name, *self.brands, *self.aliases)

    def statements(self) -> list[tuple[str, Statement | Indication | Caution]]:
        """Every sourced item of this therapy, with where it stands in the file."""
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
        return list(dict.fromkeys(s for _, item in self.statements() for s in item.source))


@dataclass(frozen=True)
class DataInfo:
    release: str
    updated: date
    regulator: str
    region: str
    scope: str
    currency: Statement | None = None


@dataclass(frozen=True)
class Catalog:
    """The checked data: therapies in file order, sources by id, where it came from."""

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


# --- reading a file -------------------------------------------------------------------------


def parse_catalog(text: str, origin: str, *, checked: bool = False) -> Catalog:
    """Read a therapies file's text; `origin` names it in errors.

    `checked=True` says the text is already known to match the schema (the bundled file, which
    CI checks): the pydantic check is skipped, and runs only to explain a failure.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{origin}: not valid TOML: {error}") from None
    if not checked:
        _check_schema(raw, origin)
    try:
        therapies = tuple(_therapy(t, _place(i, t)) for i, t in enumerate(raw["therapies"]))
        sources = [_source(s) for s in raw["sources"]]
        info = _info(raw["data"])
    except RuleError as error:
        raise DataError(f"{origin}: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        _check_schema(raw, origin)  # names the exact place
        raise DataError(f"{origin}: does not match the data schema ({error!r})") from None
    try:
        return _cross_check(info, therapies, sources, origin)
    except ValueError as error:
        raise DataError(f"{origin}: {error}") from None


def _check_schema(raw: dict[str, Any], origin: str) -> None:
    from alltx.contract import data_file_problem  # pydantic: only when it is needed

    problem = data_file_problem(raw)
    if problem:
        raise DataError(f"{origin}: {problem}")


def _sources(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _statement(raw: dict[str, Any]) -> Statement:
    return Statement(raw["text"], _sources(raw["source"]), raw.get("detail", False))


def _statements(raw: dict[str, Any], field: str) -> tuple[Statement, ...]:
    return tuple(_statement(s) for s in raw.get(field, ()))


def _source(raw: dict[str, Any]) -> Source:
    return Source(**raw)


def _info(raw: dict[str, Any]) -> DataInfo:
    currency = raw.get("currency")
    return DataInfo(
        release=raw["release"],
        updated=date.fromisoformat(raw["updated"]),
        regulator=raw["regulator"],
        region=raw["region"],
        scope=raw["scope"],
        currency=_statement(currency) if currency else None,
    )


def _place(index: int, raw: object) -> str:
    therapy_id = raw.get("id") if isinstance(raw, dict) else None
    return f"therapies[{index}] ({therapy_id})"


def _indication(raw: dict[str, Any], where: str) -> Indication:
    # The whole tree is the indication, so its text is the indication's summary.
    criteria = {"text": raw["summary"], **raw["criteria"]}
    return Indication(
        id=raw["id"],
        summary=raw["summary"],
        source=_sources(raw["source"]),
        approved=raw.get("approved"),
        rule=compile_criteria(criteria, RULE_FACTS, f"{where}.criteria"),
    )


def _caution(raw: dict[str, Any], where: str) -> Caution:
    when = raw.get("when")
    rule = None if when is None else compile_criteria(when, RULE_FACTS, f"{where}.when")
    return Caution(raw["text"], _sources(raw["source"]), rule)


def _therapy(raw: dict[str, Any], place: str) -> Therapy:
    """One therapy, its criteria compiled into rule nodes once, at load."""
    indications = tuple(
        _indication(i, f"{place}.indications[{n}]") for n, i in enumerate(raw["indications"])
    )
    cautions = tuple(
        _caution(c, f"{place}.cautions[{n}]") for n, c in enumerate(raw.get("cautions", ()))
    )
    return Therapy(
        id=raw["id"],
        name=raw["name"],
        brands=tuple(raw.get("brands", ())),
        aliases=tuple(raw.get("aliases", ())),
        kind=_statement(raw["kind"]),
        about=_statement(raw["about"]),
        given=_statements(raw, "given"),
        common_side_effects=_statements(raw, "common_side_effects"),
        serious_side_effects=_statements(raw, "serious_side_effects"),
        boxed_warning=_statements(raw, "boxed_warning"),
        indications=indications,
        cautions=cautions,
    )


def _cross_check(
    info: DataInfo, therapies: tuple[Therapy, ...], source_list: list[Source], origin: str
) -> Catalog:
    """What a schema cannot see: references between entries, and the criteria themselves."""
    sources: dict[str, Source] = {}
    for source in source_list:
        if source.id in sources:
            raise ValueError(f"sources: duplicate source id {source.id!r}")
        sources[source.id] = source

    owner_of: dict[str, str] = {}
    for index, therapy in enumerate(therapies):
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
    if info.currency:
        for source_id in info.currency.source:
            if source_id not in sources:
                raise ValueError(f"data.currency: unknown source {source_id!r}")
    return Catalog(info, therapies, sources, origin)
