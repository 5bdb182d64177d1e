"""A cohort's answer at a glance (`--format text`): the first patients' statuses, and counts
per therapy and status over them all; what the text view of a cohort draws."""

from __future__ import annotations

from dataclasses import dataclass, field

from alltx.io.input_rows import Failure, Row

SUMMARY_ROWS = 50  # the summary lists this many patients; the counts cover them all

Brief = tuple[str, bool]  # a status, and whether a caution applies


@dataclass
class Summary:
    """A batch at a glance: the first rows, and counts per therapy and status."""

    therapies: list[str]
    referrals: list[str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    advice: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: list[tuple[Row, list[Brief]] | Failure] = field(default_factory=list)
    total: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        statuses, advice = (
            ("eligible", "possible", "not_eligible"),
            ("recommended", "possible", "not_indicated"),
        )
        self.counts = {t: dict.fromkeys(statuses, 0) for t in self.therapies}
        self.advice = {r: dict.fromkeys(advice, 0) for r in self.referrals}

    def add(self, row: Row | None, record: list[Brief] | Failure) -> None:
        self.total += 1
        if isinstance(record, Failure):
            self.failed += 1
            if len(self.rows) < SUMMARY_ROWS:
                self.rows.append(record)
            return
        if len(self.rows) < SUMMARY_ROWS and row is not None:
            self.rows.append((row, record))
        count = len(self.therapies)
        for therapy, (status, _) in zip(self.therapies, record[:count], strict=True):
            self.counts[therapy][status] += 1
        for referral, (status, _) in zip(self.referrals, record[count:], strict=True):
            self.advice[referral][status] += 1
