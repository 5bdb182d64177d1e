"""The guide commands: transplant, side-effects, grade, compare, explain, questions.

Thin, like the rest of `alltx.cli`: parse, ask the guide, hand the answer to a renderer. Same
errors and exit statuses: one line and 2 for bad usage, 1 for a broken data file.
`alltx.cli.app` loads this module only when one of these commands is asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from typer.core import TyperOption

from alltx.cli.base import (
    DeclaredCommand,
    DocFormat,
    FormatOption,
    OnceGroup,
    RegulatorsOption,
    catalog_in_use,
    catalogs_in_use,
    fail,
    guide_in_use,
    show,
)
from alltx.cli.examples import epilog

if TYPE_CHECKING:
    from rich.console import Console

    from alltx.answer.shapes import CompareBothOut
    from alltx.model.guide import Scale

FINDINGS = "Findings (leave one out if it is not known)"
Entry = TypeVar("Entry")  # a side effect, a term: what a guide list holds


def _answers() -> ModuleType:
    """The guide's answer builders, imported when a JSON answer is asked for."""
    from alltx.answer import guide_answers

    return guide_answers


def _views() -> ModuleType:
    """The guide's text views (rich), imported when text is asked for."""
    from alltx.views import render_guide

    return render_guide


guide_app = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]},
                        rich_markup_mode=None, add_completion=False)  # fmt: skip


@guide_app.command(epilog=epilog("transplant"))
def transplant(ctx: typer.Context, output: FormatOption = DocFormat.text) -> None:
    """When to see a transplant doctor, what an allogeneic transplant involves, and what to ask."""
    guide, catalog = guide_in_use(ctx), catalog_in_use(ctx)
    show(
        ctx,
        output is DocFormat.json,
        lambda: _answers().transplant_answer(guide, catalog),
        lambda out: _views().transplant(guide, catalog, out),
    )


OneSideEffect = Annotated[
    str | None, typer.Argument(help="One side effect: crs, icans, vod ... (all if left out).")
]
OneTerm = Annotated[
    str | None, typer.Argument(help="A term: MRD, CRS, CAR-T, Ph ... (all if left out).")
]


@guide_app.command("side-effects", epilog=epilog("side-effects"))
def side_effects(
    ctx: typer.Context, name: OneSideEffect = None, output: FormatOption = DocFormat.text
) -> None:
    """The serious side effects across the therapies, or one in full (symptoms, timing, grading)."""
    guide, catalog = guide_in_use(ctx), catalog_in_use(ctx)
    _one_or_all(
        ctx,
        output,
        guide.side_effects,
        None if name is None else guide.side_effect(name),
        lambda shown: _answers().side_effects_answer(guide, shown),
        lambda out: _views().side_effects(guide, catalog, out),
        lambda one, out: _views().side_effect(one, guide, catalog, out),
    )


def _one_or_all(
    ctx: typer.Context,
    output: DocFormat,
    every: Sequence[Entry],
    chosen: Entry | None,
    answer: Callable[[Sequence[Entry]], object],
    draw_all: Callable[[Console], None],
    draw_one: Callable[[Entry, Console], None],
) -> None:
    """A list from the guide (side effects, terms) as a whole, or one entry of it in full
    (`chosen`, found by the name given): the JSON holds the entries the text shows."""

    def draw(out: Console) -> None:
        if chosen is None:
            draw_all(out)
        else:
            draw_one(chosen, out)

    shown = every if chosen is None else (chosen,)
    show(ctx, output is DocFormat.json, lambda: answer(shown), draw)


grade_app = typer.Typer(
    cls=OnceGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    help="Grade CRS or ICANS on the ASTCT consensus scale (a calculator for clinicians).",
    epilog=epilog("grade"),
    no_args_is_help=True,
)
guide_app.add_typer(grade_app, name="grade")


class FindingsCommand(DeclaredCommand):
    """`alltx grade SCALE`: an option for each finding the scale declares in the guide in use
    (guide.toml's `help` and `metavar`), each followed by one for each of its parts, after
    the command's own `--age`; the findings reach it as `DeclaredCommand.values(ctx)`."""

    scale = ""  # the scale's id, in the subclass each grade command is made with
    after = "age"

    def declared(self, ctx: Any) -> Sequence[TyperOption]:
        return _finding_options(guide_in_use(ctx).scale(self.scale))


def grading(scale_id: str) -> type[FindingsCommand]:
    """The command class of `alltx grade SCALE`, for typer's `cls`."""
    return type(f"Grade{scale_id.capitalize()}", (FindingsCommand,), {"scale": scale_id})


@functools.cache
def _finding_options(scale: Scale) -> tuple[TyperOption, ...]:
    """The options of a scale's findings."""
    options = []
    for feature in scale.features:
        kind: Any
        if feature.kind == "bool":  # shown as `--treated / --not-treated`
            flags, metavar, kind = feature.flag.replace(" ", ""), None, bool | None
        else:
            flags, metavar, kind = feature.flag.split(" ")[0], feature.metavar, str | None
        options.append(
            DeclaredCommand.option(feature.id, flags, feature.help or "", metavar, kind, FINDINGS)
        )
        tool = feature.label.split(" ")[0]  # the ICE score's parts: `ICE part: naming, 0-3.`
        options += [
            DeclaredCommand.option(
                part.id,
                f"--{part.id}",
                f"{tool} part: {part.label}, 0-{part.most}.",
                f"0-{part.most}",
                str | None,
                FINDINGS,
            )
            for part in feature.parts
        ]
    return tuple(options)


