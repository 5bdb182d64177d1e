"""FHIR R4 records in (`alltx options --fhir PATH`): a Bundle (one JSON object) or a Bulk Data
export folder (NDJSON files, one resource a line), read as one row of facts per Patient, each
fact with the resource it came from.

What is read is declared as data (`data/fhir_codes.toml`, a site's own with --fhir-codes:
alltx.model.fhir_codes); everything else stays unknown. An unmapped code, a free-text report,
a resource entered in error, refuted or not final, and another person's condition
(FamilyMemberHistory is never read) set no fact; the chart says which reports were found and
not read. Where two resources give a fact different values, the later (by effective, recorded
or performed date) is taken and the other named; on the same day, or where a date is missing,
the fact is unknown, with both named.

Each resource alltx reads is first checked against fhir.resources' R4B models (the alltx[fhir]
extra, imported on this road only), so a resource of the wrong shape is one line naming it.
Nothing is half-answered: any problem refuses the whole file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from alltx.core.facts import BIRTH_DATE, FACTS, FactError, number_text, parse_fact
from alltx.core.plain import one_line
from alltx.io.input_rows import Failure, KeyTwice, RecordRow, Row, strict_loads
from alltx.model.fhir_codes import SYSTEMS, Answer, Coded, FhirCodes

NEEDED = (
    "--fhir needs fhir.resources, an optional part of alltx: pip install 'alltx[fhir]' (from a "
    "checkout: pip install '.[fhir]')"
)
# Far above a real patient's Bundle; a cohort comes as a Bulk Data folder, read a line at a time.
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
READ = ("Patient", "Condition", "Observation", "Procedure")
# The statuses whose resources are read: a final result, a confirmed condition (or one whose
# verification is not said), a procedure done. Others are named as not read.
FINAL = {"final", "amended", "corrected"}
NOT_CONFIRMED = {"entered-in-error", "refuted", "unconfirmed", "provisional", "differential"}
DONE = {"completed"}
# mCODE's extension on a cancer Condition for its histology (an ICD-O-3 morphology, 9811/3):
# read as another code of the Condition (mCODE STU4, Extension HistologyMorphologyBehavior,
# https://hl7.org/fhir/us/mcode/StructureDefinition-mcode-histology-morphology-behavior.html).
HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"


class FhirError(ValueError):
    """A record alltx cannot read: one line, naming the file or the resource."""


@dataclass
class Chart:
    """One Patient as read: the facts as a row gives them (the flags' spellings), where each
    came from, and the reports found that alltx does not read; the ALL diagnosis the records
    hold (the Condition and code, "" where none), and why the Patient is not to be answered
    at all ("" where they are): deceased."""

    id: str
    fields: dict[str, object] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)
    diagnosis: str = ""
    deceased: str = ""
    # the first Condition naming ALL not read as a diagnosis, and why ("" where none is): a
    # code alltx does not map, refuted or entered in error, recorded after --as-of
    not_diagnosis: str = ""


@dataclass(frozen=True)
class _Said:
    """A value one resource gives a fact."""

    text: str  # as the fact's flag takes it
    value: object  # parsed: values alike compare equal (pos and positive)
    resource: str  # Observation/cd19-a
    code: str  # SNOMED CT 277571004
    day: str | None  # its date (YYYY-MM-DD), None where it has none
    instant: datetime | None = None  # its moment in UTC, where it has a time and a zone

    @property
    def words(self) -> str:
        return f"{self.resource}: {self.code}" + (f", {self.day}" if self.day else "")


def deceased(chart: Chart) -> str:
    """The one line for a Patient the records say has died."""
    return (
        f"Patient/{chart.id} is recorded as deceased ({chart.deceased}); alltx gives no "
        "treatment options for them"
    )


def cohort_rows(charts: list[Chart]) -> list[Row | Failure]:
    """A cohort's rows: one per Patient, its id the Patient's, its line its place among them;
    a deceased Patient's is an error row saying so."""
    return [
        Failure(number, chart.id, deceased(chart))
        if chart.deceased
        else RecordRow(number, chart.id, chart.fields, chart.origins, tuple(chart.unread))
        for number, chart in enumerate(charts, 1)
    ]


@dataclass
class Records:
    """What `read_records` found: the Patients read (charts), what belongs to no one Patient
    and was not read (notes), and how many Patients the records hold (read or not)."""

    charts: list[Chart]
    notes: list[str]
    patients: int
    # the Patients without an ALL diagnosis whose records name ALL, and why it is not one (a
    # streamed folder's too, though it keeps no chart for them): Chart.not_diagnosis
    missed: dict[str, str] = field(default_factory=dict)

    def answered(self, everyone: bool) -> list[Chart]:
        """The Patients a cohort answers: those with an ALL diagnosis, or `everyone`."""
        return self.charts if everyone else [chart for chart in self.charts if chart.diagnosis]


def read_records(
    path: Path,
    codes: FhirCodes,
    as_of: date,
    diagnosed_only: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> Records:
    """Every Patient in `path` (a Bundle file or a Bulk Data folder), in the order found (a
    folder's by id), and what in the file or folder was not read and belongs to no one
    Patient (a file, an entry with no resource type alltx knows), in words.

    A Bulk Data folder is read a resource at a time, each kept only as the facts it gives, so
    memory holds the Patients answered, not the export. With `diagnosed_only` a first pass
    finds the Patients with an ALL diagnosis (a line is parsed only where its raw text holds a
    diagnosis code), and the second parses only the lines that may be about them (_Wanted);
    the others are counted. (20,000 patients took 994 MB held whole: issue 43.) A folder's
    reading calls `progress` with the bytes read so far and all its passes will read."""
    notes: list[str] = []
    reading = _Reading(path, _Index(codes, as_of), by_id=path.is_dir())
    missed: dict[str, str] = {}
    if path.is_dir():
        files = _files(path, notes)
        read = _Read(files, 2 if diagnosed_only else 1, progress)
        wanted = None
        if diagnosed_only:
            found, missed = _diagnosed(files, reading.index, read)
            wanted = _Wanted(found)
        for _, resource in _ndjson_files(files, wanted, read):
            if _typed(resource, notes) and (wanted is None or wanted.kept(resource)):
                _validated(resource)
                reading.read(resource)
        patients = reading.patients if wanted is None else wanted.patients
    else:
        entries = [entry for entry in _entries(path) if _typed(entry[1], notes)]
        for _, resource in entries:
            _validated(resource)
        reading.urls, twice = _urls(entries)
        for patient in (True, False):  # the Patients first: a Bundle is in their order
            if not patient and twice:  # (a Patient given twice is said first: the cause)
                raise FhirError(f"{path}: the fullUrl {twice}; give each entry its own")
            for _, resource in entries:
                if (resource["resourceType"] == "Patient") == patient:
                    reading.read(resource)
        patients = reading.patients
    return _records(reading, patients, notes, missed)


def read_lines(lines: Iterable[str | bytes], codes: FhirCodes, as_of: date) -> Records:
    """The Patients of NDJSON lines (resources of a Bulk export, in any order), read as a Bulk
    folder's are, each line parsed: the lines of some Patients, grouped where the export
    lives (a Spark job's), answered as `--fhir FOLDER --all-patients` reads them."""
    notes: list[str] = []
    reading = _Reading("the lines", _Index(codes, as_of), by_id=True)
    for number, line in enumerate(lines, 1):
        text = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
        if text.strip():
            resource = _json(text, f"line {number}")
            if not isinstance(resource, dict):
                raise FhirError(
                    f"line {number}: not a FHIR resource (a JSON object with a resourceType)"
                )
            resource[_WHERE] = f"line {number}"
            if _typed(resource, notes):
                _validated(resource)
                reading.read(resource)
    return _records(reading, reading.patients, notes, {})


def _records(reading: _Reading, patients: int, notes: list[str], missed: dict[str, str]) -> Records:
    charts = reading.charts(patients)
    missed.update((c.id, c.not_diagnosis) for c in charts if c.not_diagnosis and not c.diagnosis)
    return Records(
        charts,
        [one_line(words) for words in _counted(notes)],
        patients,
        {id: one_line(words) for id, words in sorted(missed.items())},
    )


def patient_of_line(line: str | bytes) -> str | None:
    """The id of the Patient an NDJSON line is about (a Patient's own, or the one its subject
    names as `Patient/ID`), None where it names none (the export's log, an Organization): the
    key a Spark job groups an export's lines by, for `read_lines`. A line that is not a JSON
    object is refused (FhirError), as a folder's is: never left out unsaid."""
    text = line.encode("utf-8", "surrogatepass") if isinstance(line, str) else line
    try:
        resource = json.loads(text)
    except (ValueError, RecursionError):
        resource = _json(text, "a line")  # the line alltx says for it (if json.loads was wrong)
    if not isinstance(resource, dict):
        raise FhirError("a line: not a FHIR resource (a JSON object with a resourceType)")
    if resource.get("resourceType") == "Patient":
        id = resource.get("id")
        return id if isinstance(id, str) else None
    reference = _subject(resource)
    return None if reference is None else _relative_patient(reference)


class _Reading:
    """The Patients of a file or folder as its resources are read, in any order: a resource
    about a Patient not yet read opens their chart, which the Patient fills in when found."""

    def __init__(self, path: Path | str, index: _Index, by_id: bool) -> None:
        self.path, self.index, self.by_id = path, index, by_id  # (a folder's order: by id)
        self.urls: dict[str, dict[str, Any]] = {}  # a Bundle's entries by fullUrl
        self.found: dict[str, Chart] = {}
        self.patients = 0  # Patient resources read
        self.named: dict[str, str] = {}  # a chart opened by a reference, not by its Patient
        self.said: dict[str, dict[str, list[_Said]]] = {}

    def read(self, resource: Mapping[str, Any]) -> None:
        kind = resource.get("resourceType")
        if kind == "Patient":
            id = resource.get("id")
            if not isinstance(id, str):
                raise FhirError(
                    "a Patient has no id; each Patient needs one (it is the record's id)"
                )
            if id in self.found and id not in self.named:
                raise FhirError(f"Patient/{id} is in {self.path} twice; give each Patient once")
            self.patients += 1
            self.named.pop(id, None)
            _patient(resource, self.index.as_of, self.found.setdefault(id, Chart(id)))
        elif kind in ("Condition", "Observation", "Procedure"):  # never FamilyMemberHistory
            id, reference = _patient_of(resource, self.urls)  # (another person's) and the rest
            if id is None:
                raise FhirError(f"{reference} is not a Patient in {self.path}; check the reference")
            if id not in self.found:
                self.found[id] = Chart(id)
                self.named[id] = reference
            said = self.said.setdefault(id, {})
            for fact, value in self.index.facts_of(resource, self.found[id]):
                said.setdefault(fact, []).append(value)

    def charts(self, patients: int) -> list[Chart]:
        if not patients:
            raise FhirError(
                f"{self.path}: no Patient resource; alltx answers for a Patient "
                "and the records that name them"
            )
        for named in self.named.values():
            raise FhirError(f"{named} is not a Patient in {self.path}; check the reference")
        for id, facts in self.said.items():
            for fact, values in facts.items():
                _settle(self.found[id], fact, values)
        for chart in self.found.values():  # outside text (ids, displays): never raw on a terminal
            chart.origins = {fact: one_line(words) for fact, words in chart.origins.items()}
            chart.unread = [one_line(words) for words in chart.unread]
        charts = list(self.found.values())
        return sorted(charts, key=lambda c: c.id) if self.by_id else charts


def _urls(entries: list[tuple[str | None, dict[str, Any]]]) -> tuple[dict[str, Any], str]:
    """A Bundle's resources by fullUrl, and a fullUrl given to two entries, in words ("" where
    none is: a reference to one would name the last, silently)."""
    urls: dict[str, dict[str, Any]] = {}
    twice = ""
    for url, resource in entries:
        if url and url in urls and not twice:
            twice = f"{url} is given to two entries ({_label(urls[url])} and {_label(resource)})"
        if url:
            urls[url] = resource
    return urls, twice


def _diagnosed(files: list[Path], index: _Index, read: _Read) -> tuple[set[str], dict[str, str]]:
    """The Patients (ids) of a Bulk folder with an ALL diagnosis, and those whose Conditions
    name ALL without one, with why (Chart.not_diagnosis). Only the lines whose raw text may
    name ALL (_Index.starts) are parsed: Conditions among them are read as any is (a
    refuted one, or one dated after --as-of, is none)."""
    found: set[str] = set()
    missed: dict[str, str] = {}
    for _, resource in _ndjson_files(files, index, read):
        if resource.get("resourceType") != "Condition":
            continue
        reference = _subject(resource)
        patient = None if reference is None else _relative_patient(reference)
        if patient is not None and patient not in found:
            resource.pop(_WHERE, None)
            _validated(resource)  # of the right shape before it is read (one line)
            chart = Chart(patient)
            for _ in index.facts_of(resource, chart):
                pass
            if chart.diagnosis:
                found.add(patient)
                missed.pop(patient, None)
            elif chart.not_diagnosis:
                missed.setdefault(patient, chart.not_diagnosis)
    return found, missed


class _Wanted:
    """The second pass over a streamed Bulk folder: which lines to parse, by their raw text,
    and which resources to keep, with the Patients counted.

    A line is parsed only where it may be about a wanted Patient: it names `Patient/ID` with a
    wanted ID, or it is a Patient holding a wanted ID as an "id", or its raw text cannot be
    trusted to show that (it does not begin with its resourceType, it writes a \\u or \\/
    escape, or its type is a miswritten one alltx reads, which is then said). A line parsed
    that is not wanted after all is dropped by `kept`, so the prefilter only ever saves time:
    it never changes what is kept. A block of lines is searched at once (`starts`), each line
    alone only where the block holds one that cannot be trusted so. At 100,000 patients
    (benchmarks/bench_fhir.py), parsing every line ran at 0.34x the json.loads floor's rate,
    judging each line in Python 0.56x; a line about another Patient is not parsed, so one that
    is malformed is not refused."""

    # A line's own type is the first key of its object, as Bulk exports write it (Synthea,
    # HAPI): "resourceType" first. Any other line is parsed.
    _LEADING_TYPE = re.compile(rb'\s*\{\s*"resourceType"\s*:\s*"([A-Za-z]+)"')
    _PATIENT_REFERENCE = re.compile(rb'Patient/([^"\\/]+)')
    _ID = re.compile(rb'"id"\s*:\s*"([^"\\]*)"')
    _ESCAPE = re.compile(rb"\\[u/]")
    # in a block (after a newline put before it): each line's type, and the Patients' lines
    _LINE_TYPE = re.compile(rb'\n[ \t\r]*\{[ \t\r]*"resourceType"[ \t\r]*:[ \t\r]*"([A-Za-z]+)"')
    _PATIENT_LINE = re.compile(rb'\n[ \t\r]*\{[ \t\r]*"resourceType"[ \t\r]*:[ \t\r]*"Patient"')

    def __init__(self, ids: set[str]) -> None:
        self.ids = ids
        self.raw = {id.encode() for id in ids}
        # An id JSON may write in another way ("a\\"b") is looked for by parsing every line.
        self.trusted = all(not set(id) & {'"', "\\", "/"} and id.isprintable() for id in ids)
        self.patients = 0  # Patients seen, parsed or not

    def starts(self, block: bytes) -> list[int] | None:
        """The lines of a block to parse (_Lines), found in the block as a whole; None (each
        line by itself) where a line of it cannot be trusted as the block is searched: an
        escape, a line not beginning with its type (or empty), a miswritten type."""
        if not self.trusted or b"\\u" in block or b"\\/" in block:
            return None
        lined = b"\n" + block
        types = self._LINE_TYPE.findall(lined)
        if len(types) != block.count(b"\n") or any(
            kind.decode() not in READ and kind.decode().lower() in _READ_ANY_CASE
            for kind in set(types)
        ):
            return None
        starts = {
            block.rfind(b"\n", 0, match.start()) + 1
            for match in self._PATIENT_REFERENCE.finditer(block)
            if match[1] in self.raw
        }
        patients = types.count(b"Patient")
        if patients:
            for match in self._PATIENT_LINE.finditer(lined):
                at = match.start()  # (the newline before it: the line's offset in the block)
                ids = self._ID.findall(block, at, block.index(b"\n", at))
                if any(id in self.raw for id in ids):
                    starts.add(at)
        # the Patients parsed are counted as they are kept
        parsed = [self._LINE_TYPE.match(lined, at) for at in starts]
        self.patients += patients - sum(m is not None and m[1] == b"Patient" for m in parsed)
        return sorted(starts)

    def __call__(self, line: bytes) -> bool:
        """Whether to parse a line (bytes of a Bulk file)."""
        leading = self._LEADING_TYPE.match(line)
        if not self.trusted or leading is None or self._ESCAPE.search(line):
            return True
        kind = leading[1].decode()
        if kind not in READ and kind.lower() in _READ_ANY_CASE:
            return True  # to be said as not read (_typed)
        if kind == "Patient":
            if any(id in self.raw for id in self._ID.findall(line)):
                return True
            self.patients += 1
            return False
        return any(id in self.raw for id in self._PATIENT_REFERENCE.findall(line))

    def kept(self, resource: Mapping[str, Any]) -> bool:
        """Whether a parsed resource is kept: a wanted Patient, or one about one."""
        if resource.get("resourceType") == "Patient":
            self.patients += 1
            return resource.get("id") in self.ids
        reference = _subject(resource)
        return reference is not None and _relative_patient(reference) in self.ids


def _subject(resource: Mapping[str, Any]) -> str | None:
    """The reference a resource's subject gives, where it gives one as text."""
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    return reference if isinstance(reference, str) else None


def _relative_patient(reference: str) -> str | None:
    """The id a `Patient/ID` reference names (a Bulk file's references are relative), else
    None: RelatedPatient/ID, another server's address."""
    if ":" in reference:
        return None
    kind, _, found = reference.split("/_history/")[0].partition("/")
    return found if kind == "Patient" and found and "/" not in found else None


# --- reading the file --------------------------------------------------------------------------


# The files of a Bulk Data folder alltx reads: NDJSON, gzipped or not, in any case.
BULK_FILES = (".ndjson", ".ndjson.gz")


def _files(folder: Path, notes: list[str]) -> list[Path]:
    """A Bulk Data folder's files alltx reads; what is in it and not read (a FIFO, a folder, a
    link to nothing), said in `notes`."""
    files = []
    for found in sorted(folder.iterdir()):
        if not found.name.lower().endswith(BULK_FILES):
            continue
        try:
            regular = found.is_file()
        except OSError:  # a symbolic link that loops
            regular = False
        if regular:
            files.append(found)
        else:
            what = (
                "a folder"
                if found.is_dir()
                else "not a regular file (a FIFO, or a link to nothing)"
            )
            notes.append(f"{found.name}: {what}, not read")
    if not files:
        raise FhirError(
            f"{folder}: no .ndjson file here; a Bulk Data export folder holds a "
            "file of resources per type (Patient.ndjson ...)"
        )
    return files


def _entries(path: Path) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """Each resource of a Bundle file with its fullUrl."""
    bundle = _json(_text(path), str(path))
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        kind = bundle.get("resourceType") if isinstance(bundle, dict) else None
        said = f"resourceType {kind!r}" if isinstance(kind, str) else "no resourceType"
        raise FhirError(
            f"{path}: a FHIR Bundle (resourceType Bundle) or a Bulk Data folder is read, not {said}"
        )
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError(f"{path}: the Bundle's entry must be a list of entries")
    for number, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise FhirError(f"{path}: entry {number} has no resource; check the Bundle")
        url = entry.get("fullUrl")
        yield (url if isinstance(url, str) else None), resource


class _Read:
    """How far the reading of a folder's files has come, for a progress bar: the bytes read
    (on disk: a gzipped file's compressed), of all `passes` will read."""

    def __init__(
        self, files: list[Path], passes: int, progress: Callable[[int, int], object] | None
    ) -> None:
        self.progress = progress
        self.total = passes * sum(file.stat().st_size for file in files) if progress else 0
        self.done = 0

    def advance(self, size: int) -> None:
        if self.progress is not None:
            self.done += size
            self.progress(self.done, self.total)


class _Lines(Protocol):
    """Which lines of a Bulk file to parse, by their raw bytes: in a block of whole lines, the
    offsets where they begin (None: judge each line of this block alone)."""

    def starts(self, block: bytes) -> list[int] | None: ...

    def __call__(self, line: bytes) -> bool: ...


def _ndjson_files(
    files: list[Path], wanted: _Lines | None, read: _Read
) -> Iterator[tuple[None, dict[str, Any]]]:
    """Each resource of a folder's files; with `wanted`, only of the lines it picks."""
    for file in files:
        yield from _ndjson(file, wanted, read)


BLOCK = 1 << 20  # bytes read at a time: a prefilter searches a block, not each line, in C


def _ndjson(
    file: Path, wanted: _Lines | None, read: _Read
) -> Iterator[tuple[None, dict[str, Any]]]:
    import gzip

    try:
        with file.open("rb") as raw:
            lines = gzip.GzipFile(fileobj=raw) if file.name.lower().endswith(".gz") else raw
            number = told = 0  # lines before the block; bytes of the file told of
            rest = b""
            while True:
                data = lines.read(BLOCK)
                if data:
                    data = rest + data
                    cut = data.rfind(b"\n") + 1
                    block, rest = data[:cut], data[cut:]
                elif rest:
                    block, rest = rest + b"\n", b""  # the last line, with no newline
                else:
                    break
                counted = 0  # the block's offset its lines are counted to, in `number`
                for at, line in _picked(block, wanted):
                    number += block.count(b"\n", counted, at)
                    counted = at
                    where = number + 1
                    resource = _json(line, f"{file} line {where}")
                    if not isinstance(resource, dict):
                        raise FhirError(
                            f"{file} line {where}: not a FHIR resource (a JSON "
                            "object with a resourceType)"
                        )
                    resource.setdefault(_WHERE, f"{file.name} line {where}")
                    yield None, resource
                number += block.count(b"\n", counted)
                read.advance(raw.tell() - told)
                told = raw.tell()
    except (OSError, EOFError) as error:  # (a gzip file cut short, or not gzip)
        said = getattr(error, "strerror", None) or error
        raise FhirError(f"{file}: cannot read it: {said}") from None


def _picked(block: bytes, wanted: _Lines | None) -> Iterator[tuple[int, bytes]]:
    """The lines of a block (whole lines) to parse, each with its offset, in order."""
    starts = None if wanted is None else wanted.starts(block)
    if starts is None:
        at = 0
        for line in block.split(b"\n")[:-1]:
            if line.strip() and (wanted is None or wanted(line)):
                yield at, line
            at += len(line) + 1
        return
    for at in starts:
        line = block[at : block.index(b"\n", at)]
        if line.strip():
            yield at, line


_WHERE = "\x00alltx-where"  # a key no resource has: where an NDJSON line was read
_READ_ANY_CASE = {name.lower() for name in READ}  # (made once: _typed sees every resource)


def _typed(resource: dict[str, Any], notes: list[str]) -> bool:
    """Whether an entry has a resource type at all (a text); one that has none, or a type
    alltx reads miswritten (condition), is said in `notes`. The types alltx does not read
    (Encounter ...) pass, to be skipped where they are read."""
    where = resource.pop(_WHERE, None) or _label(resource)
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        said = "no resourceType" if kind is None else f"resourceType {kind!r}, not a name"
        notes.append(f"{where}: {said}, not read")
        return False
    if kind not in READ and kind.lower() in _READ_ANY_CASE:
        notes.append(
            f"{where}: resourceType {kind!r} is not FHIR's spelling of a type alltx reads, not read"
        )
        return False
    return True


def _counted(notes: list[str]) -> list[str]:
    """Notes, each once: one said of many lines of a file (a Bulk export's log) is said once,
    with how many."""
    first: dict[str, str] = {}  # by the file and what is said, the first note of them
    counts: dict[str, int] = {}
    for note in notes:
        key = (
            note.split(" line ", 1)[0] + ": " + note.split(": ", 1)[-1]
            if " line " in note
            else note
        )
        first.setdefault(key, note)
        counts[key] = counts.get(key, 0) + 1
    return [first[key] if n == 1 else f"{key} ({n} lines)" for key, n in counts.items()]


def _text(path: Path) -> bytes:
    try:
        if not path.is_file():
            said = "no such file or folder" if not path.exists() else "not a regular file"
            raise FhirError(f"{path}: {said}; --fhir reads a Bundle file or a Bulk Data folder")
        with path.open("rb") as file:
            data = file.read(MAX_BUNDLE_BYTES + 1)
    except OSError as error:
        raise FhirError(f"{path}: cannot read it: {error.strerror or error}") from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise FhirError(
            f"{path}: over {MAX_BUNDLE_BYTES // 1024 // 1024} MiB; for a cohort, "
            "export it as Bulk Data (NDJSON) and give the folder"
        )
    return data


def _json(data: bytes, where: str) -> Any:
    """The JSON, read as a row's is (alltx.io.input_rows.strict_loads): a key given twice is
    refused, not read as its last value (two birthDates would give either age)."""
    try:
        return strict_loads(data.decode("utf-8-sig"))  # a byte-order mark before it: skipped
    except UnicodeDecodeError:
        raise FhirError(f"{where}: not UTF-8 text; FHIR JSON is UTF-8") from None
    except json.JSONDecodeError as error:
        raise FhirError(
            f"{where}: not JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except KeyTwice as twice:
        raise FhirError(
            f"{where}: the key {twice.key!r} is given twice in an object; give each once"
        ) from None
    except RecursionError:
        raise FhirError(f"{where}: nested too deeply to be a FHIR resource") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise FhirError(f"{where}: a number with thousands of digits; check the file") from None


def _label(resource: Mapping[str, Any]) -> str:
    kind, id = resource.get("resourceType"), resource.get("id")
    kind = kind if isinstance(kind, str) else "resource"
    return f"{kind}/{id}" if isinstance(id, str) else f"{kind} (no id)"


def _validated(resource: Mapping[str, Any]) -> None:
    """A resource alltx reads, against its FHIR R4B model: the first problem, one line."""
    kind = resource.get("resourceType")
    if kind not in READ:
        return
    try:
        from fhir.resources.R4B import get_fhir_model_class
        from pydantic import ValidationError
    except ImportError:
        raise FhirError(NEEDED) from None
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except RecursionError:  # extensions nested 150 deep: a traceback, where one line is due
        raise FhirError(
            f"{_label(resource)}: nested too deeply to be a FHIR resource; fix the resource"
        ) from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the resource"
        # an element of the wrong kind (a text where a CodeableConcept belongs) is, in
        # fhir.resources' words, "Invalid JSON"
        said = (
            "not of the kind FHIR R4 gives this element"
            if first["type"] == "json_invalid"
            else first["msg"]
        )
        raise FhirError(
            f"{_label(resource)}: {where}: {said} (FHIR R4); fix the resource"
        ) from None


# --- what each resource says -----------------------------------------------------------------


def _patient(resource: Mapping[str, Any], as_of: date, chart: Chart) -> None:
    """What a Patient says, into their chart (its other resources may have been read first:
    what the Patient leaves unread is said before theirs)."""
    id = chart.id
    died = resource.get("deceasedDateTime")
    if resource.get("deceasedBoolean") is True:
        chart.deceased = "deceasedBoolean true"
    elif isinstance(died, str) and died[:10] <= as_of.isoformat():  # (after --as-of: alive then)
        chart.deceased = f"deceasedDateTime {died[:10]}"
    born = resource.get("birthDate")
    if isinstance(born, str):
        if len(born) == 10:
            chart.fields[BIRTH_DATE] = born
            chart.origins["age"] = f"from Patient/{id} birthDate {born}, at {as_of.isoformat()}"
        else:
            chart.unread.insert(
                0, f"Patient/{id}: birthDate {born} is not a whole date, so the age is not read"
            )


def _patient_of(resource: Mapping[str, Any], urls: Mapping[str, Any]) -> tuple[str | None, str]:
    """The Patient a resource is about (its subject), by `Patient/ID` or a Bundle's fullUrl:
    their id (None where it names no Patient), and the reference in words."""
    label = _label(resource)
    reference = _subject(resource)
    if reference is None:
        raise FhirError(f"{label}: no subject reference; it must name its Patient")
    target = urls.get(reference)
    if isinstance(target, dict) and target.get("resourceType") == "Patient":
        found = target.get("id")
    else:  # Patient/ID exactly: not RelatedPatient/ID, nor another server's, nor a urn
        found = _relative_patient(reference)
    return (found if isinstance(found, str) else None), f"{label}: subject {reference!r}"


# Facts that say how the leukemia is today: a Condition says them only while it is current at
# --as-of (_not_current); one resolved, in remission by its status, abated or not yet begun
# says nothing of today (a C91.02 "in relapse" resolved in 2018 was read as a relapse now).
# Its other codes (the lineage) hold for the disease whatever its status.
NOW = frozenset({"relapsed", "remission", "refractory"})
CURRENT = {"active", "recurrence", "relapse"}  # Condition.clinicalStatus: the disease is there


class _Index:
    """The codes file as look-ups by (system, code), and the day the records are read at."""

    def __init__(self, codes: FhirCodes, as_of: date) -> None:
        self.as_of = as_of
        self.codes: dict[tuple[str, str], list[Coded]] = {}
        for coded in codes.codes:
            self.codes.setdefault((coded.system, coded.code), []).append(coded)
        self.answers: dict[tuple[str, str], Answer] = {(a.system, a.code): a for a in codes.answers}
        # The diagnosis codes as a JSON line may write them ("9811/3", or "9811\\/3"): a line
        # without one, nor what _all_looking finds, nor a \\u escape (which may hide either),
        # names no ALL (_diagnosed's first pass parses only the others).
        written = {json.dumps(c.code)[1:-1] for c in codes.codes if c.diagnosis}
        written |= {json.dumps(code)[1:-1] for _, code in UNMAPPED_ALL}
        forms = {form for code in written for form in (code, code.replace("/", "\\/"))}
        self._codes_text = re.compile(
            b'"(?:' + b"|".join(re.escape(f.encode()) for f in sorted(forms)) + b')"'
        )

    def starts(self, block: bytes) -> list[int]:
        """The lines of a block whose raw text may name ALL (_Lines). Searched for in the
        block, each word by itself: a pattern holding the words too (case-insensitive) took 10
        times the codes' alone, and a search line by line, in Python, more again."""
        found = [match.start() for match in self._codes_text.finditer(block)]
        for word in (b"\\u", *_ALL_WORDS):
            at = block.find(word)
            while at >= 0:
                found.append(at)
                at = block.find(word, at + 1)
        return sorted({block.rfind(b"\n", 0, at) + 1 for at in found})

    def __call__(self, line: bytes) -> bool:
        return bool(self.starts(line + b"\n"))

    def facts_of(self, resource: Mapping[str, Any], chart: Chart) -> Iterator[tuple[str, _Said]]:
        """The facts a resource sets, each as _Said; what it holds and alltx does not read, in
        the chart's `unread`; an ALL diagnosis it records, as the chart's `diagnosis`."""
        kind, label, unread = resource["resourceType"], _label(resource), chart.unread
        matched = self._matched(resource.get("code"))
        if kind == "Condition":  # its histology is a code of the Condition too
            matched += self._matched(*_histology(resource))
        status: list[tuple[tuple[str, str, str], Coded]] = []
        if kind == "Condition" and matched:  # the status of the leukemia, not of another disease
            status = self._matched(resource.get("clinicalStatus"))
        free = kind == "Observation" and isinstance(resource.get("valueString"), str)
        if not matched:
            if kind == "Condition" and (named := _all_looking(resource)):
                unread.append(
                    f"{label} ({named}): names ALL by a code alltx does not map (no "
                    "source it holds maps it), so it sets nothing"
                )
                chart.not_diagnosis = chart.not_diagnosis or unread[-1]
            if free:
                unread.append(
                    f"{label} ({_named(_codings(resource.get('code')))}): a free-text report"
                )
            return
        why = _not_read(resource)
        day, instant = _moment(resource)
        if not why and day is not None and day > self.as_of.isoformat():  # not known then
            why = f"dated {day}, after {self.as_of.isoformat()} (--as-of), so not read"
        if why:
            unread.append(f"{label} ({_named([matched[0][0]])}): {why}")
            if kind == "Condition" and any(coded.diagnosis for _, coded in matched):
                chart.not_diagnosis = chart.not_diagnosis or unread[-1]
            return
        if kind == "Condition":
            named = next((_named([c]) for c, coded in matched if coded.diagnosis), "")
            if named and not chart.diagnosis:
                chart.diagnosis = f"{label}: {named}"
            gone = _not_current(resource, self.as_of)
            if gone:
                for coding, coded in matched:
                    if coded.fact in NOW:
                        unread.append(
                            f"{label} ({_named([coding])}): {gone}, so it says "
                            f"nothing of the {FACTS[coded.fact].short} now"
                        )
                matched = [(c, coded) for c, coded in matched if coded.fact not in NOW]
                if not gone.startswith("clinicalStatus"):  # abated, or not yet: nor its status
                    status = []
        for coding, coded in matched + status:
            code = _named([coding])
            try:
                text = coded.value if coded.value is not None else self._value(resource, coded.fact)
            except _Unread as unit:
                unread.append(
                    f"{label} ({code}): {unit}, so the {FACTS[coded.fact].short} stays unknown"
                )
                continue
            if text is None:
                absent = resource.get("dataAbsentReason")  # "not known", as the record says
                short = FACTS[coded.fact].short
                why = (
                    f"no value ({_named(_codings(absent))}), so the {short} stays unknown"
                    if absent
                    else f"its value is not one alltx reads for {short}"
                )
                unread.append(f"{label} ({code}): {why}")
                continue
            try:
                value = parse_fact(coded.fact, text)
            except FactError as error:
                unread.append(f"{label} ({code}): {FACTS[coded.fact].short} {error}")
                continue
            yield coded.fact, _Said(text, value, label, code, day, instant)

    def _matched(self, *concepts: Any) -> list[tuple[tuple[str, str, str], Coded]]:
        return [
            (coding, coded)
            for coding in _codings(*concepts)
            for coded in self.codes.get(coding[:2], ())
        ]

    def _value(self, resource: Mapping[str, Any], fact: str) -> str | None:
        """An Observation's own value as the fact's flag takes it; None where it has none alltx
        reads (free text never is): a coded value, a yes/no, a quantity (a percent for MRD),
        a whole number; else its interpretation (POS, NEG) where the codes file reads one."""
        form = FACTS[fact].form
        if "valueCodeableConcept" in resource:
            return self._answer(resource["valueCodeableConcept"])
        if isinstance(resource.get("valueBoolean"), bool):
            return "yes" if resource["valueBoolean"] else "no"
        quantity = resource.get("valueQuantity")
        if isinstance(quantity, dict) and "value" in quantity:
            number = _quantity(quantity, form)
            comparator = quantity.get("comparator")
            if comparator == "<" and form == "percent":  # under the test's reach: <0.01%
                return f"<{number}%"
            if comparator is not None:  # <=, >=, >: a bound alltx does not read as a value
                return None
            return number
        if isinstance(resource.get("valueInteger"), int) and form == "count":
            return str(resource["valueInteger"])
        interpretation = resource.get("interpretation")
        return self._answer(*interpretation) if isinstance(interpretation, list) else None

    def _answer(self, *concepts: Any) -> str | None:
        """The word the first coded answer alltx reads stands for."""
        for coding in _codings(*concepts):
            answer = self.answers.get(coding[:2])
            if answer is not None:
                return answer.means
        return None


class _Unread(Exception):
    """Why an Observation's value is not read (a unit alltx does not know), in words."""


# UCUM units (http://unitsofmeasure.org) an age is read in, as the age's own spellings write
# them: years, months, weeks, days (issue 43, 4: "30 mo" was read as 30 years).
AGE_UNITS = {"a": "", "mo": "m", "wk": "w", "d": "d"}
# A percent of cells: "%", or the fraction "1" (0.001 of the cells is 0.1%).
PERCENT_UNITS = {"%": 0, "1": 2}  # the power of ten that makes it a percent


def _quantity(quantity: Mapping[str, Any], form: str) -> str:
    """A valueQuantity as the fact's spellings write it, from the number's text as the JSON
    wrote it (facts.number_text), in its UCUM unit (the code, else the unit as written); a unit
    the fact is not read in raises _Unread, naming it."""
    number = number_text(quantity["value"])
    unit = quantity.get("code") or quantity.get("unit")
    if form == "percent":
        if unit not in PERCENT_UNITS:
            raise _Unread(f"MRD in {unit!r}, not a percent of cells (% or the fraction 1)")
        shift = PERCENT_UNITS[str(unit)]
        return format(Decimal(number).scaleb(shift), "f") if shift else number
    if form == "age":
        if unit not in AGE_UNITS:
            raise _Unread(f"an age in {unit!r}, which is not a, mo, wk or d (UCUM)")
        return number + AGE_UNITS[str(unit)]
    if form == "count" and isinstance(quantity["value"], float) and quantity["value"].is_integer():
        return str(int(quantity["value"]))  # a count written 2.0 is 2
    return number


# A Condition that names ALL by a code the codes file does not map: said, never silently
# dropped (issue 43, 7). SNOMED CT 91857003 (acute lymphoid leukemia) has no citable source
# that names it cleanly (docs/fhir.md); other codes by the words of their name.
UNMAPPED_ALL = {("http://snomed.info/sct", "91857003")}
# A name that looks like ALL: "lymphoblastic" as it is written in a sentence, a title or
# capitals, or ALL as a word; the first pass looks for these words in the raw line.
_ALL_LOOKING = r"[lL]ymphoblastic|LYMPHOBLASTIC|\bALL\b"
_ALL_WORDS = (b"ymphoblastic", b"YMPHOBLASTIC", b"ALL")


def _all_looking(condition: Mapping[str, Any]) -> str:
    """The first code of a Condition that looks like ALL (UNMAPPED_ALL, or a name _ALL_LOOKING
    finds), by its system's name; "" where none does."""
    for coding in _codings(condition.get("code"), *_histology(condition)):
        system, code, display = coding
        if (system, code) in UNMAPPED_ALL or re.search(_ALL_LOOKING, display):
            return _named([coding])
    return ""


def _histology(condition: Mapping[str, Any]) -> list[Any]:
    """The histology a Condition's mCODE extension gives (CodeableConcepts; none where it has
    no such extension)."""
    extensions = condition.get("extension")
    return [
        e.get("valueCodeableConcept")
        for e in extensions or ()
        if isinstance(e, dict) and e.get("url") == HISTOLOGY
    ]


def _codings(*concepts: Any) -> list[tuple[str, str, str]]:
    """(system, code, display) of each coding of CodeableConcepts (None and others skipped)."""
    found = []
    for concept in concepts:
        codings = concept.get("coding") if isinstance(concept, dict) else None
        for coding in codings if isinstance(codings, list) else []:
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                display = coding.get("display")
                found.append((system, code, display if isinstance(display, str) else ""))
    return found


def _named(codings: list[tuple[str, str, str]]) -> str:
    """The first code by its system's name, with its display: SNOMED CT 277571004 B-cell ..."""
    if not codings:
        return "no code"
    system, code, display = codings[0]
    return f"{SYSTEMS.get(system, system)} {code}" + (f" {display}" if display else "")


def _not_read(resource: Mapping[str, Any]) -> str | None:
    """Why a resource with a code alltx reads is not read (its status), or None."""
    kind = resource["resourceType"]
    if kind == "Observation" and resource.get("status") not in FINAL:
        return f"status {resource.get('status')}"
    if kind == "Procedure" and resource.get("status") not in DONE:
        return f"status {resource.get('status')}"
    if kind == "Condition":
        verified = {code for _, code, _ in _codings(resource.get("verificationStatus"))}
        if verified & NOT_CONFIRMED:
            return f"verification {', '.join(sorted(verified & NOT_CONFIRMED))}"
    return None


def _not_current(condition: Mapping[str, Any], as_of: date) -> str | None:
    """Why a Condition does not say how the disease is at `as_of` (None where it does): its
    clinicalStatus is not one of CURRENT (resolved, inactive, remission), it abated on or
    before that day, or it began after it. One without a clinicalStatus (FHIR R4 requires one
    only on a problem-list item: an encounter's diagnosis may have none) stands as recorded."""
    day = as_of.isoformat()
    statuses = [code for _, code, _ in _codings(condition.get("clinicalStatus"))]
    if statuses and not set(statuses) & CURRENT:
        return f"clinicalStatus {statuses[0]}"
    period = condition.get("abatementPeriod")
    ended = condition.get("abatementDateTime") or (
        period.get("end") if isinstance(period, dict) else None
    )
    if isinstance(ended, str) and ended[:10] <= day:
        return f"abated {ended[:10]}"
    for key in ("abatementBoolean", "abatementAge", "abatementRange", "abatementString"):
        if condition.get(key) not in (None, False):
            return f"{key} given (abated)"
    onset = condition.get("onsetDateTime")
    if isinstance(onset, str) and onset[:10] > day:
        return f"onset {onset[:10]}, after {day}"
    return None


def _moment(resource: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    """When a resource speaks of (observed, recorded or performed): its day (a whole date, as
    written) and, where it has a time with a zone, its instant in UTC, so that two results of
    one day compare by the moment, whatever zone each was written in."""
    keys = (
        "effectiveDateTime",
        "effectiveInstant",
        "performedDateTime",
        "recordedDate",
        "onsetDateTime",
        "issued",
        "effectivePeriod",
        "performedPeriod",
        "onsetPeriod",
    )
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):  # a Period: its start
            value = value.get("start")
        if not isinstance(value, str):
            continue
        if len(value) < 10:
            return None, None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value[:10], None
        if moment.tzinfo is None or len(value) == 10:
            return value[:10], None
        return value[:10], moment.astimezone(UTC)  # the day as written; the moment in UTC
    return None, None


def _settle(chart: Chart, fact: str, said: list[_Said]) -> None:
    """One value for a fact the records give: theirs where they agree; where they differ, the
    latest, the others named; unknown on the same day or where a date is missing."""
    said = sorted(said, key=_when)
    if len({s.value for s in said}) == 1:
        latest = said[-1]
        chart.fields[fact] = latest.text
        more = f" (and {len(said) - 1} more saying the same)" if len(said) > 1 else ""
        chart.origins[fact] = f"from {latest.words}{more}"
        return
    latest = said[-1]
    others = [s for s in said if s.value != latest.value]
    if latest.day is None or any(not _before(s, latest) for s in others):
        named = "; ".join(f"{s.words} says {s.text}" for s in said)
        chart.unread.append(
            f"{FACTS[fact].short}: the records disagree ({named}) with no later "
            "one, so it is unknown"
        )
        return
    chart.fields[fact] = latest.text
    earlier = "; ".join(f"{s.words} said {s.text}" for s in others)
    chart.origins[fact] = f"from {latest.words}, the latest (earlier, {earlier})"


def _when(said: _Said) -> tuple[str, datetime]:
    """The order of results in time: by the moment where there is one (a day's results without
    one first), by the day as written otherwise."""
    moment = said.instant or datetime.min.replace(tzinfo=UTC)
    return (moment.date().isoformat() if said.instant else said.day or ""), moment


def _before(earlier: _Said, later: _Said) -> bool:
    """Whether a result is surely before another: both with a moment, an earlier one (their
    zones taken into account); else an earlier day as written. On one day, a result without a
    time is before none of that day, nor after."""
    if earlier.instant is not None and later.instant is not None:
        return earlier.instant < later.instant
    if earlier.day is None or later.day is None:
        return False
    return earlier.day < later.day
