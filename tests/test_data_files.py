"""The bundled data files are read from their parsed copies only where a copy was made from
the file's very text (alltx.model.data_files): an edited file is never answered from a stale
copy, and the committed copies are current."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest

from alltx.answer.answers import therapy_json
from alltx.model import data_files
from alltx.model.data_files import bundled_path, parsed_copy, parsed_copy_path

NAMES = ["therapies.toml", "guide.toml"]


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_copy_is_the_files_parse(name: str) -> None:
    path = bundled_path(name)
    text = path.read_text(encoding="utf-8")
    copy = json.loads(parsed_copy_path(path).read_text(encoding="utf-8"))
    assert copy == parsed_copy(text), "run: .venv/bin/python scripts/refresh-data.py"
    # the same values as TOML's own parse, but for dates, which the copy holds as ISO strings
    assert copy["parsed"] == json.loads(json.dumps(tomllib.loads(text), default=str))


@pytest.fixture
def bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled folder that the tests may edit, standing in for the real one."""
    folder = tmp_path / "data"
    shutil.copytree(bundled_path().parent, folder)
    monkeypatch.setattr(data_files, "bundled_path", lambda name="therapies.toml": folder / name)
    return folder


def _summary(catalog: data_files.Catalog) -> list[object]:
    return [therapy_json(t, catalog) for t in catalog.therapies]


def test_the_copy_gives_the_same_data_as_the_file(bundled: Path) -> None:
    from_copy = data_files.load_catalog()
    (bundled / "therapies.toml.json").unlink()
    from_file = data_files.load_catalog()
    assert _summary(from_copy) == _summary(from_file) and from_copy.info == from_file.info
    assert data_files.load_guide() is not None


def test_an_edited_file_is_read_from_itself_not_from_its_stale_copy(bundled: Path) -> None:
    path = bundled / "therapies.toml"
    text = path.read_text(encoding="utf-8")
    assert 'name = "tisagenlecleucel"' in text
    path.write_text(text.replace('name = "tisagenlecleucel"', 'name = "edited"', 1), "utf-8")
    assert data_files.load_catalog().therapies[0].name == "edited"


@pytest.mark.parametrize("damage", ["", "{", '{"made_from_sha256": 1}', "[]", '{"parsed": {}}'])
def test_a_damaged_copy_is_ignored(bundled: Path, damage: str) -> None:
    (bundled / "therapies.toml.json").write_text(damage, encoding="utf-8")
    assert data_files.load_catalog().therapies[0].name == "tisagenlecleucel"


def test_a_copy_made_from_another_text_is_not_used(bundled: Path) -> None:
    copy_path = bundled / "therapies.toml.json"
    copy = json.loads(copy_path.read_text(encoding="utf-8"))
    copy["parsed"]["therapies"][0]["name"] = "From a copy that was not made from this file"
    copy["made_from_sha256"] = "0" * 64
    copy_path.write_text(json.dumps(copy), encoding="utf-8")
    assert data_files.load_catalog().therapies[0].name == "tisagenlecleucel"
