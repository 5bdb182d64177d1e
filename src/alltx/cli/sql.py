"""alltx sql: the label rules compiled to one SQL query. Thin, like the rest of `alltx.cli`:
parse, ask `alltx.sql`, print. `alltx.cli.app` loads this module only when `sql` is asked for.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from alltx.cli.base import (
    RegulatorOption,
    as_of_day,
    catalog_in_use,
    fail,
    ignore_unknown_option,
)
from alltx.cli.examples import epilog
from alltx.sql import DIALECTS, compile_query

# Its own completion options would show in `alltx sql --help`: the root's install alltx's.
sql_app = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]},
                      rich_markup_mode=None, add_completion=False)  # fmt: skip

# The dialects `alltx sql` writes, as sql.py declares them.
Dialect = StrEnum("Dialect", {name: name for name in DIALECTS})  # type: ignore[misc]
DUCKDB = Dialect("duckdb")


@sql_app.command("sql", epilog=epilog("sql"))
def sql_query(
    ctx: typer.Context,
    regulator: RegulatorOption = None,
    dialect: Annotated[Dialect, typer.Option(help="The engine the query is written for.")] = DUCKDB,
    table: Annotated[
        str,
        typer.Option(
            metavar="NAME_OR_EXPRESSION",
            help="The table of patient facts: a name, or an expression such as "
            "read_parquet('cohort.parquet') or (SELECT ...). Its columns: alltx schema sql.",
        ),
    ] = "patients",
    columns: Annotated[
        str | None,
        typer.Option(
            metavar="LIST",
            help="The table's columns, comma-separated, when it lacks some facts (read as "
            "unknown); by default it has them all, and id (without id, every row's id is NULL). "
            "Name birth_date (and as_of) where the age is given as dates.",
        ),
    ] = None,
    ignore_unknown_fields: Annotated[bool, ignore_unknown_option()] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="The day an age from a birth_date column is taken at, where a row has no "
            "as_of; by default the day the query runs (the engine's CURRENT_DATE).",
        ),
    ] = None,
) -> None:
    """The label rules as one SQL query over a table of patient facts, to run where the data
    lives (DuckDB, SQLite, PostgreSQL, Spark SQL): per row, each therapy's status and the ids
    behind it, the referral advice and an error for a row that cannot be answered, as the
    compact CSV's columns. Compiled from the data file in use (--data)."""
    if not table.strip():
        fail("--table needs a table's name or an expression, like read_parquet('cohort.parquet')")
    given = None
    kind = _file_kind(table)
    if kind is not None:  # a file alltx can see: the query reads the columns it has
        if dialect is not DUCKDB:
            fail(
                f"--table {table} is a file, which the query reads in DuckDB: use --dialect "
                "duckdb, or load it into a table and name its columns with --columns"
            )
        if columns is not None:
            fail("--columns is for a table alltx cannot see; a file's columns are read from it")
        from alltx.batch.duckdb_engine import file_table

        table, given = file_table(table, kind, ignore_unknown_fields)
    elif columns is not None:
        from alltx.io.input_rows import header_names

        named = header_names(columns.split(","), ignore_unknown_fields, "--columns")
        given = {name for name in named if name}
        if "id" not in given:  # allowed (a table may have no id), but never silently
            sys.stderr.write("alltx: note: --columns names no id: every row's id is NULL\n")
    catalog = catalog_in_use(ctx, regulator, "a query answers under one regulator")
    query = compile_query(catalog, DIALECTS[dialect.value], table, given, as_of=as_of_day(as_of))
    sys.stdout.write(query + ";\n")


def _file_kind(table: str) -> str | None:
    """The kind of file --table names (parquet, csv, tsv, jsonl), if it names one."""
    from pathlib import Path

    from alltx.io.input_files import file_kind

    kind = file_kind(table)
    return kind if kind is not None and Path(table).exists() else None
