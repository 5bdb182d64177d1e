"""Human output with rich: compact, readable in 80 columns, plain text when piped.

Only the human path imports this module, so machine formats never pay for rich.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from alltx.answer.answers import (
    NONE_APPLIES,
    conditional_cautions,
    disclaimer,
    failed_criteria,
    referral_why,
    why,
)
from alltx.core.facts import READING, Facts, deciding_words
from alltx.core.plain import utf8, visible, web_address
from alltx.model.catalog import Catalog, Source, Statement, Therapy
from alltx.views.words import facts_words, listed, value_words

if TYPE_CHECKING:  # the cohort modules load only for a cohort, not for one patient's answer
    from alltx.answer.shapes import (
        ComparedOut,
        CriterionOut,
        FhirCodesOut,
        OptionOut,
        OptionsOut,
        ReferralOut,
        Status,
    )
    from alltx.answer.summary import Summary as CohortSummary
    from alltx.model.catalog import Node  # the data's rule tree, as `alltx drug` shows it

MARK = {"met": ("✓", "green"), "unmet": ("✗", "red"), "unknown": ("?", "yellow")}
ARROW = Text("→", "yellow")
STATUS = {
    "eligible": ("ELIGIBLE", "bold green"),
    "possible": ("POSSIBLE", "bold yellow"),
    "not_eligible": ("NOT ELIGIBLE", "bold red"),
}
MEANING: dict[Status, str] = {
    "eligible": "meets every criterion of one of its {short} indications",
    "possible": "could fit the label; the facts it names, or an open reading of its words, "
    "would decide",
    "not_eligible": "a criterion of every indication is not met (shown with ✗)",
}


# Below this width nothing reads well; a terminal that reports less (COLUMNS=0) gets this.
NARROWEST, FALLBACK_WIDTH = 40, 80
# No screen is wider; a wider report (COLUMNS=99999999) would make rich lay out lines of that
# many cells, for seconds and hundreds of megabytes.
WIDEST = 1000


class Screen(Console):
    """A console that knows whether a long answer may go through the pager."""

    def __init__(self, paging: bool, **settings: Any) -> None:
        super().__init__(**settings)
        self.paging = paging


def console(paging: bool = False) -> Console:
    """A console that treats every string as plain text: no markup ([bold], [link=...]), no
    emoji codes, no highlighting; alltx's own styles are given as Text styles instead, so text
    from outside (an id, a data file) can never be read as markup. With `paging`, a long
    answer on a terminal goes through the pager."""
    out = Screen(paging, highlight=False, markup=False, emoji=False)
    if out.width < NARROWEST or out.width > WIDEST:
        width = FALLBACK_WIDTH if out.width < NARROWEST else WIDEST
        out = Screen(paging, highlight=False, markup=False, emoji=False, width=width)
    return out


Row = tuple[str | Text, Text] | tuple[str | Text, Text, int]  # symbol, text, extra indent


def marked(rows: Iterable[Row], indent: int) -> RenderableType:
    """Symbol + text rows whose wrapped lines hang under the text, not the symbol."""
    hanging = [_Hanging(symbol, text, indent + 2 * sum(depth)) for symbol, text, *depth in rows]
    return Group(*hanging)


def _styled(text: Text, console: Console) -> Iterable[Segment]:
    """A line's segments under its own style (Text.render leaves the style to its caller)."""
    segments = text.render(console)
    return Segment.apply_style(segments, console.get_style(text.style)) if text.style else segments


