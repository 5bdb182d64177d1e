"""What a person watching a long cohort on a terminal sees on stderr: a progress bar while it
runs, error lines (capped by --max-errors), and one closing line. Off a terminal, only the
error lines; with --quiet, nothing. rich is imported only when a terminal will show it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from alltx.batch.streaming import Tally, error_line
from alltx.io.input_rows import Failure

T = TypeVar("T")
EVERY = 1000  # rows between progress updates: updating costs more than a row


class Reporter:
    def __init__(self, quiet: bool, max_errors: int | None, terminal: bool | None = None) -> None:
        self.quiet, self.max_errors = quiet, max_errors
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.shown = self.hidden = 0

    def error(self, failure: Failure) -> None:
        if self.quiet:
            return
        if self.max_errors is not None and self.shown >= self.max_errors:
            self.hidden += 1
            return
        self.shown += 1
        sys.stderr.write(error_line(failure) + "\n")

    def watch(self, rows: Iterable[T], size: Callable[[T], int] | None = None) -> Iterable[T]:
        """The rows, unchanged; on a terminal, with a progress bar on stderr as they are read.
        With `size`, each item holds that many rows (a chunk of lines)."""
        if self.quiet or not self.terminal:
            return rows
        return self._watched(rows, size)

    def _watched(self, rows: Iterable[T], size: Callable[[T], int] | None) -> Iterator[T]:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns: list[Any] = [
            SpinnerColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("rows")
            count = shown = 0
            for row in rows:
                count += 1 if size is None else size(row)
                if count - shown >= EVERY:
                    bar.update(task, completed=count)
                    shown = count
                yield row

    def close(self, tally: Tally) -> None:
        if self.quiet:
            return
        if self.hidden:
            sys.stderr.write(f"alltx: {self.hidden} more row errors not shown (--max-errors)\n")
        if self.terminal:
            sys.stderr.write(
                f"alltx: {tally.read:,} rows read, {tally.answered:,} answered, "
                f"{tally.failed:,} errors\n"
            )


@contextmanager
def reading(
    what: str, quiet: bool, terminal: bool | None = None
) -> Iterator[Callable[[int, int], None] | None]:
    """On a terminal (not --quiet), a bar on stderr while `what` is read, and the function to
    tell it how far (done, total; in bytes) the reading has come; None elsewhere."""
    if quiet or not (sys.stderr.isatty() if terminal is None else terminal):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn(what), BarColumn(), TaskProgressColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
