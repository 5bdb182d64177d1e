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

from alltx.catalog import Catalog, DataError

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


def catalog_in_use() -> Catalog:
    from alltx.datafile import load_catalog

    try:
        return load_catalog(IN_USE.data)
    except DataError as error:
        fail(str(error), 1)


def guide_in_use() -> Guide:
    from alltx.datafile import load_guide

    try:
        return load_guide(IN_USE.guide)
    except DataError as error:
        fail(str(error), 1)


def write_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