@dataclass(frozen=True)
class _Hanging:
    """One row: `indent` spaces, the symbol, a space, then the text wrapped (long words folded)
    to hang under its own first letter, as a two-column grid in a Padding lays it out, line for
    line (tests/test_render.py holds the two equal), less the grid's padding after the text.
    The grid measured and padded every cell: one patient's answer took 45 ms to draw with it,
    17 ms with these rows (benchmarks/bench.py measures the whole start)."""

    symbol: str | Text
    text: Text
    indent: int

    def _symbol(self) -> Text:
        return self.symbol if isinstance(self.symbol, Text) else Text(self.symbol)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        symbol = self._symbol()
        hang = self.indent + symbol.cell_len + 1
        lines = self.text.wrap(console, max(options.max_width - hang, 1), overflow="fold")
        for number, line in enumerate(lines):
            yield Segment(" " * self.indent)
            yield from _styled(symbol, console) if number == 0 else [Segment(" " * symbol.cell_len)]
            yield Segment(" ")
            line.rstrip()  # as a left-justified cell's line, without padding it out after
            yield from _styled(line, console)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        hang = self.indent + self._symbol().cell_len + 1
        text = Measurement.get(console, options, self.text)
        return Measurement(text.minimum + hang, text.maximum + hang)


def _mark(result: str) -> Text:
    symbol, style = MARK[result]
    return Text(symbol, style=style)


@dataclass(frozen=True)
class Address:
    """A web address on a line of its own, printed whole: never folded or cut at the terminal's
    width, so it can be copied; a link where the terminal shows links, plain text when piped."""

    url: str
    indent: int = 4


Part = RenderableType | str | Address


def show(out: Console, parts: Iterable[Part]) -> None:
    """Print, without the trailing spaces rich pads table cells with; on a terminal, through
    the pager when longer than the screen."""
    with out.capture() as captured:
        for part in parts:
            if isinstance(part, Address):
                # Only an http(s) address is a link (OSC 8); any other is plain text.
                link = part.url if web_address(part.url) else None
                line = Text(" " * part.indent).append(part.url, Style(link=link))
                out.print(line, no_wrap=True, overflow="ignore", crop=False)
            else:
                out.print(part)
    text = "\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n"
    if getattr(out, "paging", False) and out.is_terminal and text.count("\n") > out.height:
        from alltx.views import pager

        if pager.page(text):
            return
    sys.stdout.write(text)


def source_text(source: Source) -> Text:
    """A source as a reader looks it up: title; publisher and date; identifiers."""
    text = Text(source.title.rstrip("."))
    about = ", ".join(x for x in (source.publisher, source.date) if x)
    for piece in (about, "; ".join(source.identifiers)):
        if piece:
            text.append(f". {piece}")
    return text


