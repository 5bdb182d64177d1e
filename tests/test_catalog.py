"""The data file: what ships is complete and sourced; broken files fail in one line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from alltx.model.catalog import Catalog, DataError, UnknownTherapy, parse_catalog
from alltx.model.data_files import bundled_path, load_catalog

GOOD = bundled_path().read_text(encoding="utf-8")
RELEASE = load_catalog().info.release
UPDATED = load_catalog().info.updated.isoformat()


def test_every_statement_names_a_known_source(catalog: Catalog) -> None:
    for therapy in catalog.therapies:
        for where, item in therapy.statements():
            assert item.source, f"{therapy.id}.{where} has no source"
            assert all(s in catalog.sources for s in item.source)


def test_the_data_says_its_date_and_regulator(catalog: Catalog) -> None:
    assert catalog.info.authority.name == "US FDA"
    assert catalog.info.updated.isoformat() == tomllib.loads(GOOD)["data"]["updated"]


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


# old text, new text, what the error must say, and whether a file loaded on the fast path
# (the bundled one, whose types CI checks) still stops on it.
BREAKAGES = [
    ("format = 2", "format = 2\nformat = 3", "not valid TOML", True),
    ('fact = "age_years", at_most = 25', 'fact = "age", at_most = 25', "unknown fact 'age'", True),
    (
        'source = "tecartus-openfda", regulator = "fda" }',
        'source = "nowhere", regulator = "fda" }',
        "unknown source 'nowhere'",
        True,
    ),
    (
        'id = "obecabtagene-autoleucel-eu-r-r-b-all"\nregulator = "ema"',
        'id = "obecabtagene-autoleucel-eu-r-r-b-all"\nregulator = "eu"',
        "unknown regulator 'eu'",
        True,
    ),
    ('[[regulators]]\nid = "ema"', '[[regulators]]\nid = "fda"', "'fda' is declared twice", True),
    ('aliases = ["obe-cel"]', 'aliases = ["tisa-cel"]', "already used by tisagenlecleucel", True),
    ('id = "blinatumomab"', 'id = "tisagenlecleucel"', "already used by tisagenlecleucel", True),
    ("kind = {", "kinds = {", "therapies[0].kind: Field required", True),
    (
        f'release = "{RELEASE}"',
        "release = 5",
        "data.release: Input should be a valid string",
        False,
    ),
    (f'updated = "{UPDATED}"', 'updated = "last week"', "data.updated", True),
    ('brands = ["Kymriah"]', 'brands = ["Kymriah"]\nbrand = "x"', "unknown key", False),
    ("format = 2", "format = 3", "format 3 is not supported", True),
    # TOML has numbers and booleans of its own: a string of one is a mistake, not a value
    ("format = 2", 'format = "2"', "format: Input should be a valid integer", False),
    ("detail = true", 'detail = "yes"', "detail: Input should be a valid boolean", False),
]
CHECKED = [b[:3] for b in BREAKAGES]
FAST_PATH = [b[:3] for b in BREAKAGES if b[3]]


@pytest.mark.parametrize(("old", "new", "problem"), CHECKED, ids=[b[2] for b in CHECKED])
def test_broken_data_fails_in_one_line_with_the_place(old: str, new: str, problem: str) -> None:
    assert old in GOOD
    with pytest.raises(DataError) as caught:
        parse_catalog(GOOD.replace(old, new, 1), "therapies.toml")
    message = str(caught.value)
    assert message.startswith("therapies.toml: ")
    assert problem in message
    assert "\n" not in message


def test_tomli_reads_the_data_files_as_tomllib_does() -> None:
    """alltx parses with tomli (compiled, 2.5 times as fast); the standard tomllib is the
    reference: the same dict from each shipped file, and the same refusal of broken TOML."""
    import tomli

    from alltx.model.catalog import read_toml

    for text in (GOOD, bundled_path("guide.toml").read_text(encoding="utf-8")):
        assert read_toml(text) == tomllib.loads(text)
    for broken in ("a = ", "a = 1\na = 2", "[a]\nb = [1,", 'x = "\\q"', "a = [" * 500):
        with pytest.raises(ValueError) as reference:
            tomllib.loads(broken)
        with pytest.raises(tomli.TOMLDecodeError) as ours:
            read_toml(broken)
        assert str(ours.value).split(" (")[0] == str(reference.value).split(" (")[0]


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such therapies file"):
        load_catalog(tmp_path / "nope.toml")


def test_the_bundled_file_matches_its_schema() -> None:
    """The bundled file loads without the pydantic check at run time; CI holds it to it."""
    from alltx.model.catalog import DATA_TITLE, Data
    from alltx.model.checking import file_problems

    assert file_problems(Data, DATA_TITLE, tomllib.loads(GOOD)) == []


@pytest.mark.parametrize(("old", "new", "problem"), FAST_PATH, ids=[b[2] for b in FAST_PATH])
def test_the_unchecked_path_still_explains_a_broken_file(old: str, new: str, problem: str) -> None:
    with pytest.raises(DataError) as caught:
        parse_catalog(GOOD.replace(old, new, 1), "therapies.toml", checked=True)
    assert problem in str(caught.value) and "\n" not in str(caught.value)


def test_every_source_can_be_found_and_none_is_the_reference() -> None:
    """A clinician reaches each source in one step: it has an address or an identifier (BLA,
    setid, DOI, PMID, seed id), and it is the document itself, never alltx's own reference."""
    from alltx.model.data_files import load_guide

    catalog, guide = load_catalog(check=True), load_guide(check=True)
    for origin, sources in (("therapies", catalog.sources), ("guide", guide.sources)):
        for source in sources.values():
            assert source.findable, f"{origin}: {source.id} has no address and no identifier"
            named = " ".join([source.id, source.short, source.title]).lower()
            assert "reference" not in named and "labels.md" not in named, source.id
            assert (source.publisher or "").lower() != "alltx", source.id


def test_every_source_in_the_therapies_file_is_cited() -> None:
    whole = load_catalog(regulator="*")  # every regulator's indications and statements
    cited = {s for therapy in whole.therapies for s in therapy.source_ids()}
    cited |= {s for referral in whole.referrals for s in referral.source_ids()}
    cited |= {s for r in whole.regulators if r.currency for s in r.currency.source}
    assert set(whole.sources) == cited


def test_each_therapy_has_its_trial_figures_with_their_source(catalog: Catalog) -> None:
    for therapy in catalog.therapies:
        assert therapy.figures, therapy.id
        for figure in therapy.figures:
            assert all(catalog.sources[s].findable for s in figure.source), therapy.id
