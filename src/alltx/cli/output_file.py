"""`--output FILE`: where an answer is written instead of stdout, in any format, whole or not
at all. The path is checked before any input is read (issue 42, 2: a FHIR folder was read for
70 s, then `-o` refused): only a regular file, new or one alltx replaces whole, never a device,
a FIFO, a folder or a file alltx reads. The answer is written beside it under a name of its
own and renamed over it once the run has finished its writing, so a run that fails or is
stopped leaves the path as it was, as `sort -o`, `sponge` and git's lock files do.

Parquet is written by DuckDB to a file of its own (duckdb_engine.Prepared.to_parquet, which
renames it over the path the same way); every other format is what the command writes to
stdout, sent to the file by swapping sys.stdout (what rich, json and the cohort's whole-line
writer all write to)."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import typer

from alltx.cli.base import Failed, Stopped, fail, output_failed, stopped

# What a run's exit status says of its output: 0 an answer, 1 every row answered and some
# refused, each in its place (docs/cohorts.md, "For scripts"); anything else is a run that did not
# finish its writing, and the path keeps what it held.
WHOLE = (0, 1, None)


def checked(path: str, inputs: Mapping[str, str | os.PathLike[str] | None]) -> Path:
    """The file `--output path` names (through a symbolic link, the file it points to), once
    it is known alltx may write it: in a folder it can write, a regular file or none yet, and
    none of the files or folders the run reads (`inputs`, by the flag that names each: the
    cohort, FHIR records, the data files; a folder of FHIR records holds no output). Refused
    in one line otherwise."""
    target = Path(path).resolve()
    try:
        mode: int | None = target.stat().st_mode
    except FileNotFoundError:
        mode = None  # a new file
    except OSError as error:
        output_failed(error)
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device or a FIFO)"
        fail(
            f"--output {path}: {kind}; alltx writes its output only to a regular file, new or "
            "one it replaces whole"
        )
    for flag, given in inputs.items():
        if given is None or str(given) in ("", "-"):
            continue
        read = Path(given).resolve()
        inside = read.is_dir() and read in target.parents
        if inside or (mode is not None and read.exists() and os.path.samefile(target, read)):
            where = "inside the folder" if inside else "the file"
            fail(
                f"--output {path} is {where} alltx reads ({flag}); write the answers to "
                "another file"
            )
    try:
        tempfile.TemporaryFile(dir=target.parent).close()
    except OSError as error:  # no such folder, or not writable: the output's fault, said so
        output_failed(error)
    return target


@contextmanager
def written_to(
    path: str | None,
    inputs: Mapping[str, str | os.PathLike[str] | None],
    redirect: bool = True,
    whole_when: tuple[int | None, ...] = WHOLE,
) -> Iterator[None]:
    """Run the command's body with its answer going to `path` (None: stdout, untouched).
    With `redirect`, what the body writes to stdout goes to a file beside `path`, renamed over
    it when the body ends with an exit status of `whole_when` (a whole output: WHOLE; under
    --fail-fast, a row refused stops the run, and only 0 is whole); without it (Parquet), the
    body writes the file itself. A signal ends the run in one line that says the path was left
    as it was."""
    if path is None:
        yield
        return
    target = checked(path, inputs)
    if not redirect:
        with _said_if_stopped(path):
            yield
        return
    try:
        fd, beside = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".alltx", dir=target.parent)
    except OSError as error:
        output_failed(error)
    _permissions_of(target, fd)
    stdout = sys.stdout
    sys.stdout = file = open(fd, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
    whole = False
    try:
        with _said_if_stopped(path):
            try:
                yield
                whole = True
            except SystemExit as leaving:  # a run that failed in one line is never whole
                whole = not isinstance(leaving, Failed) and leaving.code in whole_when
                raise
            except typer.Exit as leaving:  # click's: not a SystemExit
                whole = leaving.exit_code in whole_when
                raise
            finally:
                sys.stdout = stdout
                whole = _closed(file) and whole
                if whole:
                    os.replace(beside, target)
    finally:
        if not whole:
            Path(beside).unlink(missing_ok=True)


def _closed(file: object) -> bool:
    """Close the file the answer went to; whether it is all on the disk (a full disk fails
    the last write here, and the run then ends as any output alltx cannot write)."""
    try:
        file.close()  # type: ignore[attr-defined]
    except OSError as error:
        sys.stderr.flush()
        output_failed(error)
    except ValueError:  # already closed (stop_writing pointed it elsewhere and it was closed)
        return False
    return True


def _permissions_of(target: Path, fd: int) -> None:
    """The new file gets the permissions the file it replaces had, or a new file's (the
    umask's), not mkstemp's owner-only 0600."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.fchmod(fd, mode)


@contextmanager
def _said_if_stopped(path: str) -> Iterator[None]:
    """Ctrl-C, SIGTERM or SIGHUP during a run with --output: one line saying the file was not
    written (not, as on stdout, that the records before are complete lines)."""
    try:
        yield
    except (KeyboardInterrupt, Stopped) as error:
        stopped(error, f"nothing was written to {path} (it is as it was)")
