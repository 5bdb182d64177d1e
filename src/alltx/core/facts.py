"""Patient facts: what the user told us, parsed, checked for contradictions and completed.

A fact the user did not give is `None` (unknown), never false. Everything a fact implies about
another fact is derived here, once, so the rules only ever see one consistent picture.

Each fact is declared once, in `FACTS`: its name, the form of its value (and so its parser,
its schema and its SQL column), its flag and help, its words, and the rule facts it decides.
The command-line options, the row reader, the JSON Schemas, the SQL table and the rules' fact
registry are all derived from that table; adding a fact is one entry there (and its tests).
What facts imply about each other is declared once too (`IMPLICATIONS`, `NOT_AFTER`), and both
`derive` and the SQL compiler (`alltx.sql`) read those declarations.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar, Literal

from alltx.core.rules import Counted as Counted  # views name these from here (they do not
from alltx.core.rules import Span as Span  # import the rules)

MAX_AGE_YEARS = 130
MAX_COUNT = 10**15 - 1  # no relapse or remission number is longer: more is a mistake

Kind = Literal["bool", "count", "number", "category"]  # what the rules compare
Form = Literal["age", "bool", "count", "percent", "category"]  # how a value is given
Value = bool | int | float | str | None  # a fact's value as JSON writes it


class FactError(ValueError):
    """A fact value that cannot be right (bad format, impossible value, contradiction)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RuleFact:
    """A fact the rules can test; `source` is the input fact that decides it, and `of` how
    (None: it is the input fact's value as it is)."""

    name: str
    kind: Kind
    source: str = ""  # filled in from the fact that declares it
    unit: str = ""
    values: tuple[str, ...] = ()
    of: Callable[[Any], object] | None = field(default=None, compare=False, repr=False)
    # The rule facts that bound this one when it is unknown (NOT_AFTER, in the same unit): an
    # age not given is at least the age at diagnosis, an age at diagnosis at most the age now.
    floor: str = ""
    ceiling: str = ""


# --- value parsers: one per kind of value, shared by flags and batch rows -----------------

# Digits a number may have: far more than any age or percent, few enough that no input can
# make alltx compute with a number of a million digits (1e-999999999 would).
# White space around a value: ASCII's (as re.ASCII's \s), on every road.
SPACE = " \t\n\r\f\v"
# The units an age may be written in, and how many of each make a year.
WRITTEN_UNITS = {"y": 1, "yr": 1, "yrs": 1, "year": 1, "years": 1,
                 "m": 12, "mo": 12, "month": 12, "months": 12}  # fmt: skip
# Decimals after the point: with at most four digits before it (1560 months; 100 percent), a
# value written has at most 15 significant digits, so the binary floating-point number every
# engine reads it as stands for exactly that decimal (the SQL road compares those).
AGE_DECIMALS, PERCENT_DECIMALS = 11, 12
_AGE = re.compile(
    rf"^\s*(-?0*\d{{1,15}}(?:\.\d{{1,{AGE_DECIMALS}}})?)\s*("
    + "|".join(sorted(WRITTEN_UNITS, key=len, reverse=True))
    + r")?\s*$",
    re.IGNORECASE | re.ASCII,  # \d: ASCII digits, as every other road reads them
)
# An age in whole days or weeks, as a neonatal chart writes it (30d, 3 weeks), and how many days
# each unit is. Not a number of years: how many months d days complete depends on the months they
# fell in (see InDays).
DAY_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7}
# The most days an age may be: every birth day of the calendar is at most 130 years old after
# them (47,508 days may be 1,561 months; tests/test_facts.py holds it to month_days).
MAX_AGE_DAYS = 47_507
_IN_DAYS = r"^\s*(0*\d{1,6})\s*(" + "|".join(sorted(DAY_UNITS, key=len, reverse=True)) + r")\s*$"
# An age in years and months, as a chart writes it: 25y11m, 2 years 3 months (months 0 to 11).
_YEARS_MONTHS = (
    r"^\s*(0*\d{1,3})\s*("
    + "|".join(sorted((u for u, per in WRITTEN_UNITS.items() if per == 1), key=len, reverse=True))
    + r")\s*(0*\d{1,2})\s*("
    + "|".join(sorted((u for u, per in WRITTEN_UNITS.items() if per == 12), key=len, reverse=True))
    + r")\s*$"
)
# A percent as text: a decimal, or one of at most three digits before the point with a
# negative exponent of at most two digits (1e-05, as exports write small values).
_DECIMAL = re.compile(
    rf"^(?:0*\d{{1,15}}(?:\.\d{{0,{PERCENT_DECIMALS}}})?|\.\d{{1,{PERCENT_DECIMALS}}}"
    rf"|(?:0*\d{{1,3}}(?:\.\d{{0,{PERCENT_DECIMALS}}})?|\.\d{{1,{PERCENT_DECIMALS}}})[eE]-\d{{1,2}})$",
    re.ASCII,
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_MARKER_WORDS = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
}
_LINEAGE_WORDS = {
    "b": "b",
    "b-cell": "b",
    "bcell": "b",
    "b cell": "b",
    "t": "t",
    "t-cell": "t",
    "tcell": "t",
    "t cell": "t",
    # as clinicians write it
    "b-all": "b",
    "pre-b": "b",
    "pre-b-all": "b",
    "precursor b": "b",
    "b-cell precursor": "b",
    "b-precursor": "b",
    "bcp": "b",
    "bcp-all": "b",
    "t-all": "t",
}


class JsonNumber(float):
    """A JSON number with a fraction or an exponent, kept with the text the JSON wrote it as
    (json's parse_float): a float where a float is read (a yes/no 1.0, a count 2.0), and read
    from its text, by the grammar a cell's text is read by, where the number must be exact (an
    age, a percent). A double holds about 16 digits: 25.99999999999999999 years was read as
    26, which CSV and flags refuse (issue 42, 4)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _written(value: object) -> object:
    """A JSON number as its text (JsonNumber); any other value as it is."""
    return value.text if value.__class__ is JsonNumber else value


def number_text(value: object) -> str:
    """A number as text: a JSON number as the JSON wrote it, another as str writes it."""
    return str(_written(value))


def _exact(value: int | float | str) -> Fraction:
    """An exact number: 0.1 stays one tenth, so label bounds compare exactly. Infinity and NaN
    raise ValueError, which each caller turns into its own message."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


class Years(Fraction):
    """An age given as a whole number of years (19, 0, 2y): completed years, as people and
    charts count them, so the months within the year are not said. 0 years is any age from
    birth to 11 months and some days (labels.md H21): its completed months are 0 to 11, and a
    one-month bound is open for it, never unmet. A Fraction in every other way (comparisons,
    arithmetic); an age in months (8m, 25y11m) or from a birth date is an exact Fraction."""

    __slots__ = ()


class MonthEnd(Fraction):
    """An age from a birth date on a day where the counts of a month differ (Dated.month_end,
    labels.md H23): this value is the calendar's completed months (born 31 January, on 28
    February: 0), and one more month is as right by a count that ends a month on its last day
    or after 28 days. Its completed months are both: a bound at the later one is open."""

    __slots__ = ()


