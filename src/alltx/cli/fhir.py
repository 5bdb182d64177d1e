"""--fhir: the patients' facts from FHIR R4 records (alltx.io.fhir), for `alltx options`. Thin:
read the records, then answer one patient as the flags are answered, or a cohort as --input's
rows are. Loaded only when --fhir is given."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from alltx.cli.base import fail
from alltx.core.facts import FACTS, FactError, Facts, facts_from, flag_of

if TYPE_CHECKING:
    from alltx.io.fhir import Chart
    from alltx.io.input_rows import Row


def charts(path: str, codes: str | None, as_of: date) -> list[Chart]:
    """Every Patient in the records, with the bundled codes and the site's (--fhir-codes)."""
    from alltx.io.fhir import read_records
    from alltx.model.data_files import load_fhir_codes

    table = load_fhir_codes(None if codes is None else Path(codes))
    return read_records(Path(path), table, as_of)


def one_chart(
    chart: Chart, given: dict[str, object], as_of: date
) -> tuple[Facts, dict[str, object]]:
    """One Patient's facts: the records', and the flags' for facts the records do not give
    (a fact given in both is refused: it belongs in one place); each with where it came from."""
    for name in given:
        read = "age" if name == "birth_date" else name
        if read in chart.origins or name in chart.fields:
            came = chart.origins.get(read, "")
            fail(f"{flag_of(name)}: the records give the {FACTS[read].short} ({came}); give it "
                 "in one place")  # fmt: skip
    fields = {**chart.fields, **given}
    try:
        facts = facts_from(fields, as_of)
    except FactError as error:
        where = f"{error.field}: " if error.field else ""
        fail(f"Patient/{chart.id}: {where}{error}")
    return facts.told(chart.origins, chart.unread), fields


def rows(charts: list[Chart]) -> list[Row]:
    """A cohort's rows: one per Patient, its id the Patient's, its line its place among them."""
    from alltx.io.input_rows import RecordRow

    return [RecordRow(number, chart.id, chart.fields, chart.origins, tuple(chart.unread))
            for number, chart in enumerate(charts, 1)]  # fmt: skip
