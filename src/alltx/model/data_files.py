"""Finding and reading the data files: the one place the core's data touches the disk."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alltx.model.catalog import Catalog, DataError, parse_catalog, read_toml

if TYPE_CHECKING:
    from alltx.model.guide import Guide


def bundled_path(name: str = "therapies.toml") -> Path:
    """A data file that ships with alltx: inside an installed wheel, or in a source checkout."""
    package = Path(__file__).parents[1]  # alltx/, where the wheel puts data/
    packaged = package / "data" / name
    return packaged if packaged.is_file() else package.parents[1] / "data" / name


# Far above any real data file (the bundled ones are under 100 KB); /dev/zero is not one.
MAX_BYTES = 4 * 1024 * 1024


def _read(path: Path, what: str) -> str:
    """A data file's text; only a regular file (a FIFO would block, /dev/zero never end), and
    only up to MAX_BYTES."""
    try:
        if not path.is_file():
            if not path.exists():
                raise DataError(f"{path}: no such {what}; check the path")
            raise DataError(f"{path}: the {what} must be a regular file")
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise DataError(f"{path}: the {what} is over {MAX_BYTES // 1024 // 1024} MiB, which "
                            "no real data file is; check the path")  # fmt: skip
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        said = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise DataError(f"{path}: cannot read the {what}: {said}") from None


def parsed_copy_path(path: Path) -> Path:
    """Where a bundled data file's parsed copy lies: beside it, `therapies.toml.json`."""
    return path.with_name(path.name + ".json")


def parsed_copy(text: str) -> dict[str, Any]:
    """A data file's parse as JSON holds it (TOML's dates as ISO strings, which the builders
    read too), with the SHA-256 of the text it was made from. `scripts/refresh-data.py` writes
    one beside each bundled file; a test holds the committed ones to their files."""
    parsed = json.loads(json.dumps(read_toml(text), default=str))
    return {"made_from_sha256": _digest(text), "parsed": parsed}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bundled_parse(path: Path) -> Any:
    """How a bundled file's text is parsed: from its parsed copy where the copy was made from
    this very text (json reads it in half a millisecond; tomllib took 10 to 15 ms of a run's
    120 ms start, and its import 2 more), else by tomllib. The copy is used only when the
    SHA-256 of the text it was made from is the text's own, so an edited file is never
    answered from a stale copy."""

    def parse(text: str) -> dict[str, Any]:
        try:
            copy = json.loads(parsed_copy_path(path).read_bytes())
            if copy["made_from_sha256"] == _digest(text):
                return dict(copy["parsed"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no copy, or not one alltx wrote: parse the text itself
        return read_toml(text)

    return parse


def load_catalog(
    path: Path | None = None, *, check: bool = False, regulator: str | None = None
) -> Catalog:
    """The bundled file by default, as `regulator` authorises (the file's first by default;
    "*": every regulator at once). Its schema check ran in CI, so it is skipped here unless
    `check`; any other file is always checked in full."""
    bundled = path is None
    path = path or bundled_path()
    text = _read(path, "therapies file")
    parse = _bundled_parse(path) if bundled else read_toml
    return parse_catalog(text, str(path), checked=bundled and not check, regulator=regulator,
                         parse=parse)  # fmt: skip


def load_guide(path: Path | None = None, *, check: bool = False) -> Guide:
    """The guide file; like load_catalog, the bundled one skips its schema check."""
    from alltx.model.guide import parse_guide

    bundled = path is None
    path = path or bundled_path("guide.toml")
    text = _read(path, "guide file")
    parse = _bundled_parse(path) if bundled else read_toml
    return parse_guide(text, str(path), checked=bundled and not check, parse=parse)
