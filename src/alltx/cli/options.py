"""`alltx options` (one patient's facts as flags, or a cohort): parse the facts, ask the core,
hand the answer to a renderer. The fact flags are made from the facts'
declarations (`alltx.core.facts.FACTS`)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperOption

from alltx import __version__
from alltx.cli.base import (
    OUTPUT_PANEL,
    DeclaredCommand,
    Engine,
    Format,
    InputFormat,
    RegulatorsOption,
    as_of_day,
    catalog_in_use,
    catalogs_in_use,
    fail,
    guide_in_use,
    ignore_unknown_option,
    show,
)
from alltx.cli.base import settings as settings_of
from alltx.cli.cohort import (
    COHORT_PANEL,
    CohortSettings,
    answer_rows,
    one_patient,
    run_cohort,
    write_cohort,
)
from alltx.cli.output_file import WHOLE, written_to
from alltx.core.facts import (
    AS_OF,
    DATE_FIELDS,
    FACTS,
    Fact,
    FactError,
    Facts,
    facts_from,
    flag_of,
)
from alltx.model.catalog import Catalog

if TYPE_CHECKING:
    from rich.console import Console

    from alltx.answer.shapes import OptionsOut

FACTS_PANEL = "Patient facts (leave a fact out if it is not known)"
FHIR_PANEL = "Records (FHIR R4)"


@functools.cache
def _fact_options() -> tuple[TyperOption, ...]:
    """An option for each fact, in order: a yes/no switch, or a value (whose named values,
    b|t or positive|negative, complete in the shell)."""
    dates = (
        DeclaredCommand.option(f.name, f.flag, f.help, "YYYY-MM-DD", str | None, FACTS_PANEL)
        for f in DATE_FIELDS.values()
    )
    return (*(_fact_option(fact) for fact in FACTS.values()), *dates)


def _fact_option(fact: Fact) -> TyperOption:
    if fact.negative:
        flags = f"{fact.flag}/{fact.negative}"
        return DeclaredCommand.option(fact.name, flags, fact.help, None, bool | None, FACTS_PANEL)
    values = fact.metavar.split("|") if "|" in fact.metavar else []

    def complete(incomplete: str) -> list[str]:
        return [value for value in values if value.startswith(incomplete)]

    return DeclaredCommand.option(
        fact.name,
        None,
        fact.help,
        fact.metavar,
        str | None,
        FACTS_PANEL,
        complete if values else None,
    )


class FactsCommand(DeclaredCommand):
    """A command with an option for each patient fact (alltx.core.facts.FACTS, in order)
    before its own; the facts given reach it as `given_facts(ctx)`."""

    def declared(self, ctx: Any) -> Sequence[TyperOption]:
        return _fact_options()


def given_facts(ctx: typer.Context) -> dict[str, object]:
    """The patient facts given as flags to a FactsCommand, by name."""
    return {name: value for name, value in DeclaredCommand.values(ctx).items() if value is not None}


HELP_FORMAT = (
    "text for people; html for a page to print and bring to an appointment (one patient); "
    "json, jsonl or csv for scripts; parquet (a cohort, with --output). For a cohort the "
    "default is text on a terminal and jsonl otherwise; with --output, the file's name says."
)


def options(
    ctx: typer.Context,
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            metavar="FILE",
            help="Read many patients from a JSON Lines, CSV or TSV file (- for stdin); fields "
            "are named like the flags, with underscores. With no fact flags, a piped stdin is "
            "read as the cohort.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="The --input format, if its name does not end in .jsonl, .csv or .tsv and "
            "its first line does not tell.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    ignore_unknown_fields: Annotated[bool, ignore_unknown_option(COHORT_PANEL)] = False,
    fail_fast: Annotated[
        bool,
        typer.Option(help="Stop at the first row that fails.", rich_help_panel=COHORT_PANEL),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            help="Write each cohort record in full (every criterion with the patient's value "
            "and its text, as one patient's --format json) instead of compact ids.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress, no closing line and no row errors on stderr (the error records "
            "are still in the output).",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = False,
    max_errors: Annotated[
        int | None,
        typer.Option(
            min=0,
            metavar="N",
            help="Show at most N row errors on stderr; every row is still in the output.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Answer a cohort in N processes (records still in input order), with --format "
            "jsonl or csv; at most one a core (asked for more, alltx uses the cores and says "
            "so). Pays on big inputs with spare cores: see docs/performance.md.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = 1,
    engine: Annotated[
        Engine | None,
        typer.Option(
            help="How to answer a cohort: python, or duckdb, which runs the rules compiled to "
            "SQL on every core; both read the spellings the flags take (8m, pos, B-ALL) and "
            "give the same records. A .parquet input uses duckdb.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    output: Annotated[
        Format | None,
        typer.Option("--format", "-f", help=HELP_FORMAT, rich_help_panel=OUTPUT_PANEL),
    ] = None,
    output_file: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the answer to FILE instead of stdout, in any format (its name gives the "
            "format where --format is not given: answers.csv, page.html), whole or not at all: "
            "a run that fails leaves FILE as it was. Needed by --format parquet.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    regulator: RegulatorsOption = None,
    fhir: Annotated[
        str | None,
        typer.Option(
            metavar="PATH",
            help="Read the facts from FHIR R4 records: a Bundle (JSON) of one patient, or of "
            "several, or a Bulk Data export folder (NDJSON): a cohort, one record per Patient. "
            "Ages are taken at --as-of. Needs pip install 'alltx[fhir]'.",
            rich_help_panel=FHIR_PANEL,
        ),
    ] = None,
    all_patients: Annotated[
        bool,
        typer.Option(
            help="Answer every Patient in the records, those without an ALL diagnosis too (by "
            "default a cohort answers only those with one, and counts the others).",
            rich_help_panel=FHIR_PANEL,
        ),
    ] = False,
    fhir_codes: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="The site's own codes (its lab's CD19 test, say), in the format of the codes "
            "file alltx ships (alltx data show lists it); added to those.",
            rich_help_panel=FHIR_PANEL,
        ),
    ] = None,
) -> None:
    """Which therapies fit these facts: each label criterion met, unmet or unknown."""
    given = given_facts(ctx)
    as_of = as_of_day(given.pop(AS_OF, None)) or date.today()
    output = _format_for(output, output_file)
    # Every check on the flags alone comes before any input is read.
    if explain and output is Format.csv:
        fail("--explain writes JSON; use it with --format json or jsonl")
    if fhir_codes is not None and fhir is None:
        fail("--fhir-codes says how to read FHIR records: give them with --fhir PATH")
    if output is Format.parquet and output_file is None:
        fail("--format parquet writes a file: give --output FILE")
    if output is Format.parquet and fail_fast:
        fail("--fail-fast stops a stream, and --format parquet writes every row: drop one")
    if all_patients and fhir is None:
        fail("--all-patients says which FHIR records to answer: give them with --fhir PATH")
    if fhir is not None:
        if input_file is not None:
            fail("--fhir and --input are two kinds of input: give one")
        if engine is not None or jobs > 1:
            fail("--engine and --jobs are for --input files; FHIR records are answered in Python")
        if output in (Format.html, Format.json) and Path(fhir).is_dir():
            fail(
                f"{fhir} is a Bulk Data folder, answered as a cohort: --format {output.value} "
                "answers one patient (give their Bundle); for a folder use jsonl, csv, text or "
                "parquet"
            )
    if input_file is None and fhir is None and not given and _piped_stdin():
        input_file = "-"  # as jq and csvkit do: a piped stdin is the input
    run = settings_of(ctx)
    read = {
        "--input": input_file,
        "--fhir": fhir,
        "--fhir-codes": fhir_codes,
        "--data": run.data,
        "--guide": run.guide,
    }
    whole_when = (0, None) if fail_fast else WHOLE  # --fail-fast: a refused row stops the run
    with written_to(output_file, read, output is not Format.parquet, whole_when):
        settings = CohortSettings(
            ignore_unknown=ignore_unknown_fields,
            fail_fast=fail_fast,
            explain=explain,
            quiet=quiet,
            max_errors=max_errors,
            jobs=jobs,
            engine=engine,
            output_file=output_file,
            regulator=regulator,
            as_of=as_of,
        )
        if fhir is not None:
            _from_records(ctx, fhir, fhir_codes, given, output, settings, all_patients)
        else:
            _from_facts(ctx, given, input_file, input_format, output, settings)


def _format_for(output: Format | None, output_file: str | None) -> Format | None:
    """The format asked for, or where none is, the one --output's name gives (answers.csv:
    csv); a name that says another kind of file than --format asks for is refused."""
    named = None if output_file is None else Format.of_file(output_file)
    if output is None:
        return named
    kinds = {Format.csv, Format.parquet, Format.html}  # files no other format reads as
    if named is not None and named is not output and {named, output} & kinds:
        fail(
            f"--output {output_file} names a {named.value} file and --format is "
            f"{output.value}: give a name that agrees, or leave --format out"
        )
    return output


def _from_records(
    ctx: typer.Context,
    fhir: str,
    fhir_codes: str | None,
    given: dict[str, object],
    output: Format | None,
    settings: CohortSettings,
    all_patients: bool,
) -> None:
    """The answers to FHIR records: a cohort, a record per Patient (by default those with an
    ALL diagnosis), or one patient's."""
    from alltx.cli import fhir as records

    as_of = settings.as_of or date.today()
    if Path(fhir).is_dir():  # a cohort whatever it holds: its flags checked before the export
        _one_regulator(ctx, settings.regulator)  # is read (it may take minutes)
    found = records.records(fhir, fhir_codes, as_of, all_patients, settings.quiet)
    # a cohort: one record per Patient (a Bulk Data folder is one, whatever it holds)
    cohort = found.patients > 1 or output is Format.parquet or Path(fhir).is_dir()
    records.said_apart(found, not cohort)
    if cohort:
        if output in (Format.html, Format.json):
            fail(
                f"{fhir} holds {found.patients} Patients: --format {output.value} answers "
                "one; for several use jsonl, csv, text or parquet"
            )
        if given:
            fail(
                f"facts as flags go with one patient's answer; {fhir} is answered as a "
                "cohort, a record per Patient"
            )
        _one_regulator(ctx, settings.regulator)
        charts = records.with_diagnosis(found, all_patients, settings.explain)
        from alltx.io.fhir import cohort_rows

        raise typer.Exit(answer_rows(ctx, cohort_rows(charts), output, settings))
    [chart] = found.charts
    facts, given = records.one_chart(chart, given, as_of)
    _one(ctx, facts, given, chart.id, output, settings)


