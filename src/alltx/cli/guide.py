"""The guide commands: transplant, side-effects, grade, compare, explain, questions.

Thin, like the rest of `alltx.cli`: parse, ask the guide, hand the answer to a renderer. Same
errors and exit statuses: one line and 2 for bad usage, 1 for a broken data file.
`alltx.cli.app` loads this module only when one of these commands is asked for.
"""

from __future__ import annotations

from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from alltx.cli.base import (
    DocFormat,
    FormatOption,
    OnceGroup,
    Regulators,
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

FINDINGS = "Findings (leave one out if it is not known)"


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
    show(ctx, output is DocFormat.json, lambda: _answers().transplant_answer(guide, catalog),
         lambda out: _views().transplant(guide, catalog, out))  # fmt: skip


@guide_app.command("side-effects", epilog=epilog("side-effects"))
def side_effects(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="One side effect: crs, icans, vod ... (all if left out).")
    ] = None,
    output: FormatOption = DocFormat.text,
) -> None:
    """The serious side effects across the therapies, or one in full (symptoms, timing, grading)."""
    guide, catalog = guide_in_use(ctx), catalog_in_use(ctx)
    chosen = None if name is None else guide.side_effect(name)

    def draw(out: Console) -> None:
        if chosen is None:
            _views().side_effects(guide, catalog, out)
        else:
            _views().side_effect(chosen, guide, catalog, out)

    shown = guide.side_effects if chosen is None else (chosen,)
    show(ctx, output is DocFormat.json, lambda: _answers().side_effects_answer(guide, shown), draw)


grade_app = typer.Typer(
    cls=OnceGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    help="Grade CRS or ICANS on the ASTCT consensus scale (a calculator for clinicians).",
    epilog=epilog("grade"),
    no_args_is_help=True,
)
guide_app.add_typer(grade_app, name="grade")


def _finding(help_text: str, metavar: str) -> Any:
    return typer.Option(help=help_text, metavar=metavar, rich_help_panel=FINDINGS)


def _grade(
    ctx: typer.Context, scale_id: str, given: dict[str, object], age: str | None, output: DocFormat
) -> None:
    from alltx.core.facts import FactError, parse_fact
    from alltx.core.grading import grade, parse_findings

    guide = guide_in_use(ctx)
    scale = guide.scale(scale_id)
    try:  # the age as every other --age reads it, in the same words
        years = cast(Fraction | None, None if age is None else parse_fact("age", age))
    except FactError as error:
        fail(f"--age: {error}")
    result = grade(scale, parse_findings(scale, given), years)
    answer = _answers().grading_answer(guide, result)
    show(ctx, output is DocFormat.json, lambda: answer,
         lambda out: _views().grading(answer["grading"], guide, out))  # fmt: skip


@grade_app.command("crs", epilog=epilog("grade crs"))
def grade_crs(
    ctx: typer.Context,
    temperature: Annotated[
        str | None,
        _finding(
            "Highest temperature in degrees Celsius (38 or more is fever), or Fahrenheit with "
            "F: 101F.",
            "C",
        ),
    ] = None,
    treated: Annotated[
        bool | None,
        typer.Option(
            "--treated/--not-treated",
            help="The patient had CRS and was then given antipyretic or anticytokine therapy "
            "(such as tocilizumab or steroids): fever is then no longer needed to grade it. A "
            "premedication given before any CRS (a fever reducer before an infusion) does not "
            "count.",
            rich_help_panel=FINDINGS,
        ),
    ] = None,
    blood_pressure: Annotated[
        str | None,
        _finding(
            "Low blood pressure: none; fluids (no vasopressor needed); one-vasopressor (with or "
            "without vasopressin); vasopressors (two or more, not counting vasopressin: one "
            "vasopressor plus vasopressin is one-vasopressor).",
            "none|fluids|one-vasopressor|vasopressors",
        ),
    ] = None,
    oxygen: Annotated[
        str | None,
        _finding(
            "Oxygen: none; low-flow (<= 6 L/min nasal cannula or blow-by); high-flow (high-flow "
            "cannula, facemask, non-rebreather, Venturi); positive-pressure (CPAP, BiPAP, "
            "intubation).",
            "none|low-flow|high-flow|positive-pressure",
        ),
    ] = None,
    output: FormatOption = DocFormat.text,
) -> None:
    """Cytokine release syndrome: fever, then the worse of low blood pressure and low oxygen.

    Fever is 38 C or more not attributable to any other cause. In a patient who has CRS and is
    then given antipyretic or anticytokine therapy (tocilizumab, steroids), fever is no longer
    needed: the grade is driven by hypotension and hypoxia, and without either the sources give
    no grade. A finding not given is unknown: the answer is a range and names the flag that
    would settle it.
    """
    given: dict[str, object] = {"temperature": temperature, "treated": treated,
                                "blood_pressure": blood_pressure, "oxygen": oxygen}  # fmt: skip
    _grade(ctx, "crs", given, None, output)


