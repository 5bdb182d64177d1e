"""What every command uses: the run's settings (typer's context object), failing in one line,
the exit statuses, writing JSON, and the formats. Every module of `alltx.cli` builds on it, so
none imports another's internals."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from alltx.model.catalog import Catalog

if TYPE_CHECKING:
    from rich.console import Console

    from alltx.model.guide import Guide

OUTPUT_PANEL = "Output"
HELP = {"help_option_names": ["-h", "--help"]}  # -h works as --help, as people expect


class Format(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    html = "html"
    parquet = "parquet"

    @classmethod
    def of_file(cls, path: str) -> Format | None:
        """The format a file's name asks for (answers.csv: csv), None where it names none."""
        return _SUFFIXES.get(Path(path).suffix.lower())


_SUFFIXES = {".txt": Format.text, ".json": Format.json, ".jsonl": Format.jsonl,
             ".ndjson": Format.jsonl, ".csv": Format.csv, ".html": Format.html,
             ".htm": Format.html, ".parquet": Format.parquet}  # fmt: skip


class InputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"


class Engine(StrEnum):
    python = "python"
    duckdb = "duckdb"


class DocFormat(StrEnum):
    text = "text"
    json = "json"


def _regulator(several: bool) -> Any:
    said = (
        "one the data lists (alltx data show), several with commas (side by side, what "
        "differs first), or all"
        if several
        else "one the data lists (alltx data show)"
    )
    return typer.Option(
        "--regulator",
        envvar="ALLTX_REGULATOR",
        rich_help_panel=OUTPUT_PANEL,
        help=f"Whose authorisations to answer from: {said}; the data's first by default.",
    )


# Regulators are the data's (model.catalog.regulators_named reads the choice): no id here.
RegulatorOption = Annotated[str | None, _regulator(several=False)]
RegulatorsOption = Annotated[str | None, _regulator(several=True)]


def ignore_unknown_option(panel: str | None = None) -> Any:
    """--ignore-unknown-fields, as every command that reads a table's columns takes it."""
    said = "Skip fields alltx does not know, instead of refusing them."
    return typer.Option("--ignore-unknown-fields", help=said, rich_help_panel=panel)


FormatOption = Annotated[
    DocFormat,
    typer.Option(
        "--format", "-f", help="text for people, json for scripts.", rich_help_panel=OUTPUT_PANEL
    ),
]


@dataclass(frozen=True)
class Settings:
    """The root options of a run (--data / ALLTX_DATA, --guide / ALLTX_GUIDE, --no-pager):
    typer's context object, made by the root callback; each command reads it from its context.
    A file None is the bundled one."""

    data: Path | None = None
    guide: Path | None = None
    paging: bool = True


def settings(ctx: typer.Context) -> Settings:
    """The run's settings (the defaults where a command runs without the root, as in a test
    of one command)."""
    found = ctx.find_object(Settings)
    return Settings() if found is None else found


# Exit statuses (docs/cohorts.md, "For scripts"): 0 an answer; 1 a row could not be answered, or the
# data file is broken; 2 bad usage or bad facts; 74 the output could not be written; 128 + the
# signal when stopped by one (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), as a shell reports a
# program it killed; 141 the reader closed the pipe (128 + SIGPIPE).
EXIT_CLOSED_PIPE = 141
EXIT_OUTPUT = 74  # the output could not be written (sysexits' EX_IOERR): a full disk, no stdout


class Stopped(BaseException):
    """SIGTERM or SIGHUP, which stop alltx as Ctrl-C (SIGINT, KeyboardInterrupt) does: what
    was written is whole lines, then one line, and 128 + the signal. Not a KeyboardInterrupt:
    typer turns one of those raised outside a command (while it parses) into a silent exit
    130, which a SIGTERM is not."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOPPING = ("SIGTERM", "SIGHUP")  # the signals that raise Stopped; SIGINT raises its own


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP raise Stopped where they land, as SIGINT raises KeyboardInterrupt,
    so that a run they end finishes its line and says so (killed outright, a cohort's
    output could end halfway through a record, and its workers live on)."""
    import signal

    def stop(signum: int, frame: object) -> None:
        interrupt(signum)

    try:
        for name in STOPPING:
            signal.signal(getattr(signal, name), stop)
        # Ctrl-C raises KeyboardInterrupt again (alltx.cli left it to the system while the
        # modules loaded)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread (alltx run from a thread): the signals are its
        pass


def interrupt(signum: int) -> NoReturn:
    """A signal that stops alltx as the exception it ends on: Ctrl-C as KeyboardInterrupt,
    SIGTERM and SIGHUP as Stopped."""
    import signal

    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


