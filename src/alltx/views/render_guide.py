"""Human output for the guide commands, with rich: 80 columns, plain text when piped."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from alltx.answer.shapes import FindingOut, GradingOut, StatementOut

from alltx.answer.answers import DISCLAIMER, disclaimer
from alltx.core.facts import READING
from alltx.model.catalog import Catalog, Node, Statement, Therapy
from alltx.model.guide import Guide, Practice, Scale, SideEffect, Term
from alltx.views.render import Citations, Part, Row, cited_rows, marked, show, therapy_names

BAR = {"dose": ("█", "bold cyan"), "wait": ("░", "dim"), "step": ("▓", "magenta")}
WIDTH = {"dose": 2, "wait": 12, "step": 5}  # not to scale: a width per kind of step
SCALE_WIDTH = 60


def _cite(statements: Sequence[Statement], cited: Citations, bullet: str = "•") -> RenderableType:
    return marked(cited_rows(statements, cited, bullet), 0)


def _heading(text: str) -> Text:
    return Text(text, style="bold")


def _footer(guide: Guide, cited: Citations | None = None, labels: str | None = None) -> list[Part]:
    """The sources an answer cited, with their addresses; then the data's date and the
    disclaimer (naming `labels`, where the answer rests on a regulator's)."""
    info = guide.info
    return [
        *(cited.parts() if cited else []),
        "",
        Text(f"Guide data: release {info.release}, updated {info.updated.isoformat()}.", "dim"),
        Text(DISCLAIMER if labels is None else disclaimer(labels), style="bold"),
    ]


def transplant(guide: Guide, catalog: Catalog, out: Console) -> None:
    t, cited = guide.transplant, Citations(guide.sources)
    parts: list[Part] = [_heading("Allogeneic blood or marrow transplant for ALL")]
    parts += [_cite(t.what, cited, "")]
    referral = catalog.referral("transplant")
    if referral is not None:
        parts += ["", _heading("See a transplant doctor early if any of these applies")]
        parts += [Text(f"The reasons as given by {catalog.attribution(referral)}", "dim")]
        parts += [marked(_reason_rows(referral.reasons), 0), _cite(referral.about, cited, "")]
        hint = "Which apply to a patient: alltx options with --age, --induction-failure, "
        parts += [
            Text(
                hint + "--refractory, --high-risk, --relapsed, --remission, --age-at-diagnosis.",
                "dim",
            )
        ]
    parts += ["", _heading("What happens"), _cite(t.steps, cited)]
    parts += [
        "",
        _heading("At the first visit, the transplant doctor"),
        _cite(t.first_visit, cited),
    ]
    parts += ["", _heading("What decides the risk of relapse"), _cite(t.relapse_risk, cited)]
    parts += ["", _heading("Questions to ask")]
    parts += [
        _cite(
            [Statement(q.text, q.source) for q in guide.questions if q.topic == "transplant"],
            cited,
            "?",
        )
    ]
    show(out, [*parts, *_footer(guide, cited)])


def _reason_rows(reasons: Sequence[Node], depth: int = 0) -> list[Row]:
    """A referral's reasons as the tree they are: each group's members under it. A test on an
    open point of the sources is left out: its group's words say what is open."""
    rows: list[Row] = []
    for reason in reasons:
        if getattr(reason, "fact", None) == READING:
            continue
        rows.append(("•", Text(reason.text), depth))
        rows += _reason_rows(getattr(reason, "children", ()), depth + 1)  # a group's members
    return rows


def _therapy_names(ids: Sequence[str], catalog: Catalog) -> str:
    names = {t.id: t.name for t in catalog.therapies}
    return ", ".join(names.get(i, i) for i in ids)


def side_effects(guide: Guide, catalog: Catalog, out: Console) -> None:
    table = Table(show_lines=False, pad_edge=False, expand=False)
    table.add_column("Side effect (id)", overflow="fold", ratio=2)
    table.add_column("Therapies", overflow="fold", ratio=3)
    table.add_column("Boxed warning", overflow="fold", ratio=2)
    for effect in guide.side_effects:
        boxed = _therapy_names(effect.boxed, catalog) or "none"
        therapies = _therapy_names(effect.therapies, catalog)
        table.add_row(f"{effect.name} ({effect.id})", therapies, boxed)
    parts: list[Part] = [_heading("Serious side effects of the ALL immunotherapies")]
    parts += [table, Text("More on one, with its sources: alltx side-effects ID", "dim")]
    show(out, [*parts, *_footer(guide)])


def side_effect(effect: SideEffect, guide: Guide, catalog: Catalog, out: Console) -> None:
    cited = Citations(guide.sources)
    parts: list[Part] = [_heading(effect.name), _cite([effect.what], cited, "")]
    parts += ["", _heading("Which therapies"), _cite([effect.carried], cited)]
    if effect.symptoms:
        parts += ["", _heading("Report these to the care team at once")]
        parts += [_cite(effect.symptoms, cited)]
    parts += ["", _heading("When it tends to happen")]
    parts += [_cite(effect.timing, cited) if effect.timing else Text("Not in alltx's sources.")]
    if effect.figures:
        parts += ["", _heading("How often, in the trials"), _cite(effect.figures, cited)]
    if effect.grading:
        scale = guide.scale(effect.grading)
        parts += ["", _heading(f"Grading: {scale.name}"), Text(f"[{cited.mark(scale.source)}]")]
        for feature in scale.features:
            if feature.levels:
                rows: list[Row] = [(level.shown, Text(level.text)) for level in feature.levels]
                parts += [Text(feature.label.capitalize(), "italic"), marked(rows, 2)]
        parts += [_cite(scale.notes, cited, "")]
        parts += [Text(f"Calculator: alltx grade {scale.id}", "dim")]
    show(out, [*parts, *_footer(guide, cited)])


def grading(answer: GradingOut, guide: Guide, out: Console) -> None:
    """A grading (guide_answers.grading_json) as text; `guide` the one graded from, for the
    scale's definition, each finding's flag and the sources of an open point."""
    scale, cited = guide.scale(answer["scale"]), Citations(guide.sources)
    findings = {finding["feature"]: finding for finding in answer["findings"]}
    parts: list[Part] = [_heading(answer["name"])]
    if answer["applies"] == "unmet":
        assert scale.rule is not None
        parts += [Text("Not graded: the findings do not meet the definition", "bold cyan")]
        parts += [f"({scale.rule.text})"]
    elif answer["ungraded"] is not None:
        parts += [Text("Not settled: the sources give no grade for these findings", "bold cyan")]
        parts += [_cite([_statement(answer["ungraded"])], cited, "")]
    elif answer["grade"] is not None:
        graded = answer["grade"]
        parts += [Text(f"Grade {graded}" if graded else "Grade 0: none", "bold cyan")]
    else:
        why = [
            *(
                ["not all findings are known"]
                if answer["could_raise"] or answer["would_decide"]
                else []
            ),
            *(["the sources leave a point open"] if answer["open"] or answer["age_note"] else []),
        ]
        headline = f"Grade {answer['lowest']} to {answer['highest']}: {' and '.join(why)}"
        parts += [Text(headline, style="bold cyan")]
    if answer["assumed"]:  # with the grade: whom it holds for
        parts.append(_cite([_statement(answer["assumed"])], cited, ""))
    if answer["set_by"] and answer["applies"] != "unmet":
        shown = "; ".join(str(findings[f]["text"]) for f in answer["set_by"] if findings[f]["text"])
        parts.append(Text.assemble(("Set by: ", "bold"), shown))
    for feature in map(scale.feature, answer["would_decide"]):
        parts.append(
            Text(
                f"Not given, decides whether it is graded at all: {feature.label} ({feature.flag})"
            )
        )
    for feature in map(scale.feature, answer["could_raise"]):
        parts.append(Text(f"Not given, could raise it: {feature.label} ({feature.flag})"))
    open_points = [point for f in answer["open"] if (point := _open_point(scale, findings[f]))]
    if answer["age_note"]:
        open_points.insert(0, _statement(answer["age_note"]))
    if open_points:
        parts += ["", _heading("Where the sources differ"), _cite(open_points, cited)]
    parts += ["", _heading("Findings")]
    rows: list[Row] = []
    for finding in answer["findings"]:
        label, note = finding["label"], finding["note"]
        if not finding["used"]:
            rows.append(("-", Text(f"{label}: {note}")))
        elif finding["text"] is not None:  # a level matched
            value = _plain_number(finding["value"], scale.feature(finding["feature"]).unit)
            low, high = finding["possible"][0], finding["possible"][-1]
            grade = str(low) if low == high else f"{low}-{high}"
            rows.append((grade, Text(f"{label}{value}: {finding['text']}")))
        else:
            rows.append(("?", Text(f"{label}: not given{f'; {note}' if note else ''}")))
    parts += [marked(rows, 0), "", _heading("How it is graded"), _cite(scale.notes, cited, "")]
    parts += [Text(f"Scale: {cited.named(scale.source)}", "dim")]
    show(out, [*parts, *_footer(guide, cited)])


def _statement(said: StatementOut) -> Statement:
    """An answer's statement, as the views cite one."""
    return Statement(text=said["text"], source=tuple(said["sources"]), detail=said["detail"])


def _open_point(scale: Scale, finding: FindingOut) -> Statement | None:
    """Why the sources leave a finding's grade open: its level's `why`, with its sources."""
    levels = scale.feature(finding["feature"]).levels
    return next((lv.why for lv in levels if lv.text == finding["text"] and lv.why), None)


def _plain_number(value: object, unit: str) -> str:
    """A number finding as graded (a temperature in Celsius, to one decimal), after the label."""
    if not isinstance(value, int | float | Fraction) or isinstance(value, bool) or not unit:
        return ""
    return f" {round(float(value), 1):g} {unit}"


def timeline(practice: Practice) -> RenderableType:
    """The treatment as a bar of steps, numbered, with what each number is below it."""
    steps = practice.timeline
    total = sum(s.days or 0 for s in steps)
    bar, numbers, legend = Text(), "", list[Row]()
    for step in steps:
        if practice.to_scale:
            width = max(1, round((step.days or 0) * SCALE_WIDTH / total))
        else:
            width = WIDTH[step.kind]
        char, style = BAR[step.kind]
        bar.append(char * width, style=style)
        mark = ""
        if step.label:
            legend.append((str(len(legend) + 1), Text(f"{step.label}: {step.span}")))
            mark = str(len(legend))
        numbers += mark.ljust(width)
    scale = f"(to scale: {total} days)" if practice.to_scale else "(not to scale)"
    lines: list[RenderableType] = [
        Text.assemble(("Timeline ", "bold"), (scale, "dim")),
        Text.assemble("  ", bar),
        Text("  " + numbers.rstrip()),
        marked(legend, 0),
    ]
    if practice.timeline_note:
        lines.append(Text(practice.timeline_note.text, "dim"))
    return Group(*lines)


SIDE_BY_SIDE = 120  # columns from which a terminal shows the therapies as columns of a table


def _compared(therapy: Therapy, guide: Guide, regulator: str) -> list[tuple[str, str | None]]:
    """What `compare` says of one therapy: the same headings in the same order for each."""
    practice = guide.practice_for(therapy.id, regulator)
    effects = [e.name for e in guide.side_effects if therapy.id in e.therapies]

    def text(value: Statement | str | None) -> str | None:
        return value.text if isinstance(value, Statement) else value or None

    return [
        ("Class, target", therapy.kind.text),
        ("Approved for", "; ".join(i.summary for i in therapy.indications)),
        ("How given", text(practice.how) if practice else None),
        ("Where", text(practice.where) if practice else None),
        ("How long", text(practice.duration) if practice else None),
        ("Hospital stay", text(practice.hospital_stay) if practice else None),
        ("Serious", "; ".join(effects)),
        ("Boxed warning", " ".join(s.text for s in therapy.boxed_warning) or "none"),
    ]


def compare(therapies: list[Therapy], guide: Guide, catalog: Catalog, out: Console) -> None:
    """Side by side: a column per therapy on a terminal of SIDE_BY_SIDE columns or more; below
    that, five columns do not fit, so each therapy is a block of rows with the same headings
    in the same order, which read across as a table."""
    parts: list[Part] = [_heading(f"The therapies side by side: {catalog.info.authority.labels}")]
    unknown = Text("not in alltx's sources", "dim")
    compared = [_compared(therapy, guide, catalog.info.authority.id) for therapy in therapies]
    if out.width >= SIDE_BY_SIDE and len(therapies) > 1:
        table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1, 1, 0))
        table.add_column("", style="bold", no_wrap=True)
        for therapy in therapies:
            table.add_column(therapy_names(therapy), overflow="fold", ratio=1)
        for index, (label, _) in enumerate(compared[0]):
            cells = [rows[index][1] for rows in compared]
            table.add_row(label, *(Text(cell) if cell else unknown for cell in cells))
        parts += ["", table]
    else:
        for therapy, rows in zip(therapies, compared, strict=True):
            table = Table.grid(padding=(0, 1))
            table.add_column(style="bold", width=14, no_wrap=True)
            table.add_column(overflow="fold")
            for label, text in rows:
                table.add_row(label, Text(text) if text else unknown)
            parts += ["", Text(therapy_names(therapy), "bold underline"), table]
    parts += ["", Text("Sources: alltx drug NAME cites each statement, with addresses.", "dim")]
    show(out, [*parts, *_footer(guide, labels=catalog.info.authority.labels)])