@grade_app.command("icans", epilog=epilog("grade icans"))
def grade_icans(
    ctx: typer.Context,
    age: Annotated[
        str | None,
        _finding(
            "Age in years: under 12 the CAPD is used instead of the ICE score; at 12 the sources "
            "differ, so both readings count.",
            "AGE",
        ),
    ] = None,
    ice: Annotated[
        str | None,
        _finding(
            "ICE score, 0 to 10 (or give its parts); unable: ICE 0 because the patient is "
            "unarousable (grade 4). An ICE of 0 while awake with global aphasia is 0 (grade 3).",
            "0-10|unable",
        ),
    ] = None,
    capd: Annotated[
        str | None,
        _finding(
            "Children under 12 (and older patients with developmental delays): the CAPD total "
            "the care team measured, or unable.",
            "SCORE|unable",
        ),
    ] = None,
    orientation: Annotated[str | None, _finding("ICE part: orientation, 0-4.", "0-4")] = None,
    naming: Annotated[str | None, _finding("ICE part: naming objects, 0-3.", "0-3")] = None,
    commands: Annotated[str | None, _finding("ICE part: following commands, 0-1.", "0-1")] = None,
    writing: Annotated[str | None, _finding("ICE part: writing a sentence, 0-1.", "0-1")] = None,
    attention: Annotated[str | None, _finding("ICE part: attention, 0-1.", "0-1")] = None,
    consciousness: Annotated[
        str | None,
        _finding(
            "Depressed level of consciousness not explained by another cause (such as sedating "
            "medication): normal; spontaneous (awakens spontaneously); voice (awakens to voice); "
            "touch (awakens only to tactile stimulus); vigorous (needs vigorous or repetitive "
            "tactile stimuli to arouse); unarousable (stupor or coma).",
            "normal|spontaneous|voice|touch|vigorous|unarousable",
        ),
    ] = None,
    seizure: Annotated[
        str | None,
        _finding(
            "Seizures: none; brief (a clinical seizure, focal or generalized, that resolves "
            "rapidly); eeg (nonconvulsive seizures on EEG that resolve with intervention); "
            "prolonged (life-threatening, over 5 minutes); repetitive (clinical or electrical "
            "seizures without return to baseline in between).",
            "none|brief|eeg|prolonged|repetitive",
        ),
    ] = None,
    motor: Annotated[
        str | None,
        _finding(
            "Motor findings: none, or weakness (deep focal motor weakness such as hemiparesis "
            "or paraparesis). Tremor and myoclonus do not count.",
            "none|weakness",
        ),
    ] = None,
    edema: Annotated[
        str | None,
        _finding(
            "Raised pressure in the skull: none; focal (local edema on imaging); diffuse (diffuse "
            "edema, posturing, cranial nerve VI palsy, papilledema or Cushing's triad). "
            "Intracranial hemorrhage is not an ICANS finding.",
            "none|focal|diffuse",
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
    given: dict[str, object] = {
        "ice": ice, "capd": capd, "orientation": orientation, "naming": naming,
        "commands": commands, "writing": writing, "attention": attention,
        "consciousness": consciousness, "seizure": seizure, "motor": motor, "edema": edema,
    }  # fmt: skip
    _grade(ctx, "icans", given, age, output)


@guide_app.command(epilog=epilog("compare"))
def compare(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Therapies by any name (Kymriah, blina ...); all five if left out."),
    ] = None,
    output: FormatOption = DocFormat.text,
    regulator: RegulatorsOption = Regulators.fda,
) -> None:
    """The therapies side by side: target, approval, how and where given, side effects."""
    guide, catalogs = guide_in_use(ctx), catalogs_in_use(ctx, regulator)
    compared = []
    for catalog in catalogs:
        chosen = [catalog.therapy(n) for n in names] if names else list(catalog.therapies)
        compared.append((catalog, list(dict.fromkeys(chosen))))

    def answer() -> object:
        from alltx.answer.answers import VERSION

        made = [_answers().compare_answer(guide, chosen, c.info.regulator_id)
                for c, chosen in compared]  # fmt: skip
        both: CompareBothOut = {"version": VERSION, "answers": made}
        return both if regulator is Regulators.both else made[0]

    def draw(out: Console) -> None:
        for catalog, chosen in compared:
            _views().compare(chosen, guide, catalog, out)

    show(ctx, output is DocFormat.json, answer, draw)


@guide_app.command(epilog=epilog("explain"))
def explain(
    ctx: typer.Context,
    term: Annotated[
        str | None, typer.Argument(help="A term: MRD, CRS, CAR-T, Ph ... (all if left out).")
    ] = None,
    output: FormatOption = DocFormat.text,
) -> None:
    """What a word means, in plain language, with its source."""
    guide = guide_in_use(ctx)
    chosen = None if term is None else guide.term(term)

    def draw(out: Console) -> None:
        if chosen is None:
            _views().terms(guide, out)
        else:
            _views().term(chosen, guide, out)

    shown = guide.terms if chosen is None else (chosen,)
    show(ctx, output is DocFormat.json, lambda: _answers().terms_answer(guide, shown), draw)


def _therapy_topic(ctx: typer.Context, name: str, topics: list[str]) -> str | None:
    """The topic of a therapy named any way: its id, or a word that covers it (car-t)."""
    from alltx.model.catalog import UnknownTherapy

    try:
        therapy = catalog_in_use(ctx).therapy(name)
    except UnknownTherapy:
        return None
    return next((t for t in (therapy.id, *therapy.groups) if t in topics), None)


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
    if topic is not None:
        wanted = topic.strip().lower()
        if wanted not in guide.topics:
            wanted = _therapy_topic(ctx, topic, guide.topics) or ""
        if wanted not in guide.topics:
            fail(f"--for: no questions about {topic!r}; topics: {', '.join(guide.topics)}")
        topic = wanted
    show(ctx, output is DocFormat.json, lambda: _answers().questions_answer(guide, topic),
         lambda out: _views().questions(guide, topic, out))  # fmt: skip
