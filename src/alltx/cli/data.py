"""The commands about the data rather than a patient: `schema`, `drug`, `drugs`, `data check`
and `data show`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from alltx.cli.base import (
    HELP,
    DocFormat,
    FormatOption,
    OnceGroup,
    RegulatorOption,
    RegulatorsOption,
    catalog_in_use,
    catalogs_in_use,
    console,
    guide_in_use,
    settings,
    show,
    write_json,
)
from alltx.cli.examples import epilog
from alltx.core.plain import visible
from alltx.model.catalog import Catalog, DataError, NotShown

if TYPE_CHECKING:
    from rich.console import Console

    from alltx.answer.shapes import DrugBothOut


class SchemaKind(StrEnum):
    input = "input"
    output = "output"
    explain = "explain"
    csv = "csv"
    sql = "sql"
    data = "data"


def schema(
    ctx: typer.Context,
    which: Annotated[
        SchemaKind,
        typer.Argument(
            help="input: one patient row; output: one result record of a cohort; explain: one "
            "with --explain; csv: the CSV output's columns; sql: the table alltx sql and the "
            "DuckDB engine read; data: a therapies file."
        ),
    ],
) -> None:
    """The JSON Schema of a patient row, a result record (compact, or --explain) or a therapies
    file; for csv, the Frictionless Table Schema of the CSV output's columns."""
    from alltx.answer.schemas import schema_of

    if which is SchemaKind.sql:
        from alltx.sql import table_schema

        write_json(table_schema())
        return
    columns = None
    if which is SchemaKind.csv:
        from alltx.answer.answers import columns as csv_columns

        columns = csv_columns(catalog_in_use(ctx))
    write_json(schema_of(which.value, columns))


def drug(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Generic name, brand or short name: Kymriah, tisa-cel.")
    ],
    output: FormatOption = DocFormat.text,
    regulator: RegulatorsOption = None,
) -> None:
    """One drug: what it is, how it is given, who it is approved for, its side effects. A word
    that covers several (car-t) lists them."""
    catalogs = catalogs_in_use(ctx, regulator)
    group = catalogs[0].group(name)
    if len(group) > 1:
        _drugs(ctx, catalogs[0], output, group)
        return
    guide = guide_in_use(ctx)
    drugs = []  # the drug under each regulator whose documents in the data authorise it
    not_shown: list[NotShown] = []
    for catalog in catalogs:
        try:
            therapy = catalog.therapy(name)
        except NotShown as elsewhere:
            not_shown.append(elsewhere)
            continue
        drugs.append((catalog, therapy, guide.practice_for(therapy.id, catalog.info.authority.id)))
    if not drugs:
        raise not_shown[0]
    for unshown in not_shown:  # (--regulator fda,ema) said, and the others answered
        sys.stderr.write(f"alltx: note: {visible(unshown.said)}\n")

    def answer() -> object:
        from alltx.answer.answers import VERSION, drug_json
        from alltx.answer.guide_answers import practice_json

        made = [drug_json(t, catalog, practice_json(p)) for catalog, t, p in drugs]
        both: DrugBothOut = {"version": VERSION, "answers": made}
        return both if len(catalogs) > 1 else made[0]

    def draw(out: Console) -> None:
        from alltx.views import render, render_guide

        shown = [
            (
                therapy,
                catalog,
                render_guide.timeline(practice) if practice and practice.timeline else None,
            )
            for catalog, therapy, practice in drugs
        ]
        if len(shown) == 1:
            therapy, catalog, picture = shown[0]
            render.drug(therapy, catalog, out, picture)
        else:
            render.drug_compared(shown, out)

    show(ctx, output is DocFormat.json, answer, draw)


def drugs(
    ctx: typer.Context,
    output: FormatOption = DocFormat.text,
    regulator: RegulatorOption = None,
) -> None:
    """One line per therapy alltx knows."""
    catalog = catalog_in_use(ctx, regulator)
    _drugs(ctx, catalog, output, list(catalog.therapies))


def _drugs(ctx: typer.Context, catalog: Catalog, output: DocFormat, therapies: list[Any]) -> None:
    show(
        ctx,
        output is DocFormat.json,
        lambda: _answers().drugs_json(catalog, therapies),
        lambda out: _render().drugs(catalog, out, therapies),
    )


def _answers() -> ModuleType:
    """The answer builders, imported when a JSON answer is asked for."""
    from alltx.answer import answers

    return answers


def _render() -> ModuleType:
    """The text views (rich), imported when text is asked for."""
    from alltx.views import render

    return render


data_app = typer.Typer(
    cls=OnceGroup,
    context_settings=HELP,
    rich_markup_mode=None,
    help="The therapies data: check a file, or show where the data in use comes from.",
    epilog=epilog("data"),
    no_args_is_help=True,
)


@data_app.command("check", epilog=epilog("data check"))
def data_check(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A data file to check (therapies, guide or FHIR codes, known by "
            "its tables); the therapies file in use if left out."
        ),
    ] = None,
) -> None:
    """Check a data file in full (a therapies file, a guide file or a FHIR codes file, as
    alltx ships them), and the therapies and guide files in use: exit 0 with a summary, or 1
    listing every problem."""
    from alltx.model.data_files import kind_of, load_catalog, load_guide, load_site_codes

    kind = "therapies file" if file is None else kind_of(file)
    therapies = file if kind == "therapies file" else None
    guide_file = file if kind == "guide file" else settings(ctx).guide
    problems: list[str] = []
    codes = None
    if file is not None and kind == "FHIR codes file":
        try:
            codes = load_site_codes(file)
        except DataError as error:
            problems += error.problems
    try:
        catalog = load_catalog(therapies or settings(ctx).data, check=True, regulator="*")
    except DataError as error:
        problems += error.problems
    try:
        guide = load_guide(guide_file, check=True)
    except DataError as error:
        problems += error.problems
    if problems:
        for problem in problems:
            sys.stderr.write(f"alltx: {visible(problem)}\n")
        sys.stderr.write(f"alltx: {len(problems)} problems; the file was not used\n")
        raise typer.Exit(1) from None
    from alltx.views import render

    render.data_summary(catalog, console(ctx), checked=True)
    sys.stdout.write(
        f"Guide file: {guide.origin}\nValid: {len(guide.side_effects)} side effects, "
        f"{len(guide.scales)} grading scales, {len(guide.terms)} terms, "
        f"{len(guide.questions)} questions, release {guide.info.release}\n"
    )
    if codes is not None:
        sys.stdout.write(
            f"FHIR codes file: {visible(codes.origin)}\nValid: {len(codes.codes)} "
            f"codes, {len(codes.answers)} coded answers\n"
        )


@data_app.command("show", epilog=epilog("data show"))
def data_show(
    ctx: typer.Context,
    output: FormatOption = DocFormat.text,
    regulator: RegulatorOption = None,
) -> None:
    """Where the data in use comes from: its file, release, date, regulator and sources. As
    JSON, also every therapy, indication, criterion, caution and referral reason with its id:
    the texts behind the ids in compact cohort records."""
    from alltx.model.data_files import load_fhir_codes

    catalog = catalog_in_use(ctx, regulator)
    answer = _answers().dictionary_json(catalog, load_fhir_codes())

    def draw(out: Console) -> None:
        _render().data_summary(catalog, out)
        _render().fhir_codes(answer["fhir_codes"], out)

    show(ctx, output is DocFormat.json, lambda: answer, draw)
