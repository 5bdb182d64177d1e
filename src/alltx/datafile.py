"""Finding and reading the data files: the one place the core's data touches the disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alltx.catalog import Catalog, DataError, parse_catalog

if TYPE_CHECKING:
    from alltx.guide import Guide


def bundled_path(name: str = "therapies.toml") -> Path:
    """A data file that ships with alltx: inside an installed wheel, or in a source checkout."""
    packaged = Path(__file__).parent / "data" / name
    return packaged if packaged.is_file() else Path(__file__).parents[2] / "data" / name


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such {what}; check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the {what}: {error}") from None


def load_catalog(path: Path | None = None, *, check: bool = False) -> Catalog:
    """The bundled file by default. Its schema check ran in CI, so it is skipped here unless
    `check`; any other file is always checked in full."""
    bundled = path is None
    path = path or bundled_path()
    text = _read(path, "therapies file")
    return parse_catalog(text, str(path), checked=bundled and not check)


def load_guide(path: Path | None = None, *, check: bool = False) -> Guide:
    """The guide file; like load_catalog, the bundled one skips its schema check."""
    from alltx.guide import parse_guide

    bundled = path is None
    path = path or bundled_path("guide.toml")
    return parse_guide(_read(path, "guide file"), str(path), checked=bundled and not check)