def parse_age(value: object) -> Fraction | InDays:
    """Age in years, exact. Numbers are years; a string may end in `m` for months; whole
    days or weeks (30d, 3w) are an InDays, whose completed months the calendar may leave
    open. A whole number of years is Years: completed years, the months within it unsaid."""
    hint = "give years (19, 2.5), months with m (8m), both (25y11m), or days or weeks (30d, 3w)"
    value = _written(value)
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not true/false; {hint}")
    in_years = True  # given in years, not months: a whole number of them is completed years
    if isinstance(value, int | float):
        try:
            years = _exact(value)
        except ValueError:
            raise ValueError(f"must be a number; {hint}") from None
    elif isinstance(value, str):
        match = _AGE.match(value)
        # compiled on first use, kept in re's own cache: no cost at start-up
        both = None if match else re.match(_YEARS_MONTHS, value, re.IGNORECASE | re.ASCII)
        days = None if match or both else re.match(_IN_DAYS, value, re.IGNORECASE | re.ASCII)
        if days:
            return in_days(int(days.group(1)), DAY_UNITS[days.group(2).lower()])
        if both:  # 25y11m: whole years and a whole number of months under 12
            whole, _, months, _ = both.groups()
            if int(months) >= 12:
                raise ValueError(f"{value!r} has 12 months or more after its years; {hint}")
            years = int(whole) + Fraction(int(months), 12)
            in_years = False
        elif not match:
            raise ValueError(f"{value!r} is not a number; {hint}")
        else:
            number, unit = match.groups()
            years = Fraction(number)
            if unit:
                years /= WRITTEN_UNITS[unit.lower()]
                in_years = WRITTEN_UNITS[unit.lower()] == 1
    else:
        raise ValueError(f"must be a number; {hint}")
    if years < 0 or years > MAX_AGE_YEARS:
        raise ValueError(f"must be between 0 and {MAX_AGE_YEARS} years, got {_show(years)}")
    if in_years and years.denominator == 1:
        return Years(years)
    return years


@dataclass(frozen=True)
class InDays:
    """An age given in whole days (or weeks): completed months `low` or `high` (one more,
    or the same), by the months the days fell in. A month is 28 to 31 days: 30 days from
    1 January is not a month (30 January), from 1 February it is (3 March, or 2 March in a
    leap year)."""

    days: int
    words: str  # as said back: 30 days, 3 weeks
    low: int
    high: int


def in_days(count: int, per: int) -> InDays:
    """An age of `count` days (`per` 1) or weeks (7), refused over 130 years."""
    days = count * per
    unit = "day" if per == 1 else "week"
    given = f"{count} {unit}{'' if count == 1 else 's'}"
    if days > MAX_AGE_DAYS:
        raise ValueError(f"must be between 0 and {MAX_AGE_YEARS} years, got {given}")
    return InDays(days, given, *months_in_days(days))


