"""The `alltx` group: the root options, the one place errors become one line and an exit
status, and the commands, registered here from the modules that define them (so none of them
imports this one)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from alltx import __version__
from alltx.cli import ask, data, options
from alltx.cli.base import (
    EXIT_CLOSED_PIPE,
    EXIT_OUTPUT,
    HELP,
    OnceGroup,
    Settings,
    Stopped,
    exit_status,
    fail,
    output_failed,
    stop_on_signals,
    stop_writing,
    stopped,
)
from alltx.cli.examples import epilog
from alltx.model.catalog import DataError

# Commands built only when asked for: click builds every command it knows at start-up, and
# `options` should not pay for the guide's (`alltx.cli.guide`) or the SQL compiler's
# (`alltx.cli.sql`).
GUIDE_COMMANDS = ("transplant", "side-effects", "grade", "compare", "explain", "questions")
LAZY_COMMANDS = ("sql", *GUIDE_COMMANDS)


def _lazy_app(name: str) -> typer.Typer:
    if name == "sql":
        from alltx.cli.sql import sql_app

        return sql_app
    from alltx.cli.guide import guide_app

    return guide_app


class AlltxGroup(OnceGroup):
    """Runs the app, turning every usage error into one line on stderr, exit status 2."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LAZY_COMMANDS]

    def get_command(self, ctx: Any, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is None and name in LAZY_COMMANDS:
            built = typer.main.get_command(_lazy_app(name))
            # An app of one command (sql) is built as that command, not as a group of one.
            find = getattr(built, "get_command", None)
            command = built if find is None else find(ctx, name)
        return command

    def invoke(self, ctx: Any) -> Any:
        # Caught here, inside click's own handlers: click would turn a closed pipe into exit
        # status 1 (the status for bad rows) and Ctrl-C into a silent 130.
        try:
            try:
                return super().invoke(ctx)
            finally:  # what is still buffered is written now, where a failure can be reported
                if sys.stdout is not None:
                    sys.stdout.flush()
        except BrokenPipeError:
            _quiet_broken_pipe()
        except (KeyboardInterrupt, Stopped) as interrupt:  # Ctrl-C; SIGTERM or SIGHUP
            stopped(interrupt)
        except OSError as error:
            if error.filename is None:  # a write to stdout; a file alltx opens is named
                output_failed(error)
            raise
        except Exception as error:  # the core's own errors: one line each (cli_base)
            status = exit_status(error)
            if status is None:
                raise
            fail(str(error), status)

    def _main_shell_completion(self, *args: Any, **kwargs: Any) -> None:
        """Complete only for a shell that asks, as the scripts of --install-completion do:
        `_ALLTX_COMPLETE=complete_<shell>` with the words being completed beside it. Anything
        else in that variable (a stray `bash_source`, say) must not replace the answer."""
        instruction = os.environ.get("_ALLTX_COMPLETE", "")
        words = "COMP_WORDS" in os.environ or "_TYPER_COMPLETE_ARGS" in os.environ
        if instruction.startswith("complete_") and words:
            super()._main_shell_completion(*args, **kwargs)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if sys.stdout is None:  # started with stdout closed (>&-): nowhere to answer
            if sys.stderr is not None:
                sys.stderr.write(
                    "alltx: error: standard output is closed; give alltx somewhere to write "
                    "(a file, a pipe or the terminal)\n"
                )
            sys.exit(EXIT_OUTPUT)
        stop_on_signals()
        argv = kwargs.get("args", args[0] if args else None)
        given = list(sys.argv[1:] if argv is None else argv)
        if not given and "_ALLTX_COMPLETE" not in os.environ:  # (completion calls it so too)
            sys.stdout.write(START)
            sys.exit(0)
        return self._main(*args, **kwargs)

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except typer.Abort as abort:  # click's word for an interrupt while it parses
            stopped(abort.__cause__)
        except Stopped as stop:  # SIGTERM or SIGHUP while typer parses or after the command
            stopped(stop)
        except typer.TyperException as error:  # click's usage errors derive from this
            message = _one_line(error.format_message()).replace("Value error, ", "")
            context = getattr(error, "ctx", None)
            if context is not None:
                message += f" (see: {context.command_path} --help)"
            fail(message, getattr(error, "exit_code", 2))
        except BrokenPipeError:
            _quiet_broken_pipe()
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=AlltxGroup,
    context_settings=HELP,
    name="alltx",
    help="Which immunotherapies for acute lymphoblastic leukemia (ALL) fit a patient's facts "
    "under each regulator's authorisations the data holds (alltx data show lists them; "
    "--regulator chooses), and why. Information, not medical advice.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    epilog=epilog("alltx"),
)


# `alltx` alone: a first screen that fits one 24-line terminal and points the way in, where
# the full help (42 lines) scrolled its opening away and exited as an error.
START = """\
alltx: which approved immunotherapies for acute lymphoblastic leukemia (ALL)
fit a patient's facts, under each regulator's authorisations, and why.
Information to bring to the care team, not medical advice.

New here? alltx asks its questions one at a time, in plain words:
  alltx ask

Or give the facts you know (leave out what you don't):
  alltx options --age 19 --relapsed
  alltx drug blinatumomab
  alltx explain mrd

Every command and option: alltx --help
"""


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (`| head`): stop quietly, as jq and csvkit do, with a status of
    its own, not the one for bad rows."""
    stop_writing(EXIT_CLOSED_PIPE)


def _version(value: bool) -> None:
    if value:
        from alltx.model.data_files import load_catalog

        try:
            info = load_catalog().info
            data = f"data release {info.release}, updated {info.updated.isoformat()}"
        except DataError as error:
            data = f"data file broken: {error}"
        sys.stdout.write(f"alltx {__version__} ({data})\n")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="ALLTX_DATA",
            metavar="FILE",
            help="Answer from another therapies file (a newer label, a local formulary) instead "
            "of the bundled one. Checked in full before use.",
        ),
    ] = None,
    guide: Annotated[
        Path | None,
        typer.Option(
            "--guide",
            envvar="ALLTX_GUIDE",
            metavar="FILE",
            help="Read the guide (transplant, side effects, grading, glossary, questions) from "
            "another file instead of the bundled one.",
        ),
    ] = None,
    no_pager: Annotated[
        bool,
        typer.Option(
            "--no-pager",
            envvar="ALLTX_NO_PAGER",
            help="Print a long answer straight to the terminal instead of through the pager "
            "(PAGER, else less; never used when the output is piped).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Which immunotherapies for ALL fit a patient's facts, under each regulator the data
    lists, and why."""
    ctx.obj = Settings(data, guide, paging=not no_pager)


app.command(cls=options.FactsCommand, epilog=epilog("options"))(options.options)
app.command(epilog=epilog("ask"))(ask.ask)
app.command(epilog=epilog("schema"))(data.schema)
app.command(epilog=epilog("drug"))(data.drug)
app.command(epilog=epilog("drugs"))(data.drugs)
app.add_typer(data.data_app, name="data")


def main() -> None:
    # Write what the output's encoding can hold and the rest escaped (a lone surrogate from a
    # JSON row, a `·` under PYTHONIOENCODING=ascii), never a UnicodeEncodeError traceback.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    app(prog_name="alltx")
