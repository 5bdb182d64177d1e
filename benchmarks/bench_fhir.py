"""The FHIR Bulk road (issue 43): `alltx options --fhir FOLDER` on hospital-shaped Bulk Data
exports, against two floors measured in the same run on the same files: Python parsing every
line with json.loads (doing nothing else), and DuckDB reading every line as a JSON object
(read_ndjson_objects, counted). Peak memory of each (RSS, from /usr/bin/time).

    python benchmarks/bench_fhir.py                         # 20,000 and 100,000 patients
    python benchmarks/bench_fhir.py --patients 20000 200000

An export is made by `export()` below: per patient a Patient, two routine diagnoses
(hypertension, diabetes), routine labs (glucose, creatinine, haemoglobin); 2% of them an ALL
diagnosis (ICD-10-CM C91.02 or SNOMED CT 277571004, with a clinical status), a CD19 result by a
site's own code (--fhir-codes) and an MRD in %. Resources refer to `Patient/ID`, as a Bulk
export's do. Targets: >= 0.5x the json.loads floor's rate, peak memory <= 256 MiB, flat from
20,000 to 200,000 patients.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
SITE = """format = 1

[[codes]]
system = "http://hospital.example.org/lab"
code = "CD19-BLAST"
display = "CD19 on the blasts, flow cytometry"
fact = "cd19"
source = "a benchmark's site code: https://hospital.example.org/lab/CD19-BLAST"
"""
SCT, ICD10, LOINC = (
    "http://snomed.info/sct",
    "http://hl7.org/fhir/sid/icd-10-cm",
    "http://loinc.org",
)
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
FLOOR = """
import json, pathlib, sys
for file in sorted(pathlib.Path(sys.argv[1]).glob("*.ndjson")):
    with file.open("rb") as lines:
        for line in lines:
            json.loads(line)
"""
DUCKDB_FLOOR = """
import duckdb, sys
print(duckdb.connect().execute(
    f"SELECT count(*) FROM read_ndjson_objects('{sys.argv[1]}/*.ndjson')").fetchone()[0])
"""


def _condition(n: int, k: int, me: str, system: str, code: str, status: str) -> str:
    return json.dumps(
        {
            "resourceType": "Condition",
            "id": f"c{n}-{k}",
            "subject": {"reference": me},
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
            "code": {"coding": [{"system": system, "code": code}]},
            "recordedDate": "2023-05-01",
        }
    )


def _lab(n: int, k: int, me: str, system: str, code: str, value: dict[str, object]) -> str:
    return json.dumps(
        {
            "resourceType": "Observation",
            "id": f"o{n}-{k}",
            "status": "final",
            "subject": {"reference": me},
            "code": {"coding": [{"system": system, "code": code}]},
            "effectiveDateTime": f"2024-0{1 + k % 9}-1{k % 10}T08:30:00+01:00",
            **value,
        }
    )


def export(folder: Path, patients: int, seed: int = 43) -> tuple[int, int]:
    """Write a hospital-shaped Bulk export of `patients` into `folder`; (resources, ALL
    patients)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        kind: (folder / f"{kind}.000.ndjson").open("w")
        for kind in ("Patient", "Condition", "Observation")
    }
    written = with_all = 0
    for n in range(patients):
        me = f"Patient/p{n:07d}"
        born = f"{rng.randint(1930, 2022)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lines = {
            "Patient": [
                json.dumps(
                    {
                        "resourceType": "Patient",
                        "id": f"p{n:07d}",
                        "birthDate": born,
                        "gender": "female",
                    }
                )
            ],
            "Condition": [
                _condition(n, 0, me, SCT, "38341003", "active"),
                _condition(n, 1, me, SCT, "44054006", "resolved"),
            ],
            "Observation": [
                _lab(
                    n,
                    k,
                    me,
                    LOINC,
                    code,
                    {"valueQuantity": {"value": round(rng.uniform(1, 9), 2), "unit": "mmol/L"}},
                )
                for k, code in enumerate(("2345-7", "2160-0", "718-7"))
            ],
        }
        if rng.random() < 0.02:
            with_all += 1
            code = rng.choice([(ICD10, "C91.02"), (SCT, "277571004")])
            lines["Condition"].append(_condition(n, 2, me, *code, "active"))
            lines["Observation"] += [
                _lab(
                    n,
                    3,
                    me,
                    "http://hospital.example.org/lab",
                    "CD19-BLAST",
                    {"valueCodeableConcept": {"coding": [{"system": SCT, "code": "10828004"}]}},
                ),
            ]
        for kind, made in lines.items():
            files[kind].write("".join(line + "\n" for line in made))
            written += len(made)
    for file in files.values():
        file.close()
    return written, with_all


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of a command, by /usr/bin/time."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", *command], capture_output=True, text=True, check=True
    )
    seconds, kib = done.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("bench_fhir needs /usr/bin/time (Debian's package time) for peak memory")
    work = Path(tempfile.mkdtemp(prefix="alltx-bench-fhir-"))
    try:
        site = work / "site.toml"
        site.write_text(SITE)
        print("patients  resources  ALL  road              seconds  resources/s  x floor  peak MiB")
        for patients in args.patients:
            folder = work / f"export-{patients}"
            resources, with_all = export(folder, patients)
            roads = {
                "json.loads floor": [sys.executable, "-c", FLOOR, str(folder)],
                "DuckDB floor": [sys.executable, "-c", DUCKDB_FLOOR, str(folder)],
                "alltx --fhir": [
                    str(BIN / "alltx"),
                    "options",
                    "--fhir",
                    str(folder),
                    "--fhir-codes",
                    str(site),
                    "--as-of",
                    "2026-12-07",
                    "-f",
                    "jsonl",
                    "-q",
                ],
            }
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in roads}
            for _ in range(args.repeat):  # interleaved, the median of each kept
                for name, command in roads.items():
                    runs[name].append(timed(command))
            floor = statistics.median(s for s, _ in runs["json.loads floor"])
            for name, measured in runs.items():
                seconds = statistics.median(s for s, _ in measured)
                peak = max(m for _, m in measured)
                print(
                    f"{patients:>8,}  {resources:>9,}  {with_all:>3}  {name:<16}  "
                    f"{seconds:>7.2f}  {resources / seconds:>11,.0f}  "
                    f"{floor / seconds:>7.2f}  {peak:>8.0f}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
