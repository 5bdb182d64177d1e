"""The `alltx` command: parse the arguments, ask the core, hand the answer to a renderer.

Errors are one line on stderr (`alltx: error: ...`) with exit status 2 for bad usage and 1 for
a broken data file; never a traceback, which could also leak patient facts into a log.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from alltx import __version__
from alltx.catalog import Catalog, DataError
from alltx.cli_base import (
    IN_USE,
    OUTPUT_PANEL,
    DocFormat,
    FormatOption,
    catalog_in_use,
    exit_status,
    fail,
    guide_in_use,
    write_json,
)
from alltx.examples import epilog
from alltx.facts import FACTS, Fact, FactError, facts_from

if TYPE_CHECKING:
    pass

FACTS_PANEL = "Patient facts (leave a fact out if it is not known)"
COHORT_PANEL = "A cohort file instead of flags"


class Format(StrEnum):
    text = "text"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    html = "html"
    parquet = "parquet"


class InputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"


class Engine(StrEnum):
    python = "python"
    duckdb = "duckdb"


class SchemaKind(StrEnum):
    input = "input"
    output = "output"
    explain = "explain"
    csv = "csv"
    sql = "sql"
    data = "data"


# Exit statuses (README, "For scripts"): 0 an answer; 1 a row could not be answered, or the
# data file is broken; 2 bad usage or bad facts; 74 the output could not be written; 130
# interrupted; 141 the reader closed the pipe (128 + SIGPIPE, as a shell reports a program
# killed by it).
EXIT_CLOSED_PIPE = 141
EXIT_INTERRUPTED = 130
EXIT_OUTPUT = 74  # the output could not be written (sysexits' EX_IOERR): a full disk, no stdout


# Commands built only when asked for: click builds every command it knows at start-up, and
# `options` should not pay for the guide's (`alltx.cli_guide`) or the SQL compiler's
# (`alltx.cli_sql`).
GUIDE_COMMANDS = ("transplant", "side-effects", "grade", "compare", "explain", "questions")
LAZY_COMMANDS = ("sql", *GUIDE_COMMANDS)


def _lazy_app(name: str) -> typer.Typer:
    if name == "sql":
        from alltx.cli_sql import sql_app

        return sql_app
    from alltx.cli_guide import guide_app

    return guide_app


class AlltxGroup(TyperGroup):
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
        except KeyboardInterrupt:
            fail("interrupted; the records written before are complete lines", EXIT_INTERRUPTED)
        except OSError as error:
            if error.filename is None:  # a write to stdout; a file alltx opens is named
                _output_failed(error)
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
        argv = kwargs.get("args", args[0] if args else None)
        _refuse_repeated(self, list(sys.argv[1:] if argv is None else argv))
        return self._main(*args, **kwargs)

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except typer.Abort:
            fail("interrupted", EXIT_INTERRUPTED)
        except typer.TyperException as error:  # click's usage errors derive from this
            if type(error).__name__ == "NoArgsIsHelpError":
                sys.stderr.write(error.format_message() + "\n")
                sys.exit(2)
            message = _one_line(error.format_message()).replace("Value error, ", "")
            context = getattr(error, "ctx", None)
            if context is not None:
                message += f" (see: {context.command_path} --help)"
            fail(message, getattr(error, "exit_code", 2))
        except BrokenPipeError:
            _quiet_broken_pipe()
        sys.exit(code if isinstance(code, int) else 0)


HELP = {"help_option_names": ["-h", "--help"]}  # -h works as --help, as people expect

app = typer.Typer(
    cls=AlltxGroup,
    context_settings=HELP,
    name="alltx",
    help="Which US FDA-approved immunotherapies for acute lymphoblastic leukemia (ALL) fit a "
    "patient's facts, and why. Information, not medical advice.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    epilog=epilog("alltx"),
)


def _one_line(message: str) -> str:
    return " ".join(message.split())


SWITCH_WORDS = {"yes", "no", "true", "false", "y", "n", "1", "0", "on", "off"}


def _refuse_repeated(group: Any, argv: list[str]) -> None:
    """A flag given twice (`--age 200 --age 19`, `--relapsed --not-relapsed`) is refused: click
    would silently take the last, and a fact silently replaced is a wrong answer. A switch
    given a value (`--relapsed yes`) is told how switches are written."""
    at = next((n for n, word in enumerate(argv) if word in group.commands), None)
    if at is None:
        return
    params: dict[str, str] = {}
    switches: dict[str, tuple[str, str]] = {}  # either flag of a switch -> (on, off)
    for param in group.commands[argv[at]].params:
        for flag in (*param.opts, *param.secondary_opts):
            params[flag] = param.name
        if getattr(param, "is_flag", False) and param.secondary_opts:
            pair = (param.opts[0], param.secondary_opts[0])
            switches.update(dict.fromkeys(pair, pair))
    seen: dict[str, str] = {}
    words = argv[at + 1 :]
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
            fail(f"{both}; give it once (see: alltx {argv[at]} --help)")
        seen[name] = flag


def _stop_writing(status: int) -> NoReturn:
    """Exit with nothing more written to stdout: it is pointed at /dev/null first, so the
    interpreter's final flush of what is still buffered cannot fail (and print a traceback)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(status)


