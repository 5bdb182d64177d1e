"""alltx: which immunotherapies for ALL fit a patient's facts, under each regulator's
authorisations its data lists, and why.

From Python: `alltx.options(age=19, relapsed=True)` is the dict `alltx options --age 19
--relapsed --format json` prints, `alltx.cohort(rows)` yields the records `--format jsonl`
writes, and `alltx.fhir_cohort(lines)` those of a Bulk export's NDJSON lines (alltx.api).
Imported only when called: the command line starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from alltx.api import cohort, fhir_cohort, fhir_patient, options


def __getattr__(name: str) -> Any:
    if name in ("options", "cohort", "fhir_cohort", "fhir_patient"):
        from alltx import api

        return getattr(api, name)
    raise AttributeError(f"module 'alltx' has no attribute {name!r}")


__all__ = ["__version__", "cohort", "fhir_cohort", "fhir_patient", "options"]
