"""--fhir: the patients' facts from FHIR R4 records (alltx.io.fhir), for `alltx options`. Thin:
read the records, then answer one patient as the flags are answered, or a cohort as --input's
rows are. Loaded only when --fhir is given."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from alltx.cli.base import fail
from alltx.core.facts import FactError, Facts, facts_from

if TYPE_CHECKING:
    from alltx.io.fhir import Chart, Records


def records(path: str, codes: str | None, as_of: date, everyone: bool, quiet: bool) -> Records:
    """The Patients in the records, with the bundled codes and the site's (--fhir-codes); a
    Bulk Data folder is a cohort, streamed for the Patients with an ALL diagnosis unless
    `everyone` (--all-patients), with a progress bar on a terminal unless `quiet`."""
    from alltx.batch.progress import reading
    from alltx.io.fhir import read_records
    from alltx.model.data_files import load_fhir_codes

    table = load_fhir_codes(None if codes is None else Path(codes))
    with reading("Reading the FHIR records", quiet or not Path(path).is_dir()) as progress:
        return read_records(Path(path), table, as_of, not everyone, progress)


def said_apart(found: Records, one: bool) -> None:
    """What belongs to no one Patient and was not read: with one patient's answer (`one`), else
    on stderr, once for the cohort."""
    if one and found.charts:
        found.charts[0].unread = [*found.notes, *found.charts[0].unread]
        return
    for note in found.notes:
        sys.stderr.write(f"alltx: note: in the records, not read: {note}\n")


def one_chart(
    chart: Chart, given: dict[str, object], as_of: date
) -> tuple[Facts, dict[str, object]]:
    """One Patient's facts: the records', and the flags': a flag gives a fact the records do
    not, or corrects one they give (a chart can be wrong), and the answer says it did ("given
    on the command line, over Condition/c1 ..."); each with where it came from. A deceased
    Patient is not answered (one line); records without an ALL diagnosis are, with that said
    before anything else (NO_DIAGNOSIS)."""
    if chart.deceased:
        from alltx.io.fhir import deceased

        fail(deceased(chart), 1)
    records = dict(chart.fields)
    origins = dict(chart.origins)
    for name in given:
        read = "age" if name == "birth_date" else name
        came = origins.get(read)
        if came is None and name not in records:
            continue
        if read == "age":  # an age or a birth date given replaces the records' birth date
            records.pop("birth_date", None)
        origins[read] = f"given on the command line, over the records ({came or 'as read'})"
    fields = {**records, **given}
    try:
        facts = facts_from(fields, as_of)
    except FactError as error:
        where = f"{error.field}: " if error.field else ""
        fail(f"Patient/{chart.id}: {where}{error}")
    caveat = "" if chart.diagnosis else NO_DIAGNOSIS.format(id=chart.id)
    return facts.told(origins, chart.unread, caveat), fields


NO_DIAGNOSIS = (
    "No ALL diagnosis was found in the records of Patient/{id} (no Condition with an ALL code "
    "alltx reads, current or past): what follows assumes ALL, which these records do not show."
)


def with_diagnosis(found: Records, everyone: bool, explain: bool) -> list[Chart]:
    """The Patients a cohort answers: those whose records hold an ALL diagnosis, the others
    (of all the records hold, those a streamed folder did not read too) counted on stderr,
    with how many of them have records naming ALL that are not a diagnosis, which `explain`
    (--explain) names; every one with `everyone` (--all-patients)."""
    kept = found.answered(everyone)
    left = found.patients - len(kept)
    if left and not everyone:
        missed = len(found.missed)
        named = (
            f"; {missed:,} of them have a Condition naming ALL that is not read as a "
            f"diagnosis{'' if explain else ' (--explain names them)'}"
            if missed
            else ""
        )
        sys.stderr.write(
            f"alltx: note: {left:,} of {found.patients:,} Patients have no ALL "
            f"diagnosis in the records and are not answered (--all-patients "
            f"answers them){named}\n"
        )
        if explain:
            for id, why in found.missed.items():
                sys.stderr.write(f"alltx: note: Patient/{id} not answered: {why}\n")
    return kept