class Citations:
    """Numbers the sources of one answer in the order it first cites them, and lists them at
    its end, each with its identifiers and its whole address."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = sources
        self.numbers: dict[str, int] = {}

    def mark(self, source_ids: Iterable[str]) -> str:
        """`[1,3]`: the numbers of these sources, numbering any not cited before."""
        for source in source_ids:
            self.numbers.setdefault(source, len(self.numbers) + 1)
        return "[" + ",".join(str(self.numbers[s]) for s in source_ids) + "]"

    def named(self, source_ids: Iterable[str]) -> str:
        """`Kymriah US label [1]; ...`: short names with their numbers."""
        return "; ".join(f"{self.sources[s].short} {self.mark([s])}" for s in source_ids)

    def parts(self, brief: bool = False) -> list[Part]:
        """The sources cited, numbered, each with its address; `brief`: by short name and
        identifiers (for a long answer), else by full title, publisher and date."""
        if not self.numbers:
            return []
        listed: list[Part] = [Text("\nSources", style="bold")]
        for source_id, number in self.numbers.items():
            source = self.sources[source_id]
            text = Text("; ".join((source.short, *source.identifiers))) if brief else None
            listed.append(marked([(f"[{number}]", text or source_text(source))], 2))
            if source.url:
                listed.append(Address(source.url, indent=6))
        return listed


def _with_value(criterion: CriterionOut, facts: Facts) -> Text:
    text = Text(criterion["text"])
    if criterion["fact"] is not None:
        text.append(f"  [{value_words(criterion, facts)}]", style="dim")
    return text


def _criteria_rows(criteria: Sequence[CriterionOut], facts: Facts, depth: int = 0) -> list[Row]:
    rows: list[Row] = []
    for criterion in criteria:
        if criterion["fact"] == READING:  # said with the status, where it is open
            continue
        rows.append((_mark(criterion["result"]), _with_value(criterion, facts), depth))
        rows += _criteria_rows(criterion["criteria"], facts, depth + 1)
    return rows


def _facts_line(facts: Facts, read: Collection[str]) -> Text:
    given, unknown = facts_words(facts, read)
    words = [f"age {value}" if label == "age" else f"{label}: {value}" for label, value in given]
    line = Text.assemble(("Patient: ", "bold"), " · ".join(words) or "no facts given")
    if unknown:
        line.append("\nNot given (unknown): ", style="bold").append(", ".join(unknown))
    if facts.unread:
        line.append("\nIn the records, not read: ", style="bold").append("; ".join(facts.unread))
    return line


def _patients(count: int) -> str:
    return "patient" if count == 1 else "patients"


def therapy_names(therapy: Therapy) -> str:
    others = [*therapy.brands, *therapy.aliases]
    return f"{therapy.name} ({', '.join(others)})" if others else therapy.name


def _option(option: OptionOut, facts: Facts, catalog: Catalog, cited: Citations) -> RenderableType:
    label, style = STATUS[option["status"]]
    therapy = catalog.by_id(option["therapy"])
    name = Text(therapy_names(therapy), style="bold")
    if option["cautions_apply"]:  # on the status line: a caution below ELIGIBLE is easy to miss
        name.append(f"  ! CAUTION: {'; '.join(option['cautions_apply'])}", style="bold magenta")
    title = Table.grid()
    title.add_column(width=13, no_wrap=True)
    title.add_column(overflow="fold")
    title.add_row(Text(label, style=style), name)
    kind = Padding(Text(therapy.kind.text), (0, 0, 0, 13), expand=False)
    parts: list[RenderableType] = [title, kind, *_open(option["open"])]
    for indication in option["indications"]:
        summary = Text(indication["summary"])
        if indication["authorisation"]:
            summary.append(f" [{indication['authorisation']} marketing authorisation]", "dim")
        parts.append(marked([(_mark(indication["status"]), summary)], 2))
        if indication["status"] == "unmet":  # why not: only the criteria that failed
            rows: list[Row] = [
                (_mark("unmet"), _with_value(criterion, facts))
                for criterion in failed_criteria(indication["criteria"])
            ]
        else:
            rows = _criteria_rows(indication["criteria"], facts)
        parts.append(marked(rows, 4))
    if option["missing"]:
        wanted = "; ".join(deciding_words(name)[1] for name in option["missing"])
        parts.append(marked([(ARROW, Text(f"To decide, give: {wanted}"))], 2))
    for caution in option["cautions"]:
        parts.append(marked([(Text("!", "magenta"), Text(f"Caution: {caution}"))], 2))
    sources = cited.named(source["id"] for source in option["sources"])
    parts.append(marked([("", Text(f"Sources: {sources}", style="dim"))], 1))
    return Group(*parts)


def _open(points: Sequence[str]) -> list[RenderableType]:
    """The open points of the sources behind a `possible`, said with the status."""
    return [marked([(Text("?", "bold yellow"), Text(point, "bold"))], 2) for point in points]


ADVICE = {
    "recommended": ("RECOMMENDED", "bold cyan"),
    "possible": ("POSSIBLE", "bold yellow"),
    "not_indicated": ("NOT INDICATED", "bold"),
}
ADVICE_MEANING = {
    "recommended": "one of the reasons the source gives applies",
    "possible": "not settled: the facts it names, or an open point of the sources, would decide",
    "not_indicated": NONE_APPLIES,
}


def _referral(
    result: ReferralOut, facts: Facts, catalog: Catalog, cited: Citations
) -> RenderableType:
    label, style = ADVICE[result["status"]]
    referral = catalog.referral(result["referral"])
    assert referral is not None  # the answer was made from this catalog
    title = Text.assemble((f"{label:<14}", style), (result["title"], "bold"))
    parts: list[RenderableType] = [
        title,
        marked([("", Text(f"({ADVICE_MEANING[result['status']]})", style="dim"))], 13),
        *_open(result["open"]),
        marked([("", Text(f"The reasons as given by {catalog.attribution(referral)}", "dim"))], 13),
        marked(_criteria_rows(result["reasons"], facts), 2),
    ]
    if result["missing"]:
        wanted = "; ".join(deciding_words(name)[1] for name in result["missing"])
        parts.append(marked([(ARROW, Text(f"To decide, give: {wanted}"))], 2))
    parts.append(marked([("", Text(s["text"])) for s in result["about"]], 3))
    sources = cited.named(source["id"] for source in result["sources"])
    parts.append(marked([("", Text(f"Sources: {sources}", style="dim"))], 1))
    return Group(*parts)


def _footer(catalog: Catalog, statuses: Sequence[Status] = ()) -> RenderableType:
    info = catalog.info
    lines = [
        Text.assemble(
            ("Status: ", "bold"),
            f"{STATUS[s][0].lower()} = {MEANING[s].format(short=info.authority.short)}",
        )
        for s in statuses
    ]
    lines.append(
        Text(
            f"Data: {info.authority.labels}, release {info.release}, "
            f"updated {info.updated.isoformat()}.",
            style="dim",
        )
    )
    lines.append(Text(disclaimer(info.authority.labels), style="bold"))
    return Group(*lines)


def _brand(option: OptionOut) -> str:
    return option["brands"][0] if option["brands"] else option["name"]


def _glance(answer: OptionsOut) -> RenderableType:
    """The answer at a glance, before the details: a line a therapy (and a referral), each
    kept to one line of the screen; the details below say it whole."""
    names = [_brand(option) for option in answer["options"]]
    # expand: a ratio column takes what is left of the width, and ends its line with "…"
    table = Table(box=None, pad_edge=False, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(no_wrap=True, min_width=max(map(len, names), default=0))
    table.add_column(no_wrap=True, min_width=len("not eligible !"))
    table.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    for name, option in zip(names, answer["options"], strict=True):
        said = why(option)
        if option["cautions_apply"]:
            said = f"CAUTION: {'; '.join(option['cautions_apply'])}; {said}"
        cautioned = bool(option["cautions_apply"])
        table.add_row(
            Text(name, style="bold"),
            _short(option["status"], cautioned),
            Text(said, no_wrap=True, overflow="ellipsis"),
        )
    lines: list[RenderableType] = [Text("At a glance", style="bold underline"), table]
    lines += [_referral_line(result, no_wrap=True) for result in answer["referrals"]]
    return Group(*lines)


def _referral_line(result: ReferralOut, no_wrap: bool = False) -> Text:
    """A referral's advice in one line: its title, the advice and why."""
    label, style = ADVICE[result["status"]]
    return Text.assemble(
        (result["title"], "bold"),
        ": ",
        (label.lower(), style),
        f" ({referral_why(result)})",
        no_wrap=True if no_wrap else None,
        overflow="ellipsis" if no_wrap else None,
    )


