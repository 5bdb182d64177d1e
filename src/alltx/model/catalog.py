"""The therapy catalog: the checked content of a therapies file, and name lookup.

Pure: it takes the file's text and where it came from, and returns a Catalog of plain frozen
objects, or raises DataError with one line that says where in the file the problem is.

Each entity of the file is declared once, here, as a frozen dataclass whose fields are the
file's keys (`alltx.model.declared`); the schema check that `alltx.model.checking` derives from
these declarations needs pydantic, whose models cost more start-up time than the rest of a run,
so a file already checked (the bundled one, in CI) is built directly; any other is checked first.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Annotated, Any, TypeVar

from alltx.core.facts import FACTS, RULE_FACTS
from alltx.core.plain import HIDDEN
from alltx.core.rules import (
    Group,
    RuleError,
    atoms,
    compile_criteria,
    duplicate_ids,
    named,
    satisfiable,
)
from alltx.core.rules import (
    Node as Node,  # the rule tree is part of the data: views name it from here
)
from alltx.model import declared
from alltx.model.declared import Criteria, Id, Key, RegulatorId, SourceIds, Text, derived, key


class DataError(ValueError):
    """The data file is broken. The message is one line (file, place, problem); `problems`
    lists every problem found, for `alltx data check`."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


def _refuse(origin: str, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more: alltx data check lists them)"
        message = f"{origin}: {problems[0]}" + (more if len(problems) > 1 else "")
        raise DataError(message, [f"{origin}: {problem}" for problem in problems])


@dataclass(frozen=True, kw_only=True)
class Source:
    id: Id
    short: Text = key("a short name for citing it in a line")
    title: Text
    publisher: str | None = None
    date: str | None = None
    url: declared.Address | None = None
    identifiers: tuple[Text, ...] = key(
        "identifiers a reader can look it up by: BLA, setid, DOI, PMID", default=()
    )

    @property
    def attribution(self) -> str:
        """Who says it and when, for a list shown as that source's: `NMDP, medical review
        March 2017`."""
        who = self.publisher or self.short
        return f"{who}, {self.date}" if self.date else who

    @property
    def findable(self) -> bool:
        """Whether a reader can find it in one step: an address or an identifier."""
        return bool(self.url or self.identifiers)


@dataclass(frozen=True)
class Statement:
    """A clinical statement in plain words, with the sources that back it."""

    text: Text
    source: SourceIds
    detail: bool = key("dosing detail for clinicians", default=False)
    regulator: RegulatorId | None = key(
        "said under this regulator only (a US REMS change, an EU requirement); left out: "
        "under every regulator",
        default=None,
    )


def compiled(criteria: Mapping[str, Any], where: str, name: str) -> Node:
    """Criteria as a rule, its tests named `name.fact`; RuleError (with `where`, its place in
    the entity) where they cannot be read or can never be met."""
    rule = named(compile_criteria(criteria, RULE_FACTS, where), name)
    if not satisfiable(rule):
        raise RuleError(where, "these criteria can never all be met; check the bounds and values")
    twice = duplicate_ids(rule)
    if twice:
        raise RuleError(
            where, f"test id {twice[0]!r} is used twice; give each test of that fact its own `id`"
        )
    return rule


@dataclass(frozen=True, kw_only=True)
class Indication:
    id: Id
    regulator: RegulatorId = key("the regulator whose authorisation this is")
    summary: Text = key("the label's indication in its own words")
    source: SourceIds
    approved: str | None = None
    authorisation: str | None = key(
        "its type, where the sources give one: conditional", default=None
    )
    criteria: Criteria = key(compare=False)
    rule: Node = derived()  # the criteria compiled, once, at load

    def __post_init__(self) -> None:
        # The whole tree is the indication, so its text is the indication's summary.
        whole = {"text": self.summary, **self.criteria}
        object.__setattr__(self, "rule", compiled(whole, "criteria", self.id))