def _output_failed(error: OSError) -> NoReturn:
    """Writing the answer failed (a full disk): say so in one line."""
    sys.stderr.write(f"alltx: error: cannot write the output: {error.strerror}; check the disk "
                     "or where the output goes\n")  # fmt: skip
    _stop_writing(EXIT_OUTPUT)


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (`| head`): stop quietly, as jq and csvkit do, with a status of
    its own, not the one for bad rows."""
    _stop_writing(EXIT_CLOSED_PIPE)


def _version(value: bool) -> None:
    if value:
        from alltx.data_files import load_catalog

        try:
            info = load_catalog().info
            data = f"data release {info.release}, updated {info.updated.isoformat()}"
        except DataError as error:
            data = f"data file broken: {error}"
        sys.stdout.write(f"alltx {__version__} ({data})\n")
        raise typer.Exit()


@app.callback()
def _root(
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
    """Which US FDA-approved immunotherapies for ALL fit a patient's facts, and why."""
    IN_USE.data, IN_USE.guide = data, guide
    if no_pager:
        from alltx import render

        render.PAGING = False


def _fact_option(fact: Fact) -> inspect.Parameter:
    """A fact's option: a yes/no switch, or a value (whose named values, b|t or
    positive|negative, complete in the shell)."""
    if fact.negative:
        flags = f"{fact.flag}/{fact.negative}"
        info = typer.Option(flags, help=fact.help, rich_help_panel=FACTS_PANEL)
        kind: Any = bool | None
    else:
        values = fact.metavar.split("|") if "|" in fact.metavar else []

        def complete(incomplete: str) -> list[str]:
            return [value for value in values if value.startswith(incomplete)]

        info = typer.Option(help=fact.help, metavar=fact.metavar, rich_help_panel=FACTS_PANEL,
                            autocompletion=complete if values else None)  # fmt: skip
        kind = str | None
    return inspect.Parameter(
        fact.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
        annotation=Annotated[kind, info],
    )  # fmt: skip


