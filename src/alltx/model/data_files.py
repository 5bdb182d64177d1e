"""Finding and reading the data files: the one place the core's data touches the disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alltx.model.catalog import Catalog, DataError, parse_catalog, regulators_named

if TYPE_CHECKING:
    from alltx.model.fhir_codes import FhirCodes
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
            raise DataError(
                f"{path}: the {what} is over {MAX_BYTES // 1024 // 1024} MiB, which "
                "no real data file is; check the path"
            )
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        said = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise DataError(f"{path}: cannot read the {what}: {said}") from None


# The data files alltx ships, each known by the tables only it has (`alltx data check FILE`
# checks a file as what it is: a site's FHIR codes file was checked as a therapies file).
KINDS = {"therapies file": {"therapies", "regulators"}, "guide file": {"side_effects", "terms"},
         "FHIR codes file": {"codes", "answers"}}  # fmt: skip


def kind_of(path: Path) -> str:
    """Which of the data files alltx ships `path` is, by the tables its lines open (`[[codes]]`,
    `[[side_effects]]` ...), read without parsing it (the reader that checks it guards against
    hostile TOML); a therapies file where it cannot tell (its check then says what is wrong)."""
    import re

    try:
        text = _read(path, "data file")
    except DataError:
        return "therapies file"
    tables = set(re.findall(r"^[ \t]*\[\[?[ \t]*([A-Za-z_]+)", text, re.MULTILINE))
    return next((kind for kind, own in KINDS.items() if tables & own), "therapies file")


def load_catalog(
    path: Path | None = None, *, check: bool = False, regulator: str | None = None
) -> Catalog:
    """The bundled file by default, as `regulator` authorises (the file's first by default;
    "*": every regulator at once). Its schema check ran in CI, so it is skipped here unless
    `check`; any other file is always checked in full."""
    bundled = path is None
    path = path or bundled_path()
    text = _read(path, "therapies file")
    return parse_catalog(text, str(path), checked=bundled and not check, regulator=regulator)


def load_catalogs(path: Path | None, regulator: str | None) -> list[Catalog]:
    """The data as each regulator a choice names authorises (--regulator's or the API's: one,
    several with commas, all; model.catalog.regulators_named reads it, raising
    UnknownRegulator), from one reading of the file."""
    whole = load_catalog(path, regulator="*")
    return [whole.under(id) for id in regulators_named(regulator, whole.regulators)]


def load_guide(path: Path | None = None, *, check: bool = False) -> Guide:
    """The guide file; like load_catalog, the bundled one skips its schema check."""
    from alltx.model.guide import parse_guide

    bundled = path is None
    path = path or bundled_path("guide.toml")
    text = _read(path, "guide file")
    return parse_guide(text, str(path), checked=bundled and not check)


def load_fhir_codes(site: Path | None = None) -> FhirCodes:
    """The FHIR codes alltx reads: the bundled file (checked in CI), and a site's own where
    given (--fhir-codes, checked in full), whose codes replace the bundled ones of the same
    system and code."""
    from alltx.model.fhir_codes import parse_codes

    path = bundled_path("fhir_codes.toml")
    codes = parse_codes(_read(path, "FHIR codes file"), str(path), checked=True)
    if site is None:
        return codes
    return codes.with_site(load_site_codes(site))


def load_site_codes(site: Path) -> FhirCodes:
    """A FHIR codes file other than the bundled one, checked in full."""
    from alltx.model.fhir_codes import parse_codes

    return parse_codes(_read(site, "FHIR codes file"), str(site))
