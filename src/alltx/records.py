"""Batch records as text: one JSON Lines record or one CSV row per input row.

Every record names the data release and the contract version, so a results file read a year
later still says which labels it reflects. The shapes are defined in `alltx.contract`.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from alltx.batch import Answer, json_scalar
from alltx.catalog import Catalog
from alltx.output import VERSION
from alltx.rows import Failure, utf8

# Characters that JSON leaves raw but many line readers (Python's splitlines among them) take
# for a line break; escaped, so a record is always one line whatever its id or message holds.
_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _text(value: object) -> str:
    """An id or a message as JSON, on one line and writable as UTF-8."""
    if value.__class__ is str:  # most ids: the C string encoder, without json.dumps' set-up
        text = encode_basestring(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    if text.isascii():
        return text
    if utf8(text) is text:
        return text.translate(_BREAKS)
    return json.dumps(value)  # a lone surrogate: every non-ASCII character escaped


class JsonRecords:
    """JSON Lines records for one data release."""

    def __init__(self, catalog: Catalog) -> None:
        release = catalog.info.release
        self.tail = f'"data_release": {json.dumps(release)}, "version": {VERSION}}}'

    def answer(self, answer: Answer, end: str = "") -> str:
        """The record, then `end`: written as pieces and joined once (this runs per row)."""
        out = ['{"id": ', _text(answer.id), ', "line": ', json_scalar(answer.line), ', "patient": ']
        answer.write_patient(out)
        out.append(', "options": ')
        answer.write_options(out)
        out.append(', "referrals": ')
        answer.write_referrals(out)
        out += (", ", self.tail, end)
        return "".join(out)

    def failure(self, failure: Failure) -> str:
        return (
            f'{{"id": {_text(failure.id)}, "line": {json_scalar(failure.line)}, '
            f'"error": {_text(failure.message)}, '
            f'"field": {_text(failure.field)}, ' + self.tail
        )


class CsvRecords:
    """CSV rows: id and line, a status column per therapy and per referral (`referral_<id>`),
    the facts that would decide each `possible` one (space-separated), the conditions of each
    therapy's cautions that apply (`cautions_<id>`, joined by `; `), any error, the data
    release and the contract version."""

    def __init__(self, catalog: Catalog) -> None:
        self.therapies = [t.id for t in catalog.therapies]
        self.columns = [*self.therapies, *(f"referral_{r.id}" for r in catalog.referrals)]
        self.release = catalog.info.release

    def header(self) -> list[str]:
        missing = [f"missing_{column}" for column in self.columns]
        cautions = [f"cautions_{therapy}" for therapy in self.therapies]
        return ["id", "line", *self.columns, *missing, *cautions, "error", "data_release",
                "version"]  # fmt: skip

    def answer(self, answer: Answer) -> list[Any]:
        verdicts = answer.verdicts + answer.referrals
        statuses = [verdict.status for verdict in verdicts]
        missing = [" ".join(verdict.missing) for verdict in verdicts]
        cautions = ["; ".join(verdict.cautions_apply) for verdict in answer.verdicts]
        return [_cell(answer.id), _cell(answer.line), *statuses, *missing, *cautions, "",
                self.release, VERSION]  # fmt: skip

    def failure(self, failure: Failure) -> list[Any]:
        blanks = [""] * (2 * len(self.columns) + len(self.therapies))
        message = utf8(failure.message)
        return [_cell(failure.id), _cell(failure.line), *blanks, message, self.release,
                VERSION]  # fmt: skip


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        return utf8(json.dumps(value, ensure_ascii=False))
    return utf8(value) if isinstance(value, str) else value