@functools.cache
def _calendar() -> tuple[list[int], list[int]]:
    """The lengths of the months of one 400-year cycle of the Gregorian calendar, after which
    it repeats (4,800 months from January 2000), and of 131 years more; and the days before
    each of them."""
    firsts = [date(2000 + k // 12, k % 12 + 1, 1) for k in range(12 * 532)]
    lengths = [(after - first).days for first, after in itertools.pairwise(firsts)]
    return lengths, [0, *itertools.accumulate(lengths)]


@functools.cache
def month_days(months: int) -> tuple[int, int]:
    """The fewest and the most days in which `months` months are completed (as
    months_between counts them), over every birth day of the calendar. Born on a day the month
    reached has, they are the days of the months between; born on a later day (31 January, and
    28 February comes), the month is completed on the 1st after, sooner: soonest for a birth on
    the last day of its month. 4,800 sums: about 3 ms, once for each number of months."""
    lengths, before = _calendar()
    fewest, most = MAX_AGE_DAYS * 2, 0
    for start in range(4800):
        days = before[start + months] - before[start]
        shorter = lengths[start + months] - lengths[start]
        fewest = min(fewest, days + shorter + 1 if shorter < 0 else days)
        most = max(most, days)
    return fewest, most


# Months take m * 146097 / 4800 days on average (a 400-year cycle); over every birth day and
# every m to 130 years, m months are completed in 4.141875 days fewer to 3.911875 more (checked
# against month_days by tests/test_facts.py). In 4800ths of a day:
FEWER, MORE, CYCLE = 19_881, 18_777, 146_097


def months_in_days(days: int) -> tuple[int, int]:
    """The fewest and the most completed months `days` days can be, by the calendar: the most
    months m whose most (fewest) days are at most `days` (month_days)."""
    high = (4800 * days + FEWER) // CYCLE  # no more than this, whatever the calendar
    while month_days(high)[0] > days:
        high -= 1
    low = high
    while month_days(low)[1] > days:
        low -= 1
    return low, high


def age_after(earlier: object, later: object) -> bool:
    """Whether one age (Fraction years or InDays) is surely more than another: in days
    where both are; else where the completed months of the days, by the bounds above (which
    hold whatever the calendar), are surely more or fewer. Not refused: two ages the calendar
    may leave in order (60 days and 2 months), and some a few days further apart. Exact
    arithmetic; the SQL query writes the same comparisons (sql._after)."""
    if isinstance(earlier, InDays) and isinstance(later, InDays):
        return earlier.days > later.days
    if isinstance(later, InDays):  # `later` completes at most this many months
        return earlier * 12 >= (4800 * later.days + FEWER) // CYCLE + 1  # type: ignore[operator]
    if isinstance(earlier, InDays):  # `earlier` completes at least this many
        return (4800 * earlier.days - MORE) // CYCLE > later * 12  # type: ignore[operator]
    return earlier > later  # type: ignore[operator, no-any-return]


# Within this of a boundary (a whole number of months, a bound of a percent), which side a
# value lies on is decided exactly (Fraction); elsewhere floating point decides it as exactly.
# A text age has at most AGE_DECIMALS decimals, so its months lie at least 1e-11 from a whole
# number unless they are one, and a float from JSON is its shortest decimal to within an ulp:
# both far beyond the rounding of a product under 2,000 (about 1e-13).
NEAR = 1e-9


def quick_months(value: object) -> int | None:
    """The completed months of an age parse_age takes, in floating point where that is as
    exact; None where it may not be (close to a month's boundary or to 130 years), and for a
    value parse_age refuses: the exact parser decides those. A faster road to the same
    answer, held equal to it by a property test: exact parsing of every distinct age was 45%
    of a cohort's time (benchmarks/bench.py, the registry cohort)."""
    value = _written(value)
    if isinstance(value, bool | int):  # a whole number of years is Years: the exact parser's
        return None
    if isinstance(value, float):
        if value.is_integer():  # whole years (Years), as 19 is
            return None
        months = value * 12
    elif isinstance(value, str):
        match = _AGE.match(value)
        if match is None:
            return None
        number, unit = match.groups()
        per = WRITTEN_UNITS[unit.lower()] if unit else 1
        if "." not in number:  # a whole number of months: exact in integers (of years: Years)
            whole = int(number) * (12 // per)
            return whole if per == 12 and 0 <= whole <= MAX_AGE_YEARS * 12 else None
        months = float(number) * (12 // per)
        if per == 1 and months % 12 == 0:  # 19.0 years: whole years, as 19
            return None
    else:
        return None
    if not 0 <= months <= MAX_AGE_YEARS * 12 - NEAR:
        return None
    whole = math.floor(months)
    return None if months - whole < NEAR or whole + 1 - months < NEAR else whole


def quick_percent(value: object) -> float | None:
    """A percent parse_percent takes, as a float (its side of a bound is then decided as
    exactly, away from the bound: see NEAR); None for a value it refuses or may refuse."""
    value = _written(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip(SPACE).removesuffix("%").strip(SPACE)
        if not _DECIMAL.match(text):
            return None
        number = float(text)
    elif isinstance(value, float):
        number = value
    elif isinstance(value, int):  # a JSON integer may be of any size: compared first
        return float(value) if 0 < value < 100 else None
    else:
        return None
    return number if NEAR < number < 100 - NEAR else None


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):  # 1.0 is 1, as JSON Schema has it
        return bool(value)
    if isinstance(value, str) and value.strip(SPACE).lower() in _TRUE | _FALSE:
        return value.strip(SPACE).lower() in _TRUE
    raise ValueError(f"expected true or false, got {value!r}")


def parse_remission(value: object) -> int:
    """A complete remission number; CR1, CR2 as clinicians write them."""
    if isinstance(value, str) and value.strip(SPACE).lower().startswith("cr"):
        try:
            return parse_count(value.strip(SPACE)[2:].strip(SPACE))
        except ValueError:
            message = f"expected a whole number 0 or more, or CR1, CR2 ...; got {value!r}"
            raise ValueError(message) from None
    return parse_count(value)


def parse_count(value: object) -> int:
    """A whole number, 0 or more, of at most 15 digits (relapse and remission numbers)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # ASCII digits only: str.isdigit also takes superscripts and circled digits (which int()
    # refuses) and other scripts' digits (which no other road reads).
    text = value.strip(SPACE) if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) <= 15:
        value = int(text)
    if isinstance(value, int) and 0 <= value <= MAX_COUNT:
        return value
    if isinstance(value, int) and value > MAX_COUNT:
        # Not shown: a number of thousands of digits is neither printable nor worth printing.
        raise ValueError("expected a whole number of at most 15 digits, got a longer one")
    raise ValueError(f"expected a whole number 0 or more, got {value!r}")


def _word(value: object, words: dict[str, str], expected: str) -> str:
    if isinstance(value, str) and value.strip(SPACE).lower() in words:
        return words[value.strip(SPACE).lower()]
    raise ValueError(f"expected {expected}, got {value!r}")


def parse_marker(value: object) -> str:
    return _word(value, _MARKER_WORDS, "positive or negative (pos, neg, +, - also work)")


# What may stand between a marker's name and its result: CD19: pos, CD19- ("-" first: SQLite's
# REGEXP reads it so in a class).
MARKER_SEPARATORS = "-: \t\n\r\f\v"
_SEPARATOR = f"[{MARKER_SEPARATORS}]*"


def marker(name: str) -> Callable[[object], str]:
    """The parser of one marker, which also reads the marker's name written before the
    result, as clinicians write it: CD19+, CD19-negative, Ph+, Ph negative."""
    written = re.compile(f"{anycase(name)}{_SEPARATOR}({words_pattern(_MARKER_WORDS)}){_SEPARATOR}")

    def parse(value: object) -> str:
        if isinstance(value, str) and (found := written.fullmatch(value.strip(SPACE))):
            value = found.group(1)
        return parse_marker(value)

    return parse


def anycase(word: str) -> str:
    """A regular expression for `word` in any case, as JSON Schema's dialect (ECMA-262) and
    Python's both read it, with no flags: a letter is [Xx], a character that means something
    in a pattern is escaped."""
    return "".join(
        f"[{c.upper()}{c.lower()}]" if c.isalpha() else ("\\" + c if c in ".^$*+?()[]{}|\\" else c)
        for c in word
    )


def words_pattern(words: Iterable[str]) -> str:
    """Any of the words, in any case; the longest first (so that a pattern tries pos after
    positive)."""
    return "(?:" + "|".join(anycase(w) for w in sorted(words, key=len, reverse=True)) + ")"


def parse_lineage(value: object) -> str:
    return _word(value, _LINEAGE_WORDS, "b or t (b-cell, t-cell also work)")


def parse_phase(value: object) -> str:
    return _word(value, {p: p for p in PHASES}, "induction, consolidation or maintenance")


def parse_percent(value: object) -> Fraction | Span:
    """MRD as a percent of cells, 0 to 100; `0.1` and `0.1%` both mean 0.1%. Or as a lab
    reports a level its test cannot measure (`mrd_span`): negative, negative at 0.01%, <0.01%,
    positive, not quantifiable."""
    given = value = _written(value)
    if isinstance(value, str) and (span := mrd_span(value)) is not None:
        return span
    if isinstance(value, str):
        value = value.strip(SPACE).removesuffix("%").strip(SPACE)
        if not _DECIMAL.match(value):
            raise ValueError(f"expected a percent from 0 to 100, got {given!r}")
        number = Fraction(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = _exact(value)
        except ValueError:
            raise ValueError("expected a percent from 0 to 100") from None
    else:
        raise ValueError(f"expected a percent from 0 to 100, got {value!r}")
    if not 0 <= number <= 100:
        shown = given.strip(SPACE) if isinstance(given, str) else repr(given)
        raise ValueError(f"must be a percent from 0 to 100, got {shown}")
    return number


# --- an age from two dates -------------------------------------------------------------------
# Registries and EHRs hold a birth date, not an age: the age is the completed months from the
# birth date to the day it is taken at (`as_of`; the day of the answer where not given), a
# month completed on the same day of a later month (born 31 January: one month on 1 March, as
# no 31 February comes; born 29 February: a year on 1 March where no 29 February comes).

BIRTH_DATE, AS_OF = "birth_date", "as_of"


@dataclass(frozen=True)
class DateField:
    """A field that gives an age as a date: its flag, the flag's help and the row field's
    description."""

    name: str
    flag: str
    help: str
    described: str


DATE_FIELDS = {
    f.name: f
    for f in (
        DateField(BIRTH_DATE, "--born",
                  "Date of birth, YYYY-MM-DD (instead of --age): the age is the completed "
                  "months from it to --as-of.",
                  "date of birth, YYYY-MM-DD; the age is the completed months from it to as_of "
                  "(give it or age, not both)"),
        DateField(AS_OF, "--as-of",
                  "The day the age from --born is taken at, YYYY-MM-DD (default today; for a "
                  "cohort, where a row has no as_of).",
                  "the day the age from birth_date is taken at, YYYY-MM-DD (left out: the day "
                  "of the answer, or alltx options --as-of)"),
    )
}  # fmt: skip
# The input schema's too (a day that is none, 2019-02-30, it cannot say). Compiled on first use
# and kept in re's own cache, as the forms of MRD are: no cost at start-up.
DATE_PATTERN = rf"^[{SPACE}]*([0-9]{{4}})-([0-9]{{2}})-([0-9]{{2}})[{SPACE}]*$"
DATE_WANTS = "must be a date as YYYY-MM-DD (2019-05-31)"


def parse_date(value: object) -> date:
    """A calendar date, as ISO 8601 writes it (YYYY-MM-DD), or a date as it is."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    found = re.match(DATE_PATTERN, value) if isinstance(value, str) else None
    try:
        if found is None:
            raise ValueError
        return date(*(int(part) for part in found.groups()))
    except ValueError:  # no such day (2019-02-30, 0000-01-01) or not a date at all
        raise ValueError(DATE_WANTS) from None


def months_between(born: date, at: date) -> int:
    """Completed months from `born` to `at` (negative where `at` is before it)."""
    return (at.year - born.year) * 12 + at.month - born.month - (at.day < born.day)


@dataclass(frozen=True)
class Dated:
    """An age from a birth date: its completed months, and the two days."""

    months: int
    born: date
    at: date

    @functools.cached_property  # read for its age, its words and a batch's class: once a row
    def month_end(self) -> bool:
        """Whether the conventions for counting a month differ on this day by one month
        (labels.md H23): the birth day's number is past the end of `at`'s month (born on the
        31st, on 28 February), and `at` is that month's last day, or, for the first month, at
        least 28 days after birth (ICH E11 counts 28 days). No source settles which count a
        label means."""
        import calendar  # here, not at start-up: it loads locale (2.4 ms), for dated ages only

        last = calendar.monthrange(self.at.year, self.at.month)[1]
        if self.born.day <= last:
            return False
        return self.at.day == last or (self.months == 0 and (self.at - self.born).days >= 28)

    @property
    def age(self) -> Fraction:
        """The age in years: the completed months by the calendar, open by one where the
        conventions differ (MonthEnd)."""
        return (MonthEnd if self.month_end else Fraction)(self.months, 12)

    NOTE: ClassVar[str] = "; "  # what stands before the note a month's end adds to the words

    @property
    def words(self) -> str:
        said = f"from the birth date {self.born.isoformat()}, at {self.at.isoformat()}"
        if self.month_end:  # which count of a month is meant decides: say so with the age
            said += (
                f"{self.NOTE}{self.months} completed months by the calendar, "
                f"{self.months + 1} by a count that ends a month on its last day or "
                "after 28 days: no source settles which, so the care team's count "
                "decides"
            )
        return said


def dated_age(
    raw: Mapping[str, object], as_of: date | None = None
) -> tuple[Mapping[str, object], Dated | None]:
    """The given values without the date fields, and the age the dates give (None where no
    birth date is given); `as_of` is the day taken where the row gives none. FactError (of the
    birth date, or of as_of) where a date is not one, where an age is given beside a birth
    date, and where the birth date is after as_of or more than 130 years before it."""
    if BIRTH_DATE not in raw and AS_OF not in raw:
        return raw, None
    rest = {name: value for name, value in raw.items() if name not in DATE_FIELDS}
    dates: dict[str, date | None] = {}
    for name in DATE_FIELDS:
        value = raw.get(name)
        try:
            dates[name] = None if unknown_cell(name, value) else parse_date(value)
        except ValueError:
            raise FactError(date_refusal(value), name) from None
    born, at = dates[BIRTH_DATE], dates[AS_OF] or as_of
    if born is None:
        return rest, None
    if not unknown_cell("age", rest.get("age")):
        raise FactError("give the age or the birth date, not both", BIRTH_DATE)
    if at is None:
        raise FactError("give the day the age is taken at too (as_of)", BIRTH_DATE)
    months = months_between(born, at)
    if months < 0:
        raise FactError(
            f"the birth date is after the as-of date ({at.isoformat()}); check both", BIRTH_DATE
        )
    if months > MAX_AGE_YEARS * 12:
        raise FactError(
            f"the birth date is more than {MAX_AGE_YEARS} years before the as-of "
            f"date ({at.isoformat()}); check both",
            BIRTH_DATE,
        )
    return rest, Dated(months, born, at)


def date_refusal(value: object) -> str:
    """The error for a date that is not one: the same words on every road."""
    return DATE_WANTS + _got(value)


# --- MRD as a lab reports it -------------------------------------------------------------------
# A test finds MRD only down to its sensitivity. "Negative at 0.01%" says the level is under
# 0.01%, so it fails a criterion of 0.1% or more; "negative" alone does not say how sensitive
# the test was, and "positive, not quantifiable" says only that some was found: against 0.1%
# both are unknown. The forms, as text patterns the input schema, the parser and the SQL query
# share (what parse_percent takes besides a number).


def _above_zero() -> str:
    """A decimal above 0, at most 100, of at most PERCENT_DECIMALS decimals (a level)."""
    most = PERCENT_DECIMALS
    fraction = rf"(?:\.[0-9]{{0,{most}}})?"
    # k zeros, a digit that is not, then at most the rest (no {0}: SQLite's REGEXP refuses it)
    small = "|".join(
        (f"0{{{k}}}" if k else "")
        + "[1-9]"
        + (f"[0-9]{{0,{most - 1 - k}}}" if most - 1 - k else "")
        for k in range(most)
    )
    return (
        f"(?:0*[1-9][0-9]?{fraction}|0*100(?:\\.0{{0,{most}}})?|0*\\.(?:{small})|0*0\\.(?:{small}))"
    )


_SP = f"[{SPACE}]"
MRD_FORMS = {  # each form, as a pattern of the text trimmed; the level is its one group
    "negative": words_pattern(("negative", "neg")),
    "negative at": f"{words_pattern(('negative', 'neg'))}{_SP}+{anycase('at')}{_SP}+"
                   f"({_above_zero()}){_SP}*%?",
    "under": f"<{_SP}*({_above_zero()}){_SP}*%?",
    "not quantifiable": f"{anycase('positive')},?{_SP}+{anycase('not')}{_SP}+"
                        f"{anycase('quantifiable')}",
}  # fmt: skip


@functools.cache
def _mrd_read() -> dict[str, re.Pattern[str]]:
    """The forms compiled when first read: 2.7 ms, a tenth of a one-patient answer's own
    work, that only a text MRD needs."""
    return {form: re.compile(f"(?:{pattern})", re.ASCII) for form, pattern in MRD_FORMS.items()}


def mrd_span(text: str) -> Span | None:
    """MRD as a lab reports a level its test cannot measure, or None for any other text."""
    trimmed = text.strip(SPACE)
    for form, pattern in _mrd_read().items():
        found = pattern.fullmatch(trimmed)
        if found is None:
            continue
        if form == "negative":
            return Span(Fraction(0), None, False, "negative (the test's sensitivity not given)")
        if form == "not quantifiable":
            return Span(Fraction(0), None, True, "positive, not quantifiable")
        level = Decimal(found.group(1))  # as written, its leading zeros gone: 0.010 stays
        shown = f"negative at {level}%" if form == "negative at" else f"under {level}%"
        return Span(Fraction(0), Fraction(level), False, shown)
    return None


# --- the text each parser takes, as one regular expression -----------------------------------
# For the input schema (alltx schema input): a string field's pattern is exactly what its parser
# takes, range included, built from the parsers' own word tables, digit limits and bounds (a
# property test holds the two equal). Written in the part of regular-expression syntax that
# JSON Schema's dialect (ECMA-262) and Python's share.

_DIGIT = "[0-9]"


def _below(bound: int) -> str:
    """Digit strings whose value is below `bound` (leading zeros allowed)."""
    text = str(bound)
    ways = [f"{_DIGIT}{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for at, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - at - 1
            ways.append(
                text[:at] + f"[0-{int(digit) - 1}]" + (f"{_DIGIT}{{{rest}}}" if rest else "")
            )
    return "(?:" + "|".join(ways) + ")"


def _at_most(bound: int, fraction: str, zeros: str) -> str:
    """A decimal from 0 to `bound`: below it with any `fraction`, or it with `zeros`."""
    return f"(?:0*{_below(bound)}{fraction}|0*{bound}{zeros})"


def _units(per_year: int) -> str:
    return words_pattern(unit for unit, per in WRITTEN_UNITS.items() if per == per_year)


def _age_text() -> str:
    years, months = MAX_AGE_YEARS, MAX_AGE_YEARS * 12
    fraction, zeros = rf"(?:\.[0-9]{{1,{AGE_DECIMALS}}})?", rf"(?:\.0{{1,{AGE_DECIMALS}}})?"
    space = f"[{SPACE}]*"
    zero = f"-0+{zeros}"  # -0 is 0
    in_years = f"(?:{_at_most(years, fraction, zeros)}|{zero})(?:{space}{_units(1)})?"
    in_months = f"(?:{_at_most(months, fraction, zeros)}|{zero}){space}{_units(12)}"
    # 25y11m: whole years, then whole months under 12; 130 years only with none
    twelve = f"0*(?:{_DIGIT}|1[01])"
    under = f"0*{_below(years)}{space}{_units(1)}{space}{twelve}{space}{_units(12)}"
    most = f"0*{years}{space}{_units(1)}{space}0+{space}{_units(12)}"
    # 30d, 3 weeks: whole days or weeks, to 130 years whatever the calendar
    days = "|".join(
        f"{_at_most(MAX_AGE_DAYS // per, '', '')}{space}"
        f"{words_pattern(u for u, p in DAY_UNITS.items() if p == per)}"
        for per in sorted(set(DAY_UNITS.values()))
    )
    return f"(?:{in_years}|{in_months}|{under}|{most}|{days})"


def _percent_text() -> str:
    fraction = rf"(?:\.[0-9]{{0,{PERCENT_DECIMALS}}})?"
    zeros = rf"(?:\.0{{0,{PERCENT_DECIMALS}}})?"
    small = rf"\.[0-9]{{1,{PERCENT_DECIMALS}}}"
    plain = f"(?:{_at_most(100, fraction, zeros)}|{small})"
    short = f"(?:0*{_DIGIT}{{1,3}}{fraction}|{small})"  # before an exponent
    # e-0 changes nothing; e-1 and below bring any three digits under 100
    shifted = f"(?:{plain}[eE]-0{{1,2}}|{short}[eE]-(?:0?[1-9]|[1-9][0-9]))"
    return f"(?:{plain}|{shifted})(?:[{SPACE}]*%)?"


def written_words(fact: Fact) -> dict[str, object]:
    """The words a fact's text may be (in lower case), and the value each means: a yes/no
    fact's, a category's spellings; none for a number."""
    if fact.form == "bool":
        return {word: word in _TRUE for word in sorted(_TRUE | _FALSE)}
    if fact.form != "category":
        return {}
    if fact.values == MARKER:
        return dict(_MARKER_WORDS)
    return dict(_LINEAGE_WORDS) if fact.values == LINEAGES else {v: v for v in fact.values}


def written_prefix(fact: Fact) -> str:
    """A name that may be written before the value (CD19+, CR2), in lower case; "" for none."""
    if fact.parse is parse_remission:
        return "cr"
    return fact.name if fact.form == "category" and fact.values == MARKER else ""


def text_pattern(fact: Fact) -> str:
    """The JSON Schema pattern of a fact given as a string: exactly what its parser takes,
    white space around it, or nothing (unknown)."""
    space = f"[{SPACE}]*"
    count = f"{_DIGIT}{{1,15}}"
    words, prefix = written_words(fact), written_prefix(fact)
    if fact.form == "age":
        written = _age_text()
    elif fact.form == "percent":
        written = "|".join([_percent_text(), *MRD_FORMS.values()])
        written = f"(?:{written})"
    elif fact.form == "count":  # CR2: the name, then the number
        written = f"(?:{anycase(prefix)}{space})?{count}" if prefix else count
    elif prefix:  # CD19+: the name, then the word
        named = f"{anycase(prefix)}{_SEPARATOR}{words_pattern(words)}{_SEPARATOR}"
        written = f"(?:{named}|{words_pattern(words)})"
    else:
        written = words_pattern(words)
    unknown = not_known(fact.name)  # a registry's "not known": unknown, as blank is
    if unknown:
        written = f"(?:{written}|{words_pattern(unknown)})"
    # Plain groups only: SQLite's REGEXP (its shell's regexp extension) has no (?:...).
    return f"^{space}(?:{written}{space})?$".replace("(?:", "(")


def _show(number: Fraction) -> str:
    return str(int(number)) if number.denominator == 1 else f"{float(number):g}"


MARKER = ("positive", "negative")
PHASES = ("induction", "consolidation", "maintenance")
LINEAGES = ("b", "t")


@functools.lru_cache(maxsize=4096, typed=True)  # typed: Years(1) == Fraction(1), not alike
def completed_years(age: Fraction | InDays) -> int | Counted:
    """Completed years of an age in years, as labels count them (cached: ages repeat)."""
    if isinstance(age, InDays):
        return _counted(age.low // 12, age.high // 12)
    if isinstance(age, MonthEnd):  # one month more may complete a year
        months = int(age * 12)
        return _counted(months // 12, (months + 1) // 12)
    return math.floor(age)


@functools.lru_cache(maxsize=4096, typed=True)
def completed_months(age: Fraction | InDays) -> int | Counted:
    """Completed months of an age in years; of whole years, any month of that year."""
    if isinstance(age, InDays):
        return _counted(age.low, age.high)
    if isinstance(age, Years):
        low = int(age) * 12
        return Counted(low, low + 11, f"{low} to {low + 11}")
    if isinstance(age, MonthEnd):
        months = int(age * 12)
        return Counted(months, months + 1, f"{months} or {months + 1}")
    return math.floor(age * 12)


def _counted(low: int, high: int) -> int | Counted:
    return low if low == high else Counted(low, high, f"{low} or {high}")


@dataclass(frozen=True)
class Fact:
    """A fact a person can give: one flag, one field of a cohort row, one column of a table."""

    name: str
    form: Form
    parse: Callable[[object], object] = field(compare=False, repr=False)
    label: str  # plain words, with a gloss for the jargon
    short: str  # a word or two, for lists
    help: str  # the flag's help
    described: str  # the row field's description in the input schema
    metavar: str = ""  # a value's placeholder in the flag's help; "" for a yes/no switch
    negative: str = ""  # a yes/no switch's flag for no (--not-relapsed)
    give: str = ""  # how to give it, where that says more than the flag and its placeholder
    values: tuple[str, ...] = ()  # a category's values
    spellings: tuple[str, ...] = ()  # a category's spellings the input schema lists
    understood: str = ""  # its description in an answer's `patient`, if it needs one
    months: str = ""  # an age's key in `patient` for the same age in months
    words: tuple[tuple[object, str], ...] = ()  # values in plain words, where a value is not
    rules: tuple[RuleFact, ...] = ()  # the rule facts it decides; () is one, of its own name

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def how(self) -> str:
        """How to give it on the command line."""
        if self.give:
            return self.give
        return f"{self.flag} or {self.negative}" if self.negative else f"{self.flag} {self.metavar}"


_MARKERS = ("positive", "negative", "pos", "neg", "+", "-")
_AGE_HELP = (
    "Age in years (decimals allowed), in months with m (8m), both (25y11m), or in "
    "whole days or weeks (30d, 3w)."
)
# Refractory is disease treatment has not put into remission; leukemia that went into remission
# and came back is a relapse, however a patient page puts the two side by side. No wording here
# may fit a first relapse (a first relapse ticked as refractory would meet Kymriah's US label).
_REFRACTORY = (
    "Treatment did not bring a remission: the leukemia never responded, or did not "
    "respond to the treatment for a relapse. Leukemia that went into remission and "
    "came back is a relapse (--relapsed), not refractory."
)
_HIGH_RISK = ("The care team has said the risk of relapse is high (e.g. from cytogenetic or "
              "molecular results, white cell count at diagnosis, or MRD).")  # fmt: skip
_MRD = "MRD (minimal residual disease: leukemia cells left that only sensitive tests find)"

# Every fact a person can give, in the order answers list them.
FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact("age", "age", parse_age, "age", "age", _AGE_HELP,
             "age in years; as a string, months with m (8m), both (25y11m), or whole days or "
             "weeks (30d, 3w)", metavar="AGE",
             give="--age YEARS (or --age 8m for months), or --born YYYY-MM-DD",
             understood="age in years",
             months="age_months",
             rules=(RuleFact("age_years", "count", unit="years", of=completed_years),
                    RuleFact("age_months", "count", unit="months", of=completed_months))),
        Fact("relapsed", "bool", parse_bool,
             "relapsed (the leukemia has come back now, after treatment)", "relapsed",
             "The leukemia has come back now, after treatment.",
             "the leukemia has come back now", negative="--not-relapsed"),
        Fact("relapse", "count", parse_count, "relapse number (1 = first relapse)",
             "relapse number", "Now in the Nth relapse (1 = first); implies relapsed.",
             "now in the Nth relapse; 0 = not in relapse", metavar="N",
             understood="relapse number now; 0 = not in relapse",
             words=((0, "not in relapse now"),)),
        Fact("refractory", "bool", parse_bool,
             "refractory (treatment did not bring a remission; a leukemia that came back after "
             "a remission is a relapse, not refractory)",
             "refractory", _REFRACTORY, "treatment did not bring a remission",
             negative="--not-refractory"),
        Fact("remission", "count", parse_remission,
             "complete remission number (1 = first complete remission, CR1)", "remission",
             "Now in the Nth complete remission (1 or CR1 = first); implies not relapsed or "
             "refractory.", "now in the Nth complete remission", metavar="N",
             understood="complete remission number; 0 = not in remission",
             words=((0, "not in complete remission now"),)),
        Fact("lineage", "category", parse_lineage, "lineage (B-cell precursor or T-cell ALL)",
             "lineage", "B-cell precursor or T-cell ALL (b-cell, B-ALL, pre-B, T-ALL also work).",
             "B or T", metavar="b|t", values=LINEAGES, spellings=("b", "t", "b-cell", "t-cell"),
             words=(("b", "B-cell"), ("t", "T-cell"))),
        Fact("cd19", "category", marker("cd19"),
             "CD19 (a protein on the leukemia cells that some treatments target)", "CD19",
             "CD19 on the leukemia cells (pos, neg, +, -, CD19+ also work).",
             "CD19 on the leukemia cells", metavar="positive|negative", values=MARKER,
             spellings=_MARKERS),
        Fact("cd22", "category", marker("cd22"),
             "CD22 (a protein on the leukemia cells that some treatments target)", "CD22",
             "CD22 on the leukemia cells (CD22+ also works).", "CD22 on the leukemia cells",
             metavar="positive|negative", values=MARKER, spellings=_MARKERS),
        Fact("ph", "category", marker("ph"),
             "Philadelphia chromosome (Ph, a gene change in some leukemias)", "Ph",
             "Philadelphia chromosome (Ph+, Ph- also work).", "Philadelphia chromosome",
             metavar="positive|negative", values=MARKER, spellings=_MARKERS),
        Fact("mrd", "percent", parse_percent, _MRD, "MRD",
             "Minimal residual disease, percent of cells (0.1 means 0.1%); or as the lab "
             "reports a level its test cannot measure: 'negative at 0.01%', '<0.01%', "
             "negative, 'positive, not quantifiable'.",
             "minimal residual disease, percent", metavar="PERCENT",
             understood="minimal residual disease, percent"),
        Fact("phase", "category", parse_phase, "phase of multiphase chemotherapy",
             "chemotherapy phase", "Current phase of multiphase chemotherapy.",
             "phase of multiphase chemotherapy", metavar="induction|consolidation|maintenance",
             values=PHASES, spellings=PHASES),
        Fact("prior_transplant", "bool", parse_bool,
             "prior allogeneic stem-cell transplant (cells from a donor)", "prior transplant",
             "Has had an allogeneic (donor) stem-cell transplant.", "prior allogeneic transplant",
             negative="--no-prior-transplant"),
        # The EU tisagenlecleucel wording, "in relapse post-transplant", names no kind of
        # transplant: a relapse after one of the patient's own cells counts there too.
        Fact("prior_autologous_transplant", "bool", parse_bool,
             "prior autologous stem-cell transplant (the patient's own cells)",
             "prior autologous transplant",
             "Has had an autologous stem-cell transplant (the patient's own cells).",
             "prior autologous transplant", negative="--no-prior-autologous-transplant"),
        Fact("induction_failure", "bool", parse_bool,
             "induction failure (no remission within 28 days of starting the first chemotherapy)",
             "induction failure",
             "The first (induction) chemotherapy did not bring a remission within 28 days.",
             "no remission within 28 days of starting induction chemotherapy",
             negative="--no-induction-failure"),
        Fact("high_risk", "bool", parse_bool,
             "high risk of relapse (as the care team has said, from test results at diagnosis "
             "or MRD)", "relapse risk", _HIGH_RISK, "the care team says the relapse risk is high",
             negative="--not-high-risk"),
        Fact("age_at_diagnosis", "age", parse_age, "age at diagnosis", "age at diagnosis",
             "Age when ALL was diagnosed, like --age (8m for months).",
             "age at diagnosis, like age", metavar="AGE",
             give="--age-at-diagnosis YEARS (or 8m for months)",
             understood="age at diagnosis in years",
             rules=(RuleFact("diagnosis_age_years", "count", unit="years", of=completed_years),
                    RuleFact("diagnosis_age_months", "count", unit="months",
                             of=completed_months))),
        # The facts the EU wording needs (alltx --regulator ema).
        Fact("newly_diagnosed", "bool", parse_bool,
             "newly diagnosed (in the first treatment since diagnosis, with no relapse so far)",
             "newly diagnosed",
             "In the first treatment since diagnosis: the leukemia has not come back so far.",
             "in the first treatment since diagnosis, no relapse so far",
             negative="--not-newly-diagnosed"),
        Fact("relapse_after_transplant", "bool", parse_bool,
             "relapse after transplant (the leukemia has come back after an allogeneic, donor, "
             "stem-cell transplant)", "relapse after transplant",
             "In relapse now, after an allogeneic (donor) stem-cell transplant.",
             "in relapse now, after an allogeneic transplant",
             negative="--no-relapse-after-transplant"),
        Fact("high_risk_first_relapse", "bool", parse_bool,
             "high-risk first relapse (the care team classifies the first relapse as high risk)",
             "high-risk first relapse",
             "Being treated for a first relapse that the care team classifies as high risk.",
             "a first relapse the care team classifies as high risk",
             negative="--not-high-risk-first-relapse"),
        Fact("prior_therapies", "count", parse_count,
             "number of prior therapies (lines of treatment given before now)",
             "prior therapies", "How many therapies (lines of treatment) have been given before.",
             "number of prior therapies", metavar="N"),
        Fact("tkis_failed", "count", parse_count,
             "TKIs failed (how many tyrosine kinase inhibitor treatments the leukemia has failed)",
             "TKIs failed",
             "How many tyrosine kinase inhibitor (TKI) treatments have failed (Ph-positive ALL).",
             "number of TKI treatments failed", metavar="N"),
        Fact("no_alternative", "bool", parse_bool,
             "no alternative treatment options (as the care team says)", "no alternative",
             "The care team says there are no alternative treatment options.",
             "no alternative treatment options, as the care team says",
             negative="--has-alternative"),
    )
}  # fmt: skip

# One parser per fact. Flags, cohort rows and the input schema in `alltx.answer.schemas` all go
# through these, so a value means the same thing wherever it comes from.
PARSERS: dict[str, Callable[[object], object]] = {name: f.parse for name, f in FACTS.items()}

_KINDS: dict[Form, Kind] = {"age": "count", "bool": "bool", "count": "count",
                            "percent": "number", "category": "category"}  # fmt: skip


def _decided(fact: Fact) -> Iterator[RuleFact]:
    if not fact.rules:
        unit = "%" if fact.form == "percent" else ""
        yield RuleFact(fact.name, _KINDS[fact.form], fact.name, unit, fact.values)
    for rule in fact.rules:
        yield dataclasses.replace(rule, source=fact.name)


RULE_FACTS: dict[str, RuleFact] = {r.name: r for f in FACTS.values() for r in _decided(f)}
_RULE_READS = [(r.name, r.source, r.of) for r in RULE_FACTS.values()]

# An open point of the sources: a reading of an indication's words that the words themselves do
# not settle (labels.md H8, H22), or a question the sources read leave open (H20). No fact a
# person gives settles it, so a test on it is unknown for every patient: rules that differ only
# by the reading come out `possible`, exactly where the readings disagree, on every road (the SQL
# compiles the test as a typed NULL), and `reading` is named to decide only where the reading
# alone could still change the status. It is a rule fact, not a fact a person gives: no flag,
# no field, no column.
READING = "reading"
RULE_FACTS[READING] = RuleFact(READING, "bool", source=READING)


def deciding_words(name: str) -> tuple[str, str]:
    """What would decide, named: (a word or two, how to give it). An input fact's short name and
    flag; an open point (READING) is no fact to give, and says so."""
    if name == READING:
        return (
            "an open point of the sources",
            "no fact settles the open point said above; ask the care team",
        )
    fact = FACTS[name]
    return fact.short, fact.how


def unknown_field(name: str) -> str:
    """Say a field name is unknown, suggesting the likely one (a typo must not pass silently)."""
    close = likely_field(name)
    hint = f"did you mean {close!r}?" if close else f"known fields: {', '.join(FIELDS)}"
    return f"unknown field {name!r}; {hint}"


def likely_field(name: str) -> str | None:
    """The known field a name is most likely a typo of, if any is close."""
    import difflib

    close = difflib.get_close_matches(name, list(FIELDS), n=1)
    return close[0] if close else None


def is_blank(value: object) -> bool:
    """An empty batch cell, or a JSON null: the fact is unknown."""
    return value is None or (isinstance(value, str) and value.strip(SPACE) == "")


# How registries write "not known" in a cell: read as a blank cell is, unknown, on every road
# (issue 42, 3: 7.5% of a realistic cohort's rows were refused for them). A spelling that a
# field's own parser reads as a value keeps that value there: `-` is negative for a marker,
# as CD19- always was.
NOT_KNOWN = ("unknown", "unk", "not known", "not done", "pending", "n/a", "-", "?")


@functools.cache
def not_known(name: str) -> tuple[str, ...]:
    """The spellings of "not known" (NOT_KNOWN) that mean unknown for this field: those its
    parser does not read as a value."""
    parse = PARSERS.get(name) or (parse_date if name in DATE_FIELDS else None)

    def is_value(word: str) -> bool:
        try:
            parse(word)  # type: ignore[misc]
        except ValueError:
            return False
        return True

    return tuple(word for word in NOT_KNOWN if parse is None or not is_value(word))


@functools.cache
def unknown_pattern(name: str) -> str:
    """The pattern of a cell that means unknown for this field: empty or white space, or one
    of its spellings of "not known" in any case. The SQL reads a text cell by the same."""
    words = not_known(name)
    said = f"{words_pattern(words)}[{SPACE}]*" if words else ""
    return f"^[{SPACE}]*({said})?$".replace("(?:", "(")  # plain groups, as SQLite takes them


@functools.cache
def _unknown_regex(name: str) -> re.Pattern[str]:
    return re.compile(unknown_pattern(name))


def unknown_cell(name: str, value: object) -> bool:
    """A blank cell, a JSON null, or a spelling of "not known" for this field. (The pattern
    compiled once a field: 196 ns a cell against 522 found in re's cache each time, three a
    dated row.)"""
    return is_blank(value) or (
        isinstance(value, str) and _unknown_regex(name).match(value) is not None
    )


# --- what facts imply about each other ------------------------------------------------------


Condition = tuple[str, Literal[">=", "<", "="], object]  # a fact, a comparison, a bound


@dataclass(frozen=True)
class Implication:
    """Facts that pass every test in `when` mean `then` is `value`.

    With `but` (the words for a `then` given otherwise), a `then` given otherwise contradicts
    it, and the error says what the `when` facts mean; without, it only completes an unknown
    `then`. They are applied in order, each to the facts as the ones before it left them.
    """

    when: tuple[Condition, ...]
    then: str
    value: object
    means: str = ""
    but: str = ""

    def contradiction(self, values: Sequence[str]) -> str:
        """The error for a `then` given otherwise; `values` are those of the `when` facts (a
        count is named with its number, a yes/no fact by its name alone)."""
        said = [
            (name if bound else f"not {name}") if isinstance(bound, bool) else f"{name} {value}"
            for (name, _, bound), value in zip(self.when, values, strict=True)
        ]
        verb = "means" if len(said) == 1 else "mean"
        return (
            f"contradictory facts: {' and '.join(said)} {verb} {self.means}, but "
            f"{self.but}; give only the one that is true"
        )


def when(*conditions: Condition) -> tuple[Condition, ...]:
    return conditions


# What facts say of each other, in the order they are applied. A new fact that follows from
# others, or rules others out, is an entry here; `derive` and the SQL query both read them.
IMPLICATIONS = (
    # A relapse after transplant is a relapse now, with a transplant before it.
    Implication(when(("relapse_after_transplant", "=", True)), "relapsed", True,
                "a relapse now", "relapsed is no"),
    Implication(when(("relapse_after_transplant", "=", True)), "prior_transplant", True,
                "a transplant before", "no prior transplant is given"),
    Implication(when(("relapse", ">=", 1)), "relapsed", True, "a relapse now", "relapsed is no"),
    Implication(when(("relapse", "<", 1)), "relapsed", False, "no relapse now", "relapsed is yes"),
    Implication(when(("remission", ">=", 1)), "relapsed", False, "in complete remission now",
                "the facts say relapsed (come back now)"),
    Implication(when(("remission", ">=", 1)), "refractory", False, "in complete remission now",
                "refractory says not responding to treatment"),
    # Newly diagnosed: no relapse so far (a second remission means one came before).
    Implication(when(("newly_diagnosed", "=", True)), "relapsed", False, "no relapse so far",
                "the facts say relapsed (come back now)"),
    Implication(when(("remission", ">=", 2)), "newly_diagnosed", False, "a relapse before",
                "newly_diagnosed is yes"),
    # A high-risk first relapse is the care team's word for the disease being treated (a
    # child in consolidation after it may be in remission now): only a second relapse, or no
    # relapse so far, rules it out.
    Implication(when(("relapse", ">=", 2)), "high_risk_first_relapse", False,
                "a second or later relapse", "high_risk_first_relapse is yes"),
    Implication(when(("newly_diagnosed", "=", True)), "high_risk_first_relapse", False,
                "no relapse so far", "high_risk_first_relapse is yes"),
    # A first complete remission: it has never come back, so there is no first relapse (a
    # second remission may follow one).
    Implication(when(("remission", "=", 1)), "high_risk_first_relapse", False,
                "no relapse so far", "high_risk_first_relapse is yes"),
    Implication(when(("relapsed", "=", False)), "relapse", 0),  # not relapsed: relapse 0
    Implication(when(("relapsed", "=", True)), "remission", 0),  # relapsed: not in remission now
    Implication(when(("refractory", "=", True)), "remission", 0),
    # A relapse now, with a transplant before it, is a relapse after transplant; no relapse
    # now, or no transplant ever, is none.
    Implication(when(("relapsed", "=", True), ("prior_transplant", "=", True)),
                "relapse_after_transplant", True, "a relapse after transplant",
                "relapse_after_transplant is no"),
    Implication(when(("relapsed", "=", False)), "relapse_after_transplant", False),
    Implication(when(("prior_transplant", "=", False)), "relapse_after_transplant", False),
    Implication(when(("relapsed", "=", True)), "newly_diagnosed", False),  # a relapse: not new
    # What the facts above force, read backwards (a value forced is known, not unknown): a
    # transplant before and no relapse after it is no relapse now; a relapse now and none
    # after a transplant is no transplant before; a first relapse is no new diagnosis. Last,
    # so that a contradiction is worded by the rule it breaks, with what no relapse now means.
    Implication(when(("prior_transplant", "=", True), ("relapse_after_transplant", "=", False)),
                "relapsed", False),
    Implication(when(("relapsed", "=", True), ("relapse_after_transplant", "=", False)),
                "prior_transplant", False),
    Implication(when(("high_risk_first_relapse", "=", True)), "newly_diagnosed", False),
    Implication(when(("relapsed", "=", False)), "relapse", 0),
)  # fmt: skip

OPS: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, "<": operator.lt, "=": operator.eq}

# The facts the implications read and complete: derived together, as one state.
STATE = tuple(name for name in FACTS if any(
    name == i.then or name in (fact for fact, _, _ in i.when) for i in IMPLICATIONS))  # fmt: skip


@dataclass(frozen=True)
class NotAfter:
    """Two ages of which `earlier` cannot be after `later`; `words` name them in errors."""

    earlier: str
    later: str
    words: tuple[str, str]


NOT_AFTER = (NotAfter("age_at_diagnosis", "age", ("age at diagnosis", "the age now")),)


# A rule fact counted in completed years or months: how many of its units make a year.
AGE_UNITS = {"years": 1, "months": 12}


def _bounded() -> None:
    """Each NOT_AFTER pair bounds the other's rule facts of the same unit when one is unknown:
    completed years (months) of the earlier age are never more than those of the later."""
    for pair in NOT_AFTER:
        for earlier in [r for r in RULE_FACTS.values() if r.source == pair.earlier]:
            for later in [r for r in RULE_FACTS.values() if r.source == pair.later]:
                if earlier.unit == later.unit:
                    RULE_FACTS[later.name] = dataclasses.replace(later, floor=earlier.name)
                    RULE_FACTS[earlier.name] = dataclasses.replace(
                        RULE_FACTS[earlier.name], ceiling=later.name
                    )


_bounded()

# The rule facts of each NOT_AFTER pair, (earlier, later), in each unit both are counted in.
AGE_PAIRS = [(RULE_FACTS[r.floor], r) for r in RULE_FACTS.values() if r.floor]


# --- facts as understood --------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """A consistent set of facts: `values` holds every fact, in FACTS' order (None: unknown);
    each is also an attribute (`facts.age`).

    `relapse` 0 means not in relapse now; `remission` 0 means not in complete remission now.
    """

    values: Mapping[str, object] = field(default_factory=dict)
    # Where a fact's value came from, in words, where it was not given as itself (an age from
    # a birth date); shown beside the value in every view.
    origins: Mapping[str, str] = field(default_factory=dict)
    # What the records held that alltx does not read (a free-text report, a result not final,
    # two that disagree on the same day), in words: said with the facts, in every view.
    unread: tuple[str, ...] = ()
    # What the records say that bears on every answer, said before any of it: that they hold
    # no ALL diagnosis, where the answers assume one.
    caveat: str = ""

    def __post_init__(self) -> None:
        given = self.values
        object.__setattr__(self, "values", {name: given.get(name) for name in FACTS})

    def __getattr__(self, name: str) -> Any:
        if name != "values" and name in FACTS:
            return self.values[name]
        raise AttributeError(name)

    def rule_values(self) -> dict[str, object]:
        return rule_values(self.values)

    def told(self, origins: Mapping[str, str], unread: Iterable[str], caveat: str = "") -> Facts:
        """These facts with where they came from (records', before the facts' own words for an
        age from dates, whose note a month's end adds is kept: Dated.words) and what the
        records held and alltx did not read; `caveat`, what bears on every answer."""
        said = {
            name: words + "".join(self.origins.get(name, "").partition(Dated.NOTE)[1:])
            for name, words in origins.items()
        }
        return dataclasses.replace(
            self, origins={**self.origins, **said}, unread=tuple(unread), caveat=caveat
        )


def rule_values(facts: Mapping[str, object]) -> dict[str, object]:
    """The values the rules test, from facts as understood (a Facts' values, or any part of
    them; absent = unknown). Label ages are completed years or completed months."""
    get = facts.get
    values: dict[str, object] = {}
    for name, source, of in _RULE_READS:
        value = get(source)
        values[name] = value if value is None or of is None else of(value)
    return values


def derive(given: dict[str, object]) -> dict[str, object]:
    """Complete parsed facts with what they imply (IMPLICATIONS), refusing facts that
    contradict each other or ages out of order (NOT_AFTER).

    Works on the parsed values (a dict, which it updates and returns) so a batch builds each
    patient's Facts once.
    """
    for pair in NOT_AFTER:
        earlier, later = given.get(pair.earlier), given.get(pair.later)
        if earlier is not None and later is not None and age_after(earlier, later):
            first, second = pair.words
            raise FactError(f"the {first} is after {second}; check both", pair.earlier)
    for rule in IMPLICATIONS:
        values = [given.get(name) for name, _, _ in rule.when]
        if not all(
            value is not None and OPS[op](value, bound)
            for value, (_, op, bound) in zip(values, rule.when, strict=True)
        ):
            continue
        now = given.get(rule.then)
        if now is None:
            given[rule.then] = rule.value
        elif rule.but and now != rule.value:
            raise FactError(rule.contradiction([str(value) for value in values]))
    return given


SHOWN_CHARACTERS = 40  # of a refused text, in its message: enough to find it in the row


def wants(fact: Fact) -> str:
    """What a fact's value must be, in the words of the error for one that is not: the same
    on every road (the SQL query writes them too)."""
    # Each rule of the form is said, so that a value in range that breaks another (25y13m,
    # an age of 12 decimals) is not told it is out of range (issue 42, 13).
    if fact.form == "age":
        return (
            f"must be an age of 0 to {MAX_AGE_YEARS} years written as years, with at most "
            f"{AGE_DECIMALS} decimals (19, 2.5), months with m (8m), years and under 12 "
            "months (25y11m), or whole days or weeks (30d, 3w)"
        )
    if fact.form == "percent":
        return (
            f"must be a percent of 0 to 100, with at most {PERCENT_DECIMALS} decimals (0.1 "
            "or 0.1%), or as a lab reports a level its test cannot measure: negative, "
            "negative at 0.01%, <0.01%, positive, not quantifiable"
        )
    if fact.form == "bool":
        return "must be yes or no (true, false, y, n, 1, 0 also work)"
    if fact.form == "count":
        also = ", or CR1, CR2 ..." if fact.parse is parse_remission else ""
        return f"must be a whole number from 0, of at most 15 digits{also}"
    if fact.values == MARKER:
        return f"must be positive or negative (pos, neg, +, -, {fact.short}+ also work)"
    if fact.values == LINEAGES:
        return "must be b or t (b-cell, t-cell, B-ALL, pre-B, T-ALL also work)"
    return "must be " + ", ".join(fact.values[:-1]) + " or " + fact.values[-1]


def refusal(fact: Fact, value: object) -> str:
    """The error for a value the fact's parser refuses: what it must be, and the text given
    (a number or other JSON value is not repeated: each engine writes numbers its own way)."""
    return wants(fact) + _got(value)


def _got(value: object) -> str:
    """The text given, in a refusal (cut to SHOWN_CHARACTERS), a JSON number's as written;
    nothing for another value."""
    value = _written(value)
    if not isinstance(value, str):
        return ""
    shown = value if len(value) <= SHOWN_CHARACTERS else value[:SHOWN_CHARACTERS] + "..."
    return f"; got '{shown}'"


def parse_fact(name: str, value: object) -> object:
    """One given value, parsed; None if blank (unknown). FactError names the field."""
    parse = PARSERS.get(name)
    if parse is None:
        raise FactError(unknown_field(name), name)
    if unknown_cell(name, value):
        return None
    try:
        return parse(value)
    except ValueError:
        raise FactError(refusal(FACTS[name], value), name) from None


_ORDER = {name: at for at, name in enumerate(FACTS)}


def parse_facts(raw: Mapping[str, object]) -> dict[str, object]:
    """Parse one patient's given values (blank = unknown), without deriving anything. Of
    several wrong values, the error names the first in FACTS' order (an unknown field's
    last), whatever the order of the columns, as the SQL query does."""
    try:
        parsed = {name: parse_fact(name, value) for name, value in raw.items()}
    except FactError:
        for name in sorted(raw, key=lambda name: _ORDER.get(name, len(_ORDER))):
            parse_fact(name, raw[name])
        raise
    return {name: value for name, value in parsed.items() if value is not None}


def facts_from(raw: Mapping[str, object], as_of: date | None = None) -> Facts:
    """Parse and derive in one step; any problem is one FactError naming the field. An age
    may be given as a birth date (`dated_age`; `as_of` is the day where the row names none),
    whose errors come first, as the age's do (it is the first fact)."""
    raw, dated = dated_age(raw, as_of)
    parsed = parse_facts(raw)
    if dated is None:
        return Facts(derive(parsed))
    parsed["age"] = dated.age
    return Facts(derive(parsed), {"age": dated.words})


# The fields a patient row may have (besides its id): the facts, then the dates of an age.
FIELDS = (*FACTS, *DATE_FIELDS)


def flag_of(field: str) -> str:
    """The flag that gives a field on the command line."""
    return DATE_FIELDS[field].flag if field in DATE_FIELDS else FACTS[field].flag