def _from_facts(
    ctx: typer.Context,
    given: dict[str, object],
    input_file: str | None,
    input_format: InputFormat | None,
    output: Format | None,
    settings: CohortSettings,
) -> None:
    """The answer to facts given as flags, or kept in a file: a cohort, or one patient's."""
    as_of = settings.as_of or date.today()
    if input_file is not None and output is Format.html and not given:
        # one patient kept in a file (alltx ask --save): the page to print, as from flags
        given = one_patient(
            input_file, input_format and input_format.value, settings.ignore_unknown, as_of
        )
        input_file = None
    if input_file is not None:
        if given:
            fail("give one patient's facts as flags, or a cohort with --input, not both")
        _one_regulator(ctx, settings.regulator)
        run_cohort(ctx, input_file, input_format, output, settings)
        return
    if output is Format.parquet or settings.engine is not None:
        fail("--engine and --format parquet are for a cohort: give --input FILE")
    try:
        facts = facts_from(given, as_of)
    except FactError as error:
        fail(f"{flag_of(error.field)}: {error}" if error.field else str(error))
    _one(ctx, facts, given, None, output, settings)


def _one_regulator(ctx: typer.Context, regulator: str | None) -> None:
    """A cohort's records name the one regulator each answer comes from: not several."""
    catalog_in_use(
        ctx, regulator, "a cohort is answered under one regulator (each record names it)"
    )


