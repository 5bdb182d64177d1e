"""What every command uses: the data files in use (--data, --guide), failing in one line,
writing JSON, and the --format option of the documents. `alltx.cli` and `alltx.cli_guide`
both build on it, so neither imports the other's internals."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from alltx.catalog import Catalog

if TYPE_CHECKING:
    from alltx.guide import Guide

OUTPUT_PANEL = "Output"


class DocFormat(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[
    DocFormat,
    typer.Option(
        "--format", "-f", help="text for people, json for scripts.", rich_help_panel=OUTPUT_PANEL
    ),
]


@dataclass
class Files:
    """The data files the commands answer from; None is the bundled one. Set once per run, by
    the root options (--data / ALLTX_DATA, --guide / ALLTX_GUIDE)."""

    data: Path | None = None
    guide: Path | None = None


IN_USE = Files()


def fail(message: str, code: int = 2) -> NoReturn:
    sys.stderr.write(f"alltx: error: {message}\n")
    sys.exit(code)


def exit_status(error: BaseException) -> int | None:
    """The exit status of an error alltx expects, whose message is its one line; None for any
    other (a bug, to be seen whole). The one map from the core's errors to exit statuses: 1
    when alltx's side is at fault (a broken data file, a worker that died), 2 for what the user
    gave (an unknown name, an unreadable input, findings that cannot be graded). Imported
    here, on the way out: a run that fails pays for them, no other."""
    from alltx.catalog import DataError, UnknownName
    from alltx.duckdb_engine import EngineError
    from alltx.grading import GradingError
    from alltx.input_rows import InputError
    from alltx.jobs import JobsError

    statuses: dict[type[BaseException], int] = {
        DataError: 1,
        JobsError: 1,
        InputError: 2,
        EngineError: 2,
        UnknownName: 2,
        GradingError: 2,
    }
    return next((status for kind, status in statuses.items() if isinstance(error, kind)), None)


def catalog_in_use() -> Catalog:
    from alltx.data_files import load_catalog

    return load_catalog(IN_USE.data)


def guide_in_use() -> Guide:
    from alltx.data_files import load_guide

    return load_guide(IN_USE.guide)


def write_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