def terms(guide: Guide, out: Console) -> None:
    rows: list[Row] = [("•", Text.assemble((t.term, "bold"), f" ({t.id})")) for t in guide.terms]
    parts: list[Part] = [_heading("Glossary"), marked(rows, 0)]
    show(
        out,
        [*parts, Text("One term, with its sources: alltx explain TERM", "dim"), *_footer(guide)],
    )


def term(entry: Term, guide: Guide, out: Console) -> None:
    cited = Citations(guide.sources)
    parts: list[Part] = [
        _heading(entry.term),
        _cite([Statement(entry.text, entry.source)], cited, ""),
    ]
    if entry.aliases:
        parts.append(Text(f"Also: {', '.join(entry.aliases)}", "dim"))
    show(out, [*parts, *_footer(guide, cited)])


def questions(guide: Guide, topics: Collection[str] | None, out: Console) -> None:
    cited = Citations(guide.sources)
    parts: list[Part] = [_heading("Questions to ask the doctor")]
    for name in guide.topics:
        if topics is not None and name not in topics:
            continue
        chosen = [Statement(q.text, q.source) for q in guide.questions if q.topic == name]
        parts += ["", Text(f"About {name}", "bold underline"), _cite(chosen, cited, "?")]
    if topics is None:
        parts += [
            "",
            Text(f"Only one topic: alltx questions --for {'|'.join(guide.topics)}", "dim"),
        ]
    show(out, [*parts, *_footer(guide, cited)])