def with_facts(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with an option for each fact (alltx.facts.FACTS, in order) before its own;
    it is called with `given`: the facts given, by name (typer builds the options from the
    signature made here, so a new fact needs no change to any command)."""
    own = inspect.signature(command, eval_str=True)
    params = [_fact_option(fact) for fact in FACTS.values()]
    params += [param for param in own.parameters.values() if param.name != "given"]

    @functools.wraps(command)
    def run(**values: Any) -> None:
        given = {name: values.pop(name) for name in FACTS}
        command(given={name: value for name, value in given.items() if value is not None},
                **values)  # fmt: skip

    run.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {param.name: param.annotation for param in params}
    return run


HELP_FORMAT = (
    "text for people; html for a page to print and bring to an appointment (one patient); "
    "json, jsonl or csv for scripts; parquet (a cohort, with --output). For a cohort the "
    "default is text on a terminal and jsonl otherwise."
)


@app.command(epilog=epilog("options"))
@with_facts
def options(
    given: dict[str, object],
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            metavar="FILE",
            help="Read many patients from a JSON Lines, CSV or TSV file (- for stdin); fields "
            "are named like the flags, with underscores. With no fact flags, a piped stdin is "
            "read as the cohort.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    input_format: Annotated[
        InputFormat | None,
        typer.Option(
            help="The --input format, if its name does not end in .jsonl, .csv or .tsv and "
            "its first line does not tell.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    ignore_unknown_fields: Annotated[
        bool,
        typer.Option(
            help="Skip fields alltx does not know, instead of refusing them.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = False,
    fail_fast: Annotated[
        bool,
        typer.Option(help="Stop at the first row that fails.", rich_help_panel=COHORT_PANEL),
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            help="Write each cohort record in full (every criterion with the patient's value "
            "and its text, as one patient's --format json) instead of compact ids.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress, no closing line and no row errors on stderr (the error records "
            "are still in the output).",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = False,
    max_errors: Annotated[
        int | None,
        typer.Option(
            min=0,
            metavar="N",
            help="Show at most N row errors on stderr; every row is still in the output.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Answer a cohort in N processes (records still in input order), with --format "
            "jsonl or csv. Pays on big inputs with spare cores: see the README's Performance.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = 1,
    engine: Annotated[
        Engine | None,
        typer.Option(
            help="How to answer a cohort: python reads the loose spellings the flags take (8m, "
            "pos, B-ALL); duckdb runs the rules compiled to SQL on every core, and reads "
            "canonical values only (alltx schema sql). A .parquet input uses duckdb.",
            rich_help_panel=COHORT_PANEL,
        ),
    ] = None,
    output: Annotated[
        Format | None,
        typer.Option("--format", "-f", help=HELP_FORMAT, rich_help_panel=OUTPUT_PANEL),
    ] = None,
    output_file: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="The file --format parquet writes (other formats go to stdout: use >).",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ] = None,
) -> None:
    """Which therapies fit these facts: each label criterion met, unmet or unknown."""
    if input_file is None and not given and _piped_stdin():
        input_file = "-"  # as jq and csvkit do: a piped stdin is the input
    if input_file is not None:
        if given:
            fail("give one patient's facts as flags, or a cohort with --input, not both")
        settings = CohortSettings(ignore_unknown_fields, fail_fast, explain, quiet, max_errors,
                                  jobs, engine, output_file)  # fmt: skip
        _cohort(input_file, input_format, output, settings)
        return
    if output is Format.parquet or engine is not None or output_file is not None:
        fail("--engine, --output and --format parquet are for a cohort: give --input FILE")
    if explain and output is Format.csv:
        fail("--explain writes JSON; use it with --format json or jsonl")
    try:
        facts = facts_from(given)
    except FactError as error:
        where = f"--{error.field.replace('_', '-')}: " if error.field else ""
        fail(f"{where}{error}")

    catalog = catalog_in_use()
    if output in (Format.jsonl, Format.csv):
        from alltx.input_rows import Row

        # One patient, one record: the cohort road, the patient as a row without a line.
        settings = CohortSettings(False, False, explain, True, None)
        _write_cohort(catalog, output, iter([Row(None, None, given)]), settings)
        return

    from alltx.assess import assess, referrals

    results, advice = assess(facts, catalog), referrals(facts, catalog)
    if output is Format.json:
        from alltx.answers import options_json

        write_json(options_json(facts, results, advice, catalog))
    elif output is Format.html:
        _write_handout(facts, results, advice, catalog)
    else:
        from alltx import render

        render.options(facts, results, advice, catalog, render.console())


def _write_handout(facts: Any, results: list[Any], advice: list[Any], catalog: Catalog) -> None:
    from alltx import handout, render
    from alltx.answers import options_json, referral_why, why

    guide = guide_in_use()
    fitting = {"general"}  # the topics whose questions fit this answer
    for option in results:
        if option.status != "not_eligible":
            fitting |= {option.therapy.id, *option.therapy.groups}
    if any(result.status != "not_indicated" for result in advice):
        fitting.add("transplant")
    questions = [q.text for q in guide.questions if q.topic in fitting]
    given, unknown = render.facts_words(facts)
    whys = [why(option) for option in results] + [referral_why(result) for result in advice]
    sys.stdout.write(handout.page(options_json(facts, results, advice, catalog), whys, given,
                                  unknown, questions, __version__))  # fmt: skip


@app.command(epilog=epilog("ask"))
def ask() -> None:
    """Questions in plain words, one at a time, then the answer: for people who don't know the
    flags. Each question is the one that would decide the most answers still open."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        fail("alltx ask asks its questions on a terminal; in a script or a pipe, give the "
              "facts as flags: alltx options --age 19 --relapsed")  # fmt: skip
    from rich.prompt import Prompt

    from alltx import ask as questionnaire
    from alltx import render
    from alltx.assess import assess, referrals

    catalog, out = catalog_in_use(), render.console()
    out.print("alltx asks about the patient, one question at a time. Answer in your own "
              "words; ? skips a question you can't answer, done shows the answer now, Ctrl-C "
              "stops.\n")  # fmt: skip

    def prompt(question: str) -> str:
        return Prompt.ask(question, console=out, default="?", show_default=False)

    given = questionnaire.interview(catalog, prompt, out.print)
    facts = facts_from(given)
    out.print()
    render.options(facts, assess(facts, catalog), referrals(facts, catalog), catalog, out)
    # on one line however long, so that it can be copied
    out.print(f"\nThe same answer again: {questionnaire.command_line(given)}", soft_wrap=True)


