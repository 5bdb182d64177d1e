"""The parsed data files are memoized on disk by their content (data_files.parsed_toml): the
same value as tomllib gives, a changed file parsed anew, and never an error of its own."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from alltx import data_files
from alltx.data_files import bundled_path, parsed_toml


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ALLTX_NO_CACHE", raising=False)
    return tmp_path / "alltx"


def test_the_cached_value_is_tomllibs_and_is_read_back(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = bundled_path().read_text(encoding="utf-8")
    assert parsed_toml(text) == tomllib.loads(text)
    assert len(list(cache.glob("*.json"))) == 1

    def unused(text: str) -> object:
        raise AssertionError("parsed again")

    monkeypatch.setattr(data_files.tomllib, "loads", unused)
    assert parsed_toml(text)["regulators"][1]["id"] == "ema"  # from the cache


def test_a_changed_file_is_parsed_anew_and_a_spoiled_cache_is_ignored(cache: Path) -> None:
    assert parsed_toml("a = 1\nb = 0.1\n") == {"a": 1, "b": 0.1}
    assert parsed_toml("a = 2\n") == {"a": 2}
    for entry in cache.glob("*.json"):
        entry.write_text("[not json", encoding="utf-8")
    assert parsed_toml("a = 1\nb = 0.1\n") == {"a": 1, "b": 0.1}
    with pytest.raises(tomllib.TOMLDecodeError):
        parsed_toml("a = = 1")  # a broken file still fails as tomllib says


def test_what_json_cannot_hold_and_a_folder_that_cannot_be_written_cost_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert str(parsed_toml("day = 2026-11-24\n")["day"]) == "2026-11-24"  # a date: not cached
    assert list(cache.glob("*.json")) == []
    cache.rmdir()
    cache.write_text("a file where the folder would be")
    assert parsed_toml("a = 3\n") == {"a": 3}
    monkeypatch.setenv("ALLTX_NO_CACHE", "1")
    assert parsed_toml("a = 4\n") == {"a": 4}
