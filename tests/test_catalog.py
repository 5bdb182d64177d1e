"""The data file: what ships is complete and sourced; broken files fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from alltx.catalog import Catalog, DataError, UnknownTherapy, parse_catalog
from alltx.datafile import bundled_path, load_catalog

GOOD = bundled_path().read_text(encoding="utf-8")


def test_every_statement_names_a_known_source(catalog: Catalog) -> None:
    for therapy in catalog.therapies:
        for where, item in therapy.statements():
            assert item.source, f"{therapy.id}.{where} has no source"
            assert all(s in catalog.sources for s in item.source)


def test_the_data_says_its_date_and_regulator(catalog: Catalog) -> None:
    assert catalog.info.regulator == "US FDA"
    assert catalog.info.updated.isoformat() == "2026-11-23"


@pytest.mark.parametrize(
    ("name", "therapy"),
    [
        ("Kymriah", "tisagenlecleucel"),
        ("tisa-cel", "tisagenlecleucel"),
        ("KYMRIAH", "tisagenlecleucel"),
        ("brexucabtagene autoleucel", "brexucabtagene-autoleucel"),
        ("Tecartus", "brexucabtagene-autoleucel"),
        ("obe-cel", "obecabtagene-autoleucel"),
        ("Blincyto", "blinatumomab"),
        ("blina", "blinatumomab"),
        ("inotuzumab_ozogamicin", "inotuzumab-ozogamicin"),
        ("Besponsa", "inotuzumab-ozogamicin"),
    ],
)
def test_names_resolve(catalog: Catalog, name: str, therapy: str) -> None:
    assert catalog.therapy(name).id == therapy


def test_unknown_name_suggests(catalog: Catalog) -> None:
    with pytest.raises(UnknownTherapy, match="did you mean blinatumomab"):
        catalog.therapy("blinatumumab")
    with pytest.raises(UnknownTherapy, match="known therapies: tisagenlecleucel"):
        catalog.therapy("aspirin")


BREAKAGES = [
    ("format = 1", "format = 1\nformat = 2", "not valid TOML"),
    ('fact = "age_years", at_most = 25', 'fact = "age", at_most = 25', "unknown fact 'age'"),
    ('source = "alltx-label-reference" }', 'source = "nowhere" }', "unknown source 'nowhere'"),
    ('aliases = ["obe-cel"]', 'aliases = ["tisa-cel"]', "already used by tisagenlecleucel"),
    ('id = "blinatumomab"', 'id = "tisagenlecleucel"', "already used by tisagenlecleucel"),
    ('release = "2026.11.1"', "release = 5", "data.release: Input should be a valid string"),
    ('updated = "2026-11-23"', 'updated = "last week"', "data.updated"),
    ('brands = ["Kymriah"]', 'brands = ["Kymriah"]\nbrand = "x"', "unknown key"),
    ("format = 1", "format = 2", "format 2 is not supported"),
]


@pytest.mark.parametrize(("old", "new", "problem"), BREAKAGES, ids=[b[2] for b in BREAKAGES])
def test_broken_data_fails_in_one_line_with_the_place(old: str, new: str, problem: str) -> None:
    assert old in GOOD
    with pytest.raises(DataError) as caught:
        parse_catalog(GOOD.replace(old, new, 1), "therapies.toml")
    message = str(caught.value)
    assert message.startswith("therapies.toml: ")
    assert problem in message
    assert "\n" not in message


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such therapies file"):
        load_catalog(tmp_path / "nope.toml")
