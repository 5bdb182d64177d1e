"""The text view's hanging rows, drawn by hand for speed, lay out as rich's own grid would."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from alltx.views.render import NARROWEST, marked

WORDS = st.sampled_from(
    [
        "CD19",
        "the",
        "leukemia",
        "relapsed,",
        "(CR1)",
        "ó",
        "≥",
        "0.1%",
        "—",
        "",
        "a" * 30,
        "https://www.ema.europa.eu/en/medicines/human/EPAR/kymriah",
        "漢字",
    ]
)  # fmt: skip (no tab: the grid measured a tab as no width, then folded words around it)
TEXTS = st.lists(WORDS, max_size=30).map(" ".join)
SYMBOLS = st.sampled_from(["", "✓", "?", "→", "!", "[12]", "•", "·"])
STYLES = st.sampled_from(["", "dim", "bold red", "underline"])


def _grid(rows: list[tuple[str, Text, int]], indent: int) -> Group:
    """What marked() drew before: each row a two-column grid, padded to its indent."""
    lines = []
    for symbol, text, depth in rows:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(symbol, text)
        lines.append(Padding(grid, (0, 0, 0, indent + 2 * depth), expand=False))
    return Group(*lines)


def _drawn(renderable: object, width: int, color: bool) -> str:
    console = Console(
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
    )
    with console.capture() as captured:
        console.print(renderable)
    # the grid pads each cell's lines with spaces to the column's width: show() strips them
    return "\n".join(line.rstrip(" ") for line in captured.get().splitlines())


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(SYMBOLS, TEXTS, STYLES, st.integers(0, 3)), min_size=1, max_size=4),
    indent=st.integers(0, 13),
    width=st.integers(NARROWEST, 120),  # no console is narrower (render.console)
)
def test_hanging_rows_lay_out_as_the_grid_does(
    rows: list[tuple[str, str, str, int]], indent: int, width: int
) -> None:
    made = [(symbol, Text(text, style=style), depth) for symbol, text, style, depth in rows]
    ours = marked([(symbol, text, depth) for symbol, text, depth in made], indent)
    assert _drawn(ours, width, color=False) == _drawn(_grid(made, indent), width, color=False)


@settings(max_examples=100, deadline=None)
@given(TEXTS, st.sampled_from(["dim", "bold", "underline"]), st.integers(NARROWEST, 120))
def test_hanging_rows_keep_their_styles_in_colour(text: str, style: str, width: int) -> None:
    """In colour the grid also padded each line with styled spaces (an underline ran on to the
    edge); the rows end where the text does, in its style."""
    made = [(Text("?", "yellow"), Text(text, style=style), 0)]
    ours = _drawn(marked(made, 2), width, color=True)
    assert _plain(ours) == _plain(_drawn(_grid(made, 2), width, color=True))
    assert ours.startswith("  \x1b[33m?\x1b[0m")
    code = {"dim": "\x1b[2m", "bold": "\x1b[1m", "underline": "\x1b[4m"}[style]
    for line in ours.splitlines():
        shown = re.sub(r"\x1b\[[0-9;]*m", "", line)
        assert not shown.endswith(" ")
        assert code in line or not shown.strip(" ?")


def _plain(drawn: str) -> str:
    return "\n".join(re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip(" ") for line in drawn.splitlines())