def _piped_stdin() -> bool:
    """Whether stdin is there and not a terminal: a cohort piped in."""
    try:
        return sys.stdin is not None and not sys.stdin.closed and not sys.stdin.isatty()
    except (ValueError, OSError):
        return False


@dataclass(frozen=True)
class CohortSettings:
    ignore_unknown: bool
    fail_fast: bool
    explain: bool
    quiet: bool
    max_errors: int | None
    jobs: int = 1
    engine: Engine | None = None
    output_file: str | None = None


def _cohort(
    name: str, given_format: InputFormat | None, output: Format | None, settings: CohortSettings
) -> None:
    from alltx import input_files

    catalog = catalog_in_use()
    if output is None:
        output = Format.text if sys.stdout.isatty() else Format.jsonl
    if output is Format.html:
        fail("--format html is one patient's page to print; for a cohort use jsonl or csv")
    if settings.explain and output in (Format.csv, Format.text):
        fail("--explain writes JSON; use it with --format json or jsonl")
    if settings.jobs > 1 and output not in (Format.jsonl, Format.csv):
        fail("--jobs writes records as they come: use it with --format jsonl or csv")
    if output is Format.parquet and not settings.output_file:
        fail("--format parquet writes a file: give --output FILE")
    if settings.output_file and output is not Format.parquet:
        fail("--output is for --format parquet; send other formats to a file with >")
    kind = _engine_input(name, given_format, output, settings)
    if kind is not None:
        raise typer.Exit(_engine_cohort(catalog, name, kind, output, settings))
    stream = input_files.open_input(name)
    kind, lines = input_files.input_format(name, stream, given_format)
    if settings.jobs > 1:
        status = _write_jobs(catalog, output, kind, lines, settings)
    else:
        rows = input_files.read_rows(lines, kind, settings.ignore_unknown)
        status = _write_cohort(catalog, output, rows, settings)
    raise typer.Exit(status)


class _WholeLines:
    """Writes to stdout with Ctrl-C held while a write is under way, and raised just after it:
    interrupted, the output is always whole lines. Anywhere else (waiting for input) Ctrl-C
    stops at once.

    The bytes go to the file descriptor with os.write, not through sys.stdout: CPython's
    buffered writer drops the rest of a write to a full pipe that a signal interrupts, where
    os.write resumes it."""

    def __init__(self) -> None:
        self.writing = False
        self.pending = False

    def __enter__(self) -> _WholeLines:
        import signal

        try:
            self.fd: int | None = sys.stdout.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation: no descriptor (a test runner)
            self.fd = None
        self.previous = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        signal.signal(signal.SIGINT, self.previous)

    def _interrupt(self, signum: int, frame: object) -> None:
        if not self.writing:
            raise KeyboardInterrupt
        self.pending = True

    def write(self, text: str) -> None:
        self.writing = True
        try:
            if self.fd is None:
                sys.stdout.write(text)
                return
            sys.stdout.flush()  # anything written before, first
            data = memoryview(text.encode("utf-8", "backslashreplace"))
            while data:
                data = data[os.write(self.fd, data) :]
        finally:
            self.writing = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