def options(answer: OptionsOut, facts: Facts, catalog: Catalog, out: Console) -> None:
    """One patient's answer (answers.options_json) as text; `facts` as given, for the ages
    exactly (the answer's JSON numbers are floats), `catalog` the one answered from."""
    cited = Citations(catalog.sources)
    caveat = answer.get("caveat")
    parts: list[Part] = [
        *([Text(caveat, style="bold")] if caveat else []),  # before anything else
        Text(f"alltx: {catalog.info.authority.scope}", style="bold"),
        # in the first lines, before any status: what this is (issue 29)
        Text(answer["disclaimer"], style="bold"),
        _facts_line(facts, catalog.facts_read()),
        "",
        _glance(answer),
    ]
    if any(option["cautions_apply"] for option in answer["options"]):
        parts.append(Text("! = a caution applies to this patient (see below)", style="dim"))
    for option in answer["options"]:
        parts += ["", _option(option, facts, catalog, cited)]
    if answer["referrals"]:
        parts += ["", Text("Other doctors to see", style="bold underline")]
    for result in answer["referrals"]:
        parts += ["", _referral(result, facts, catalog, cited)]
    parts += [
        *cited.parts(brief=True),
        "",
        _footer(catalog, ("eligible", "possible", "not_eligible")),
        "",
        NEXT,
    ]
    show(out, parts)


