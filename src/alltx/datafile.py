"""Finding and reading the therapies file: the one place the core's data touches the disk."""

from __future__ import annotations

from pathlib import Path

from alltx.catalog import Catalog, DataError, parse_catalog

_PACKAGED = Path(__file__).parent / "data" / "therapies.toml"  # inside an installed wheel
_CHECKOUT = Path(__file__).parents[2] / "data" / "therapies.toml"  # in a source checkout


def bundled_path() -> Path:
    """The therapies file that ships with alltx."""
    return _PACKAGED if _PACKAGED.is_file() else _CHECKOUT


def load_catalog(path: Path | None = None, *, check: bool = False) -> Catalog:
    """The bundled file by default. Its schema check ran in CI, so it is skipped here unless
    `check`; any other file is always checked in full."""
    bundled = path is None
    path = path or bundled_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such therapies file; check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the therapies file: {error}") from None
    return parse_catalog(text, str(path), checked=bundled and not check)
