"""Each entity of the data files is declared once (alltx.model.declared): the fast build, the
schema check and the JSON Schema all come from its dataclass."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alltx.answer.answers import therapy_json
from alltx.model import declared
from alltx.model.catalog import DATA_TITLE, Data, DataError, Therapy, parse_catalog
from alltx.model.checking import file_problems, model_of
from alltx.model.data_files import bundled_path
from alltx.model.guide import Guide, parse_guide

THERAPIES = bundled_path("therapies.toml").read_text(encoding="utf-8")
GUIDE = bundled_path("guide.toml").read_text(encoding="utf-8")


def _entities(top: type) -> list[type]:
    """Every entity class a file's top entity declares, itself first."""
    found, todo = [], [top]
    while todo:
        entity = todo.pop()
        if entity not in found:
            found.append(entity)
            todo += [s.entity for s in declared.slots(entity) if s.entity is not None]
    return found


@pytest.mark.parametrize("top", [Data, Guide], ids=["therapies", "guide"])
def test_the_schema_check_has_exactly_the_declared_keys(top: type) -> None:
    for entity in _entities(top):
        model = model_of(entity)
        keys = {info.alias or name for name, info in model.model_fields.items()}
        assert keys == {slot.key for slot in declared.slots(entity)}, entity.__name__
        required = {
            info.alias or name for name, info in model.model_fields.items() if info.is_required()
        }
        declared_required = {
            slot.key for slot in declared.slots(entity) if slot.default is dataclasses.MISSING
        }
        assert required == declared_required, entity.__name__


def test_a_new_therapy_field_is_one_declaration() -> None:
    """A field added to the Therapy dataclass is read by the fast build, checked by the schema
    and listed in its JSON Schema, with no other code."""

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Orphan(Therapy):
        orphan: bool = declared.key("an orphan designation", default=False)

    raw = tomllib.loads(THERAPIES)["therapies"][0]
    assert declared.build(Orphan, raw | {"orphan": True}, []).orphan is True  # type: ignore[union-attr]
    assert declared.build(Orphan, raw, []).orphan is False  # type: ignore[union-attr]
    schema = model_of(Orphan).model_json_schema()
    assert schema["properties"]["orphan"] == {
        "default": False,
        "description": "an orphan designation",
        "title": "Orphan",
        "type": "boolean",
    }
    problems = file_problems(Orphan, "Orphan", raw | {"orphan": "yes"})
    assert problems == ["orphan: Input should be a valid boolean"]
    assert file_problems(Orphan, "Orphan", raw | {"orphans": True}) == [
        "orphans: unknown key (check its spelling)"
    ]


@pytest.mark.parametrize("regulator", ["fda", "ema", "*"])
def test_the_fast_build_and_the_checked_build_hold_the_same_data(regulator: str) -> None:
    fast = parse_catalog(THERAPIES, "t", checked=True, regulator=regulator)
    checked = parse_catalog(THERAPIES, "t", checked=False, regulator=regulator)
    assert fast == checked
    for one, other in zip(fast.therapies, checked.therapies, strict=True):
        assert therapy_json(one, fast) == therapy_json(other, checked)
        assert [r.text for r in one.rules()] == [r.text for r in other.rules()]
    assert parse_guide(GUIDE, "g", checked=True) == parse_guide(GUIDE, "g", checked=False)


def test_a_file_entity_keeps_its_place_and_id_in_errors() -> None:
    broken = THERAPIES.replace("at_most = 25", "at_most = -1", 1)
    with pytest.raises(DataError) as caught:
        parse_catalog(broken, "therapies.toml")
    assert str(caught.value).startswith(
        "therapies.toml: therapies[0] (tisagenlecleucel).indications[0] "
        "(tisagenlecleucel-bcp-all-refractory-or-second-relapse).criteria.all[0]: "
    )


def _mutations() -> st.SearchStrategy[tuple[str, Any]]:
    """A key of the file set to a value of another kind, or removed."""
    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 30),
        st.text(max_size=6),
        st.lists(st.text(max_size=4), max_size=2),
        st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    )
    return st.tuples(st.integers(0, 10_000), values)


def _paths(raw: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(raw, dict):
        for name, value in raw.items():
            found += _paths(value, (*at, name))
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            found += _paths(value, (*at, index))
    return found


@pytest.mark.slow
@settings(max_examples=120, deadline=None)
@given(st.lists(_mutations(), min_size=1, max_size=3))
def test_a_file_the_schema_passes_builds_or_is_refused_in_words(changes: list[Any]) -> None:
    """Whatever is changed, a therapies file is either read or refused with its problems in
    alltx's words: never a build that crashes on what the check let through."""
    for text, top, parse in ((THERAPIES, Data, parse_catalog), (GUIDE, Guide, parse_guide)):
        raw = tomllib.loads(text)
        paths = _paths(raw)
        for pick, value in changes:
            *parents, last = paths[pick % len(paths)]
            holder = raw
            try:
                for part in parents:
                    holder = holder[part]
                if value is None and isinstance(holder, dict):
                    holder.pop(last, None)
                elif value is not None:
                    holder[last] = value
            except (KeyError, IndexError, TypeError):
                continue  # an earlier change took the place away
        title = DATA_TITLE if top is Data else "GuideFile"
        passes = file_problems(top, title, raw) == []
        try:
            parse(json.dumps(raw, default=str), "f", parse=json.loads)
        except DataError as error:
            assert "does not match the schema" not in str(error) or not passes
            assert "\n" not in str(error)