def _engine_input(
    name: str, given: InputFormat | None, output: Format, settings: CohortSettings
) -> str | None:
    """The kind of input the DuckDB engine is to read (parquet, csv, tsv, jsonl), or None when
    the cohort is answered in Python."""
    from alltx.input_files import SUFFIXES

    parquet = given is InputFormat.parquet or name.lower().endswith(".parquet")
    wanted = settings.engine is Engine.duckdb or (settings.engine is None and (
        parquet or output is Format.parquet))  # fmt: skip
    if not wanted:
        if parquet or output is Format.parquet:
            fail("Parquet is read and written by DuckDB: use --engine duckdb")
        return None
    if settings.explain:
        fail("--explain answers in Python, in full: drop --engine duckdb (and read CSV or JSON "
             "Lines)")  # fmt: skip
    if settings.jobs > 1:
        fail("DuckDB uses every core itself: drop --jobs")
    if settings.fail_fast and output is Format.parquet:
        fail("--fail-fast stops a stream, and --format parquet writes every row: drop one")
    if name == "-":
        fail("DuckDB reads a file by name, not stdin: give the file's name to --input")
    kind = (
        "parquet"
        if parquet
        else (given.value if given else SUFFIXES.get(Path(name).suffix.lower()))
    )
    if kind is None:
        fail(f"{name}: say what kind of file it is with --input-format parquet|csv|tsv|jsonl")
    return kind


def _engine_cohort(
    catalog: Catalog, name: str, kind: str, output: Format, settings: CohortSettings
) -> int:
    """A cohort answered by the rules compiled to SQL, in DuckDB; the exit status."""
    from alltx import cohort, duckdb_engine, sql
    from alltx.input_rows import Failure

    prepared = duckdb_engine.prepare(catalog, name, kind, settings.ignore_unknown)
    fields = sql.error_fields()
    if output is not Format.parquet:
        rows = cohort.query_rows(catalog, prepared.results(), prepared.first_line, fields)
        return _write_cohort(catalog, output, rows, settings,
                             partial(cohort.FromQuery, catalog))  # fmt: skip
    from alltx.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    try:  # a folder that is not there, or not writable: the output's fault, said as such
        Path(str(settings.output_file)).open("wb").close()
    except OSError as error:
        _output_failed(error)
    written, refused = prepared.to_parquet(str(settings.output_file))
    if refused and not settings.quiet:
        for row_id, message in prepared.errors(str(settings.output_file)):
            reporter.error(Failure(None, row_id, message, fields.get(message)))
    reporter.close(cohort.Tally(written, written - refused, refused))
    return 1 if refused else 0


def _write_cohort(
    catalog: Catalog,
    output: Format,
    rows: Iterable[Any],
    settings: CohortSettings,
    answering: Callable[[Any], Any] | None = None,
) -> int:
    """Answer the rows and write them in the format asked for; the exit status. `answering`
    makes what answers the rows for a format (cohort.FromQuery for the query's results); by
    default, cohort.Answering."""
    from alltx import cohort
    from alltx.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = cohort.Tally()
    if answering is None:
        answering = partial(cohort.Answering, catalog, ignore_unknown=settings.ignore_unknown)
    rows = reporter.watch(rows)
    if output is Format.text:
        briefly = answering(cohort.Briefly())
        summary = cohort.summarize(catalog, rows, settings.ignore_unknown, reporter.error,
                                   settings.fail_fast, tally, briefly)  # fmt: skip
        from alltx import render

        render.cohort(summary, catalog, render.console())
    else:
        fmt = cohort.output_format(output.value, catalog, settings.explain)
        answers = answering(fmt)
        with _WholeLines() as out:
            cohort.stream(rows, answers, fmt, out.write, reporter.error, settings.fail_fast,
                          tally)  # fmt: skip
    reporter.close(tally)
    return 1 if tally.failed else 0


def _write_jobs(
    catalog: Catalog, output: Format, kind: str, lines: Iterable[bytes], settings: CohortSettings
) -> int:
    """As _write_cohort, in settings.jobs processes; the exit status."""
    from alltx import cohort, jobs
    from alltx.progress import Reporter

    reporter = Reporter(settings.quiet, settings.max_errors)
    tally = cohort.Tally()
    header, work = jobs.prepare(lines, kind, settings.ignore_unknown)
    job = jobs.Job(IN_USE.data, output.value, settings.explain, settings.ignore_unknown, kind,
                   header, settings.fail_fast)  # fmt: skip
    fmt = cohort.output_format(output.value, catalog, settings.explain)
    with _WholeLines() as out:
        out.write(fmt.header)
        jobs.run(job, settings.jobs, reporter.watch(work, lambda chunk: len(chunk.lines)),
                 out.write, reporter.error, tally)  # fmt: skip
        out.write(fmt.close())
    reporter.close(tally)
    return 1 if tally.failed else 0


