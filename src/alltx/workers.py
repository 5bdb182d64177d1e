"""A long cohort answered on several cores, written exactly as one process would write it.

The main process deals the input out in chunks, in turn, to worker processes forked from it (so
each starts with the catalog loaded and the caches warm). A worker answers its chunk into memory,
then waits for its turn to write: a token passed round a ring of pipes, from the worker of one
chunk to the worker of the next, so records and stderr lines come out in input order. The token
is one byte holding the run's status: whether a row failed, whether to stop (--fail-fast, or the
reader went away). Memory stays flat: a chunk is answered, written and dropped; the main process
blocks while the workers' task pipes are full.

A worker that dies without passing the token (killed, out of memory) must not leave the others
waiting forever: each worker holds the write end of an "alive" pipe and nothing else writes to
it, so it reads as closed exactly when that worker is gone. The next worker waits on both.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

FAILED, STOP, CLOSED, CRASHED = 1, 2, 4, 8  # the token's bits
PIPE_BYTES = 1 << 20  # a task pipe's room: Linux's default limit for one pipe


@dataclass(frozen=True, slots=True)
class Written:
    """A chunk answered, ready to write: stdout texts, stderr lines, and the token bits it sets."""

    out: list[str]
    err: list[str]
    status: int


def usable() -> bool:
    """Whether workers can write here: a system with fork, and stdout a real file."""
    try:
        sys.stdout.fileno()
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return hasattr(os, "fork")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class _Seat:
    """One worker's place in the ring: the pipe ends it keeps."""

    tasks: int  # read: chunks from the main process
    turn: int  # read: the token, from the worker before
    next_turn: int  # write: the token, to the worker after
    alive: int  # write: held open while this worker lives
    before_alive: int  # read: closes when the worker before is gone


def run(jobs: int, tasks: Iterable[Any], answer: Callable[[Any], Written]) -> int:
    """Answer every task on `jobs` workers, writing in task order; return the token's bits."""
    sys.stdout.flush()
    sys.stderr.flush()
    task_pipes = [os.pipe() for _ in range(jobs)]
    for _, writer in task_pipes:
        _widen(writer)
    turn_pipes = [os.pipe() for _ in range(jobs)]
    alive_pipes = [os.pipe() for _ in range(jobs)]
    seats = [
        _Seat(
            tasks=task_pipes[me][0],
            turn=turn_pipes[me][0],
            next_turn=turn_pipes[(me + 1) % jobs][1],
            alive=alive_pipes[me][1],
            before_alive=alive_pipes[me - 1][0],
        )
        for me in range(jobs)
    ]
    os.write(turn_pipes[0][1], bytes([0]))  # the first chunk may write at once
    every = [
        end for pipes in (task_pipes, turn_pipes, alive_pipes) for pair in pipes for end in pair
    ]
    pids = []
    for seat in seats:
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 1
            try:
                keep = {seat.tasks, seat.turn, seat.next_turn, seat.alive, seat.before_alive}
                for end in every:
                    if end not in keep:
                        os.close(end)
                with os.fdopen(seat.tasks, "rb") as chunks:
                    _work(seat, chunks, answer)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    writers, readers = [w for _, w in task_pipes], [r for r, _ in turn_pipes]
    for end in set(every) - set(writers) - set(readers):  # the workers' ends
        os.close(end)
    _deal(tasks, writers)
    died = [code for code in (_exit_code(pid) for pid in pids) if code != 0]
    if died:
        how = f"was killed by signal {-died[0]}" if died[0] < 0 else f"exited with {died[0]}"
        sys.stderr.write(f"alltx: error: a worker process {how}; the output ends before its rows\n")
    token = _left_token(readers)
    if token is None:  # a worker died holding it
        token = CRASHED | STOP
    return token | (CRASHED if died else 0)


def _exit_code(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _widen(pipe: int) -> None:
    """Let a task pipe hold several chunks. Chunks go round the workers in turn, so with room
    for only one, the main process waits on a busy worker while the next one starves."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or over the system's limit
        pass


def _deal(tasks: Iterable[Any], pipes: list[int]) -> None:
    """Send the tasks round the workers in turn, then tell each there is no more."""
    try:
        for index, task in enumerate(tasks):
            _send(pipes[index % len(pipes)], task)
    except BrokenPipeError:  # a worker stopped (--fail-fast, a closed reader): so do we
        pass
    for pipe in pipes:
        with contextlib.suppress(BrokenPipeError):
            _send(pipe, None)
        os.close(pipe)


def _send(pipe: int, task: object) -> None:
    """Write one pickled task whole (unbuffered: nothing is left to flush on a broken pipe)."""
    data = memoryview(pickle.dumps(task, pickle.HIGHEST_PROTOCOL))
    while data:
        data = data[os.write(pipe, data) :]


def _work(seat: _Seat, chunks: BinaryIO, answer: Callable[[Any], Written]) -> None:
    while True:
        try:
            task = pickle.load(chunks)
        except EOFError:  # the main process is gone
            return
        if task is None:
            return
        try:
            written = answer(task)
        except Exception as error:  # a bug: one line, and everyone stops
            written = Written([], [f"alltx: error: a worker failed: {error!r}\n"], CRASHED | STOP)
        token = _turn(seat)
        if not token & STOP:
            token |= written.status
            try:
                sys.stdout.writelines(written.out)
                sys.stdout.flush()
                sys.stderr.writelines(written.err)
                sys.stderr.flush()
            except BrokenPipeError:
                token |= CLOSED | STOP
        os.write(seat.next_turn, bytes([token]))
        if token & STOP:
            return


def _turn(seat: _Seat) -> int:
    """Wait for the token; a worker before that died without passing it means stop."""
    ready, _, _ = select.select([seat.turn, seat.before_alive], [], [])
    if seat.turn not in ready:  # the worker before is gone; it passed the token first if at all
        ready, _, _ = select.select([seat.turn], [], [], 0)
        if not ready:
            return CRASHED | STOP
    return os.read(seat.turn, 1)[0]


def _left_token(readers: list[int]) -> int | None:
    """Where the token ended up, once every worker has exited."""
    for reader in readers:
        os.set_blocking(reader, False)
        try:
            data = os.read(reader, 1)
        except BlockingIOError:
            data = b""
        os.close(reader)
        if data:
            return data[0]
    return None
