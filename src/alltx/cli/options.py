"""`alltx options` (one patient's facts as flags, or a cohort): parse the facts, ask the core,
hand the answer to a renderer. The fact flags are made from the facts'
declarations (`alltx.core.facts.FACTS`)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from datetime import date
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
    show,
)
from alltx.cli.cohort import (
    COHORT_PANEL,
    CohortSettings,
    answer_rows,
    one_patient,
    run_cohort,
    write_cohort,
)
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
    dates = (DeclaredCommand.option(f.name, f.flag, f.help, "YYYY-MM-DD", str | None, FACTS_PANEL)
             for f in DATE_FIELDS.values())  # fmt: skip
    return (*(_fact_option(fact) for fact in FACTS.values()), *dates)


def _fact_option(fact: Fact) -> TyperOption:
    if fact.negative:
        flags = f"{fact.flag}/{fact.negative}"
        return DeclaredCommand.option(fact.name, flags, fact.help, None, bool | None, FACTS_PANEL)
    values = fact.metavar.split("|") if "|" in fact.metavar else []

    def complete(incomplete: str) -> list[str]:
        return [value for value in values if value.startswith(incomplete)]

    return DeclaredCommand.option(fact.name, None, fact.help, fact.metavar, str | None,
                                  FACTS_PANEL, complete if values else None)  # fmt: skip


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
    "default is text on a terminal and jsonl otherwise."
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
    ignore_unknown_fields: Annotated[
        bool,
        typer.Option(
            help="Skip fields alltx does not know, instead of refusing them.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = False,
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
            "so). Pays on big inputs with spare cores: see the README's Performance.",
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
            help="The file --format parquet writes (other formats go to stdout: use >).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
    regulator: RegulatorsOption = "fda",
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
    if explain and output is Format.csv:
        fail("--explain writes JSON; use it with --format json or jsonl")
    if fhir_codes is not None and fhir is None:
        fail("--fhir-codes says how to read FHIR records: give them with --fhir PATH")
    if fhir is not None:
        if input_file is not None:
            fail("--fhir and --input are two kinds of input: give one")
        if engine is not None or jobs > 1:
            fail("--engine and --jobs are for --input files; FHIR records are answered in Python")
        from alltx.cli import fhir as records

        charts = records.charts(fhir, fhir_codes, as_of)
        if len(charts) > 1 or output is Format.parquet:  # a cohort: one record per Patient
            if output in (Format.html, Format.json):
                fail(f"{fhir} holds {len(charts)} Patients: --format {output.value} answers one; "
                     "for several use jsonl, csv, text or parquet")  # fmt: skip
            if given:
                fail(f"facts as flags go with one patient's answer; {fhir} is answered as a "
                     "cohort, a record per Patient")  # fmt: skip
            _one_regulator(regulator)
            settings = CohortSettings(explain=explain, quiet=quiet, max_errors=max_errors,
                                      output_file=output_file, regulator=regulator,
                                      as_of=as_of)  # fmt: skip
            raise typer.Exit(answer_rows(ctx, records.rows(charts), output, settings))
        if output_file is not None:
            fail("--output is for --format parquet; send other formats to a file with >")
        facts, given = records.one_chart(charts[0], given, as_of)
        _one(ctx, facts, given, charts[0].id, output, explain, regulator, as_of)
        return
    if input_file is None and not given and _piped_stdin():
        input_file = "-"  # as jq and csvkit do: a piped stdin is the input
    if input_file is not None and output is Format.html and not given:
        # one patient kept in a file (alltx ask --save): the page to print, as from flags
        given = one_patient(input_file, input_format and input_format.value,
                            ignore_unknown_fields, as_of)  # fmt: skip
        input_file = None
    if input_file is not None:
        if given:
            fail("give one patient's facts as flags, or a cohort with --input, not both")
        _one_regulator(regulator)
        settings = CohortSettings(ignore_unknown=ignore_unknown_fields, fail_fast=fail_fast,
                                  explain=explain, quiet=quiet, max_errors=max_errors, jobs=jobs,
                                  engine=engine, output_file=output_file,
                                  regulator=regulator, as_of=as_of)  # fmt: skip
        run_cohort(ctx, input_file, input_format, output, settings)
        return
    if output is Format.parquet or engine is not None or output_file is not None:
        fail("--engine, --output and --format parquet are for a cohort: give --input FILE")
    try:
        facts = facts_from(given, as_of)
    except FactError as error:
        fail(f"{flag_of(error.field)}: {error}" if error.field else str(error))
    _one(ctx, facts, given, None, output, explain, regulator, as_of)


def _one_regulator(regulator: str) -> None:
    """A cohort's records name the one regulator each answer comes from: not both."""
    if regulator == "both":
        fail("a cohort is answered under one regulator: --regulator fda or ema (each record "
             "names it)")  # fmt: skip


def _one(
    ctx: typer.Context,
    facts: Facts,
    given: dict[str, object],
    row_id: str | None,
    output: Format | None,
    explain: bool,
    regulator: str,
    as_of: date,
) -> None:
    """One patient's answer, in the format asked for (`given`: the facts as a row gives them,
    for a record; `row_id` its id)."""
    if regulator == "both":
        if output not in (None, Format.text, Format.json) or explain:
            fail("--regulator both answers as text or --format json; for a record, give "
                 "--regulator fda or ema")  # fmt: skip
        _both(ctx, facts, catalogs_in_use(ctx, regulator), output)
        return
    catalog = catalog_in_use(ctx, regulator)
    if output in (Format.jsonl, Format.csv):
        from alltx.io.input_rows import Row

        # One patient, one record: the cohort road, the patient as a row without a line.
        settings = CohortSettings(explain=explain, quiet=True, regulator=regulator,
                                  as_of=as_of)  # fmt: skip
        write_cohort(ctx, catalog, output, iter([Row(None, row_id, given)]), settings)
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
    """One patient under each regulator, side by side (--regulator both)."""
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