def stopped(
    error: BaseException | None, output: str = "the records written before are complete lines"
) -> NoReturn:
    """The one line for a run a signal ended (interrupted, stopped by SIGTERM), with what it
    left of the `output`, and its exit status (128 + the signal)."""
    import signal

    signum = getattr(error, "signum", signal.SIGINT)  # Ctrl-C
    said = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    fail(f"{said}; {output}", 128 + signum)


def fail(message: str, code: int = 2) -> NoReturn:
    """The one error line: outside text in it (a path, a field name, a value) shown escaped,
    and a quoted value too long to read shortened, as a refused cell is (facts.refusal): an
    environment variable of 100,000 characters is not printed back whole."""
    from alltx.core.plain import one_line

    sys.stderr.write(f"alltx: error: {one_line(_shortened(message))}\n")
    raise Failed(code)


class Failed(SystemExit):
    """The exit of a run that failed in one line (fail): whatever its status, its output is
    not a whole one (a deceased Patient's status is 1, as a refused row's)."""


LONGEST_WORD = 200  # characters without a space (a path) shown whole in an error line


def _shortened(message: str) -> str:
    """A quoted value over twice SHOWN_CHARACTERS cut to its first SHOWN_CHARACTERS, and any
    other run without a space over LONGEST_WORD to its start and end (a path is known by both)."""
    from alltx.core.facts import SHOWN_CHARACTERS as SHOWN

    def cut(quoted: re.Match[str]) -> str:
        return f"'{quoted.group(1)[:SHOWN]}...'"

    def ends(word: re.Match[str]) -> str:
        text = word.group(0)
        return f"{text[: LONGEST_WORD // 2]}...{text[-LONGEST_WORD // 4 :]}"

    message = re.sub(f"'([^'\n]{{{2 * SHOWN + 1},}})'", cut, message)
    return re.sub(f"\\S{{{LONGEST_WORD + 1},}}", ends, message)


def exit_status(error: BaseException) -> int | None:
    """The exit status of an error alltx expects, whose message is its one line; None for any
    other (a bug, to be seen whole). The one map from the core's errors to exit statuses: 1
    when alltx's side is at fault (a broken data file, a worker that died), 2 for what the user
    gave (an unknown name, an unreadable input, findings that cannot be graded). Imported
    here, on the way out: a run that fails pays for them, no other."""
    from alltx.assessment.grading import GradingError
    from alltx.batch.duckdb_engine import EngineError
    from alltx.batch.jobs import JobsError
    from alltx.io.fhir import FhirError
    from alltx.io.input_rows import InputError
    from alltx.model.catalog import DataError, UnknownName

    statuses: dict[type[BaseException], int] = {
        DataError: 1,
        JobsError: 1,
        InputError: 2,
        EngineError: 2,
        UnknownName: 2,
        GradingError: 2,
        FhirError: 2,
    }
    return next((status for kind, status in statuses.items() if isinstance(error, kind)), None)


def catalog_in_use(ctx: typer.Context, regulator: str | None = None, one: str = "") -> Catalog:
    """The therapies data in use (--data), as the regulator chosen authorises (the data's
    first where none is); `one` says why this command takes only one, where it is asked for
    several."""
    catalogs = catalogs_in_use(ctx, regulator)
    if len(catalogs) > 1:
        fail(
            f"--regulator {regulator}: {one or 'this command answers under one regulator'}; "
            f"give one ({', '.join(c.info.authority.id for c in catalogs)})"
        )
    return catalogs[0]


def catalogs_in_use(ctx: typer.Context, regulator: str | None) -> list[Catalog]:
    """The data as each regulator chosen authorises (--regulator: one, several, all)."""
    from alltx.model.catalog import UnknownRegulator
    from alltx.model.data_files import load_catalogs

    try:
        return load_catalogs(settings(ctx).data, regulator)
    except UnknownRegulator as unknown:
        fail(f"--regulator: {unknown}")


def guide_in_use(ctx: typer.Context) -> Guide:
    from alltx.model.data_files import load_guide

    return load_guide(settings(ctx).guide)


def console(ctx: typer.Context) -> Console:
    """The console answers are printed on: through the pager when long, unless --no-pager."""
    from alltx.views import render

    return render.console(paging=settings(ctx).paging)


def write_json(value: object) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def show(
    ctx: typer.Context,
    as_json: bool,
    answer: Callable[[], object],
    draw: Callable[[Console], object],
) -> None:
    """The one place a command writes its answer: the value `answer` makes, as JSON, or what
    `draw` draws on the console (through the pager when long). Each is called only for its own
    format, so a JSON answer imports no view (and never rich)."""
    if as_json:
        write_json(answer())
    else:
        draw(console(ctx))