@app.command(epilog=epilog("schema"))
def schema(
    which: Annotated[
        SchemaKind,
        typer.Argument(
            help="input: one patient row; output: one result record of a cohort; explain: one "
            "with --explain; csv: the CSV output's columns; sql: the table alltx sql and the "
            "DuckDB engine read; data: a therapies file."
        ),
    ],
) -> None:
    """The JSON Schema of a patient row, a result record (compact, or --explain) or a therapies
    file; for csv, the Frictionless Table Schema of the CSV output's columns."""
    from alltx.schemas import schema_of

    if which is SchemaKind.sql:
        from alltx.sql import table_schema

        write_json(table_schema())
        return
    columns = None
    if which is SchemaKind.csv:
        from alltx.cohort import columns as csv_columns

        columns = csv_columns(catalog_in_use())
    write_json(schema_of(which.value, columns))


@app.command(epilog=epilog("drug"))
def drug(
    name: Annotated[
        str, typer.Argument(help="Generic name, brand or short name: Kymriah, tisa-cel.")
    ],
    output: FormatOption = DocFormat.text,
) -> None:
    """One drug: what it is, how it is given, who it is approved for, its side effects. A word
    that covers several (car-t) lists them."""
    catalog = catalog_in_use()
    group = catalog.group(name)
    if len(group) > 1:
        _drugs(catalog, output, group)
        return
    therapy = catalog.therapy(name)
    practice = guide_in_use().practice_for(therapy.id)
    if output is DocFormat.json:
        from alltx.answers import drug_json
        from alltx.guide_answers import practice_json

        write_json(drug_json(therapy, catalog, practice_json(practice)))
    else:
        from alltx import render, render_guide

        picture = render_guide.timeline(practice) if practice and practice.timeline else None
        render.drug(therapy, catalog, render.console(), picture)


@app.command(epilog=epilog("drugs"))
def drugs(output: FormatOption = DocFormat.text) -> None:
    """One line per therapy alltx knows."""
    catalog = catalog_in_use()
    _drugs(catalog, output, list(catalog.therapies))


def _drugs(catalog: Catalog, output: DocFormat, therapies: list[Any]) -> None:
    if output is DocFormat.json:
        from alltx.answers import drugs_json

        write_json(drugs_json(catalog, therapies))
    else:
        from alltx import render

        render.drugs(catalog, render.console(), therapies)


data_app = typer.Typer(
    context_settings=HELP,
    rich_markup_mode=None,
    help="The therapies data: check a file, or show where the data in use comes from.",
    epilog=epilog("data"),
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")


@data_app.command("check", epilog=epilog("data check"))
def data_check(
    file: Annotated[
        Path | None,
        typer.Argument(help="The therapies file to check; the one in use if left out."),
    ] = None,
) -> None:
    """Check a therapies file in full, and the guide file in use: exit 0 with a summary, or 1
    listing every problem."""
    from alltx.data_files import load_catalog, load_guide

    problems: list[str] = []
    try:
        catalog = load_catalog(file or IN_USE.data, check=True)
    except DataError as error:
        problems += error.problems
    try:
        guide = load_guide(IN_USE.guide, check=True)
    except DataError as error:
        problems += error.problems
    if problems:
        for problem in problems:
            sys.stderr.write(f"alltx: {problem}\n")
        sys.stderr.write(f"alltx: {len(problems)} problems; the file was not used\n")
        raise typer.Exit(1) from None
    from alltx import render

    render.data_summary(catalog, render.console(), checked=True)
    sys.stdout.write(
        f"Guide file: {guide.origin}\nValid: {len(guide.side_effects)} side effects, "
        f"{len(guide.scales)} grading scales, {len(guide.terms)} terms, "
        f"{len(guide.questions)} questions, release {guide.info.release}\n"
    )


@data_app.command("show", epilog=epilog("data show"))
def data_show(output: FormatOption = DocFormat.text) -> None:
    """Where the data in use comes from: its file, release, date, regulator and sources. As
    JSON, also every therapy, indication, criterion, caution and referral reason with its id:
    the texts behind the ids in compact cohort records."""
    catalog = catalog_in_use()
    if output is DocFormat.json:
        from alltx.answers import dictionary_json

        write_json(dictionary_json(catalog))
    else:
        from alltx import render

        render.data_summary(catalog, render.console())


def main() -> None:
    app(prog_name="alltx")
