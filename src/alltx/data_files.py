"""Finding and reading the data files: the one place the core's data touches the disk."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alltx.catalog import Catalog, DataError, parse_catalog

if TYPE_CHECKING:
    from alltx.guide import Guide


def bundled_path(name: str = "therapies.toml") -> Path:
    """A data file that ships with alltx: inside an installed wheel, or in a source checkout."""
    packaged = Path(__file__).parent / "data" / name
    return packaged if packaged.is_file() else Path(__file__).parents[2] / "data" / name


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
        raise DataError(f"{path}: cannot read the {what}: {error}") from None


def load_catalog(
    path: Path | None = None, *, check: bool = False, regulator: str | None = None
) -> Catalog:
    """The bundled file by default, as `regulator` authorises (the file's first by default;
    "*": every regulator at once). Its schema check ran in CI, so it is skipped here unless
    `check`; any other file is always checked in full."""
    bundled = path is None
    path = path or bundled_path()
    text = _read(path, "therapies file")
    return parse_catalog(text, str(path), checked=bundled and not check, regulator=regulator,
                         parse=parsed_toml)  # fmt: skip


def load_guide(path: Path | None = None, *, check: bool = False) -> Guide:
    """The guide file; like load_catalog, the bundled one skips its schema check."""
    from alltx.guide import parse_guide

    bundled = path is None
    path = path or bundled_path("guide.toml")
    text = _read(path, "guide file")
    return parse_guide(text, str(path), checked=bundled and not check, parse=parsed_toml)


def parsed_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads(text)`, memoized on disk by the text's SHA-256: tomllib is pure Python,
    and parsing the therapies file was a third of a run's own time (about 12 ms), where the
    same value as JSON reads in about 1 ms. Keyed by content, so an edited file is parsed
    anew, and whatever else the file's checks do runs as before on the value. Best effort: a
    cache folder that cannot be read or written costs only the time saved (ALLTX_NO_CACHE=1
    turns it off)."""
    folder = _cache_folder()
    if folder is None:
        return tomllib.loads(text)
    cached = folder / (hashlib.sha256(text.encode("utf-8")).hexdigest() + ".json")
    try:
        value = json.loads(cached.read_bytes())
        if isinstance(value, dict):
            return value
    except (OSError, ValueError):
        pass
    value = tomllib.loads(text)  # a broken file raises here, as without the cache
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(value), encoding="utf-8")
        os.replace(partial, cached)  # whole or not at all: a reader never sees half of one
    except (OSError, TypeError, ValueError):  # TypeError: a TOML date, which JSON cannot hold
        pass
    return value


def _cache_folder() -> Path | None:
    """$XDG_CACHE_HOME/alltx, else ~/.cache/alltx; None when off or there is no home."""
    if os.environ.get("ALLTX_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.environ.get("HOME")
        if not home:
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "alltx"