@dataclass(frozen=True, kw_only=True)
class Caution:
    id: Id = key("stable, for machine records: cd19-negative")
    text: Text
    source: SourceIds
    when: Criteria | None = key(default=None, compare=False)
    regulator: RegulatorId | None = key(
        "a caution about this regulator's wording only", default=None
    )
    rule: Node | None = derived()  # when it applies; None = always

    def __post_init__(self) -> None:
        rule = None if self.when is None else compiled(self.when, "when", self.id)
        object.__setattr__(self, "rule", rule)

    @property
    def said(self) -> str:
        """As an answer or a drug's page says it: with its condition where it has one, for
        a reader who does not know yet whether it holds."""
        return self.text if self.rule is None else if_unknown(self.rule.text, self.text)


def if_unknown(condition: str, text: str) -> str:
    """A caution whose condition is not known yet, in words: `If <condition>: <text>`."""
    return f"If {condition}: {text}"


# A therapy's lists of sourced statements, in the order `alltx drug` shows them.
STATEMENT_LISTS = (
    "given",
    "common_side_effects",
    "serious_side_effects",
    "boxed_warning",
    "figures",
)


@dataclass(frozen=True, kw_only=True)
class Therapy:
    id: Id
    name: Text
    brands: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    groups: tuple[str, ...] = key("words that cover several therapies, such as car-t", default=())
    kind: Statement
    about: Statement
    given: tuple[Statement, ...] = ()
    common_side_effects: tuple[Statement, ...] = ()
    serious_side_effects: tuple[Statement, ...] = ()
    boxed_warning: tuple[Statement, ...] = ()
    figures: tuple[Statement, ...] = key(
        "trial results as the regulator states them, naming the trial", default=()
    )
    indications: Annotated[tuple[Indication, ...], Key(min_length=1)]
    cautions: tuple[Caution, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, self.name, *self.brands, *self.aliases)

    def statements(self) -> list[tuple[str, Statement | Indication | Caution]]:
        """Every sourced item of this therapy, with where it stands in the file."""
        items: list[tuple[str, Statement | Indication | Caution]] = [
            ("kind", self.kind),
            ("about", self.about),
        ]
        for field in STATEMENT_LISTS:
            items += [(f"{field}[{i}]", s) for i, s in enumerate(getattr(self, field))]
        items += [(f"indications[{i}]", s) for i, s in enumerate(self.indications)]
        items += [(f"cautions[{i}]", s) for i, s in enumerate(self.cautions)]
        return items

    def rules(self) -> list[Node]:
        """Every rule its answer reads: its indications', then those of its cautions that have
        one."""
        return [i.rule for i in self.indications] + [
            c.rule for c in self.cautions if c.rule is not None
        ]

    def source_ids(self) -> list[str]:
        """The ids of every source this therapy cites, first citation first."""
        return list(dict.fromkeys(s for _, item in self.statements() for s in item.source))

    def under(self, regulator: str) -> Therapy:
        """This therapy as one regulator authorises it: its indications, and the statements
        and cautions that are not another regulator's alone."""

        def mine(items: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(item for item in items if item.regulator in (None, regulator))

        return replace(
            self,
            indications=tuple(i for i in self.indications if i.regulator == regulator),
            cautions=mine(self.cautions),
            given=mine(self.given),
            common_side_effects=mine(self.common_side_effects),
            serious_side_effects=mine(self.serious_side_effects),
            boxed_warning=mine(self.boxed_warning),
            figures=mine(self.figures),
        )


@dataclass(frozen=True, kw_only=True)
class Referral:
    """Advice to see another kind of doctor, with the reasons that call for it (any one will
    do) as a rule over the same facts as the indications."""

    id: Id
    title: Text = key("the advice, e.g. 'See a transplant doctor'")
    source: SourceIds
    criteria: Criteria = key("the reasons for the advice, usually `any` of them", compare=False)
    about: tuple[Statement, ...] = ()
    rule: Node = derived()

    def __post_init__(self) -> None:
        whole = {"text": self.title, **self.criteria}
        object.__setattr__(self, "rule", compiled(whole, "criteria", self.id))

    def statements(self) -> list[tuple[str, Statement | Referral]]:
        return [("", self), *((f".about[{i}]", s) for i, s in enumerate(self.about))]

    @property
    def reasons(self) -> tuple[Node, ...]:
        """The reasons, in the data's order: the members of the rule's group."""
        return self.rule.children if isinstance(self.rule, Group) else (self.rule,)

    def source_ids(self) -> list[str]:
        """The ids of every source this referral cites, first citation first."""
        return list(dict.fromkeys(s for _, item in self.statements() for s in item.source))


@dataclass(frozen=True, kw_only=True)
class Regulator:
    """A regulator whose authorisations the data holds: `id` as the data and --regulator name
    it, `name` as answers say it."""

    id: RegulatorId = key("as indications and --regulator name it (lower-case letters)")
    name: Text = key("as answers name it: US FDA")
    region: Text
    scope: Text
    label: Text = key("a label document, as answers name it: US FDA label")
    labels: Text = key("the documents answers come from: US FDA labels")
    short: Text = key("a word for its indications: US label")
    currency: Statement | None = None


@dataclass(frozen=True, kw_only=True)
class DataRelease:
    release: declared.Release
    updated: date


DATA_FORMAT = 2  # 2: the regulators, and each indication's
DATA_TITLE = "DataFile"  # its JSON Schema's title


@dataclass(frozen=True, kw_only=True)
class Data:
    """A therapies file (data/therapies.toml)."""

    format: int = key(f"the file format; this alltx reads format {DATA_FORMAT}")
    data: DataRelease
    regulators: Annotated[tuple[Regulator, ...], Key(min_length=1)] = key(
        "the regulators whose authorisations the file holds; the first is the default"
    )
    sources: tuple[Source, ...]
    therapies: Annotated[tuple[Therapy, ...], Key(min_length=1)]
    referrals: tuple[Referral, ...] = ()

    def __post_init__(self) -> None:
        declared.check_format(self.format, DATA_FORMAT)


@dataclass(frozen=True, kw_only=True)
class DataInfo(DataRelease):
    """The data in use: its release and date (the file's [data]), and the regulator its
    statuses come from (`authority`: its name, its words for its labels, as answers use them).
    Not in the file: made when the data is read under one regulator."""

    authority: Regulator


@dataclass(frozen=True)
class Catalog:
    """The checked data: therapies in file order, sources by id, where it came from."""

    info: DataInfo
    therapies: tuple[Therapy, ...]
    sources: dict[str, Source]
    origin: str
    referrals: tuple[Referral, ...] = ()
    # Every regulator the file holds, the first the default. A catalog as read holds every
    # regulator's indications; `under` gives one regulator's, which is what answers read.
    regulators: tuple[Regulator, ...] = ()
    # Under one regulator (`under`): the therapies the file holds that this regulator's
    # documents in it do not authorise, so that a name of one is said as such, not unknown.
    elsewhere: tuple[Therapy, ...] = ()

    def under(self, regulator: str) -> Catalog:
        """The catalog as one regulator authorises it: each therapy's indications, cautions
        and statements under it (a therapy it has not authorised is left out), and its name,
        region, scope and currency in `info`."""
        chosen = next((r for r in self.regulators if r.id == regulator), None)
        if chosen is None:
            known = ", ".join(r.id for r in self.regulators)
            raise UnknownRegulator(
                f"the data holds no regulator {regulator!r}; it holds {known}",
                [r.id for r in self.regulators],
            )
        info = replace(self.info, authority=chosen)
        therapies = tuple(t.under(regulator) for t in self.therapies)
        return replace(
            self,
            info=info,
            therapies=tuple(t for t in therapies if t.indications),
            elsewhere=tuple(t for t in therapies if not t.indications),
        )

    def rules(self) -> list[Node]:
        """Every rule in the data: the referrals', then each therapy's."""
        return [r.rule for r in self.referrals] + [
            rule for therapy in self.therapies for rule in therapy.rules()
        ]

    def facts_read(self) -> set[str]:
        """The input facts its rules read (the others decide nothing here)."""
        read = {RULE_FACTS[test.fact].source for rule in self.rules() for test in atoms(rule)}
        return read & FACTS.keys()  # (an open point, facts.READING, is no input fact)

    def by_id(self, therapy_id: str) -> Therapy:
        """The therapy an answer names by its id."""
        return next(t for t in self.therapies if t.id == therapy_id)

    def referral(self, referral_id: str) -> Referral | None:
        return next((r for r in self.referrals if r.id == referral_id), None)

    def attribution(self, referral: Referral) -> str:
        """Whose lists a referral's reasons are, with their dates: each of its own sources."""
        return "; ".join(self.sources[s].attribution for s in referral.source)

    def group(self, name: str) -> list[Therapy]:
        """The therapies a word covers (`car-t`), or none; in file order."""
        wanted = _key(name)
        return [t for t in self.therapies if wanted in {_key(g) for g in t.groups}]

    def therapy(self, name: str) -> Therapy:
        """Find a therapy by id, generic name, brand or short name; or say what was meant, or
        that the regulator's documents in the data do not show it authorised (never "not
        authorised": alltx's sources may not be all there are)."""
        named = [(t.id, t.names, t) for t in self.therapies]
        try:
            return find(name, named, "therapy", "known therapies", UnknownTherapy)
        except UnknownTherapy as unknown:
            other = [(t.id, t.names, t) for t in self.elsewhere]
            try:
                therapy = find(name, other, "therapy", "known therapies", UnknownTherapy)
            except UnknownTherapy:
                raise unknown from None
            said = (
                f"{therapy.id} is not shown to be authorised by the "
                f"{self.info.authority.name} in alltx's sources (data release "
                f"{self.info.release})"
            )
            shown = [t.id for t in self.therapies]
            raise NotShown(
                f"{said}; the therapies they show: {', '.join(shown)}", shown, said
            ) from None


class UnknownName(LookupError):
    """A name the data does not know; the message says what was meant, `suggestions` the ids."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class UnknownTherapy(UnknownName):
    pass


class UnknownRegulator(UnknownName):
    pass


def regulators_named(said: str | None, held: Sequence[Regulator]) -> list[str]:
    """The regulators a choice names, as --regulator and the API take it: one the data holds
    (its id, any case), several with commas (in the order given), `all`, or `both` where the
    data holds two; none (None) is the data's first. Nothing here names a regulator: the data
    file lists them."""
    ids = [regulator.id for regulator in held]
    listed = ", ".join(ids)
    if said is None:
        return ids[:1]
    words = [word.strip().lower() for word in said.split(",")]
    if words == ["all"]:
        return ids
    if words == ["both"]:
        if len(ids) == 2:
            return ids
        raise UnknownRegulator(
            f"both names two regulators, and the data holds {len(ids)} "
            f"({listed}); name them with commas, or give all",
            ids,
        )
    chosen: list[str] = []
    for word in words:
        if word not in ids:
            said_as = repr(word) if word else "an empty name"
            raise UnknownRegulator(
                f"the data holds no regulator {said_as}; it holds {listed} "
                "(several with commas, or all)",
                ids,
            )
        if word not in chosen:
            chosen.append(word)
    return chosen


class NotShown(UnknownTherapy):
    """A therapy the data holds that one regulator's documents in it do not authorise; `said`
    is the sentence that says so."""

    def __init__(self, message: str, suggestions: list[str], said: str) -> None:
        super().__init__(message, suggestions)
        self.said = said


Found = TypeVar("Found")


def find(
    name: str,
    named: Sequence[tuple[str, Sequence[str], Found]],
    what: str,
    known: str = "known",
    error: type[UnknownName] = UnknownName,
) -> Found:
    """An entry by any of its names (id, name, brand, alias), ignoring case, spaces and `_`; a
    prefix of one entry's names also does. Else `error`, suggesting close names."""
    wanted = _key(name)
    by_key = {_key(n): (entry_id, entry) for entry_id, names, entry in named for n in names}
    if wanted in by_key:
        return by_key[wanted][1]
    starting = {i: e for key, (i, e) in by_key.items() if wanted and key.startswith(wanted)}
    if len(starting) == 1:
        return next(iter(starting.values()))
    close = difflib.get_close_matches(wanted, list(by_key), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys([by_key[key][0] for key in close] + list(starting)))
    if suggestions:
        hint = "did you mean " + " or ".join(suggestions) + "?"
    else:
        hint = f"{known}: " + ", ".join(entry_id for entry_id, _, _ in named)
    raise error(f"no {what} called {name!r}; {hint}", suggestions)


def _key(name: str) -> str:
    return "-".join(name.lower().replace("®", "").replace("_", " ").split())


# --- reading a file -------------------------------------------------------------------------


Built = TypeVar("Built")


def read_toml(text: str) -> dict[str, Any]:
    """A data file's TOML parsed each time: no copy of the data stands between the file and an
    answer. By tomli, the library the standard tomllib was taken from, whose compiled build
    (a dependency) parses therapies.toml in 4.7 ms where tomllib takes 11.6 ms, a third of a
    one-patient run's own work; tomllib where tomli is missing. Both give the same dict
    (tests/test_catalog.py)."""
    try:
        import tomli as toml
    except ImportError:  # pragma: no cover - tomli is a dependency
        import tomllib as toml  # type: ignore[no-redef]

    return toml.loads(text)


def read_data_file(
    text: str,
    origin: str,
    checked: bool,
    schema_problems: Callable[[dict[str, Any]], list[str]],
    build: Callable[[dict[str, Any], list[str]], Built | None],
    parse: Callable[[str], dict[str, Any]] = read_toml,
) -> Built:
    """Parse a data file's TOML and build it, refusing it with every problem found.

    `checked=True` says the text is already known to match its schema (a bundled file, which CI
    checks): the pydantic check is skipped, and runs only to explain a failure. `build` notes
    the problems a schema cannot see (references, names used twice) in the list it is given.
    """
    long = next((n for n, line in enumerate(text.splitlines(), 1) if len(line) > MAX_LINE), None)
    if long is not None:
        _refuse(
            origin,
            [
                f"line {long} is over {MAX_LINE:,} characters, which no real data "
                "file has; check the file"
            ],
        )
    try:
        raw = parse(text)
    except ValueError as error:  # TOMLDecodeError
        _refuse(origin, [f"not valid TOML: {error}"])
    except RecursionError:
        _refuse(origin, ["nested too deeply to read; check the file"])
    if not checked:
        _refuse(origin, control_characters(raw) + schema_problems(raw))
    problems: list[str] = []
    try:
        built = build(raw, problems)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        _refuse(origin, schema_problems(raw) or [f"does not match the schema ({error!r})"])
    _refuse(origin, problems)
    assert built is not None  # None only with a problem noted
    return built


# No real data file has a line this long; tomllib takes minutes on a dotted key of 40,000 parts
# (tomli refuses one at once, but tomllib is the fallback).
MAX_LINE = 16_384


def control_characters(raw: object, place: str = "") -> list[str]:
    """Every string in a parsed data file that holds a control character, by its place."""
    if isinstance(raw, dict):
        return [
            p
            for key, value in raw.items()
            for p in control_characters(value, declared.key_place(place, key))
        ]
    if isinstance(raw, list):
        return [
            p for n, value in enumerate(raw) for p in control_characters(value, f"{place}[{n}]")
        ]
    if isinstance(raw, str) and (found := HIDDEN.search(raw)):
        shown = f"U+{ord(found.group()):04X}"
        return [f"{place}: a control or invisible character ({shown}) in the text; remove it"]
    return []


def unknown_sources(walked: declared.Walked, sources: Mapping[str, Source]) -> list[str]:
    """Every source id cited in a file's entities (`declared.walk`'s list) that the file does
    not list, by its place."""
    return [
        f"{where}: unknown source {source_id!r}"
        for where, entity in walked
        for source_id in _cites(entity)
        if source_id not in sources
    ]


def _regulator_of(entity: object) -> str | None:
    """The regulator a statement, an indication or a caution is said under; None: all."""
    said = getattr(entity, "regulator", None)
    return said if isinstance(said, str) else None


def _cites(entity: object) -> tuple[str, ...]:
    cited = getattr(entity, "source", ())
    return cited if isinstance(cited, tuple) else ()


def parse_catalog(
    text: str,
    origin: str,
    *,
    checked: bool = False,
    regulator: str | None = None,
    parse: Callable[[str], dict[str, Any]] = read_toml,
) -> Catalog:
    """Read a therapies file's text (`origin` names it in errors), as `regulator` authorises
    (by default the file's first regulator). `regulator="*"`: every regulator's indications
    at once, which only `data check` wants."""

    def build(raw: dict[str, Any], problems: list[str]) -> Catalog | None:
        data = declared.build(Data, raw, problems)
        if data is None:
            return None
        whole = _cross_check(data, origin, problems)
        if problems or regulator == "*":
            return whole
        return whole.under(regulator or data.regulators[0].id)

    return read_data_file(text, origin, checked, _schema_problems, build, parse)


def _schema_problems(raw: dict[str, Any]) -> list[str]:
    from alltx.model.checking import file_problems  # pydantic: only when it is needed

    return file_problems(Data, DATA_TITLE, raw)


def _cross_check(data: Data, origin: str, problems: list[str]) -> Catalog:
    """What a schema cannot see: references between entries, and names used twice."""
    regulators, therapies, referrals = data.regulators, data.therapies, data.referrals
    declared_ids = [r.id for r in regulators]
    twice = sorted({i for i in declared_ids if declared_ids.count(i) > 1})
    problems += [f"regulators: {i!r} is declared twice" for i in twice]
    sources: dict[str, Source] = {}
    for source in data.sources:
        if source.id in sources:
            problems.append(f"sources: duplicate source id {source.id!r}")
        sources[source.id] = source

    owner_of: dict[str, str] = {}
    indication_of: dict[str, str] = {}
    for index, therapy in enumerate(therapies):
        place = f"therapies[{index}] ({therapy.id})"
        for indication in therapy.indications:
            if indication.id in indication_of:
                problems.append(
                    f"{place}: indication id {indication.id!r} is already used by "
                    f"{indication_of[indication.id]}"
                )
            indication_of[indication.id] = therapy.id
        for code in declared_ids:  # an id may be used once under each regulator
            caution_ids = [c.id for c in therapy.cautions if c.regulator in (None, code)]
            problems += [
                f"{place}: caution id {i!r} is used twice"
                for i in sorted({i for i in caution_ids if caution_ids.count(i) > 1})
                if f"{place}: caution id {i!r} is used twice" not in problems
            ]
        if _key(therapy.id) in owner_of:
            problems.append(
                f"{place}: id {therapy.id!r} is already used by {owner_of[_key(therapy.id)]}"
            )
        for name in therapy.names:
            said = _key(name)
            if owner_of.get(said, therapy.id) != therapy.id:
                problems.append(f"{place}: name {name!r} is already used by {owner_of[said]}")
            owner_of.setdefault(said, therapy.id)
    for index, referral in enumerate(referrals):
        if referral.id in {r.id for r in referrals[:index]}:
            problems.append(
                f"referrals[{index}] ({referral.id}): duplicate referral id {referral.id!r}"
            )
    walked = declared.walk(data)
    problems += unknown_sources(walked, sources)
    problems += [
        f"{where}: unknown regulator {_regulator_of(entity)!r}; the file declares "
        f"{', '.join(declared_ids)}"
        for where, entity in walked
        if not isinstance(entity, Regulator) and _regulator_of(entity) not in (None, *declared_ids)
    ]
    info = DataInfo(release=data.data.release, updated=data.data.updated, authority=regulators[0])
    return Catalog(info, therapies, sources, origin, referrals, regulators)