def _grade(
    ctx: typer.Context, scale_id: str, given: dict[str, object], age: str | None, output: DocFormat
) -> None:
    from alltx.assessment.grading import grade, parse_findings
    from alltx.core.facts import Counted, FactError, InDays, completed_years, parse_fact

    guide = guide_in_use(ctx)
    scale = guide.scale(scale_id)
    try:  # the age as every other --age reads it, in the same words
        years = cast(Fraction | InDays | None, None if age is None else parse_fact("age", age))
    except FactError as error:
        fail(f"--age: {error}")
    if isinstance(years, InDays):  # the scales split by completed years: days are the years
        whole = completed_years(years)  # they surely are
        if isinstance(whole, Counted):
            fail(
                f"--age: {years.words} may be {whole.words} completed years, by the months "
                "the days fell in; give the age in years or months"
            )
        years = Fraction(whole)
    result = grade(scale, parse_findings(scale, given), years)
    answer = _answers().grading_answer(guide, result)
    show(
        ctx,
        output is DocFormat.json,
        lambda: answer,
        lambda out: _views().grading(answer["grading"], guide, out),
    )


@grade_app.command("crs", cls=grading("crs"), epilog=epilog("grade crs"))
def grade_crs(ctx: typer.Context, output: FormatOption = DocFormat.text) -> None:
    """Cytokine release syndrome: fever, then the worse of low blood pressure and low oxygen.

    Fever is 38 C or more not attributable to any other cause. In a patient who has CRS and is
    then given antipyretic or anticytokine therapy (tocilizumab, steroids), fever is no longer
    needed: the grade is driven by hypotension and hypoxia, and without either the sources give
    no grade. A finding not given is unknown: the answer is a range and names the flag that
    would settle it.
    """
    _grade(ctx, "crs", DeclaredCommand.values(ctx), None, output)


@grade_app.command("icans", cls=grading("icans"), epilog=epilog("grade icans"))
def grade_icans(
    ctx: typer.Context,
    age: Annotated[
        str | None,
        typer.Option(
            help="Age in years: under 12 the CAPD is used instead of the ICE score; at 12 the "
            "sources differ, so both readings count.",
            metavar="AGE",
            rich_help_panel=FINDINGS,
        ),
    ] = None,
    output: FormatOption = DocFormat.text,
) -> None:
    """Neurotoxicity (ICANS): the worst single finding sets the grade.

    Only findings not attributable to another cause count. Tremor and myoclonus do not count;
    intracranial hemorrhage is left out. An ICE score of 0 is grade 3 when awake with global
    aphasia, grade 4 when unarousable (--ice unable). Children under 12 are assessed with the
    CAPD (--capd); where the sources differ (at 12, a CAPD of 0) the answer is the range of
    grades the readings allow, and says why.
    """
    _grade(ctx, "icans", DeclaredCommand.values(ctx), age, output)


@guide_app.command(epilog=epilog("compare"))
def compare(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Therapies by any name (Kymriah, blina ...); all five if left out."),
    ] = None,
    output: FormatOption = DocFormat.text,
    regulator: RegulatorsOption = None,
) -> None:
    """The therapies side by side: target, approval, how and where given, side effects."""
    guide, catalogs = guide_in_use(ctx), catalogs_in_use(ctx, regulator)
    compared = []
    for catalog in catalogs:
        chosen = [catalog.therapy(n) for n in names] if names else list(catalog.therapies)
        compared.append((catalog, list(dict.fromkeys(chosen))))

    def answer() -> object:
        from alltx.answer.answers import VERSION

        made = [_answers().compare_answer(guide, chosen, c) for c, chosen in compared]
        both: CompareBothOut = {"version": VERSION, "answers": made}
        return both if len(catalogs) > 1 else made[0]

    def draw(out: Console) -> None:
        for catalog, chosen in compared:
            _views().compare(chosen, guide, catalog, out)

    show(ctx, output is DocFormat.json, answer, draw)


@guide_app.command(epilog=epilog("explain"))
def explain(
    ctx: typer.Context, term: OneTerm = None, output: FormatOption = DocFormat.text
) -> None:
    """What a word means, in plain language, with its source."""
    guide = guide_in_use(ctx)
    _one_or_all(
        ctx,
        output,
        guide.terms,
        None if term is None else guide.term(term),
        lambda shown: _answers().terms_answer(guide, shown),
        lambda out: _views().terms(guide, out),
        lambda one, out: _views().term(one, guide, out),
    )


def _therapy_topics(ctx: typer.Context, name: str, topics: list[str]) -> tuple[str, ...]:
    """The topics of a therapy named any way: its id, and the words that cover it (car-t)."""
    from alltx.model.catalog import UnknownTherapy

    try:
        therapy = catalog_in_use(ctx).therapy(name)
    except UnknownTherapy:
        return ()
    return tuple(t for t in (therapy.id, *therapy.groups) if t in topics)


@guide_app.command(epilog=epilog("questions"))
def questions(
    ctx: typer.Context,
    topic: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="One topic: transplant, car-t, general, or a therapy by any name (Kymriah ...).",
            metavar="TOPIC",
        ),
    ] = None,
    output: FormatOption = DocFormat.text,
) -> None:
    """Questions to ask the doctor, by topic: a topic, or a therapy by any of its names
    (Kymriah, blina, Besponsa)."""
    guide = guide_in_use(ctx)
    chosen: tuple[str, ...] | None = None
    if topic is not None:
        wanted = topic.strip().lower()
        chosen = (wanted,) if wanted in guide.topics else _therapy_topics(ctx, topic, guide.topics)
        if not chosen:
            fail(f"--for: no questions about {topic!r}; topics: {', '.join(guide.topics)}")
    show(
        ctx,
        output is DocFormat.json,
        lambda: _answers().questions_answer(guide, chosen),
        lambda out: _views().questions(guide, chosen, out),
    )
