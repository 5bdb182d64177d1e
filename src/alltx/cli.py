"""The `alltx` command: parse the arguments, ask the core, hand the answer to a renderer.

Errors are one line on stderr (`alltx: error: ...`) with exit status 2 for bad usage and 1 for
a broken data file; never a traceback, which could also leak patient facts into a log.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from alltx import __version__
from alltx.catalog import Catalog, DataError, UnknownTherapy
from alltx.facts import PARSERS, FactError, facts_from

if TYPE_CHECKING:
    from alltx.guide import Guide

FACTS_PANEL = "Patient facts (leave a fact out if it is not known)"
COHORT_PANEL = "A cohort file instead of flags"
OUTPUT_PANEL = "Output"


class Format(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class DocFormat(StrEnum):
    text = "text"
    json = "json"


class InputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


class SchemaKind(StrEnum):
    input = "input"
    output = "output"
    data = "data"


# The guide's commands live in `alltx.cli_guide` and are built only when asked for: click builds
# every command it knows at start-up, and `options` should not pay for the guide's.
GUIDE_COMMANDS = ("transplant", "side-effects", "grade", "compare", "explain", "questions")


class AlltxGroup(TyperGroup):
    """Runs the app, turning every usage error into one line on stderr, exit status 2."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *GUIDE_COMMANDS]

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and name in GUIDE_COMMANDS:
            from alltx.cli_guide import guide_app

            command = typer.main.get_command(guide_app).get_command(ctx, name)  # type: ignore[attr-defined]
        return command

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except typer.Abort:
            _fail("interrupted", 130)
        except typer.TyperException as error:  # click's usage errors derive from this
            if type(error).__name__ == "NoArgsIsHelpError":
                sys.stderr.write(error.format_message() + "\n")
                sys.exit(2)
            message = _one_line(error.format_message()).replace("Value error, ", "")
            context = getattr(error, "ctx", None)
            if context is not None:
                message += f" (see: {context.command_path} --help)"
            _fail(message, getattr(error, "exit_code", 2))
        except BrokenPipeError:
            _quiet_broken_pipe()
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=AlltxGroup,
    name="alltx",
    help="Which US FDA-approved immunotherapies for acute lymphoblastic leukemia (ALL) fit a "
    "patient's facts, and why. Information, not medical advice.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _fail(message: str, code: int = 2) -> NoReturn:
    sys.stderr.write(f"alltx: error: {message}\n")
    sys.exit(code)


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (`| head`): stop quietly, as jq and csvkit do."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush cannot fail
    sys.exit(1)


_data_file: Path | None = None  # set by --data / ALLTX_DATA; None = the bundled file
_guide_file: Path | None = None  # set by --guide / ALLTX_GUIDE


def _catalog() -> Catalog:
    from alltx.datafile import load_catalog

    try:
        return load_catalog(_data_file)
    except DataError as error:
        _fail(str(error), 1)


def _guide() -> Guide:
    from alltx.datafile import load_guide

    try:
        return load_guide(_guide_file)
    except DataError as error:
        _fail(str(error), 1)


def _write_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _version(value: bool) -> None:
    if value:
        from alltx.datafile import load_catalog

        try:
            info = load_catalog().info
            data = f"data release {info.release}, updated {info.updated.isoformat()}"
        except DataError as error:
            data = f"data file broken: {error}"
        sys.stdout.write(f"alltx {__version__} ({data})\n")
        raise typer.Exit()


