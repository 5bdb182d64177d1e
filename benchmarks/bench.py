"""alltx benchmarks: batch throughput, peak memory and cold start, each against a floor measured
in the same run on the same machine, so the ratios mean something wherever this runs.

    python benchmarks/bench.py                  # 1,000,000 rows (a few minutes)
    python benchmarks/bench.py --rows 100000    # quicker

Throughput: `alltx options --input cohort.jsonl --format jsonl` in patients per second, against
a plain Python loop that parses each line with json.loads and writes it back with json.dumps;
and the same with `--jobs 0` (a worker per core), for comparison, not for the target.
Memory: peak RSS of the same command on 10,000 rows and on --rows rows.
Cold start: `alltx options --age 19 --relapsed --format json` against
`python -c "import typer, pydantic"`, best of several runs each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
BIN = Path(sys.executable).parent
FLOOR = """
import json, sys
write = sys.stdout.write
with open(sys.argv[1], encoding="utf-8") as rows:
    for line in rows:
        write(json.dumps(json.loads(line)) + "\\n")
"""


def patient(rng: random.Random, number: int) -> dict[str, object]:
    """One synthetic patient, shaped like a registry export: mostly children, gaps left blank."""
    row: dict[str, object] = {"id": f"P{number:07d}"}
    roll = rng.random()
    if roll < 0.65:
        row["age"] = rng.choice([rng.randint(1, 17), rng.randint(1, 17), rng.randint(18, 80)])
    elif roll < 0.75:
        row["age"] = f"{rng.randint(0, 23)}m"
    elif roll < 0.9:
        row["age"] = round(rng.uniform(0, 80), 1)
    state = rng.choice(["new", "cr", "relapse", "refractory", "unknown"])
    if state == "new":
        row.update(relapsed=False, remission=0)
    elif state == "cr":
        row["remission"] = rng.choice([1, 1, 2, 3])
    elif state == "relapse":
        row["relapse"] = rng.choice([1, 1, 2, 3])
    elif state == "refractory":
        row["refractory"] = True
    for marker, weights in (("cd19", (8, 1, 3)), ("cd22", (6, 1, 5)), ("ph", (1, 5, 4))):
        value = rng.choices(["positive", "negative", None], weights)[0]
        if value:
            row[marker] = value
    lineage = rng.choices(["b", "t", None], (80, 15, 5))[0]
    if lineage:
        row["lineage"] = lineage
    if rng.random() < 0.5:
        row["mrd"] = rng.choice([0, 0.01, 0.05, 0.1, 0.3, 1.2, round(rng.uniform(0, 5), 2)])
    if rng.random() < 0.6:
        row["phase"] = rng.choice(["induction", "consolidation", "maintenance"])
    if rng.random() < 0.4:
        row["prior_transplant"] = rng.random() < 0.2
    return row


def cohort(rows: int, seed: int) -> Path:
    path = OUT / f"cohort-{rows}-{seed}.jsonl"
    if not path.exists():
        rng = random.Random(seed)
        with path.open("w", encoding="utf-8") as out:
            for number in range(1, rows + 1):
                out.write(json.dumps(patient(rng, number)) + "\n")
    return path


# An installed package runs from compiled bytecode; a development shell may forbid writing it
# (PYTHONDONTWRITEBYTECODE), which would make alltx recompile its source on every start while
# typer and pydantic, compiled when pip installed them, do not. Measure as installed.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one command, its output thrown away."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {child.returncode}")
    return elapsed, usage.ru_maxrss


def best_of_each(commands: list[list[str]], times: int) -> list[float]:
    """Best wall time of each command, runs interleaved so machine noise hits them alike."""
    bests = [float("inf")] * len(commands)
    for _ in range(times):
        for index, command in enumerate(commands):
            bests[index] = min(bests[index], run(command)[0])
    return bests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--starts", type=int, default=25, help="cold-start runs, best taken")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    alltx = [str(BIN / "alltx"), "options", "--format", "jsonl", "--input"]

    big, small = cohort(args.rows, args.seed), cohort(10_000, args.seed)
    floor_time, _ = run([sys.executable, "-c", FLOOR, str(big)])
    alltx_time, big_rss = run([*alltx, str(big)])
    jobs_time, _ = run([*alltx, str(big), "--jobs", "0"])
    _, small_rss = run([*alltx, str(small)])
    base, start = best_of_each(
        [
            [sys.executable, "-c", "import typer, pydantic"],
            [str(BIN / "alltx"), "options", "--age", "19", "--relapsed", "--format", "json"],
        ],
        args.starts,
    )

    floor_rate, alltx_rate = args.rows / floor_time, args.rows / alltx_time
    jobs_rate, cores = args.rows / jobs_time, len(os.sched_getaffinity(0))
    table = [
        ("batch throughput", f"{alltx_rate:,.0f} patients/s", f"floor {floor_rate:,.0f} rows/s",
         f"{alltx_rate / floor_rate:.2f}", ">= 0.50"),
        (f"  --jobs 0 ({cores})", f"{jobs_rate:,.0f} patients/s", f"floor {floor_rate:,.0f} rows/s",
         f"{jobs_rate / floor_rate:.2f}", "(opt-in)"),
        ("peak memory", f"{big_rss / 1024:.1f} MiB ({args.rows:,} rows)",
         f"{small_rss / 1024:.1f} MiB (10,000 rows)", f"{big_rss / small_rss:.2f}", "<= 1.10"),
        ("cold start", f"{start * 1000:.0f} ms", f"import typer, pydantic {base * 1000:.0f} ms",
         f"{start / base:.2f}", "<= 1.30"),
    ]  # fmt: skip
    print(f"alltx benchmarks, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")  # fmt: skip
    print(f"{'measure':<18}{'alltx':<30}{'against':<34}{'ratio':>6}  target")
    for name, ours, floor, ratio, target in table:
        print(f"{name:<18}{ours:<30}{floor:<34}{ratio:>6}  {target}")


if __name__ == "__main__":
    main()
