"""`alltx ask`: the guided way in, for people who don't know the flags. Questions in plain
words on a terminal (`alltx.assessment.ask` chooses them), then the answer `alltx options` gives."""

from __future__ import annotations

import sys
from typing import Annotated, TextIO, cast

import typer

from alltx.cli.base import EXIT_OUTPUT, RegulatorOption, catalog_in_use, console, fail
from alltx.cli.options import answer_of
from alltx.core.facts import facts_from


def ask(
    ctx: typer.Context,
    regulator: RegulatorOption = None,
    save: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Keep the answers in FILE, as one patient's JSON Lines row: alltx options -i "
            "FILE reads it back, in any format (--format html: the page to print).",
        ),
    ] = None,
) -> None:
    """Questions in plain words, one at a time, then the answer: for people who don't know the
    flags. Each question is the one that would decide the most answers still open."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail(
            "alltx ask asks its questions on a terminal; in a script or a pipe, give the "
            "facts as flags: alltx options --age 19 --relapsed"
        )
    from rich.prompt import Prompt

    from alltx.assessment import ask as questionnaire
    from alltx.views import render

    catalog, out = catalog_in_use(ctx, regulator), console(ctx)
    out.print(
        "alltx asks about the patient, one question at a time. Answer in your own "
        "words; ? skips a question you can't answer, done shows the answer now, Ctrl-C "
        "stops.\n"
    )

    def prompt(question: str) -> str:
        return Prompt.ask(
            question,
            console=out,
            default="?",
            show_default=False,
            stream=cast("TextIO", _TypedLines()),
        )  # rich reads its readline()

    try:
        given = questionnaire.interview(catalog, prompt, out.print)
    except KeyboardInterrupt:  # Ctrl-C while asked: on a line of its own, in the asking's words
        sys.stderr.write("\n")
        fail("stopped; nothing was answered or kept (alltx ask starts again)", 130)
    facts = facts_from(given)
    out.print()
    render.options(answer_of(facts, catalog), facts, catalog, out)
    # on one line however long, so that it can be copied
    again = questionnaire.command_line(given)
    if regulator is not None:
        again += f" --regulator {catalog.info.authority.id}"
    out.print(f"\nThe same answer again: {again}", soft_wrap=True)
    if save is not None:
        _keep(save, given)
        out.print(
            f"Kept in {save}; the page to print: alltx options -i {save} --format html > page.html",
            soft_wrap=True,
            markup=False,
        )


class _TypedLines:
    """The lines typed at the terminal, for `ask`. Not input(): a Ctrl-C that lands after
    CPython's last check for signals and before input() blocks in read() is lost until Enter
    (the signal is only noted, and read() is not interrupted), which left `alltx ask` waiting
    in 4 of 40 tries under load. select() wakes every 0.2 s, so the signal is acted on; the
    terminal's own line editing gives one whole line per read()."""

    def readline(self) -> str:
        import os
        import select

        fd = sys.stdin.fileno()
        while not select.select([fd], [], [], 0.2)[0]:
            pass
        typed = os.read(fd, 65536)
        if not typed:
            raise EOFError  # Ctrl-D
        # as input() gives it: without its line end
        return typed.decode(sys.stdin.encoding or "utf-8", "replace").rstrip("\r\n")


def _keep(path: str, given: dict[str, object]) -> None:
    """One patient's facts as a JSON Lines row of their own (the cohort's row format)."""
    import json

    try:
        with open(path, "w", encoding="utf-8") as file:
            file.write(json.dumps(given, ensure_ascii=False) + "\n")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}", EXIT_OUTPUT)