# What to do with the answer, where a reader is done with it (issue 29).
NEXT = Text.assemble(
    ("Next: ", "bold"),
    "a page to print and bring: the same command with --format html > page.html; "
    "questions to ask the care team: alltx questions; a word explained: alltx explain WORD "
    "(alltx explain lists them).",
)


def cited_rows(statements: Sequence[Statement], cited: Citations, bullet: str = "•") -> list[Row]:
    """Statements as bullets, each ending in the numbers of its sources: `[1,3]`."""
    return [
        (bullet, Text(s.text).append(f" {cited.mark(s.source)}", style="dim")) for s in statements
    ]


def _criteria_lines(node: Node, depth: int = 0) -> list[Row]:
    rows: list[Row] = []
    for child in getattr(node, "children", ()):
        rows.append(("·", Text(child.text), depth))
        rows += _criteria_lines(child, depth + 1)
    return rows


# A section of a drug's page: its title, and its statements, each with the lines of criteria
# shown under it (an indication's); plain data, so that two regulators' can be compared.
Item = tuple[Statement, tuple[tuple[str, str, int], ...]]
Section = tuple[str, list[Item]]
TIMELINE = "How it is given"  # the section the timeline is drawn under


def _sections(therapy: Therapy, label: str) -> list[Section]:
    """What `alltx drug` says of a therapy under one regulator, section by section."""

    def plain(statements: Sequence[Statement]) -> list[Item]:
        return [(statement, ()) for statement in statements]

    approved: list[Item] = []
    for indication in therapy.indications:
        date = f" (approved {indication.approved})" if indication.approved else ""
        if indication.authorisation:  # conditional, where the sources say so
            date += f" [{indication.authorisation} marketing authorisation]"
        entry = Statement(text=indication.summary + date, source=indication.source)
        lines = tuple((str(s), str(t), 1 + sum(d)) for s, t, *d in _criteria_lines(indication.rule))
        approved.append((entry, lines))
    cautions = [Statement(text=c.said, source=c.source) for c in therapy.cautions]
    return [
        ("What it is", plain([therapy.kind, therapy.about])),
        (TIMELINE, plain([s for s in therapy.given if not s.detail])),
        ("Dosing in the label (for clinicians)", plain([s for s in therapy.given if s.detail])),
        (f"Approved for ({label})", approved),
        ("Results in the trials behind the approval", plain(therapy.figures)),
        ("Common side effects", plain(therapy.common_side_effects)),
        ("Serious side effects", plain(therapy.serious_side_effects)),
        ("Boxed warning (the label's most serious warning)", plain(therapy.boxed_warning)),
        ("Cautions (not exclusions)", plain(cautions)),
    ]


def _items(items: list[Item], cited: Citations, indent: int = 2) -> RenderableType:
    rows: list[Row] = []
    for statement, lines in items:
        rows += cited_rows([statement], cited)
        rows += [(symbol, Text(text), depth) for symbol, text, depth in lines]
    return marked(rows, indent)


def drug(
    therapy: Therapy, catalog: Catalog, out: Console, timeline: RenderableType | None = None
) -> None:
    cited = Citations(catalog.sources)
    parts: list[Part] = [Text(therapy_names(therapy), style="bold")]
    for title, items in _sections(therapy, catalog.info.authority.label):
        if items:
            parts += [Text(f"\n{title}", style="bold"), _items(items, cited)]
        if title == TIMELINE and timeline is not None:
            parts.append(Padding(timeline, (0, 0, 0, 2)))
    parts += [*cited.parts(), "", _footer(catalog)]
    show(out, parts)


