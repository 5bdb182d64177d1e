"""JSON written once and filled in many times.

A template is the JSON text of an answer with named holes: a patient's own value (an age, an MRD)
or a part written apart (an option's indications). It is kept as pieces, so templates built
from the same parts share their text in memory, and filling one in for a patient is a list of
pieces for a single `str.join`, not a scan of the whole text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_HOLE = re.compile(r'"\\u0000(\w+)\\u0000"')

Hole = tuple[int, str]  # a hole's position in the pieces, and its name
Holes = tuple[Hole, ...]
_HOLES: dict[Hole, Hole] = {}  # each (position, name) pair kept once: thousands of templates


def _shared(at: int, name: str) -> Hole:
    return _HOLES.setdefault((at, name), (at, name))


def hole(name: str) -> str:
    """The marker to put in a JSON value where the hole `name` goes (NUL cannot be in data)."""
    return f"\0{name}\0"


@dataclass(frozen=True, slots=True)
class Template:
    pieces: tuple[str, ...]  # the text in order; at each hole's position, its name
    holes: Holes = ()

    @classmethod
    def of(cls, value: object) -> Template:
        """The JSON of `value`, each `hole(name)` string in it left as a hole."""
        cut = _HOLE.split(json.dumps(value, ensure_ascii=False))
        return cls(tuple(cut), tuple(_shared(at, cut[at]) for at in range(1, len(cut), 2)))

    @classmethod
    def joined(cls, parts: Iterable[Template], start: str, sep: str, end: str) -> Template:
        """`start`, the parts separated by `sep`, `end`: a JSON list of templates."""
        pieces, holes = [start], []
        for index, part in enumerate(parts):
            if index:
                pieces.append(sep)
            holes += [_shared(len(pieces) + at, name) for at, name in part.holes]
            pieces += part.pieces
        pieces.append(end)
        return cls(tuple(pieces), tuple(holes))

    def put(self, parts: Mapping[str, Template]) -> Template:
        """The holes named in `parts` replaced by those templates; the others stay holes."""
        pieces: list[str] = []
        holes: list[tuple[int, str]] = []
        done = 0
        for at, name in self.holes:
            pieces += self.pieces[done:at]
            part = parts.get(name)
            if part is None:
                holes.append(_shared(len(pieces), name))
                pieces.append(name)
            else:
                holes += [
                    _shared(len(pieces) + inner, inner_name) for inner, inner_name in part.holes
                ]
                pieces += part.pieces
            done = at + 1
        pieces += self.pieces[done:]
        return Template(tuple(pieces), tuple(holes))

    def around(self, before: str, after: str) -> Template:
        """The same JSON with `before` and `after` added to its first and last pieces."""
        pieces = list(self.pieces)
        pieces[0] = before + pieces[0]
        pieces[-1] += after
        return Template(tuple(pieces), self.holes)

    def write(self, values: Mapping[str, str], out: list[str]) -> None:
        """Append the pieces to `out`, each hole filled with its value (JSON text)."""
        start = len(out)
        out += self.pieces
        for at, name in self.holes:
            out[start + at] = values[name]