@app.callback()
def _root(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="ALLTX_DATA",
            metavar="FILE",
            help="Answer from another therapies file (a newer label, a local formulary) instead "
            "of the bundled one. Checked in full before use.",
        ),
    ] = None,
    guide: Annotated[
        Path | None,
        typer.Option(
            "--guide",
            envvar="ALLTX_GUIDE",
            metavar="FILE",
            help="Read the guide (transplant, side effects, grading, glossary, questions) from "
            "another file instead of the bundled one.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Which US FDA-approved immunotherapies for ALL fit a patient's facts, and why."""
    global _data_file, _guide_file
    _data_file, _guide_file = data, guide


def _fact(help_text: str, metavar: str) -> Any:
    return typer.Option(help=help_text, metavar=metavar, rich_help_panel=FACTS_PANEL)


def _switch(flags: str, help_text: str) -> Any:
    return typer.Option(flags, help=help_text, rich_help_panel=FACTS_PANEL)


FormatOption = Annotated[
    DocFormat,
    typer.Option(
        "--format", "-f", help="text for people, json for scripts.", rich_help_panel=OUTPUT_PANEL
    ),
]
HELP_FORMAT = (
    "text for people; json, jsonl or csv for scripts. With --input the default is text on a "
    "terminal and jsonl otherwise."
)


@app.command()
def options(
    age: Annotated[
        str | None, _fact("Age in years (decimals allowed), or in months with m: 8m.", "AGE")
    ] = None,
    relapsed: Annotated[
        bool | None,
        _switch("--relapsed/--not-relapsed", "The leukemia has come back now, after treatment."),
    ] = None,
    relapse: Annotated[
        str | None, _fact("Now in the Nth relapse (1 = first); implies relapsed.", "N")
    ] = None,
    refractory: Annotated[
        bool | None,
        _switch(
            "--refractory/--not-refractory",
            "The leukemia did not respond, or stopped responding, to treatment.",
        ),
    ] = None,
    remission: Annotated[
        str | None,
        _fact(
            "Now in the Nth complete remission (1 = CR1); implies not relapsed or refractory.", "N"
        ),
    ] = None,
    lineage: Annotated[
        str | None, _fact("B-cell precursor or T-cell ALL (b-cell, t-cell also work).", "b|t")
    ] = None,
    cd19: Annotated[
        str | None,
        _fact("CD19 on the leukemia cells (pos, neg, +, - also work).", "positive|negative"),
    ] = None,
    cd22: Annotated[str | None, _fact("CD22 on the leukemia cells.", "positive|negative")] = None,
    ph: Annotated[str | None, _fact("Philadelphia chromosome.", "positive|negative")] = None,
    mrd: Annotated[
        str | None, _fact("Minimal residual disease, percent of cells (0.1 means 0.1%).", "PERCENT")
    ] = None,
    phase: Annotated[
        str | None,
        _fact("Current phase of multiphase chemotherapy.", "induction|consolidation|maintenance"),
    ] = None,
    prior_transplant: Annotated[
        bool | None,
        _switch(
            "--prior-transplant/--no-prior-transplant",
            "Has had an allogeneic (donor) stem-cell transplant.",
        ),
    ] = None,
    induction_failure: Annotated[
        bool | None,
        _switch(
            "--induction-failure/--no-induction-failure",
            "The first (induction) chemotherapy did not bring a remission within 28 days.",
        ),
    ] = None,
    high_risk: Annotated[
        bool | None,
        _switch(
            "--high-risk/--not-high-risk",
            "The care team has said the risk of relapse is high (e.g. from cytogenetic or "
            "molecular results, white cell count at diagnosis, or MRD).",
        ),
    ] = None,
    age_at_diagnosis: Annotated[
        str | None, _fact("Age when ALL was diagnosed, like --age (8m for months).", "AGE")
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            metavar="FILE",
            help="Read many patients from a JSON Lines or CSV file (- for stdin); fields are "
            "named like the flags, with underscores.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="The --input format, if its name does not end in .jsonl or .csv and its "
            "first line does not tell.",
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
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            metavar="N",
            help="Processes answering the cohort, for --format jsonl or csv (0: one per core). "
            "The output is the same, in input order; rows go out in chunks of 256.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = 1,
    output: Annotated[
        Format | None,
        typer.Option("--format", "-f", help=HELP_FORMAT, rich_help_panel=OUTPUT_PANEL),
    ] = None,
) -> None:
    """Which therapies fit these facts: each label criterion met, unmet or unknown."""
    # The fact flags are the parameters named like the facts; None means not given.
    raw = {name: value for name, value in locals().items() if name in PARSERS and value is not None}
    if input_file is not None:
        if raw:
            _fail("give one patient's facts as flags, or a cohort with --input, not both")
        _cohort(input_file, input_format, output, ignore_unknown_fields, fail_fast, jobs)
        return
    try:
        facts = facts_from(raw)
    except FactError as error:
        where = f"--{error.field.replace('_', '-')}: " if error.field else ""
        _fail(f"{where}{error}")

    catalog = _catalog()
    if output in (Format.jsonl, Format.csv):
        from alltx import pipeline
        from alltx.batch import Answerer

        answerer = Answerer(catalog)
        write = pipeline.write_jsonl if output is Format.jsonl else pipeline.write_csv
        write(answerer, [answerer.answer(vars(facts))], fail_fast=False)
        return

    from alltx.assess import assess, referrals

    results, advice = assess(facts, catalog), referrals(facts, catalog)
    if output is Format.json:
        from alltx.output import options_json

        _write_json(options_json(facts, results, advice, catalog))
    else:
        from alltx import render

        render.options(facts, results, advice, catalog, render.console())


def _cohort(
    name: str,
    given_format: InputFormat | None,
    output: Format | None,
    ignore_unknown: bool,
    fail_fast: bool,
    jobs: int,
) -> None:
    from alltx import pipeline
    from alltx.batch import Answerer
    from alltx.rows import InputError

    answerer = Answerer(_catalog())
    if output is None:
        output = Format.text if sys.stdout.isatty() else Format.jsonl
    try:
        stream = pipeline.open_input(name)
        kind, lines = pipeline.input_format(name, stream, given_format)
        if output in (Format.jsonl, Format.csv):
            streamed = (pipeline.jsonl_output if output is Format.jsonl else pipeline.csv_output)(
                answerer.catalog
            )
            workers = pipeline.jobs_for(jobs)
            status = pipeline.write_cohort(
                answerer, lines, kind, ignore_unknown, streamed, fail_fast, workers
            )
            raise typer.Exit(status)
        records = pipeline.answers(answerer, lines, kind, ignore_unknown)
    except InputError as error:
        _fail(str(error))
    if output is Format.text:
        from alltx import render

        status, summary = pipeline.summarize(answerer, records, fail_fast)
        render.cohort(summary, answerer.catalog, render.console())
    else:
        status = pipeline.write_json_array(answerer, records, fail_fast)
    raise typer.Exit(status)


@app.command()
def schema(
    which: Annotated[
        SchemaKind,
        typer.Argument(
            help="input: one patient row; output: one result record of a cohort; data: a "
            "therapies file."
        ),
    ],
) -> None:
    """The JSON Schema of a patient row, a result record or a therapies file."""
    from alltx.contract import schema_of

    _write_json(schema_of(which.value))


@app.command()
def drug(
    name: Annotated[
        str, typer.Argument(help="Generic name, brand or short name: Kymriah, tisa-cel.")
    ],
    output: FormatOption = DocFormat.text,
) -> None:
    """One drug: what it is, how it is given, who it is approved for, its side effects."""
    catalog = _catalog()
    try:
        therapy = catalog.therapy(name)
    except UnknownTherapy as error:
        _fail(str(error))
    practice = _guide().practice_for(therapy.id)
    if output is DocFormat.json:
        from alltx.guide_output import practice_json
        from alltx.output import drug_json

        _write_json({**drug_json(therapy, catalog), "practice": practice_json(practice)})
    else:
        from alltx import render, render_guide

        picture = render_guide.timeline(practice) if practice and practice.timeline else None
        render.drug(therapy, catalog, render.console(), picture)


@app.command()
def drugs(output: FormatOption = DocFormat.text) -> None:
    """One line per therapy alltx knows."""
    catalog = _catalog()
    if output is DocFormat.json:
        from alltx.output import drugs_json

        _write_json(drugs_json(catalog))
    else:
        from alltx import render

        render.drugs(catalog, render.console())


data_app = typer.Typer(
    help="The therapies data: check a file, or show where the data in use comes from.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check(
    file: Annotated[
        Path | None,
        typer.Argument(help="The therapies file to check; the one in use if left out."),
    ] = None,
) -> None:
    """Check a therapies file in full, and the guide file in use: exit 0 with a summary, or 1
    listing every problem."""
    from alltx.datafile import load_catalog, load_guide

    problems: list[str] = []
    try:
        catalog = load_catalog(file or _data_file, check=True)
    except DataError as error:
        problems += error.problems
    try:
        guide = load_guide(_guide_file, check=True)
    except DataError as error:
        problems += error.problems
    if problems:
        for problem in problems:
            sys.stderr.write(f"alltx: {problem}\n")
        sys.stderr.write(f"alltx: {len(problems)} problems; the file was not used\n")
        raise typer.Exit(1) from None
    from alltx import render

    render.data_summary(catalog, render.console(), checked=True)
    sys.stdout.write(
        f"Guide file: {guide.origin}\nValid: {len(guide.side_effects)} side effects, "
        f"{len(guide.scales)} grading scales, {len(guide.terms)} terms, "
        f"{len(guide.questions)} questions, release {guide.info.release}\n"
    )


@data_app.command("show")
def data_show(output: FormatOption = DocFormat.text) -> None:
    """Where the data in use comes from: its file, release, date, regulator and sources."""
    catalog = _catalog()
    if output is DocFormat.json:
        from alltx.output import data_json, sources_json

        _write_json({**data_json(catalog), "sources": sources_json(list(catalog.sources), catalog)})
    else:
        from alltx import render

        render.data_summary(catalog, render.console())


def main() -> None:
    app(prog_name="alltx")