def _one(
    ctx: typer.Context,
    facts: Facts,
    given: dict[str, object],
    row_id: str | None,
    output: Format | None,
    settings: CohortSettings,
) -> None:
    """One patient's answer, in the format asked for (`given`: the facts as a row gives them,
    for a record; `row_id` its id)."""
    regulator = settings.regulator
    catalogs = catalogs_in_use(ctx, regulator)
    if len(catalogs) > 1:
        if output not in (None, Format.text, Format.json) or settings.explain:
            fail(
                f"--regulator {regulator} answers as text or --format json; for a record, "
                "give one regulator"
            )
        _both(ctx, facts, catalogs, output)
        return
    [catalog] = catalogs
    if output in (Format.jsonl, Format.csv):
        from alltx.io.input_rows import RecordRow, Row

        # One patient, one record: the cohort road, the patient as a row without a line; one
        # patient's records (--fhir) as the first of a cohort's, with where each fact came
        # from and what was not read (--explain says them), as JSON does (issue 43, 9).
        one = CohortSettings(
            explain=settings.explain, quiet=True, regulator=regulator, as_of=settings.as_of
        )
        row = (
            Row(None, row_id, given)
            if row_id is None
            else RecordRow(1, row_id, given, facts.origins, facts.unread)
        )
        write_cohort(ctx, catalog, output, iter([row]), one)
        return

    answer = answer_of(facts, catalog)
    if output is Format.html:
        _write_handout(ctx, answer, facts, catalog)
        return

    def draw(out: Console) -> None:
        from alltx.views import render

        render.options(answer, facts, catalog, out)

    show(ctx, output is Format.json, lambda: answer, draw)