def drug_compared(
    drugs: Sequence[tuple[Therapy, Catalog, RenderableType | None]], out: Console
) -> None:
    """One drug under each regulator chosen on one page (--regulator fda,ema): what a section
    says under each is said once; what not every regulator's documents say follows, under each
    one's name."""
    first, catalogs = drugs[0][0], [catalog for _, catalog, _ in drugs]
    names = listed([c.info.authority.name for c in catalogs])
    two = len(catalogs) == 2
    cited = Citations({k: v for c in catalogs for k, v in c.sources.items()})
    parts: list[Part] = [
        Text(therapy_names(first), style="bold"),
        Text(
            f"Under {names}: what {'both' if two else 'all'} say, then what only "
            f"{'one says' if two else 'some say'}",
            "dim",
        ),
    ]
    # "Approved for (US FDA label)": compared by what follows the title's first words
    each = [_sections(therapy, catalog.info.authority.label) for therapy, catalog, _ in drugs]
    for number, (title, _) in enumerate(each[0]):
        sections = [sections[number][1] for sections in each]
        heading = title.split(" (")[0] if title.startswith("Approved for") else title
        if not any(sections):
            continue
        parts.append(Text(f"\n{heading}", style="bold"))
        common = [item for item in sections[0] if all(item in other for other in sections)]
        if common:
            parts.append(_items(common, cited))
        for (_, catalog, _), items in zip(drugs, sections, strict=True):
            own = [item for item in items if item not in common]
            if own:
                label = catalog.info.authority.label
                where = (
                    f"Only in the {label}" if two else f"In the {label}, not in all {len(catalogs)}"
                )
                parts += [Text(f"  {where}:", style="italic"), _items(own, cited, 4)]
    pictures = [(c, picture) for _, c, picture in drugs if picture is not None]
    for catalog, picture in pictures:
        heading = f"\nHow it is given, as a timeline ({catalog.info.authority.short})"
        parts += [Text(heading, "bold"), Padding(picture, (0, 0, 0, 2))]
    parts += [*cited.parts(), ""]
    for catalog in catalogs:
        info = catalog.info
        parts.append(
            Text(
                f"Data: {info.authority.labels}, release {info.release}, updated "
                f"{info.updated.isoformat()}.",
                style="dim",
            )
        )
    parts.append(
        Text(disclaimer(", ".join(c.info.authority.labels for c in catalogs)), style="bold")
    )
    show(out, parts)


def drugs(catalog: Catalog, out: Console, therapies: Sequence[Therapy] | None = None) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("therapy", no_wrap=True)
    table.add_column("also called")
    table.add_column("what it is")
    listed = catalog.therapies if therapies is None else therapies
    for therapy in listed:
        table.add_row(therapy.id, ", ".join([*therapy.brands, *therapy.aliases]), therapy.kind.text)
    hint = Text("One of them in full: alltx drug NAME", "dim")
    show(out, [table, *([hint] if therapies is not None else []), "", _footer(catalog)])


SHORT = {"eligible": ("eligible", "green"), "possible": ("possible", "yellow"),
         "not_eligible": ("not eligible", "red")}  # fmt: skip


CAUTION_KEY = "! = a caution applies to that patient (the JSON and CSV records name it)"


def _short(status: str, cautioned: bool) -> Text:
    return Text.assemble(SHORT[status], (" !", "bold magenta") if cautioned else "")


