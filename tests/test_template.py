"""Templates: JSON written once, holes filled per patient, parts put in without copying."""

from __future__ import annotations

import json

from alltx.template import Template, hole


def filled(template: Template, values: dict[str, str]) -> object:
    out: list[str] = []
    template.write(values, out)
    return json.loads("".join(out))


def test_holes_are_filled_with_json_and_the_rest_is_the_json_of_the_value() -> None:
    template = Template.of({"age": hole("age"), "text": 'say "hi" \\ 100%', "mrd": hole("mrd")})
    assert [name for _, name in template.holes] == ["age", "mrd"]
    assert filled(template, {"age": "19", "mrd": "null"}) == {
        "age": 19,
        "text": 'say "hi" \\ 100%',
        "mrd": None,
    }
    assert filled(template, {"age": "0.5", "mrd": "0.1"})["age"] == 0.5  # type: ignore[index]


def test_parts_are_put_into_holes_and_keep_their_own_holes() -> None:
    frame = Template.of({"status": "possible", "indications": hole("indications"), "n": 1})
    part = Template.of({"value": hole("age")})
    listed = Template.joined([part, Template.of({"value": 2}), part], "[", ", ", "]")
    whole = frame.put({"indications": listed}).around("[", "]")
    assert filled(whole, {"age": "7"}) == [
        {"status": "possible", "indications": [{"value": 7}, {"value": 2}, {"value": 7}], "n": 1}
    ]
    shared = {id(piece) for piece in whole.pieces}
    assert all(id(piece) in shared for piece in part.pieces)  # the part's text is not copied
    assert filled(Template.joined([], "[", ", ", "]"), {}) == []