def answer_of(facts: Facts, catalog: Catalog) -> OptionsOut:
    """One patient's answer (`alltx ask` gives the same), its module loaded only to answer."""
    from alltx.answer.answers import patient_answer

    return patient_answer(facts, catalog)


def _both(ctx: typer.Context, facts: Facts, catalogs: list[Catalog], output: Format | None) -> None:
    """One patient under each regulator chosen, side by side (--regulator fda,ema)."""
    from alltx.answer.answers import compared

    answer = compared([answer_of(facts, catalog) for catalog in catalogs])

    def draw(out: Console) -> None:
        from alltx.views import render

        render.compared(answer, facts, catalogs, out)

    show(ctx, output is Format.json, lambda: answer, draw)


def _write_handout(ctx: typer.Context, answer: OptionsOut, facts: Facts, catalog: Catalog) -> None:
    from alltx.answer.guide_answers import fitting_questions, surely_child
    from alltx.views import handout

    questions = fitting_questions(answer, catalog, guide_in_use(ctx), surely_child(facts))
    sys.stdout.write(handout.page(answer, facts, catalog, questions, __version__, _today()))


def _today() -> str:
    """The day a page is made, as people read it (6 December 2026); SOURCE_DATE_EPOCH, where
    set, stands for now (reproducible output: the snapshot tests set it)."""
    import os
    import time

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    moment = time.gmtime(int(epoch)) if epoch.isascii() and epoch.isdigit() else time.localtime()
    return f"{moment.tm_mday} {time.strftime('%B %Y', moment)}"


def _piped_stdin() -> bool:
    """Whether stdin is there and not a terminal: a cohort piped in."""
    try:
        return sys.stdin is not None and not sys.stdin.closed and not sys.stdin.isatty()
    except (ValueError, OSError):
        return False