def stop_writing(status: int) -> NoReturn:
    """Exit with nothing more written to stdout: it is pointed at /dev/null first, so the
    interpreter's final flush of what is still buffered cannot fail (and print a traceback)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(status)


def output_failed(error: OSError) -> NoReturn:
    """Writing the answer failed (a full disk): say so in one line."""
    sys.stderr.write(
        f"alltx: error: cannot write the output: {error.strerror}; check the disk "
        "or where the output goes\n"
    )
    stop_writing(EXIT_OUTPUT)


SWITCH_WORDS = {"yes", "no", "true", "false", "y", "n", "1", "0", "on", "off"}


class OnceGroup(TyperGroup):
    """A group whose commands take each option once: a flag given twice (`--age 200 --age
    19`, `--relapsed --not-relapsed`) is refused, where click would silently take the last,
    and a fact silently replaced is a wrong answer. A switch given a value (`--relapsed yes`)
    is told how switches are written. Checked where click hands a command its words."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # A group given no command (`alltx grade`): its help on stderr, status 2, as click's
        # no_args_is_help does, but said here rather than caught by the error's class name.
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            sys.stderr.write(ctx.get_help() + "\n")
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not ctx.resilient_parsing:  # (not while completing)
            refuse_repeated(command.get_params(ctx), rest, f"{ctx.command_path} {name}")
        return name, command, rest


def refuse_repeated(options: list[Any], words: list[str], path: str) -> None:
    """Refuse one of a command's `options` (its get_params, those made from the data too)
    given twice among its `words`, or a switch given a value."""
    params: dict[str, str] = {}
    switches: dict[str, tuple[str, str]] = {}  # either flag of a switch -> (on, off)
    for param in options:
        for flag in (*param.opts, *param.secondary_opts):
            params[flag] = param.name
        if getattr(param, "is_flag", False) and param.secondary_opts:
            pair = (param.opts[0], param.secondary_opts[0])
            switches.update(dict.fromkeys(pair, pair))
    seen: dict[str, str] = {}
    for number, word in enumerate(words):
        if word == "--":
            break
        flag = word.split("=", 1)[0]
        name = params.get(flag)
        if name is None:
            continue
        ahead = words[number + 1] if number + 1 < len(words) else ""
        if flag in switches and ("=" in word or ahead.lower() in SWITCH_WORDS):
            on, off = switches[flag]
            fail(f"{flag} is a switch: use {on} or {off}, with no value")
        if name in seen:
            first = seen[name]
            both = f"{first} given twice" if first == flag else f"{first} and {flag} both given"
            fail(f"{both}; give it once (see: {path} --help)")
        seen[name] = flag


DECLARED = "alltx.declared"


class DeclaredCommand(TyperCommand):
    """A command with options made from a declaration (`declared`, each made by `option`),
    placed after its own option `after` (first where it has none): a new entry in the
    declaration is an option, with no change to the command. Their values reach the command
    as `DeclaredCommand.values(ctx)`, by name (None: not given), not as parameters of its own.
    Uses click's hooks: get_params for parsing, help and completion alike; invoke for the
    values."""

    after = ""

    @staticmethod
    def option(
        name: str,
        flags: str | None,
        help_text: str,
        metavar: str | None,
        kind: Any,
        panel: str,
        complete: Any = None,
    ) -> TyperOption:
        """An option made from a declaration (a fact, a finding), as typer makes one from a
        parameter `name: Annotated[kind, typer.Option(flags, ...)] = None`: the same help,
        switches and completion as a written one."""
        from typer.main import get_click_param
        from typer.models import ParamMeta

        info = typer.Option(
            None,
            *([flags] if flags else []),
            help=help_text,
            metavar=metavar,
            rich_help_panel=panel,
            autocompletion=complete,
        )
        option, _ = get_click_param(ParamMeta(name=name, default=info, annotation=kind))
        assert isinstance(option, TyperOption)
        return option

    @staticmethod
    def values(ctx: typer.Context) -> dict[str, object]:
        """The values of a DeclaredCommand's declared options, by name; None: not given."""
        return dict(ctx.meta[DECLARED])

    def declared(self, ctx: Any) -> Sequence[TyperOption]:  # click's Context, kept private
        raise NotImplementedError

    def get_params(self, ctx: Any) -> list[Any]:
        own = super().get_params(ctx)
        at = next((n + 1 for n, p in enumerate(own) if p.name == self.after), 0)
        return [*own[:at], *self.declared(ctx), *own[at:]]

    def invoke(self, ctx: Any) -> Any:
        names = [option.name for option in self.declared(ctx)]
        ctx.meta[DECLARED] = {name: ctx.params.pop(name) for name in names}
        return super().invoke(ctx)


def as_of_day(given: object) -> date | None:
    """The day given with --as-of (None where it was not); a text that is no date, refused
    in the rows' words."""
    from alltx.core.facts import AS_OF, DATE_FIELDS, date_refusal, parse_date

    if given is None:
        return None
    try:
        return parse_date(given)
    except ValueError:
        fail(f"{DATE_FIELDS[AS_OF].flag}: {date_refusal(given)}")
