"""The examples each command's --help ends with: real commands, each run by the tests."""

from __future__ import annotations

EXAMPLES: dict[str, list[str]] = {
    "alltx": [
        "alltx options --age 19 --relapsed",
        "alltx drug blinatumomab",
        "alltx explain cd19",
    ],
    "options": [
        "alltx options --age 19 --relapsed",
        "alltx options --age 8 --lineage b --remission 1 --mrd 0.5 --cd19 positive",
        "alltx options --age 30 --relapsed --ph Ph+ --format json",
        "alltx options --age 19 --relapse 1 --prior-transplant --regulator all",
        "alltx options --input cohort.csv --format csv > results.csv",
        "alltx options --born 2026-10-20 --as-of 2026-12-01 --relapsed",
        "alltx options --fhir patient-bundle.json --fhir-codes our-lab-codes.toml",
    ],
    "ask": ["alltx ask"],
    "schema": ["alltx schema input", "alltx schema csv", "alltx schema sql"],
    "sql": [
        "alltx sql",
        "alltx sql --dialect postgres --table registry.patients",
        "alltx sql --table \"read_parquet('cohort.parquet')\"",
    ],
    "drug": [
        "alltx drug blinatumomab",
        "alltx drug kymriah --format json",
        "alltx drug car-t",
        "alltx drug aucatzyl --regulator ema",
    ],
    "drugs": ["alltx drugs", "alltx drugs --format json"],
    "data": ["alltx data show", "alltx data check"],
    "data check": ["alltx data check", "alltx data check my-therapies.toml"],
    "data show": ["alltx data show", "alltx data show --format json"],
    "transplant": ["alltx transplant", "alltx transplant --format json"],
    "side-effects": ["alltx side-effects", "alltx side-effects crs"],
    "grade": [
        "alltx grade crs --temperature 39.2 --blood-pressure fluids",
        "alltx grade icans --age 30 --ice 6 --consciousness voice",
    ],
    "grade crs": [
        "alltx grade crs --temperature 39.2 --blood-pressure fluids --oxygen none",
        "alltx grade crs --temperature 102.5F --oxygen low-flow",
    ],
    "grade icans": [
        "alltx grade icans --age 30 --ice 6 --consciousness voice",
        "alltx grade icans --age 5 --capd 12",
    ],
    "compare": [
        "alltx compare",
        "alltx compare kymriah blincyto",
        "alltx compare besponsa --regulator all",
    ],
    "explain": ["alltx explain", "alltx explain mrd"],
    "questions": ["alltx questions", "alltx questions --for blinatumomab"],
}


def epilog(command: str) -> str:
    """The Examples section of a command's help; click keeps a paragraph after \\b as it is."""
    lines = "\n".join(f"  $ {example}" for example in EXAMPLES[command])
    return f"Examples:\n\n\b\n{lines}"