def cohort(summary: CohortSummary, catalog: Catalog, out: Console) -> None:
    """A cohort at a glance: patients x therapies, then counts per status."""
    names = {t.id: (t.brands[0] if t.brands else t.name) for t in catalog.therapies}
    patients = Table(header_style="bold", box=None, pad_edge=False)
    patients.add_column("patient", no_wrap=True)
    for therapy in summary.therapies:
        patients.add_column(names[therapy])
    errors: list[Row] = []
    count = len(summary.therapies)
    cautioned = any(flag for r in summary.rows if isinstance(r, tuple) for _, flag in r[1])
    for record in summary.rows:
        if isinstance(record, tuple):
            row, briefs = record
            label = Text(visible(utf8(str(row.id))) if row.id is not None else f"line {row.line}")
            patients.add_row(label, *(_short(status, flag) for status, flag in briefs[:count]))
        else:
            label = Text(
                visible(utf8(str(record.id))) if record.id is not None else f"line {record.line}"
            )
            patients.add_row(label, Text(f"error, line {record.line}", style="red"))
            errors.append(
                (Text("✗", "red"), Text(f"line {record.line}: {visible(record.message)}"))
            )
    counts = Table(header_style="bold", box=None, pad_edge=False)
    counts.add_column("therapy", no_wrap=True)
    for status in ("eligible", "possible", "not_eligible"):
        counts.add_column(Text(*SHORT[status]), justify="right")
    for therapy in summary.therapies:
        tally = summary.counts[therapy]
        counts.add_row(f"{therapy} ({names[therapy]})", *(str(n) for n in tally.values()))
    shown = len(summary.rows)
    more = f" (the first {shown}; --format csv lists every one)" if shown < summary.total else ""
    parts: list[RenderableType | str] = [
        Text(f"alltx: {summary.total} {_patients(summary.total)}{more}", style="bold"),
        patients,
        *([Text(CAUTION_KEY, "dim")] if cautioned else []),
        *([marked(errors, 0)] if errors else []),
        "",
        Text("Patients per status", style="bold"),
        counts,
    ]
    titles = {r.id: r.title for r in catalog.referrals}
    for referral, advice in summary.advice.items():
        shown_counts = ", ".join(f"{ADVICE[a][0].lower()} {n}" for a, n in advice.items())
        parts.append(Text.assemble((f"{titles[referral]}: ", "bold"), shown_counts))
    if summary.failed:
        parts.append(
            Text(
                f"{summary.failed} rows could not be read; see the errors above.", style="bold red"
            )
        )
    parts += ["", _footer(catalog, ("eligible", "possible", "not_eligible"))]
    show(out, parts)


def data_summary(catalog: Catalog, out: Console, checked: bool = False) -> None:
    """What a therapies file holds and where it comes from."""
    info = catalog.info
    indications = sum(len(t.indications) for t in catalog.therapies)
    lines: list[Part] = [
        Text.assemble(("Therapies file: ", "bold"), catalog.origin),
        f"{'Valid: ' if checked else ''}{len(catalog.therapies)} therapies, {indications} "
        f"indications, {len(catalog.referrals)} referrals, {len(catalog.sources)} sources",
        f"Release {info.release}, updated {info.updated.isoformat()}; {info.authority.labels} "
        f"({info.authority.region})",
    ]
    if checked and len(catalog.regulators) > 1:  # data check reads every regulator's
        held = ", ".join(
            f"{r.id} ({r.name}, "
            f"{sum(1 for t in catalog.therapies for i in t.indications if i.regulator == r.id)} "
            "indications)"
            for r in catalog.regulators
        )
        lines.append(f"Regulators: {held}; --regulator chooses")
    if info.authority.currency:
        lines.append(info.authority.currency.text)
    cited = Citations(catalog.sources)
    cited.mark(catalog.sources)
    show(out, [*lines, *cited.parts()])


def fhir_codes(codes: FhirCodesOut, out: Console) -> None:
    """The FHIR codes --fhir reads, each with the fact it sets and its source."""
    rows: list[Row] = []
    for code in codes["codes"]:
        sets = f"{code['fact']} {code['value']}" if code["value"] else f"{code['fact']}: its value"
        rows.append(
            ("-", Text(f"{_system(code['system'])} {code['code']} {code['display']}: sets {sets}"))
        )
        rows.append((" ", Text(code["source"], style="dim"), 1))
    for answer in codes["answers"]:
        rows.append(
            (
                "-",
                Text(
                    f"a value {_system(answer['system'])} {answer['code']} "
                    f"{answer['display']}: reads as {answer['means']}"
                ),
            )
        )
        rows.append((" ", Text(answer["source"], style="dim"), 1))
    heading = Text.assemble(("FHIR codes read by --fhir: ", "bold"), codes["file"])
    show(out, ["", heading, marked(rows, 0)])


def _system(system: str) -> str:
    from alltx.model.fhir_codes import SYSTEMS

    return SYSTEMS.get(system, system)


def compared(answer: ComparedOut, facts: Facts, catalogs: Sequence[Catalog], out: Console) -> None:
    """One patient under each regulator, side by side (answers.compared_json): each therapy's
    status under each, then what makes each difference."""
    names = listed([c.info.authority.name for c in catalogs])
    read = {name for catalog in catalogs for name in catalog.facts_read()}
    parts: list[Part] = [
        Text(f"alltx: {names}, side by side", style="bold"),
        _facts_line(facts, read),
        "",
    ]
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("Therapy")
    for catalog in catalogs:
        table.add_column(catalog.info.authority.name)
    statuses = {
        one["data"]["regulator_id"]: {o["therapy"]: o for o in one["options"]}
        for one in answer["answers"]
    }
    names_of = {o["therapy"]: _brand(o) for one in answer["answers"] for o in one["options"]}
    for therapy, name in names_of.items():
        cells = []
        for catalog in catalogs:
            option = statuses[catalog.info.authority.id].get(therapy)
            label, style = STATUS[option["status"]] if option else ("not authorised", "dim")
            cells.append(
                Text(label + (" !" if option and option["cautions_apply"] else ""), style=style)
            )
        table.add_row(name, *cells)
    parts.append(table)
    # A caution that applies belongs with the status, under each regulator it applies under
    # (an open reading of the wording, a patient at a bound the label leaves open).
    applying = [
        (names_of[o["therapy"]], c.info.authority.short, caution)
        for c, one in zip(catalogs, answer["answers"], strict=True)
        for o in one["options"]
        for caution in conditional_cautions(o, c)[0]
    ]
    if applying:
        parts += ["", Text("! Cautions that apply", style="bold magenta")]
        for name, regulator, caution in applying:
            said = caution.rule.text if caution.rule is not None else ""
            line = Text(f"{name}, {regulator}: {said}: {caution.text}")
            parts.append(marked([("!", line)], 2))
        parts.append("")
    # the referrals read no label: the same under each
    parts += [_referral_line(result) for result in answer["answers"][0]["referrals"]]
    found = answer["differences"]
    parts += [
        "",
        Text(
            "Where they differ, and why" if found else "No difference in status",
            style="bold underline",
        ),
    ]
    for difference in found:
        parts.append(Text(names_of[difference["therapy"]], style="bold"))
        for catalog in catalogs:
            info = catalog.info
            because = difference["because"].get(
                info.authority.id, "not shown to be authorised there in alltx's sources"
            )
            status = difference["statuses"].get(info.authority.id)
            said = STATUS[status][0].lower() if status else "-"
            parts.append(marked([("·", Text(f"{info.authority.short}: {said}; {because}"))], 2))
    each = listed([c.info.authority.id for c in catalogs], "or")
    parts += ["", Text(f"Each answer in full: alltx options ... --regulator {each}", style="dim")]
    for catalog in catalogs:
        info = catalog.info
        parts.append(
            Text(
                f"Data: {info.authority.labels}, release {info.release}, updated "
                f"{info.updated.isoformat()}.",
                style="dim",
            )
        )
    labels = ", ".join(c.info.authority.labels for c in catalogs)
    parts.append(Text(disclaimer(labels), style="bold"))
    show(out, parts)
